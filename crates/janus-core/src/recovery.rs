//! Forgotten passwords: ForgotPassword sends a code to the user's verified email or phone;
//! ConfirmForgotPassword sets a new password with it. AdminResetUserPassword sends the same
//! code. Setting the password clears a lockout and leaves the user CONFIRMED.

use janus_types::{Error, Pool, Result, User, UserStatus};

use crate::auth::password;
use crate::codes::{self, Delivery};
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

    /// ForgotPassword.
    pub fn forgot_password(&self, input: CodeInput) -> Result<Delivery> {
        let (ctx, user) = self.code_ctx(&input)?;
        let Some(user) = user else {
            if password::prevents_existence_errors(&ctx) {
                return Ok(Delivery { destination: codes::mask(&input.username), medium: "EMAIL", attribute: "email" });
            }
            return Err(Error::user_not_found());
        };
        if !user.enabled {
            return Err(Error::NotAuthorizedException("User is disabled.".into()));
        }
        if user.status == UserStatus::ForceChangePassword {
            return Err(Error::NotAuthorizedException("User password cannot be reset in the current state.".into()));
        }
        let mut sent = None;
        let pool = ctx.pool.clone();
        let stored = self.with_user(&ctx, &user, |u| {
            sent = Some(self.reset_code(&pool, u)?);
            Ok(Ok(()))
        })?;
        let (d, code) = sent.ok_or_else(no_destination)?;
        self.send_code(&ctx.pool, &stored, &d, "password reset", &code)?;
        Ok(d)
    }

    /// ConfirmForgotPassword.
    pub fn confirm_forgot_password(&self, input: CodeInput) -> Result<()> {
        let (ctx, user) = self.code_ctx(&input)?;
        let user = user.ok_or_else(|| {
            if password::prevents_existence_errors(&ctx) {
                Error::CodeMismatchException("Invalid verification code provided, please try again.".into())
            } else {
                Error::user_not_found()
            }
        })?;
        let new_password = input.password.as_deref().ok_or_else(|| Error::invalid("Password is required."))?;
        let credential = self.credential(&ctx.pool, &user.username, new_password, false)?;
        let code = input.confirmation_code.as_deref().unwrap_or_default();
        let pool = ctx.pool.clone();
        self.with_user(&ctx, &user, |u| {
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
        })?;
        Ok(())
    }
}
