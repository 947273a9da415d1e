//! USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH (alias ADMIN_NO_SRP_AUTH): the password
//! is checked against the argon2id hash. An unknown user costs the same hash as a known one
//! (against a decoy), so timing does not tell them apart; the error depends on the client's
//! PreventUserExistenceErrors. With it, a disabled user is told so only after the right
//! password, and a locked-out one gets the wrong-password answer after the same hash — so
//! neither state, nor the user's existence, shows without the password (issue 13; Cognito
//! itself answers both at once).

use janus_types::{Error, Result, User};

use super::{lockout, Ctx, Outcome};
use crate::users;
use crate::Services;

/// True when the client hides whether a user exists (PreventUserExistenceErrors ENABLED).
pub fn prevents_existence_errors(ctx: &Ctx) -> bool {
    ctx.client.config.get("PreventUserExistenceErrors").and_then(|v| v.as_str()) == Some("ENABLED")
}

/// The existence error for an unknown user under the client's settings.
pub fn unknown_user(ctx: &Ctx) -> Error {
    if prevents_existence_errors(ctx) {
        Error::bad_credentials()
    } else {
        Error::user_not_found()
    }
}

impl Services {
    fn decoy_hash(&self) -> &str {
        self.decoy.get_or_init(|| self.hasher.hash("decoy password", &*self.rng).unwrap_or_default())
    }

    /// Check `password` for the user `username` names; count failures. Hiding existence, a
    /// refusal that is not "wrong password" (no such user, disabled, locked out) costs the same
    /// hash, waits as long as a counted failure takes, and reads as a wrong password — a
    /// disabled user learns so only with the right password.
    pub fn verify_password(&self, ctx: &Ctx, username: &str, password: &str) -> Result<User> {
        let started = std::time::Instant::now();
        let hide = prevents_existence_errors(ctx);
        let found = users::find(&*self.store.read()?, &ctx.pool, username)?; // no read held across the migration
        let found = match found {
            Some(u) => Some(u),
            None => self.migrate_user(ctx, username, Some(password))?,
        };
        let hidden = |s: &Self| {
            s.decoys.pad(&ctx.pool.id, "SignInFailed", started);
            Err(Error::bad_credentials())
        };
        if found.is_some() || hide {
            self.pre_authentication(ctx, username, found.as_ref())?;
        }
        let Some(mut user) = found else {
            let _ = self.hasher.verify(password, self.decoy_hash());
            return if hide { hidden(self) } else { Err(unknown_user(ctx)) };
        };
        if !user.enabled && !hide {
            return Err(Error::NotAuthorizedException("User is disabled.".into()));
        }
        if let Err(locked) = lockout::check(&user, self.now_ms()) {
            if !hide {
                return Err(locked);
            }
            let _ = self.hasher.verify(password, self.decoy_hash());
            return hidden(self);
        }
        let ok = match &user.password {
            Some(c) => janus_crypto::imported::verify(&self.hasher, password, &c.phc)?,
            // An imported user without a password hash must reset it first.
            None if user.status == janus_types::UserStatus::ResetRequired && !hide => {
                return Err(Error::PasswordResetRequiredException("Password reset required for the user".into()));
            }
            None => {
                let _ = self.hasher.verify(password, self.decoy_hash());
                false
            }
        };
        if !ok && !user.enabled {
            return hidden(self);
        }
        if !ok {
            self.record_failure(&ctx.pool.id, &user)?;
            self.decoys.record(&ctx.pool.id, "SignInFailed", started.elapsed());
            return Err(Error::bad_credentials());
        }
        if !user.enabled {
            return Err(Error::NotAuthorizedException("User is disabled.".into()));
        }
        self.check_temporary_expiry(ctx, &user)?;
        self.upgrade_hash(ctx, &mut user, password)?;
        Ok(user)
    }

    /// Sign in with a password.
    pub fn password_sign_in(&self, ctx: &Ctx, username: &str, password: &str) -> Result<Outcome> {
        let user = self.verify_password(ctx, username, password)?;
        self.after_authentication(ctx, &user)
    }

    /// A temporary password older than the policy's validity days no longer works.
    pub fn check_temporary_expiry(&self, ctx: &Ctx, user: &User) -> Result<()> {
        let Some(c) = user.password.as_ref().filter(|c| c.temporary) else { return Ok(()) };
        let days = i64::from(ctx.pool.config.password_policy.temporary_password_validity_days);
        if self.now_ms() - c.set_ms > days * 86_400_000 {
            return Err(Error::NotAuthorizedException(
                "Temporary password has expired and must be reset by an administrator.".into(),
            ));
        }
        Ok(())
    }

    /// Re-hash with the current parameters after a successful check (old params → new), and
    /// replace an imported hash with Janus's argon2id and an SRP verifier (its first sign-in).
    fn upgrade_hash(&self, ctx: &Ctx, user: &mut User, password: &str) -> Result<()> {
        let Some(c) = &user.password else { return Ok(()) };
        if !self.hasher.needs_rehash(&c.phc) || !self.is_primary(&ctx.pool) {
            return Ok(());
        }
        let imported = janus_crypto::imported::is_imported(&c.phc);
        let fresh = if imported { Some(self.credential_unchecked(&ctx.pool, &user.username, password)?) } else { None };
        let phc = match &fresh {
            Some(f) => f.phc.clone(),
            None => self.hasher.hash(password, &*self.rng)?,
        };
        let mut tx = self.store.write(self.now_ms())?;
        if let Some(mut u) = tx.user(&ctx.pool.id, &user.key)? {
            match (fresh, u.password.as_mut()) {
                (Some(f), Some(_)) => u.password = Some(f),
                (None, Some(cred)) => cred.phc = phc,
                _ => {}
            }
            tx.put(&ctx.pool.id, janus_types::Entity::User(u.clone()))?;
            *user = u;
        }
        tx.commit()
    }
}
