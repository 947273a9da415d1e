//! Automatic failover (off by default, as on AWS). In a secondary, a watcher thread checks
//! the primary's `/ready` for each pool this region holds an ACTIVE replica of, every
//! `interval`. After `failures` consecutive failed checks it promotes this region — but only
//! while its own replica is healthy (ACTIVE, and it heard from the primary shortly before the
//! checks began failing, so its lag is known and small), at least `min_gap` after its last
//! promotion, and, when a witness is configured, only once the witness too has lost the
//! primary for longer than the primary's write lease (`lease`), so a partition between the
//! two regions alone never makes two primaries.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use janus_types::{PoolId, ReplicaStatus};

use crate::Replicator;

/// Automatic failover settings.
#[derive(Debug, Clone)]
pub struct AutoFailover {
    /// Watch and promote (off by default).
    pub enabled: bool,
    /// Time between checks of the primary.
    pub interval: Duration,
    /// Consecutive failed checks before promoting.
    pub failures: u32,
    /// Least time between two promotions by this watcher.
    pub min_gap: Duration,
    /// The witness's base URL, when there is one.
    pub witness: Option<String>,
}

impl Default for AutoFailover {
    fn default() -> Self {
        Self {
            enabled: false,
            interval: Duration::from_secs(5),
            failures: 3,
            min_gap: Duration::from_secs(300),
            witness: None,
        }
    }
}

impl AutoFailover {
    /// How long a primary keeps taking writes without hearing from a witness or a replica,
    /// and how long the witness must have lost the primary before a secondary may promote
    /// (the watcher's detection time, so it costs no extra delay).
    pub fn lease(&self) -> Duration {
        self.interval * self.failures
    }
}

/// What the witness says of a region.
#[derive(Debug, Clone, Deserialize)]
pub struct Seen {
    /// Milliseconds since the region's last heartbeat; `None`: never seen.
    pub age_ms: Option<u64>,
}

/// One pool's watch state.
#[derive(Default)]
struct Watch {
    failed: u32,
}

impl Replicator {
    /// Run the watcher on a thread of its own (no-op unless enabled).
    pub fn start_watcher(self: &Arc<Self>) {
        let Some(cfg) = self.failover.get().cloned().filter(|c| c.enabled) else { return };
        let me = self.clone();
        tracing::info!(
            interval_ms = cfg.interval.as_millis() as u64,
            failures = cfg.failures,
            witness = cfg.witness.is_some(),
            "automatic failover on"
        );
        let spawned = std::thread::Builder::new().name("failover-watch".into()).spawn(move || {
            let mut watches: HashMap<PoolId, Watch> = HashMap::new();
            let mut last_promotion: Option<Instant> = None;
            while !me.stopping() {
                let started = Instant::now();
                if let Err(e) = me.watch_once(&cfg, &mut watches, &mut last_promotion) {
                    tracing::warn!(error = %format!("{e:#}"), "failover watch failed");
                }
                std::thread::sleep(cfg.interval.saturating_sub(started.elapsed()));
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start the failover watcher");
        }
    }

    fn watch_once(
        self: &Arc<Self>,
        cfg: &AutoFailover,
        watches: &mut HashMap<PoolId, Watch>,
        last_promotion: &mut Option<Instant>,
    ) -> anyhow::Result<()> {
        if !self.available() {
            return Ok(());
        }
        let subs = self.services.store.read()?.subscriptions()?;
        watches.retain(|p, _| subs.iter().any(|s| s.pool == *p));
        for sub in subs {
            let pool = match self.services.store.read()?.pool(&sub.pool)? {
                Some(p) => p,
                None => continue,
            };
            // One watcher per pool and region: the node that pulls it (it alone knows when
            // the primary was last heard from).
            if self.services.replica_status_here(&pool) != Some(ReplicaStatus::Active) || !self.pulls_here(&sub.pool) {
                watches.remove(&sub.pool);
                continue;
            }
            let w = watches.entry(sub.pool.clone()).or_default();
            if self.primary_answers(&sub.url, &sub.pool, cfg.interval) {
                w.failed = 0;
                continue;
            }
            w.failed += 1;
            tracing::warn!(pool = %sub.pool, primary = %sub.source, failed = w.failed, of = cfg.failures,
                "the primary did not answer its readiness check");
            if w.failed < cfg.failures {
                continue;
            }
            if let Some(why) = self.hold_back(cfg, &sub.pool, &sub.source, *last_promotion) {
                tracing::warn!(pool = %sub.pool, reason = %why, "not promoting");
                continue;
            }
            match self.promote(&sub.pool) {
                Ok(p) => {
                    *last_promotion = Some(Instant::now());
                    self.count_auto_promotion();
                    tracing::warn!(pool = %sub.pool, epoch = p.epoch.0, fence_seq = p.fence_seq.0,
                        former = %p.former_primary, "automatic failover: promoted this region");
                }
                Err(e) => tracing::error!(pool = %sub.pool, error = %e, "automatic failover: promotion failed"),
            }
            watches.remove(&sub.pool);
        }
        Ok(())
    }

    /// Whether the primary at `url` answers `/ready` for `pool` as its primary.
    fn primary_answers(&self, url: &str, pool: &PoolId, timeout: Duration) -> bool {
        let probe = format!("{}/ready?pool={pool}&role=primary", url.trim_end_matches('/'));
        let agent = crate::peer::agent(timeout.min(Duration::from_secs(5)));
        matches!(agent.get(probe).call(), Ok(r) if r.status().is_success())
    }

    /// A reason not to promote now, if any.
    fn hold_back(&self, cfg: &AutoFailover, pool: &PoolId, primary: &str, last: Option<Instant>) -> Option<String> {
        if let Some(at) = last.filter(|at| at.elapsed() < cfg.min_gap) {
            return Some(format!(
                "the last promotion was {} s ago (minimum gap {} s)",
                at.elapsed().as_secs(),
                cfg.min_gap.as_secs()
            ));
        }
        // Healthy replica: it heard from the primary within the detection window plus one long
        // poll, so what it holds is (nearly) what the primary had.
        let window = cfg.interval * (cfg.failures + 1) + crate::puller::LONG_POLL;
        let contact = self.primary_contact_ms(pool).map(|at| self.services.now_ms() - at);
        match contact {
            Some(age) if age <= window.as_millis() as i64 => {}
            Some(age) => {
                return Some(format!("the replica last heard from the primary {age} ms ago: its lag is unknown"))
            }
            None => return Some("the replica has not heard from the primary since this process started".into()),
        }
        let witness = cfg.witness.as_deref()?;
        match self.witness_seen(witness, primary) {
            Ok(Seen { age_ms: Some(age) }) if age <= cfg.lease().as_millis() as u64 => Some(format!(
                "the witness heard from {primary} {age} ms ago: only the link between the regions is down"
            )),
            Ok(_) => None,
            Err(e) => Some(format!("the witness could not be asked ({e:#}); this region may be the one cut off")),
        }
    }
}
