//! Failed sign-in protection, as Cognito does it: after five consecutive failures the user is
//! locked for a period that starts at one second and doubles with each further failure, up to
//! fifteen minutes; a success clears the count. The state lives in the user entity, so it is
//! replicated: a lockout earned in one region holds in the other.

use janus_types::{Entity, Error, PoolId, Result, User};

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

fn lock_ms(failures: u32) -> i64 {
    if failures < FREE_ATTEMPTS {
        return 0;
    }
    let doublings = (failures - FREE_ATTEMPTS).min(20);
    (1000i64 << doublings).min(MAX_LOCK_MS)
}

impl Services {
    /// Count a failed sign-in of `user` (re-read inside the write so concurrent failures all count).
    pub fn record_failure(&self, pool: &PoolId, user: &User) -> Result<()> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        if !tx.pool(pool)?.is_some_and(|p| self.is_primary(&p)) {
            return Ok(()); // a secondary writes no pool data (see DESIGN: security state flows back)
        }
        let Some(mut u) = tx.user(pool, &user.key)? else { return Ok(()) };
        u.security.failed_sign_ins = u.security.failed_sign_ins.saturating_add(1);
        let lock = lock_ms(u.security.failed_sign_ins);
        if lock > 0 {
            u.security.locked_until_ms = now + lock;
        }
        tx.put(pool, Entity::User(u))?;
        tx.commit()
    }

    /// Clear the failure count after a success (a write only when there is something to clear).
    pub fn record_success(&self, pool: &PoolId, user: &mut User) -> Result<()> {
        if user.security.failed_sign_ins == 0 && user.security.locked_until_ms == 0 {
            return Ok(());
        }
        let mut tx = self.store.write(self.now_ms())?;
        if !tx.pool(pool)?.is_some_and(|p| self.is_primary(&p)) {
            return Ok(());
        }
        if let Some(mut u) = tx.user(pool, &user.key)? {
            u.security.failed_sign_ins = 0;
            u.security.locked_until_ms = 0;
            tx.put(pool, Entity::User(u.clone()))?;
            *user = u;
        }
        tx.commit()
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
