//! Failed sign-in protection, as Cognito does it: after five consecutive failures the user is
//! locked for a period that starts at one second and doubles with each further failure, up to
//! fifteen minutes; a success clears the count. The state lives in the user entity, so it is
//! replicated: a lockout earned in one region holds in the other. A secondary never writes it
//! itself: it sends the event to the primary ([`crate::security`]), whose write flows back.

use janus_types::{Error, PoolId, Result, User};

use crate::security::SecurityEvent;
use crate::Services;

const FREE_ATTEMPTS: u32 = 5;
const MAX_LOCK_MS: i64 = 15 * 60 * 1000;

/// Refuse a user who is locked now.
pub fn check(user: &User, now_ms: i64) -> Result<()> {
    if user.security.locked_until_ms > now_ms {
        return Err(Error::NotAuthorizedException("Password attempts exceeded".into()));
    }
    Ok(())
}

/// How long the `failures`-th consecutive failure locks the user for.
pub fn lock_ms(failures: u32) -> i64 {
    if failures < FREE_ATTEMPTS {
        return 0;
    }
    let doublings = (failures - FREE_ATTEMPTS).min(20);
    (1000i64 << doublings).min(MAX_LOCK_MS)
}

impl Services {
    /// Count a failed sign-in of `user`.
    pub fn record_failure(&self, pool: &PoolId, user: &User) -> Result<()> {
        self.security_event(pool, &SecurityEvent::SignInFailed { user: user.key.clone() })
    }

    /// Clear the failure count after a success (nothing to send when there is none).
    pub fn record_success(&self, pool: &PoolId, user: &User) -> Result<()> {
        if user.security.failed_sign_ins == 0 && user.security.locked_until_ms == 0 {
            return Ok(());
        }
        self.security_event(pool, &SecurityEvent::SignInSucceeded { user: user.key.clone() })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lock_grows_from_one_second_to_fifteen_minutes() {
        assert_eq!(super::lock_ms(4), 0);
        assert_eq!(super::lock_ms(5), 1000);
        assert_eq!(super::lock_ms(6), 2000);
        assert_eq!(super::lock_ms(40), 15 * 60 * 1000);
    }
}
