//! Failover beyond AWS: promoting a secondary to primary, and fencing the former primary.
//! Promotion starts a new epoch and records `fence_seq`, the last `seq` of the old one. A
//! former primary that learns of a higher epoch — told at promotion, or finding out itself
//! through [`Replicator::fence_check`] once it can reach the others — stops taking writes,
//! reports the changes it committed after `fence_seq` (they never reached the new primary:
//! the realised RPO, never silently dropped), and re-syncs as a secondary. Failback is the
//! same operation in the other direction.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use janus_store::Subscription;
use janus_types::{Entity, EntityKey, Epoch, Error, PoolId, RegionName, Replica, ReplicaStatus, Result, Seq};

use crate::peer::Peer;
use crate::wire;
use crate::Replicator;

/// What a promotion did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Promotion {
    /// The new epoch.
    pub epoch: Epoch,
    /// The last `seq` of the previous epoch.
    pub fence_seq: Seq,
    /// The former primary.
    pub former_primary: String,
    /// Whether the former primary was reached and fenced right away.
    pub former_primary_fenced: bool,
}

/// The new primary's word to a former primary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Demote {
    /// Format version.
    pub v: u32,
    /// The new epoch.
    pub epoch: Epoch,
    /// The last `seq` both had.
    pub fence_seq: Seq,
    /// The new primary's region.
    pub primary: String,
    /// The new primary's URL.
    pub url: String,
}

/// Where a pool stands in a region (the `head` endpoint).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Head {
    /// Last committed `seq`.
    pub seq: Seq,
    /// Epoch.
    pub epoch: Epoch,
    /// The primary this region believes in.
    pub primary: String,
    /// `fence_seq` of the current epoch.
    pub fence_seq: Option<u64>,
}

/// Changes a former primary committed that the new primary never had.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LostReport {
    /// The epoch that superseded them.
    pub epoch: Epoch,
    /// The last `seq` the new primary had.
    pub fence_seq: Seq,
    /// `(seq, entity key)` of each lost change.
    pub changes: Vec<(Seq, EntityKey)>,
}

impl Replicator {
    /// This region's view of `pool`.
    pub fn head(&self, pool: &PoolId) -> Result<Head> {
        let r = self.services.store.read()?;
        let p = r.pool(pool)?.ok_or_else(|| Error::pool_not_found(pool.as_str()))?;
        let (seq, epoch) = r.log_head(pool)?;
        Ok(Head { seq, epoch, primary: p.primary_region().to_owned(), fence_seq: p.replication.fence_seq })
    }

    /// Promote this region to primary of `pool` (JanusAdmin.PromoteUserPool).
    pub fn promote(self: &Arc<Self>, pool_id: &PoolId) -> Result<Promotion> {
        let now = self.services.now_ms();
        let mut tx = self.services.store.write(now)?;
        let mut pool = tx.pool(pool_id)?.ok_or_else(|| Error::pool_not_found(pool_id.as_str()))?;
        if self.services.is_primary(&pool) {
            return Err(Error::invalid(format!(
                "{} is already the primary region of this user pool.",
                self.services.region
            )));
        }
        let former = RegionName::parse(pool.primary_region())?;
        let (fence_seq, _) = tx.log_head(pool_id)?;
        tx.set_subscription(pool_id, None)?;
        let epoch = tx.advance_epoch(pool_id)?;
        pool.replication.primary = Some(self.services.region.clone());
        pool.replication.replicas.retain(|r| r.region != self.services.region);
        pool.replication.replicas.push(Replica { region: former.clone(), status: ReplicaStatus::Creating });
        pool.replication.fence_seq = Some(fence_seq.0);
        pool.modified_ms = now;
        tx.put(pool_id, Entity::Pool(pool))?;
        tx.commit()?;
        tracing::warn!(pool = %pool_id, epoch = epoch.0, fence_seq = fence_seq.0, former = %former, "promoted to primary");
        let fenced = self.tell_former(pool_id, former.as_str(), epoch, fence_seq);
        Ok(Promotion { epoch, fence_seq, former_primary: former.to_string(), former_primary_fenced: fenced })
    }

    fn tell_former(&self, pool: &PoolId, former: &str, epoch: Epoch, fence_seq: Seq) -> bool {
        let (Some(secret), Some(url)) = (&self.peers.secret, self.peers.urls.get(former)) else { return false };
        let d = Demote {
            v: wire::VERSION,
            epoch,
            fence_seq,
            primary: self.services.region.to_string(),
            url: self.peers.advertise.clone(),
        };
        match Peer::new(url, secret).post::<_, serde_json::Value>(pool, crate::wire::Endpoint::Demote, &d) {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(pool = %pool, former, error = %format!("{e:#}"), "former primary not reached; it fences itself when it can reach us");
                false
            }
        }
    }

    /// A new primary took over `pool`: stop writing, report the lost tail, re-sync.
    pub fn demote(self: &Arc<Self>, pool_id: &PoolId, d: &Demote) -> Result<LostReport> {
        let mut tx = self.services.store.write(self.services.now_ms())?;
        let (_, epoch) = tx.log_head(pool_id)?;
        if epoch >= d.epoch {
            return Err(Error::invalid(format!("stale demotion: epoch {} is not newer than {}", d.epoch.0, epoch.0)));
        }
        let lost = tx.changes(pool_id, d.fence_seq, usize::MAX >> 1)?;
        let report = LostReport {
            epoch: d.epoch,
            fence_seq: d.fence_seq,
            changes: lost.iter().map(|c| (c.seq, c.key.clone())).collect(),
        };
        let sub = Subscription { pool: pool_id.clone(), source: d.primary.clone(), url: d.url.clone() };
        tx.set_subscription(pool_id, Some(&sub))?;
        // Keep serving the pool read-only while the new primary's snapshot arrives: the local
        // copy now names the new primary (so writes are refused and this region's replica is
        // CREATING), and the head restarts at 0 so the puller replaces it with a snapshot.
        if let Some(mut p) = tx.pool(pool_id)? {
            p.replication.primary = Some(RegionName::parse(&d.primary)?);
            p.replication.replicas.retain(|r| r.region != self.services.region);
            p.replication
                .replicas
                .push(Replica { region: self.services.region.clone(), status: ReplicaStatus::Creating });
            tx.restore(pool_id, &Entity::Pool(p))?;
        }
        tx.reset_log(pool_id, Seq(0), d.epoch)?;
        tx.commit()?;
        tracing::warn!(target: "janus::audit", event = "demoted", pool = %pool_id, new_primary = %d.primary, epoch = d.epoch.0, lost = report.changes.len(),
            lost_changes = ?report.changes, "fenced: a newer primary exists; re-syncing as a secondary");
        self.lost.lock().unwrap_or_else(|p| p.into_inner()).insert(pool_id.clone(), report.clone());
        self.start(sub);
        Ok(report)
    }

    /// For every pool this region is primary of, ask its replicas whether one was promoted
    /// meanwhile; if so, fence this region. Run periodically.
    pub fn fence_check(self: &Arc<Self>) -> anyhow::Result<()> {
        let Some(secret) = self.peers.secret.clone() else { return Ok(()) };
        if !self.available() {
            return Ok(()); // out of service: as if down
        }
        let pools: Vec<_> = {
            let r = self.services.store.read()?;
            let mut out = Vec::new();
            let mut after = None;
            loop {
                let page = r.pools(after.as_ref(), 100)?;
                let Some(last) = page.last() else { break };
                after = Some(last.id.clone());
                out.extend(
                    page.into_iter().filter(|p| self.services.is_primary(p) && !p.replication.replicas.is_empty()),
                );
            }
            out
        };
        for pool in pools {
            let (_, my_epoch) = self.services.store.read()?.log_head(&pool.id)?;
            for replica in &pool.replication.replicas {
                let Some(url) = self.peers.urls.get(replica.region.as_str()) else { continue };
                let Ok(head) = Peer::new(url, &secret).get::<Head>(&pool.id, crate::wire::Endpoint::Head) else {
                    continue;
                };
                if head.epoch > my_epoch && head.primary != self.services.region.as_str() {
                    let d = Demote {
                        v: wire::VERSION,
                        epoch: head.epoch,
                        fence_seq: Seq(head.fence_seq.unwrap_or(0)),
                        primary: head.primary.clone(),
                        url: url.clone(),
                    };
                    self.demote(&pool.id, &d)?;
                    break;
                }
            }
        }
        Ok(())
    }

    /// The lost tail reported when this region was last fenced for `pool`.
    pub fn lost(&self, pool: &PoolId) -> Option<LostReport> {
        self.lost.lock().unwrap_or_else(|p| p.into_inner()).get(pool).cloned()
    }

    /// Run [`Replicator::fence_check`] every `every` on a thread of its own.
    pub fn start_fencing(self: &Arc<Self>, every: std::time::Duration) {
        let me = self.clone();
        let _ = std::thread::Builder::new().name("repl-fence".into()).spawn(move || loop {
            if let Err(e) = me.fence_check() {
                tracing::debug!(error = %format!("{e:#}"), "fence check failed");
            }
            std::thread::sleep(every);
        });
    }
}
