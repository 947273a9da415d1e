//! The primary's side: a consistent snapshot of a pool (one read transaction), the changes
//! after a `seq` (long-polling until some commit or the wait ends), a content digest, and
//! the status replicas report (which moves a new replica from CREATING to INACTIVE once it
//! has caught up, as Cognito's replica life cycle goes).

use sha2::{Digest as _, Sha256};
use std::time::{Duration, Instant};

use janus_types::{Entity, Error, PoolId, RegionName, ReplicaStatus, Result, Seq};

use crate::wire::{self, Changes, Digest, SnapshotHead, Status};
use crate::Replicator;

/// Most changes sent in one batch.
pub const BATCH: usize = 1000;

impl Replicator {
    /// The pool as NDJSON lines: a [`SnapshotHead`], then one entity per line.
    pub fn snapshot_lines(&self, pool: &PoolId) -> Result<Vec<String>> {
        let r = self.services.store.read()?;
        let (seq, epoch) = r.log_head(pool)?;
        let entities = r.entities(pool)?;
        if entities.is_empty() {
            return Err(Error::pool_not_found(pool.as_str()));
        }
        let head = SnapshotHead { v: wire::VERSION, seq, epoch, entities: entities.len() as u64 };
        let mut lines = Vec::with_capacity(entities.len() + 1);
        lines.push(serde_json::to_string(&head).map_err(Error::internal)?);
        for e in &entities {
            lines.push(serde_json::to_string(e).map_err(Error::internal)?);
        }
        Ok(lines)
    }

    /// Changes after `after`, waiting up to `wait` for the first one. A replica names its
    /// `region`: asking for the changes after `after` reports that it applied `after`, so the
    /// stream carries the status without a round trip of its own.
    pub fn changes(&self, pool: &PoolId, after: Seq, wait: Duration, region: Option<&str>) -> Result<Changes> {
        if let Some(region) = region {
            self.record_status(pool, &Status { v: wire::VERSION, region: region.to_owned(), applied: after })?;
        }
        let deadline = Instant::now() + wait.min(Duration::from_secs(30));
        loop {
            let seen = self.services.store.wait_commit(u64::MAX, Duration::ZERO);
            let r = self.services.store.read()?;
            let (head, _) = r.log_head(pool)?;
            let changes = r.changes(pool, after, BATCH)?;
            drop(r);
            let now = Instant::now();
            if !changes.is_empty() || now >= deadline || self.stopping() {
                return Ok(Changes { v: wire::VERSION, head, changes });
            }
            self.services.store.wait_commit(seen, (deadline - now).min(Duration::from_millis(200)));
        }
    }

    /// A digest of the pool's content, comparable across regions.
    pub fn digest(&self, pool: &PoolId) -> Result<Digest> {
        let r = self.services.store.read()?;
        let (seq, _) = r.log_head(pool)?;
        let entities = r.entities(pool)?;
        let mut h = Sha256::new();
        for e in &entities {
            h.update(serde_json::to_vec(&normalized(e)).map_err(Error::internal)?);
            h.update(b"\n");
        }
        Ok(Digest { seq, sha256: hex::encode(h.finalize()), entities: entities.len() as u64 })
    }

    /// Take a replica's report; a CREATING replica that has caught up becomes INACTIVE.
    pub fn record_status(&self, pool: &PoolId, s: &Status) -> Result<()> {
        let region = RegionName::parse(&s.region)?;
        let now = self.services.now_ms();
        {
            let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
            let link = links.entry((pool.clone(), region.clone())).or_default();
            link.applied = link.applied.max(s.applied.0);
            link.reported_ms = now;
        }
        self.reported.notify_all();
        let creating = self.services.store.read()?.pool(pool)?.is_some_and(|p| {
            p.replication.replicas.iter().any(|r| r.region == region && r.status == ReplicaStatus::Creating)
        });
        if !creating {
            return Ok(());
        }
        let mut tx = self.services.store.write(now)?;
        let Some(mut p) = tx.pool(pool)? else { return Ok(()) };
        let (head, _) = tx.log_head(pool)?;
        let caught_up = s.applied >= head;
        let primary = self.services.is_primary(&p);
        let Some(replica) = p.replication.replicas.iter_mut().find(|r| r.region == region) else { return Ok(()) };
        if caught_up && replica.status == ReplicaStatus::Creating && primary {
            replica.status = ReplicaStatus::Inactive;
            tx.put(pool, Entity::Pool(p))?;
            tx.commit()?;
            tracing::info!(pool = %pool, region = %region, "replica caught up: CREATING → INACTIVE");
        }
        Ok(())
    }
}

/// An entity with the parts that legitimately differ between regions removed (none yet; the
/// hook exists so a regional setting never makes digests disagree).
fn normalized(e: &Entity) -> Entity {
    e.clone()
}
