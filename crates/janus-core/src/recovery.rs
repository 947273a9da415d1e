//! Forgotten passwords: ForgotPassword sends a code to the user's verified email or phone;
//! ConfirmForgotPassword sets a new password with it. AdminResetUserPassword sends the same
//! code. Setting the password clears a lockout and leaves the user CONFIRMED. With
//! PreventUserExistenceErrors both answer alike for every name (`crate::existence`).

use std::time::Instant;

use janus_types::{Error, Pool, Result, User, UserStatus};

use crate::auth::{password, Ctx};
use crate::codes::{self, Delivery};
use crate::existence::{Decoys, Draw};
use crate::signup::CodeInput;
use crate::Services;

const FORGOT_CODE_MS: i64 = 3600 * 1000;

fn no_destination() -> Error {
    Error::invalid("Cannot reset password for the user as there is no registered/verified email or phone_number")
}

impl Services {
    /// Put a reset code on `user` (caller stores it) and say where it goes.
    pub(crate) fn reset_code(&self, pool: &Pool, user: &mut User) -> Result<(Delivery, String)> {
        let d = codes::destination(user, None, true).ok_or_else(no_destination)?;
        let code = self.new_code(pool, user, "forgot", FORGOT_CODE_MS)?;
        Ok((d, code))
    }

    /// ForgotPassword. With PreventUserExistenceErrors, an unknown user — or one who is
    /// disabled, must change a temporary password, or has nowhere verified to send a code —
    /// gets a simulated delivery (`crate::existence`).
    pub fn forgot_password(&self, input: CodeInput) -> Result<Delivery> {
        let started = Instant::now();
        let (ctx, user) = self.code_ctx(&input)?;
        let revealing = match &user {
            None => Some(Error::user_not_found()),
            Some(u) if !u.enabled => Some(Error::NotAuthorizedException("User is disabled.".into())),
            Some(u) if u.status == UserStatus::ForceChangePassword => {
                Some(Error::NotAuthorizedException("User password cannot be reset in the current state.".into()))
            }
            Some(u) if codes::destination(u, None, true).is_none() => Some(no_destination()),
            Some(_) => None,
        };
        let user = match (user, revealing) {
            (Some(u), None) => u,
            (_, e) if !password::prevents_existence_errors(&ctx) => return Err(e.unwrap_or_else(Error::user_not_found)),
            _ => return self.simulated_delivery(&ctx, &input.username, "ForgotPassword", started),
        };
        let mut sent = None;
        let pool = ctx.pool.clone();
        let stored = self.with_user(&ctx, &user, |u| {
            sent = Some(self.reset_code(&pool, u)?);
            Ok(Ok(()))
        })?;
        let (d, code) = sent.ok_or_else(no_destination)?;
        self.send_code(&ctx.pool, &stored, &d, "password reset", &code)?;
        self.decoys.record("ForgotPassword", started.elapsed());
        Ok(d)
    }

    /// What a code operation answers where the real answer would tell that `name` has no
    /// account (or is in a state that gives it away): a delivery that looks real, drawn from
    /// the same budget, after as long as a real one takes.
    pub(crate) fn simulated_delivery(
        &self,
        ctx: &Ctx,
        name: &str,
        op: &'static str,
        started: Instant,
    ) -> Result<Delivery> {
        self.decoys.draw(&ctx.pool.id, name, Draw::Send, self.now_ms())?;
        self.decoys.pad(op, started);
        Decoys::delivery(ctx, name)
    }

    /// What a code check answers for a name whose real answer would give it away: a wrong
    /// code, drawn from the same guess budget, after as long as a real check takes.
    pub(crate) fn simulated_mismatch(&self, ctx: &Ctx, name: &str, op: &'static str, started: Instant) -> Error {
        if let Err(limit) = self.decoys.draw(&ctx.pool.id, name, Draw::Guess, self.now_ms()) {
            return limit;
        }
        self.decoys.pad(op, started);
        mismatch()
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
            return Err(self.simulated_mismatch(&ctx, &input.username, "ConfirmForgotPassword", started));
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
        if !matches!(&result, Err(Error::LimitExceededException(_))) {
            self.decoys.record("ConfirmForgotPassword", started.elapsed());
        }
        hide_expired(hide, result.map(|_| ()))
    }
}

/// Hiding existence, "no code was requested" reads as a wrong code: an unknown user can
/// have no code either.
pub(crate) fn hide_expired(hide: bool, result: Result<()>) -> Result<()> {
    match result {
        Err(Error::ExpiredCodeException(_)) if hide => Err(mismatch()),
        other => other,
    }
}

/// Cognito's answer to a wrong code.
pub(crate) fn mismatch() -> Error {
    Error::CodeMismatchException("Invalid verification code provided, please try again.".into())
}
