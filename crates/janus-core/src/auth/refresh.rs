//! REFRESH_TOKEN_AUTH / REFRESH_TOKEN and GetTokensFromRefreshToken: open the sealed refresh
//! token, check it belongs to this client, has not expired, and was not revoked (RevokeToken
//! adds its family to the user's revoked list; GlobalSignOut moves the user's
//! `tokens_valid_from_s`), then issue new ID and access tokens with the same `auth_time` and
//! `origin_jti`. With refresh-token rotation on the client, a new refresh token comes too.

use serde_json::Value;

use janus_types::{Error, Result};

use super::sealed::{self, RefreshClaims};
use super::{client, Ctx, Tokens};
use crate::Services;

/// True when the client rotates refresh tokens.
pub fn rotates(client: &janus_types::Client) -> bool {
    client.config.get("RefreshTokenRotation").and_then(|r| r.get("Feature")).and_then(Value::as_str) == Some("ENABLED")
}

fn invalid() -> Error {
    Error::NotAuthorizedException("Invalid Refresh Token".into())
}

impl Services {
    /// Open and check a refresh token for `ctx`'s client.
    pub fn open_refresh(&self, ctx: &Ctx, token: &str) -> Result<RefreshClaims> {
        let c = sealed::open_refresh(&ctx.keys, token).ok_or_else(invalid)?;
        if c.pool != ctx.pool.id || c.client != ctx.client.id {
            return Err(invalid());
        }
        if c.exp < self.now_ms() / 1000 {
            return Err(Error::NotAuthorizedException("Refresh Token has expired".into()));
        }
        Ok(c)
    }

    /// Refresh: new ID and access tokens (and a new refresh token when `rotate` and the
    /// client rotates refresh tokens). `secret_hash` is `None` when the caller already
    /// checked the client's secret itself.
    pub fn refresh(
        &self,
        ctx: &Ctx,
        token: &str,
        secret_hash: Option<Option<&String>>,
        rotate: bool,
    ) -> Result<Tokens> {
        let c = self.open_refresh(ctx, token)?;
        self.refresh_opened(ctx, &c, secret_hash, rotate)
    }

    /// [`Services::refresh`] for a token the caller already opened with [`Services::open_refresh`].
    pub fn refresh_opened(
        &self,
        ctx: &Ctx,
        c: &RefreshClaims,
        secret_hash: Option<Option<&String>>,
        rotate: bool,
    ) -> Result<Tokens> {
        let user = self.store.read()?.user(&ctx.pool.id, &c.user)?.ok_or_else(invalid)?;
        if user.sub != c.sub {
            return Err(invalid());
        }
        if let Some(sent) = secret_hash {
            client::check_secret_hash(&ctx.client, &[user.username.as_str(), user.sub.as_str()], sent)?;
        }
        if !user.enabled {
            return Err(Error::NotAuthorizedException("User is disabled.".into()));
        }
        let issued_ms = janus_crypto::random::uuid_v7_ms(&c.id).unwrap_or(c.iat * 1000);
        let now_s = self.now_ms() / 1000;
        let revoked = issued_ms < user.security.tokens_valid_from_ms
            || user.security.revoked.iter().any(|(jti, _)| *jti == c.origin_jti)
            || user.security.rotated.iter().any(|(id, until)| *id == c.id && *until < now_s);
        if revoked {
            return Err(Error::NotAuthorizedException("Refresh Token has been revoked".into()));
        }
        let rotating = rotates(&ctx.client);
        if rotating && !rotate {
            return Err(Error::NotAuthorizedException(
                "Refresh token rotation is enabled for this app client: refresh with GetTokensFromRefreshToken.".into(),
            ));
        }
        let source = crate::triggers::tokens::TokenSource::RefreshTokens;
        let device_key = match &ctx.device {
            super::DeviceStep::Presented(k) if self.store.read()?.device(&ctx.pool.id, &user.key, k)?.is_some() => {
                Some(k.clone())
            }
            _ => None,
        };
        let grant = super::tokens::Grant { scope: c.scope.clone(), nonce: None, source, device_key };
        let mut tokens = self.issue_granted(ctx, &user, c.auth_time, Some(&c.origin_jti), rotating, &grant)?;
        if rotating {
            self.retire_refresh_token(ctx, &user, c)?;
        } else {
            tokens.refresh = None;
        }
        Ok(tokens)
    }

    /// A rotated refresh token stays usable for the client's grace period, then never again.
    fn retire_refresh_token(&self, ctx: &Ctx, user: &janus_types::User, c: &RefreshClaims) -> Result<()> {
        if !self.is_primary(&ctx.pool) {
            return Ok(()); // a secondary writes nothing; the token family stays valid until expiry
        }
        let grace = ctx
            .client
            .config
            .get("RefreshTokenRotation")
            .and_then(|r| r.get("RetryGracePeriodSeconds"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let now_s = self.now_ms() / 1000;
        let mut tx = self.store.write(self.now_ms())?;
        let Some(mut u) = tx.user(&ctx.pool.id, &user.key)? else { return Ok(()) };
        u.security.rotated.retain(|(_, until)| *until + 86_400 >= now_s);
        u.security.rotated.push((c.id.clone(), now_s + grace - 1));
        tx.put(&ctx.pool.id, janus_types::Entity::User(u))?;
        tx.commit()
    }

    /// GetTokensFromRefreshToken: the client authenticates with its secret, not a hash.
    pub fn tokens_from_refresh(&self, ctx: &Ctx, token: &str, client_secret: Option<&str>) -> Result<Tokens> {
        if ctx.client.is_confidential()
            && !client_secret.is_some_and(|sent| crate::oauth::client::accepts_secret(&ctx.client, sent))
        {
            return Err(Error::NotAuthorizedException(format!("Unable to verify secret for client {}", ctx.client.id)));
        }
        self.refresh(ctx, token, None, true)
    }
}
