//! Each MFA code is accepted once, in every region. A code's mark (its TOTP step, or the
//! issue time of the email/SMS challenge it answers) must be above the user's stored mark.
//!
//! - On the primary, the check and the raise happen in one write transaction on the user
//!   entity (`SecurityEvent::MfaCodeUsed`), and the new mark replicates to the secondaries.
//! - On a secondary, the mark is first raised in the region-local table (one transaction, so
//!   two concurrent uses here cannot both pass), then sent to the primary, which refuses it
//!   when the code was already used there. When the primary cannot be reached, the local
//!   mark alone decides: a code is still accepted only once within this region, and could be
//!   used once more in the primary until the regions talk again (docs/mfa.md).

use janus_types::{Pool, Result, User};

use crate::security::{CodeKind, SecurityEvent, Verdict};
use crate::Services;

impl Services {
    /// The highest mark `user` has for `kind` as this region knows it: the replicated one,
    /// and on a secondary also its own.
    pub fn used_mark(&self, pool: &Pool, user: &User, kind: CodeKind) -> Result<i64> {
        let replicated = kind.mark(&user.security);
        if self.is_primary(pool) {
            return Ok(replicated);
        }
        let local = self.store.read()?.local_mark(&pool.id, &user.key, kind.as_str())?;
        Ok(replicated.max(local))
    }

    /// Use the code whose mark is `mark`: true when it was fresh everywhere this region can
    /// tell, false when it was already used (here, or at the primary).
    pub fn use_code(&self, pool: &Pool, user: &User, kind: CodeKind, mark: i64) -> Result<bool> {
        let event = SecurityEvent::MfaCodeUsed { user: user.key.clone(), code: kind, mark };
        if self.is_primary(pool) {
            return Ok(self.apply_security_event(&pool.id, &event)? == Verdict::Recorded);
        }
        let mut tx = self.store.write(self.now_ms())?;
        let fresh = tx.raise_local_mark(&pool.id, &user.key, kind.as_str(), mark)?;
        tx.commit()?;
        if !fresh {
            return Ok(false);
        }
        match self.send_upstream(&pool.id, &event) {
            Ok(verdict) => Ok(verdict == Verdict::Recorded),
            Err(e) => {
                tracing::warn!(pool = %pool.id, user = %user.key, kind = kind.as_str(), error = %e,
                    "primary unreachable: MFA code accepted on this region's own used-code mark");
                Ok(true)
            }
        }
    }
}
