//! Software tokens: AssociateSoftwareToken hands out a new TOTP secret (32 random bytes,
//! base32) and VerifySoftwareToken registers it once the user proves their app computes its
//! codes. With an access token the pending secret waits, sealed, in the user entity; during
//! sign-in (MFA_SETUP, with a Session) it travels sealed inside the Session instead. Secrets
//! are stored only sealed under the pool's sealing key, bound to the pool and user, so a
//! ciphertext copied to another user does not open; they never reach a log or an error.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use janus_crypto::{seal, totp};
use janus_types::{Entity, Error, MfaFactor, Pool, Result, SoftwareToken, User, UserKey};

use crate::auth::sealed::{self, Session};
use crate::auth::{lockout, Ctx};
use crate::keys::LoadedKeys;
use crate::Services;

const MFA_SETUP: &str = "MFA_SETUP";

/// AssociateSoftwareToken's answer.
#[derive(Debug)]
pub struct Associated {
    /// The secret, base32: shown to the user once, never stored in clear.
    pub secret_code: String,
    /// The next Session, when called with one.
    pub session: Option<String>,
}

/// VerifySoftwareToken's answer (a wrong code is an error, as Cognito answers it).
#[derive(Debug)]
pub struct Verified {
    /// The next Session, when called with one.
    pub session: Option<String>,
}

fn purpose(pool: &Pool, user: &UserKey) -> String {
    format!("totp:{}:{user}", pool.id)
}

/// Seal a TOTP secret for `user`.
pub fn seal_secret(
    keys: &LoadedKeys,
    pool: &Pool,
    user: &UserKey,
    secret: &[u8],
    rng: &dyn janus_types::Random,
) -> Result<String> {
    Ok(B64.encode(seal::seal(keys.sealer()?, &purpose(pool, user), secret, rng)?))
}

/// Open a sealed TOTP secret of `user`.
pub fn open_secret(keys: &LoadedKeys, pool: &Pool, user: &UserKey, token: &SoftwareToken) -> Result<Vec<u8>> {
    let raw = B64.decode(&token.sealed).map_err(Error::internal)?;
    keys.opener(&raw)
        .and_then(|k| seal::open(k, &purpose(pool, user), &raw))
        .ok_or_else(|| Error::internal(std::io::Error::other("a software token secret did not open")))
}

fn mismatch() -> Error {
    Error::EnableSoftwareTokenMFAException("Code mismatch and fail enable Software Token MFA".into())
}

impl Services {
    /// AssociateSoftwareToken with an access token or a Session (MFA_SETUP).
    pub fn associate_software_token(&self, access_token: Option<&str>, session: Option<&str>) -> Result<Associated> {
        let secret = totp::new_secret(&*self.rng);
        let secret_code = totp::base32_encode(&secret);
        match (access_token, session) {
            (Some(token), None) => {
                let (pool, user, _) = self.authenticate(token)?;
                let keys = self.pool_keys(&*self.store.read()?, &pool.id)?;
                let sealed = seal_secret(&keys, &pool, &user.key, &secret, &*self.rng)?;
                let now = self.now_ms();
                let mut tx = self.store.write(now)?;
                let mut u = tx
                    .user(&pool.id, &user.key)?
                    .ok_or_else(|| Error::NotAuthorizedException("Invalid Access Token".into()))?;
                u.mfa.pending_token = Some(SoftwareToken { sealed, friendly_name: None, set_ms: now });
                u.modified_ms = now;
                tx.put(&pool.id, Entity::User(u))?;
                tx.commit()?;
                Ok(Associated { secret_code, session: None })
            }
            (None, Some(session)) => {
                let (ctx, mut s) = self.open_setup_session(session)?;
                s.secret = Some(secret_code.clone());
                s.verified = false;
                let session = sealed::seal_session(&ctx.keys, &s, &*self.rng)?;
                Ok(Associated { secret_code, session: Some(session) })
            }
            _ => Err(Error::invalid("Exactly one of AccessToken and Session is required.")),
        }
    }

    /// VerifySoftwareToken with an access token or a Session (MFA_SETUP).
    pub fn verify_software_token(
        &self,
        access_token: Option<&str>,
        session: Option<&str>,
        code: &str,
        friendly_name: Option<&str>,
    ) -> Result<Verified> {
        match (access_token, session) {
            (Some(token), None) => {
                let (pool, user, _) = self.authenticate(token)?;
                let keys = self.pool_keys(&*self.store.read()?, &pool.id)?;
                let pending = user.mfa.pending_token.clone().ok_or_else(|| {
                    Error::SoftwareTokenMFANotFoundException("No software token is associated with the user.".into())
                })?;
                let secret = open_secret(&keys, &pool, &user.key, &pending)?;
                let totp::Check::Accepted(step) = totp::check(&secret, code, self.now_ms(), 0) else {
                    return Err(mismatch());
                };
                let sealed = seal_secret(&keys, &pool, &user.key, &secret, &*self.rng)?;
                self.register_token(&pool, &user.key, sealed, friendly_name, step)?;
                Ok(Verified { session: None })
            }
            (None, Some(session)) => {
                let (ctx, mut s) = self.open_setup_session(session)?;
                let user = self.store.read()?.user(&ctx.pool.id, &s.user)?.ok_or_else(invalid_session)?;
                lockout::check(&user, self.now_ms())?;
                let secret_code = s.secret.clone().ok_or_else(|| {
                    Error::SoftwareTokenMFANotFoundException("No software token is associated with the user.".into())
                })?;
                let secret = totp::base32_decode(&secret_code).ok_or_else(invalid_session)?;
                let totp::Check::Accepted(step) = totp::check(&secret, code, self.now_ms(), 0) else {
                    self.record_failure(&ctx.pool.id, &user)?;
                    return Err(mismatch());
                };
                let sealed = seal_secret(&ctx.keys, &ctx.pool, &user.key, &secret, &*self.rng)?;
                self.register_token(&ctx.pool, &user.key, sealed, friendly_name, step)?;
                s.secret = None;
                s.verified = true;
                Ok(Verified { session: Some(sealed::seal_session(&ctx.keys, &s, &*self.rng)?) })
            }
            _ => Err(Error::invalid("Exactly one of AccessToken and Session is required.")),
        }
    }

    /// Make `sealed` the user's software token, enabled, its verification code used.
    fn register_token(&self, pool: &Pool, key: &UserKey, sealed: String, name: Option<&str>, step: i64) -> Result<()> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let mut u = tx.user(&pool.id, key)?.ok_or_else(invalid_session)?;
        let name = name.filter(|n| !n.is_empty()).map(str::to_owned);
        u.mfa.software_token = Some(SoftwareToken { sealed, friendly_name: name, set_ms: now });
        u.mfa.pending_token = None;
        u.mfa.set(MfaFactor::SoftwareToken, true);
        u.security.totp_last_step = u.security.totp_last_step.max(step);
        u.modified_ms = now;
        tx.put(&pool.id, Entity::User(u))?;
        tx.commit()
    }

    /// Open an MFA_SETUP Session given without an app client (the pool comes from its prefix).
    fn open_setup_session(&self, session: &str) -> Result<(Ctx, Session)> {
        let pool_id = sealed::session_pool(session).ok_or_else(invalid_session)?;
        let r = self.store.read()?;
        let pool = r.pool(&pool_id)?.ok_or_else(invalid_session)?;
        let keys = self.pool_keys(&*r, &pool_id)?;
        let s =
            sealed::open_session(&keys, session).filter(|s| s.challenge == MFA_SETUP).ok_or_else(invalid_session)?;
        let client = r.client(&pool_id, &s.client)?.ok_or_else(invalid_session)?;
        drop(r);
        if s.exp_ms < self.now_ms() {
            return Err(expired_session());
        }
        Ok((Ctx::new(pool, client, keys, false), s))
    }

    /// The user's software-token secret, for a sign-in.
    pub fn totp_secret(&self, ctx: &Ctx, user: &User) -> Result<Vec<u8>> {
        let token = user.mfa.software_token.as_ref().ok_or_else(|| {
            Error::SoftwareTokenMFANotFoundException("Software Token MFA does not exist for the user.".into())
        })?;
        open_secret(&ctx.keys, &ctx.pool, &user.key, token)
    }
}

/// "Invalid session for the user."
pub fn invalid_session() -> Error {
    Error::NotAuthorizedException("Invalid session for the user.".into())
}

/// The session's time is up.
pub fn expired_session() -> Error {
    Error::NotAuthorizedException("Invalid session for the user, session is expired.".into())
}
