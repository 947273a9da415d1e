//! Forgotten passwords: ForgotPassword sends a code to the user's verified email or phone;
//! ConfirmForgotPassword sets a new password with it. AdminResetUserPassword sends the same
//! code. Setting the password clears a lockout and leaves the user CONFIRMED. With
//! PreventUserExistenceErrors both answer alike for every name (`crate::existence`).
//!
//! Where the code goes follows the pool's `AccountRecoverySetting`: its mechanisms in priority
//! order (`verified_email`, `verified_phone_number`), the first the user has; `admin_only`
//! refuses ForgotPassword altogether (an administrator still resets). Without a setting,
//! Cognito's legacy order applies: a verified phone, else a verified email.

use std::time::Instant;

use serde_json::Value;

use janus_types::{Error, Pool, Result, User, UserStatus};

use crate::auth::password;
use crate::codes::{self, Delivery};
use crate::existence::{self, Route};
use crate::signup::CodeInput;
use crate::triggers::senders::Caller;
use crate::Services;

const FORGOT_CODE_MS: i64 = 3600 * 1000;

fn no_destination() -> Error {
    Error::invalid("Cannot reset password for the user as there is no registered/verified email or phone_number")
}

/// The pool's recovery mechanisms by priority; `None` when it has no AccountRecoverySetting.
fn mechanisms(pool: &Pool) -> Option<Vec<String>> {
    let list = pool.config.other.get("AccountRecoverySetting")?.get("RecoveryMechanisms")?.as_array()?;
    let mut named: Vec<(i64, String)> = list
        .iter()
        .filter_map(|m| Some((m.get("Priority").and_then(Value::as_i64)?, m.get("Name")?.as_str()?.to_owned())))
        .collect();
    named.sort();
    Some(named.into_iter().map(|(_, n)| n).collect())
}

/// True when only an administrator may reset passwords in `pool`.
fn admin_only(pool: &Pool) -> bool {
    mechanisms(pool).is_some_and(|m| m.iter().any(|n| n == "admin_only"))
}

/// Where a reset code for `user` goes, by the pool's recovery mechanisms (an administrator's
/// reset in an `admin_only` pool, and a pool without a setting, use the legacy order).
pub(crate) fn reset_destination(pool: &Pool, user: &User) -> Option<Delivery> {
    let legacy = || vec!["verified_phone_number".to_owned(), "verified_email".to_owned()];
    let order = mechanisms(pool).filter(|m| m.iter().any(|n| n != "admin_only")).unwrap_or_else(legacy);
    order.iter().find_map(|m| match m.as_str() {
        "verified_email" => codes::destination(user, Some("email"), true),
        "verified_phone_number" => codes::destination(user, Some("phone_number"), true),
        _ => None,
    })
}

impl Services {
    /// Put a reset code on `user` (caller stores it) and say where it goes. `metered`: the
    /// send counts against the user's code budget (self-service; an administrator's
    /// AdminResetUserPassword does not).
    pub(crate) fn reset_code(&self, pool: &Pool, user: &mut User, metered: bool) -> Result<(Delivery, String)> {
        let d = reset_destination(pool, user).ok_or_else(no_destination)?;
        let code = if metered {
            self.new_code(pool, user, "forgot", FORGOT_CODE_MS)?
        } else {
            self.unmetered_code(pool, user, "forgot", FORGOT_CODE_MS)?
        };
        Ok((d, code))
    }

    /// ForgotPassword. With PreventUserExistenceErrors, an unknown user — or one who is
    /// disabled, must change a temporary password, or has nowhere verified to send a code —
    /// gets a simulated delivery (`crate::existence`).
    pub fn forgot_password(&self, input: CodeInput) -> Result<Delivery> {
        let started = Instant::now();
        let (mut ctx, user) = self.code_ctx(&input)?;
        if admin_only(&ctx.pool) {
            return Err(Error::NotAuthorizedException("Contact administrator to reset password.".into()));
        }
        ctx.metadata = input.client_metadata.clone();
        let user = match user {
            Some(u) => Some(u),
            None => self.migrate_user(&ctx, &input.username, None)?,
        };
        let revealing = match &user {
            Some(u) if !u.enabled => Some(Error::NotAuthorizedException("User is disabled.".into())),
            Some(u) if u.status == UserStatus::ForceChangePassword => {
                Some(Error::NotAuthorizedException("User password cannot be reset in the current state.".into()))
            }
            Some(u) if reset_destination(&ctx.pool, u).is_none() => Some(no_destination()),
            _ => None,
        };
        let user = match existence::route(&ctx, user, revealing)? {
            Route::Real(u) => u,
            Route::Simulated(u) => {
                return self.simulated_delivery(&ctx, &input.username, u.as_ref(), "ForgotPassword", started)
            }
        };
        let mut sent = None;
        let pool = ctx.pool.clone();
        let stored = self.with_user(&ctx, &user, |u| {
            sent = Some(self.reset_code(&pool, u, true)?);
            Ok(Ok(()))
        });
        let result = stored.and_then(|stored| {
            let (d, code) = sent.ok_or_else(no_destination)?;
            let caller = Caller { client_id: Some(ctx.client.id.as_str()), metadata: Some(&ctx.metadata) };
            self.send_code(&ctx.pool, &stored, &d, ("password reset", "CustomMessage_ForgotPassword"), &code, caller)?;
            Ok(d)
        });
        self.timed(&ctx.pool, "ForgotPassword", started, &result);
        result
    }

    /// ConfirmForgotPassword. With PreventUserExistenceErrors an unknown user is answered as
    /// a wrong code, after the same password-policy check and hashing a real one gets.
    pub fn confirm_forgot_password(&self, input: CodeInput) -> Result<()> {
        let started = Instant::now();
        let (ctx, user) = self.code_ctx(&input)?;
        let hide = password::prevents_existence_errors(&ctx);
        if user.is_none() && !hide {
            return Err(Error::user_not_found());
        }
        let new_password = input.password.as_deref().ok_or_else(|| Error::invalid("Password is required."))?;
        let name = user.as_ref().map_or(input.username.as_str(), |u| u.username.as_str());
        let credential = self.credential(&ctx.pool, name, new_password, false)?;
        let Some(user) = user else {
            return Err(self.simulated_mismatch(&ctx, &input.username, None, "ConfirmForgotPassword", started));
        };
        let code = input.confirmation_code.as_deref().unwrap_or_default();
        let pool = ctx.pool.clone();
        let result = self.with_user(&ctx, &user, |u| {
            let verdict = self.check_code(&pool, u, "forgot", code)?;
            if verdict.is_ok() {
                u.password = Some(credential);
                u.security.failed_sign_ins = 0;
                u.security.locked_until_ms = 0;
                if matches!(u.status, UserStatus::ResetRequired | UserStatus::ForceChangePassword) {
                    u.status = UserStatus::Confirmed;
                }
            }
            Ok(verdict)
        });
        self.timed(&ctx.pool, "ConfirmForgotPassword", started, &result);
        let client = Some(ctx.client.id.as_str());
        let result = result.and_then(|u| {
            self.post_confirmation(
                &ctx.pool,
                "PostConfirmation_ConfirmForgotPassword",
                &u,
                client,
                &input.client_metadata,
            )
        });
        existence::hide_expired(hide, result)
    }
}
