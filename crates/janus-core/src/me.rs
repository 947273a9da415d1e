//! Operations a signed-in user makes with an access token: GetUser, UpdateUserAttributes,
//! DeleteUserAttributes, ChangePassword, DeleteUser, GlobalSignOut; and token revocation:
//! RevokeToken, AdminUserGlobalSignOut. [`Services::authenticate`] turns an access token
//! into its pool and user, refusing forged, expired, revoked or disabled ones.

use serde_json::Value;
use std::collections::BTreeMap;

use janus_crypto::jwt;
use janus_types::{Entity, EntityKey, Error, Pool, PoolId, Result, User};

use crate::attributes::{self, SetMode};
use crate::codes::{self, Delivery};
use crate::security::SecurityEvent;
use crate::triggers::senders::Caller;
use crate::users::{self, AttributeInput};
use crate::Services;

const VERIFY_CODE_MS: i64 = 24 * 3600 * 1000;

fn invalid() -> Error {
    Error::NotAuthorizedException("Invalid Access Token".into())
}

/// The pool named by a token's `iss` (`<issuer base>/<pool id>`), read before verification.
pub(crate) fn pool_of_token(token: &str) -> Result<PoolId> {
    use base64::Engine;
    let payload = token.split('.').nth(1).ok_or_else(invalid)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
    // Only `iss` is read (the other claims are skipped, not built into a map).
    #[derive(serde::Deserialize)]
    struct Issuer {
        iss: String,
    }
    let claims: Issuer = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    PoolId::parse(claims.iss.rsplit('/').next().unwrap_or_default()).map_err(|_| invalid())
}

/// True when the token's `scope` claim holds `wanted`.
pub fn has_scope(claims: &Value, wanted: &str) -> bool {
    claims["scope"].as_str().is_some_and(|s| s.split(' ').any(|x| x == wanted))
}

impl Services {
    /// Verify an access token for an operation on the user's own account: as
    /// [`Services::verify_access`], and the token must carry [`API_SCOPE`](crate::auth::tokens::API_SCOPE) (an OAuth
    /// token with only `openid` may read userInfo, not change the account), as Cognito asks.
    pub fn authenticate(&self, token: &str) -> Result<(Pool, User, Value)> {
        let (pool, user, claims) = self.verify_access(token)?;
        if !has_scope(&claims, crate::auth::tokens::API_SCOPE) {
            return Err(Error::NotAuthorizedException("Access Token does not have required scopes".into()));
        }
        Ok((pool, user, claims))
    }

    /// Verify an access token of any scope; returns its pool, user and claims. Refuses
    /// forged, expired and revoked tokens, tokens of a deleted app client, and tokens of a
    /// deleted or disabled user.
    pub fn verify_access(&self, token: &str) -> Result<(Pool, User, Value)> {
        let pool_id = pool_of_token(token)?;
        let r = self.store.read()?;
        let pool = r.pool(&pool_id)?.ok_or_else(invalid)?;
        let keys = self.pool_keys(&*r, &pool_id)?;
        let claims = jwt::verify(token, &keys.public)?;
        if claims["token_use"] != "access" {
            return Err(invalid());
        }
        let now_s = self.now_ms() / 1000;
        if claims["exp"].as_i64().is_none_or(|exp| exp < now_s) {
            return Err(Error::NotAuthorizedException("Access Token has expired".into()));
        }
        // The app client may have been deleted since: its tokens die with it.
        let client = claims["client_id"].as_str().and_then(|c| janus_types::ClientId::parse(c).ok());
        if r.client(&pool_id, &client.ok_or_else(invalid)?)?.is_none() {
            return Err(invalid());
        }
        let sub = janus_types::Sub::new(claims["sub"].as_str().ok_or_else(invalid)?.to_owned());
        let user = r
            .user_by_sub(&pool_id, &sub)?
            .ok_or_else(|| Error::NotAuthorizedException("User does not exist.".into()))?;
        let issued_ms = claims["jti"].as_str().and_then(janus_crypto::random::uuid_v7_ms).unwrap_or(0);
        let origin = claims["origin_jti"].as_str().unwrap_or_default();
        if issued_ms < user.security.tokens_valid_from_ms || user.security.revoked.iter().any(|(j, _)| j == origin) {
            return Err(Error::NotAuthorizedException("Access Token has been revoked".into()));
        }
        if !user.enabled {
            return Err(Error::NotAuthorizedException("User is disabled.".into()));
        }
        Ok((pool, user, claims))
    }

    /// GetUser.
    pub fn get_user(&self, token: &str) -> Result<User> {
        Ok(self.authenticate(token)?.1)
    }

    /// Change the user an access token names inside one transaction.
    pub(crate) fn modify_me(
        &self,
        token: &str,
        f: impl FnOnce(&Pool, &mut User) -> Result<()>,
    ) -> Result<(Pool, User)> {
        let (pool, user, _) = self.authenticate(token)?;
        self.modify_authenticated(pool, user, f)
    }

    /// [`Services::modify_me`] for a user whose token was already checked.
    fn modify_authenticated(
        &self,
        pool: Pool,
        user: User,
        f: impl FnOnce(&Pool, &mut User) -> Result<()>,
    ) -> Result<(Pool, User)> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let mut user = tx.user(&pool.id, &user.key)?.ok_or_else(invalid)?;
        f(&pool, &mut user)?;
        user.modified_ms = now;
        for other in users::claim_aliases_on_update(&*tx, &pool, &mut user)? {
            tx.put(&pool.id, Entity::User(other))?;
        }
        tx.put(&pool.id, Entity::User(user.clone()))?;
        tx.commit()?;
        Ok((pool, user))
    }

    /// UpdateUserAttributes. A changed email or phone number becomes unverified, and when
    /// the pool auto-verifies it a verification code is sent there.
    pub fn update_my_attributes(
        &self,
        token: &str,
        attrs: &[AttributeInput],
        metadata: &BTreeMap<String, String>,
    ) -> Result<Vec<Delivery>> {
        let pairs = users::pairs(attrs);
        let (pool, user, claims) = self.authenticate(token)?;
        let client_id = claims["client_id"].as_str().and_then(|c| janus_types::ClientId::parse(c).ok());
        let client = self.store.read()?.client(&pool.id, &client_id.ok_or_else(invalid)?)?.ok_or_else(invalid)?;
        attributes::check_writable(&client, pairs.iter().map(|(n, _)| n.as_str()))?;
        let mut pending = Vec::new();
        let (pool, user) = self.modify_authenticated(pool, user, |pool, user| {
            attributes::validate(&pool.config, &pairs, SetMode::Update)?;
            for (name, value) in &pairs {
                if name.ends_with("_verified") {
                    return Err(Error::NotAuthorizedException(format!(
                        "A client attempted to write unauthorized attribute {name}"
                    )));
                }
                let changed = user.attributes.get(name) != Some(value);
                user.attributes.insert(name.clone(), value.clone());
                if changed && (name == "email" || name == "phone_number") {
                    user.attributes.insert(format!("{name}_verified"), "false".into());
                    if pool.config.auto_verified_attributes.iter().any(|a| a == name) {
                        if let Some(d) = codes::destination(user, Some(name), false) {
                            // Past the user's code budget the change still happens; the code
                            // waits for GetUserAttributeVerificationCode.
                            match self.new_code(pool, user, &format!("verify:{name}"), VERIFY_CODE_MS) {
                                Ok(code) => pending.push((d, code)),
                                Err(Error::LimitExceededException(_)) => {}
                                Err(e) => return Err(e),
                            }
                        }
                    }
                }
            }
            Ok(())
        })?;
        let caller = Caller { client_id: Some(client.id.as_str()), metadata: Some(metadata) };
        for (d, code) in &pending {
            self.send_code(&pool, &user, d, ("verification", "CustomMessage_UpdateUserAttribute"), code, caller)?;
        }
        Ok(pending.into_iter().map(|(d, _)| d).collect())
    }

    /// GetUserAttributeVerificationCode.
    pub fn attribute_verification_code(
        &self,
        token: &str,
        attribute: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<Delivery> {
        let mut sent = None;
        let (pool, user, claims) = self.authenticate(token)?;
        let (pool, user) = self.modify_authenticated(pool, user, |pool, user| {
            if attribute != "email" && attribute != "phone_number" {
                return Err(Error::invalid(format!("{attribute} cannot be verified.")));
            }
            let d = codes::destination(user, Some(attribute), false)
                .ok_or_else(|| Error::invalid(format!("The user has no {attribute}.")))?;
            sent = Some((d, self.new_code(pool, user, &format!("verify:{attribute}"), VERIFY_CODE_MS)?));
            Ok(())
        })?;
        let (d, code) = sent.ok_or_else(|| Error::invalid("Nothing to verify."))?;
        self.send_code(
            &pool,
            &user,
            &d,
            ("verification", "CustomMessage_VerifyUserAttribute"),
            &code,
            Caller { client_id: claims["client_id"].as_str(), metadata: Some(metadata) },
        )?;
        Ok(d)
    }

    /// VerifyUserAttribute.
    pub fn verify_attribute(&self, token: &str, attribute: &str, code: &str) -> Result<()> {
        let (pool, user, _) = self.authenticate(token)?;
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let mut u = tx.user(&pool.id, &user.key)?.ok_or_else(invalid)?;
        let verdict = self.check_code(&pool, &mut u, &format!("verify:{attribute}"), code)?;
        if verdict.is_ok() {
            u.attributes.insert(format!("{attribute}_verified"), "true".into());
            for other in users::claim_aliases_on_update(&*tx, &pool, &mut u)? {
                tx.put(&pool.id, Entity::User(other))?;
            }
        }
        u.modified_ms = now;
        tx.put(&pool.id, Entity::User(u))?;
        tx.commit()?;
        verdict
    }

    /// DeleteUserAttributes.
    pub fn delete_my_attributes(&self, token: &str, names: &[String]) -> Result<(Pool, User)> {
        self.modify_me(token, |pool, user| {
            crate::attributes::known(&pool.config, names)?;
            for name in names {
                let schema = pool
                    .config
                    .schema(name)
                    .ok_or_else(|| Error::invalid(format!("{name}: Attribute does not exist in the schema.")))?;
                if name == "sub" || schema.required || !schema.mutable {
                    return Err(Error::invalid(format!("{name}: The attribute is required or cannot be deleted.")));
                }
                user.attributes.remove(name);
            }
            Ok(())
        })
    }

    /// ChangePassword: the previous password must be right (a wrong one counts as a failure).
    pub fn change_password(&self, token: &str, previous: &str, proposed: &str) -> Result<()> {
        let (pool, user, _) = self.authenticate(token)?;
        crate::auth::lockout::check(&user, self.now_ms())?;
        let ok = match &user.password {
            Some(c) => janus_crypto::imported::verify(&self.hasher, previous, &c.phc)?,
            None => false,
        };
        if !ok {
            self.record_failure(&pool.id, &user)?;
            return Err(Error::bad_credentials());
        }
        let cred = self.credential(&pool, &user.username, proposed, false)?;
        self.modify_me(token, |_, u| {
            u.password = Some(cred);
            u.security.failed_sign_ins = 0;
            Ok(())
        })?;
        Ok(())
    }

    /// DeleteUser.
    pub fn delete_me(&self, token: &str) -> Result<()> {
        let (pool, user, _) = self.authenticate(token)?;
        let mut tx = self.store.write(self.now_ms())?;
        tx.delete(&pool.id, EntityKey::User { key: user.key })?;
        tx.commit()
    }

    fn sign_out(&self, pool: &PoolId, user: &User) -> Result<()> {
        let event = SecurityEvent::SignedOut { user: user.key.clone(), at_ms: self.now_ms() };
        self.security_event(pool, &event)
    }

    /// GlobalSignOut: every token issued to the user so far stops working.
    pub fn global_sign_out(&self, token: &str) -> Result<()> {
        let (pool, user, _) = self.authenticate(token)?;
        self.sign_out(&pool.id, &user)
    }

    /// AdminUserGlobalSignOut.
    pub fn admin_global_sign_out(&self, pool_id: &PoolId, username: &str) -> Result<()> {
        let r = self.store.read()?;
        let pool = users::pool_of(&*r, pool_id)?;
        let user = users::get(&*r, &pool, username)?;
        drop(r);
        self.sign_out(pool_id, &user)
    }

    /// RevokeToken: the refresh token and every token issued from it stop working.
    pub fn revoke_token(
        &self,
        token: &str,
        client_id: &janus_types::ClientId,
        client_secret: Option<&str>,
    ) -> Result<()> {
        let ctx = self.auth_ctx(client_id, None, false)?;
        if ctx.client.is_confidential()
            && !client_secret.is_some_and(|sent| crate::oauth::client::accepts_secret(&ctx.client, sent))
        {
            return Err(Error::UnauthorizedException(format!("Unable to verify secret for client {client_id}")));
        }
        self.revoke_in(&ctx, token)
    }

    /// Revoke `token` for the app client of `ctx`, already authenticated (RevokeToken and
    /// the OAuth revocation endpoint).
    pub fn revoke_in(&self, ctx: &crate::auth::Ctx, token: &str) -> Result<()> {
        if ctx.client.config.get("EnableTokenRevocation").and_then(Value::as_bool) == Some(false) {
            return Err(Error::UnsupportedOperationException(
                "Token revocation is not enabled for this app client.".into(),
            ));
        }
        let claims = crate::auth::sealed::open_refresh(&ctx.keys, token)
            .filter(|c| c.pool == ctx.pool.id)
            .ok_or_else(|| Error::UnsupportedTokenTypeException("The token is not a valid refresh token.".into()))?;
        if claims.client != ctx.client.id {
            return Err(Error::UnauthorizedException("The token was not issued to this client.".into()));
        }
        let event = SecurityEvent::Revoked { user: claims.user, origin_jti: claims.origin_jti, exp: claims.exp };
        self.security_event(&ctx.pool.id, &event)
    }
}
