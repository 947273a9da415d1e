//! The primary's write lease, when a witness is configured. A primary keeps taking writes
//! for a replicated pool only while it has heard, within half the lease, from the witness (a
//! heartbeat it sends every half interval) or from one of the pool's replicas (their long
//! polls). The watcher in a secondary promotes only after the witness has not heard from the
//! primary for a whole lease — by then a primary cut off from both has already stopped
//! taking writes, so two regions never accept writes for one pool at once. Without a witness
//! there is no lease (and no such guarantee: fencing by epoch then settles it when the link
//! comes back, reporting the lost tail).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use janus_types::Pool;

use crate::peer::{agent, SECRET_HEADER};
use crate::watcher::Seen;
use crate::Replicator;

impl Replicator {
    /// Heartbeat the witness every half interval on a thread of its own (no-op without one).
    pub fn start_lease(self: &Arc<Self>) {
        let Some(cfg) = self.failover.get().cloned() else { return };
        let Some(witness) = cfg.witness.clone() else { return };
        let me = self.clone();
        let every = cfg.interval / 2;
        let spawned = std::thread::Builder::new().name("witness-heartbeat".into()).spawn(move || {
            while !me.stopping() {
                if me.available() {
                    match me.heartbeat(&witness, every.max(Duration::from_millis(200))) {
                        Ok(()) => me.witness_ok_ms.store(me.services.now_ms(), Ordering::SeqCst),
                        Err(e) => tracing::warn!(error = %format!("{e:#}"), "witness heartbeat failed"),
                    }
                }
                std::thread::sleep(every);
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start the witness heartbeat");
        }
    }

    fn heartbeat(&self, witness: &str, timeout: Duration) -> anyhow::Result<()> {
        let secret = self.peers.secret.as_deref().unwrap_or_default();
        let url = format!("{}/witness/v1/heartbeat/{}", witness.trim_end_matches('/'), self.services.region);
        let resp = agent(timeout).post(url).header(SECRET_HEADER, secret).send_empty()?;
        anyhow::ensure!(resp.status().is_success(), "witness answered HTTP {}", resp.status());
        Ok(())
    }

    /// What the witness says of `region`.
    pub(crate) fn witness_seen(&self, witness: &str, region: &str) -> anyhow::Result<Seen> {
        let secret = self.peers.secret.as_deref().unwrap_or_default();
        let url = format!("{}/witness/v1/seen/{region}", witness.trim_end_matches('/'));
        let mut resp = agent(Duration::from_secs(2)).get(url).header(SECRET_HEADER, secret).call()?;
        anyhow::ensure!(resp.status().is_success(), "witness answered HTTP {}", resp.status());
        Ok(serde_json::from_reader(resp.body_mut().as_reader())?)
    }

    /// Whether this region, as primary of `pool`, may take writes for it now.
    pub fn holds_lease(&self, pool: &Pool) -> bool {
        let Some(cfg) = self.failover.get().filter(|c| c.witness.is_some()) else { return true };
        if pool.replication.replicas.is_empty() {
            return true;
        }
        let since = self.services.now_ms() - (cfg.lease() / 2).as_millis() as i64;
        if self.witness_ok_ms.load(Ordering::SeqCst) >= since {
            return true;
        }
        pool.replication.replicas.iter().any(|r| self.link(&pool.id, &r.region).is_some_and(|l| l.reported_ms >= since))
    }
}
