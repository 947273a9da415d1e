//! Security state that must not be lost on a secondary (DESIGN.md, "Replication"): failed
//! and successful sign-ins (lockout), global sign-outs and token revocations. The primary
//! writes them into the user entity, and the change replicates to every region. A secondary
//! sends them to the primary through its [`Upstream`] (the replication link) and writes
//! nothing itself — this closes AWS's gap where lockout is not shared between regions.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use janus_types::{Entity, Error, PoolId, Result, UserKey};

use crate::auth::lockout;
use crate::Services;

/// One piece of security state.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecurityEvent {
    SignInFailed {
        user: UserKey,
    },
    SignInSucceeded {
        user: UserKey,
    },
    SignedOut {
        user: UserKey,
        at_ms: i64,
    },
    Revoked {
        user: UserKey,
        origin_jti: String,
        exp: i64,
    },
    /// An OAuth authorization code was redeemed (see `oauth::redeemed`); the primary refuses
    /// one redeemed before.
    CodeRedeemed {
        user: UserKey,
        code: String,
        exp_ms: i64,
    },
}

/// Where a secondary sends security events: the pool's primary.
pub trait Upstream: Send + Sync + 'static {
    /// Deliver `event` for `pool` to its primary.
    fn send(&self, pool: &PoolId, event: &SecurityEvent) -> Result<()>;
}

impl Services {
    /// Connect this region to the primaries of the pools it replicates.
    pub fn set_upstream(&self, upstream: Arc<dyn Upstream>) {
        let _ = self.upstream.set(upstream);
    }

    /// Record `event`: here on the primary, else at the primary.
    pub fn security_event(&self, pool: &PoolId, event: &SecurityEvent) -> Result<()> {
        let p = self.load_pool(pool)?;
        if self.is_primary(&p) {
            return self.apply_security_event(pool, event);
        }
        match self.upstream.get() {
            Some(up) => up.send(pool, event).or_else(|e| {
                tracing::warn!(pool = %pool, error = %e, ?event, "security event not delivered to the primary");
                Ok(())
            }),
            None => Ok(()),
        }
    }

    /// Send `event` to the pool's primary and return its answer: a refusal is the primary's
    /// domain error, an unreachable primary an internal one.
    pub fn send_upstream(&self, pool: &PoolId, event: &SecurityEvent) -> Result<()> {
        match self.upstream.get() {
            Some(up) => up.send(pool, event),
            None => Err(Error::internal(std::io::Error::other("no link to the primary"))),
        }
    }

    /// Write `event` into the user entity (on the primary).
    pub fn apply_security_event(&self, pool: &PoolId, event: &SecurityEvent) -> Result<()> {
        if let SecurityEvent::CodeRedeemed { user, code, exp_ms } = event {
            return self.record_redeemed(pool, user, code, *exp_ms);
        }
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let p = tx.pool(pool)?.ok_or_else(|| Error::pool_not_found(pool.as_str()))?;
        if !self.is_primary(&p) {
            return Err(Error::OperationNotEnabledException("This region is not the primary of the pool.".into()));
        }
        let key = match event {
            SecurityEvent::SignInFailed { user }
            | SecurityEvent::SignInSucceeded { user }
            | SecurityEvent::SignedOut { user, .. }
            | SecurityEvent::Revoked { user, .. }
            | SecurityEvent::CodeRedeemed { user, .. } => user,
        };
        let Some(mut u) = tx.user(pool, key)? else { return Ok(()) };
        let s = &mut u.security;
        match event {
            SecurityEvent::SignInFailed { .. } => {
                s.failed_sign_ins = s.failed_sign_ins.saturating_add(1);
                let lock = lockout::lock_ms(s.failed_sign_ins);
                if lock > 0 {
                    s.locked_until_ms = now + lock;
                }
            }
            SecurityEvent::SignInSucceeded { .. } => {
                if s.failed_sign_ins == 0 && s.locked_until_ms == 0 {
                    return Ok(());
                }
                s.failed_sign_ins = 0;
                s.locked_until_ms = 0;
            }
            SecurityEvent::SignedOut { at_ms, .. } => s.tokens_valid_from_ms = s.tokens_valid_from_ms.max(*at_ms),
            SecurityEvent::Revoked { origin_jti, exp, .. } => {
                let now_s = now / 1000;
                s.revoked.retain(|(_, e)| *e >= now_s);
                if !s.revoked.iter().any(|(j, _)| j == origin_jti) {
                    s.revoked.push((origin_jti.clone(), *exp));
                }
            }
            SecurityEvent::CodeRedeemed { .. } => return Ok(()),
        }
        tx.put(pool, Entity::User(u))?;
        tx.commit()
    }
}
