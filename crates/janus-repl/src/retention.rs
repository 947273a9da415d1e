//! Change-log retention. Every region keeps each pool's change log (a primary ships from it,
//! a replica keeps what it applied so it can ship after a promotion), and nothing else
//! bounds it. A periodic pass drops the changes that are both older than the retention
//! period and beyond the newest `min_changes`, and never one a replica heard from within the
//! period still needs. A replica that falls further behind than that finds the log no longer
//! reaches back to its head and re-copies the pool by itself (`puller`).

use std::time::Duration;

use janus_store::Read;
use janus_types::{PoolId, Result, Seq};

use crate::Replicator;

/// How much of each pool's change log to keep.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Changes younger than this are kept.
    pub max_age: Duration,
    /// The newest this many changes are kept whatever their age.
    pub min_changes: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self { max_age: Duration::from_secs(24 * 3600), min_changes: 10_000 }
    }
}

impl Replicator {
    /// One retention pass over every pool; returns how many changes were dropped.
    pub fn trim_logs(&self, keep: Retention) -> Result<u64> {
        let now = self.services.now_ms();
        let oldest_kept_ms = now - keep.max_age.as_millis() as i64;
        let mut dropped = 0;
        for pool in self.pool_ids()? {
            let below = {
                let r = self.services.store.read()?;
                trim_point(&*r, &pool, keep.min_changes, oldest_kept_ms)?
            };
            let Some(mut below) = below else { continue };
            if let Some(needed) = self.oldest_needed(&pool, oldest_kept_ms) {
                below = below.min(Seq(needed + 1));
            }
            let mut tx = self.services.store.write(now)?;
            let n = tx.trim_log(&pool, below)?;
            tx.commit()?;
            if n > 0 {
                tracing::info!(pool = %pool, below = below.0, dropped = n, "change log trimmed");
            }
            dropped += n;
        }
        Ok(dropped)
    }

    /// The lowest `seq` applied by a replica of `pool` that reported since `since_ms`.
    fn oldest_needed(&self, pool: &PoolId, since_ms: i64) -> Option<u64> {
        let links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        links.iter().filter(|((p, _), l)| p == pool && l.reported_ms >= since_ms).map(|(_, l)| l.applied).min()
    }

    /// Run [`Replicator::trim_logs`] every `every` on a thread of its own.
    pub fn start_retention(self: &std::sync::Arc<Self>, keep: Retention, every: Duration) {
        let me = self.clone();
        let spawned = std::thread::Builder::new().name("repl-retention".into()).spawn(move || {
            while !me.stopping() {
                if let Err(e) = me.trim_logs(keep) {
                    tracing::warn!(error = %e, "change log retention pass failed");
                }
                std::thread::sleep(every);
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start change log retention");
        }
    }
}

/// The `seq` below which `pool`'s changes may go: the first kept change is the oldest one
/// that is either among the newest `min_changes` or committed at or after `oldest_kept_ms`.
/// `None` when nothing may go. Commit times rise with `seq` (one writer), so a binary search
/// over point reads finds the age cut without scanning the log.
fn trim_point(r: &dyn Read, pool: &PoolId, min_changes: u64, oldest_kept_ms: i64) -> Result<Option<Seq>> {
    let (head, _) = r.log_head(pool)?;
    let Some(first) = r.changes(pool, Seq(0), 1)?.into_iter().next() else { return Ok(None) };
    let by_count = head.0.saturating_sub(min_changes) + 1;
    if by_count <= first.seq.0 || first.at_ms >= oldest_kept_ms {
        return Ok(None);
    }
    // Find the first seq in [first, by_count] whose change is young enough (or by_count).
    let (mut lo, mut hi) = (first.seq.0, by_count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let young = match r.changes(pool, Seq(mid - 1), 1)?.into_iter().next() {
            Some(c) if c.seq.0 == mid => c.at_ms >= oldest_kept_ms,
            _ => true, // a hole (cannot happen below the head): keep from here
        };
        if young {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok((lo > first.seq.0).then_some(Seq(lo)))
}
