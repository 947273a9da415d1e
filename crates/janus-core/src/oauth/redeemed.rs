//! Single use of authorization codes. A redeemed code's id is remembered in its user's
//! security state (`UserSecurity::redeemed_codes`, replicated pool data) until the code
//! would have expired anyway. The primary checks and records in one transaction. A secondary
//! checks its replicated copy and the codes it redeemed itself (region-local marks in the
//! store, so every node of the region sees them), then asks the primary
//! through the replication link (a [`SecurityEvent::CodeRedeemed`]) — the primary refuses a
//! code redeemed anywhere before. If the primary cannot be reached (it is down: the
//! failover case) the secondary's own record still stops a second use there, and the
//! primary's record, once it is back and has re-synced, stops it everywhere.

use janus_types::{Entity, Error, Pool, PoolId, Result, UserKey};

use crate::security::{SecurityEvent, Verdict};
use crate::Services;

fn reused() -> Error {
    Error::NotAuthorizedException("The authorization code was already used.".into())
}

impl Services {
    /// Mark the code `id` of `user` redeemed, or refuse it when it already was.
    pub fn redeem_code_once(&self, pool: &Pool, user: &UserKey, id: &str, exp_ms: i64) -> Result<()> {
        if self.is_primary(pool) {
            return self.record_redeemed(&pool.id, user, id, exp_ms);
        }
        let mut tx = self.store.write(self.now_ms())?;
        let seen = tx.user(&pool.id, user)?.is_some_and(|u| u.security.redeemed_codes.iter().any(|(c, _)| c == id));
        // A region-local mark (never replicated): single use across this region's nodes.
        if seen || !tx.raise_local_mark(&pool.id, user, &format!("code:{id}"), exp_ms)? {
            return Err(reused());
        }
        tx.commit()?;
        let event = SecurityEvent::CodeRedeemed { user: user.clone(), code: id.to_owned(), exp_ms };
        match self.send_upstream(&pool.id, &event) {
            Ok(Verdict::Recorded) => Ok(()),
            Ok(Verdict::Refused) => Err(reused()),
            Err(e) if !e.is_internal() => Err(e),
            Err(e) => {
                tracing::warn!(pool = %pool.id, error = %e, "primary unreachable; code single use enforced in this region");
                Ok(())
            }
        }
    }

    /// On the primary: record the code in the user's state, refusing a second use.
    pub fn record_redeemed(&self, pool: &PoolId, user: &UserKey, id: &str, exp_ms: i64) -> Result<()> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let p = tx.pool(pool)?.ok_or_else(|| Error::pool_not_found(pool.as_str()))?;
        if !self.is_primary(&p) {
            return Err(Error::OperationNotEnabledException("This region is not the primary of the pool.".into()));
        }
        let Some(mut u) = tx.user(pool, user)? else { return Err(reused()) };
        let codes = &mut u.security.redeemed_codes;
        if codes.iter().any(|(c, _)| c == id) {
            return Err(reused());
        }
        codes.retain(|(_, exp)| *exp >= now);
        codes.push((id.to_owned(), exp_ms));
        tx.put(pool, Entity::User(u))?;
        tx.commit()
    }
}
