//! Synchronous mode (RPO zero): a pool can ask that a write be acknowledged only once every
//! replica has applied it. The primary waits for the replicas' status reports (they report
//! after each applied batch, and the long poll hands them each commit at once); past the
//! pool's timeout it acknowledges anyway, marks the replica lagging and says so in the log
//! and in `janus replica status`, so a lost region never stops the primary.

use std::time::{Duration, Instant};

use janus_types::{Entity, Error, PoolId, ReplicaStatus, Result};

use crate::Replicator;

impl Replicator {
    /// JanusAdmin.SetReplicationMode: `SYNC` with a timeout, or `ASYNC`.
    pub fn set_mode(&self, pool_id: &PoolId, mode: &str, timeout_ms: Option<u64>) -> Result<()> {
        let sync = match mode {
            "SYNC" => Some(timeout_ms.unwrap_or(2000).clamp(10, 60_000)),
            "ASYNC" => None,
            other => return Err(Error::invalid(format!("Mode must be SYNC or ASYNC, not {other}."))),
        };
        let now = self.services.now_ms();
        let mut tx = self.services.store.write(now)?;
        let mut pool = tx.pool(pool_id)?.ok_or_else(|| Error::pool_not_found(pool_id.as_str()))?;
        self.services.ensure_primary(&pool, "SetReplicationMode")?;
        pool.replication.sync_timeout_ms = sync;
        pool.modified_ms = now;
        tx.put(pool_id, Entity::Pool(pool))?;
        tx.commit()
    }

    /// After a write to `pool` committed: in synchronous mode, wait until every replica has
    /// applied the pool's current head, or the timeout passes (then mark the laggards).
    pub fn await_replicas(&self, pool_id: &PoolId) -> Result<()> {
        let r = self.services.store.read()?;
        let Some(pool) = r.pool(pool_id)? else { return Ok(()) };
        let Some(timeout_ms) = pool.replication.sync_timeout_ms else { return Ok(()) };
        if !self.services.is_primary(&pool) {
            return Ok(());
        }
        let (head, _) = r.log_head(pool_id)?;
        drop(r);
        let regions: Vec<_> = pool
            .replication
            .replicas
            .iter()
            .filter(|x| x.status != ReplicaStatus::Creating)
            .map(|x| x.region.clone())
            .collect();
        let deadline = Instant::now() + Duration::from_millis(timeout_ms);
        let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let behind: Vec<_> = regions
                .iter()
                .filter(|region| links.get(&(pool_id.clone(), (*region).clone())).is_none_or(|l| l.applied < head.0))
                .cloned()
                .collect();
            for region in &regions {
                if let Some(l) = links.get_mut(&(pool_id.clone(), region.clone())) {
                    if l.applied >= head.0 {
                        l.lagging = false;
                    }
                }
            }
            if behind.is_empty() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                for region in behind {
                    let l = links.entry((pool_id.clone(), region.clone())).or_default();
                    if !l.lagging {
                        tracing::warn!(pool = %pool_id, region = %region, seq = head.0, timeout_ms,
                            "synchronous write acknowledged without the replica: marked lagging");
                    }
                    l.lagging = true;
                }
                return Ok(());
            }
            links = self.reported.wait_timeout(links, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}
