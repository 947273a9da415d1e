//! Security state that must not be lost on a secondary (DESIGN.md, "Replication"): failed
//! and successful sign-ins (lockout), global sign-outs, token revocations and used MFA codes.
//! The primary writes them into the user entity, and the change replicates to every region.
//! A secondary sends them to the primary through its [`Upstream`] (the replication link) and
//! never writes the user entity itself — this closes AWS's gap where lockout is not shared
//! between regions. (Used MFA codes are also marked region-locally there: see `crate::mfa::once`.)

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use janus_types::{Entity, Error, PoolId, Result, UserKey, UserSecurity};

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
    /// An MFA code was accepted: `code` says which kind; `mark` is its TOTP step, or the issue time (ms) of the email
    /// or SMS challenge it answered. The primary refuses a mark at or below the stored one.
    MfaCodeUsed {
        user: UserKey,
        code: CodeKind,
        mark: i64,
    },
    /// An OAuth authorization code was redeemed (see `oauth::redeemed`); the primary refuses
    /// one redeemed before.
    CodeRedeemed {
        user: UserKey,
        code: String,
        exp_ms: i64,
    },
}

/// Which used-code mark an [`SecurityEvent::MfaCodeUsed`] raises.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    Totp,
    Otp,
}

impl CodeKind {
    /// The replicated mark of this kind in `s`.
    pub fn mark(self, s: &UserSecurity) -> i64 {
        match self {
            CodeKind::Totp => s.totp_last_step,
            CodeKind::Otp => s.otp_last_ms,
        }
    }

    /// The replicated mark of this kind in `s`, to raise.
    pub fn mark_mut(self, s: &mut UserSecurity) -> &mut i64 {
        match self {
            CodeKind::Totp => &mut s.totp_last_step,
            CodeKind::Otp => &mut s.otp_last_ms,
        }
    }

    /// The name of its region-local mark.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeKind::Totp => "totp",
            CodeKind::Otp => "otp",
        }
    }
}

/// What the primary did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Written (or nothing to write).
    #[default]
    Recorded,
    /// Refused: the MFA code was already used.
    Refused,
}

/// Where a secondary sends security events: the pool's primary.
pub trait Upstream: Send + Sync + 'static {
    /// Deliver `event` for `pool` to its primary; an error means it did not arrive.
    fn send(&self, pool: &PoolId, event: &SecurityEvent) -> Result<Verdict>;
}

impl Services {
    /// Connect this region to the primaries of the pools it replicates.
    pub fn set_upstream(&self, upstream: Arc<dyn Upstream>) {
        let _ = self.upstream.set(upstream);
    }

    /// Record `event`: here on the primary, else at the primary (best effort: an event the
    /// primary cannot be reached for is logged and dropped).
    pub fn security_event(&self, pool: &PoolId, event: &SecurityEvent) -> Result<()> {
        let p = self.load_pool(pool)?;
        if self.is_primary(&p) {
            return self.apply_security_event(pool, event).map(drop);
        }
        self.send_upstream(pool, event).map(drop).or_else(|e| {
            tracing::warn!(pool = %pool, error = %e, ?event, "security event not delivered to the primary");
            Ok(())
        })
    }

    /// Send `event` to the pool's primary; an error when there is no link or it failed.
    pub(crate) fn send_upstream(&self, pool: &PoolId, event: &SecurityEvent) -> Result<Verdict> {
        let up = self.upstream.get().ok_or_else(|| Error::internal(std::io::Error::other("no replication link")))?;
        up.send(pool, event)
    }

    /// Write `event` into the user entity (on the primary).
    pub fn apply_security_event(&self, pool: &PoolId, event: &SecurityEvent) -> Result<Verdict> {
        if let SecurityEvent::CodeRedeemed { user, code, exp_ms } = event {
            return match self.record_redeemed(pool, user, code, *exp_ms) {
                Ok(()) => Ok(Verdict::Recorded),
                Err(Error::NotAuthorizedException(_)) => Ok(Verdict::Refused),
                Err(e) => Err(e),
            };
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
            | SecurityEvent::MfaCodeUsed { user, .. }
            | SecurityEvent::CodeRedeemed { user, .. } => user,
        };
        let Some(mut u) = tx.user(pool, key)? else { return Ok(Verdict::Recorded) };
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
                    return Ok(Verdict::Recorded);
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
            SecurityEvent::MfaCodeUsed { code: kind, mark, .. } => {
                let stored = kind.mark_mut(s);
                if *mark <= *stored {
                    return Ok(Verdict::Refused);
                }
                *stored = *mark;
            }
            SecurityEvent::CodeRedeemed { .. } => unreachable!("recorded by record_redeemed above"),
        }
        tx.put(pool, Entity::User(u))?;
        tx.commit()?;
        Ok(Verdict::Recorded)
    }
}
