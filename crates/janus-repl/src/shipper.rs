//! The primary's side: a consistent snapshot of a pool (one read transaction, streamed), the changes
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

/// Bytes of snapshot NDJSON handed on at a time.
pub const SNAPSHOT_CHUNK: usize = 256 * 1024;

impl Replicator {
    /// The pool as NDJSON — a [`SnapshotHead`] line, then one entity per line — handed to
    /// `sink` in chunks of about [`SNAPSHOT_CHUNK`] bytes, all read in one read transaction
    /// (a consistent cut at the head's `seq`) and never held whole in memory. An error from
    /// `sink` (the receiver went away) stops the read.
    pub fn snapshot(&self, pool: &PoolId, sink: &mut dyn FnMut(Vec<u8>) -> Result<()>) -> Result<SnapshotHead> {
        let r = self.services.store.read()?;
        if r.pool(pool)?.is_none() {
            return Err(Error::pool_not_found(pool.as_str()));
        }
        let (seq, epoch) = r.log_head(pool)?;
        let head = SnapshotHead { v: wire::VERSION, seq, epoch, entities: r.entity_count(pool)? };
        let mut buf = serde_json::to_vec(&head).map_err(Error::internal)?;
        buf.push(b'\n');
        r.for_each_entity(pool, &mut |e| {
            serde_json::to_writer(&mut buf, &e).map_err(Error::internal)?;
            buf.push(b'\n');
            if buf.len() >= SNAPSHOT_CHUNK {
                sink(std::mem::replace(&mut buf, Vec::with_capacity(SNAPSHOT_CHUNK + 4096)))?;
            }
            Ok(())
        })?;
        if !buf.is_empty() {
            sink(buf)?;
        }
        Ok(head)
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
            // (Nothing after `after` below the head means retention dropped it: answer at
            // once, and the replica re-copies.)
            if !changes.is_empty() || head > after || now >= deadline || self.stopping() {
                if let Some(region) = region {
                    self.touch_link(pool, region); // the replica was there all along (lease)
                }
                return Ok(Changes::new(head, changes));
            }
            self.services.store.wait_commit(seen, (deadline - now).min(Duration::from_millis(200)));
        }
    }

    fn touch_link(&self, pool: &PoolId, region: &str) {
        let Ok(region) = RegionName::parse(region) else { return };
        let now = self.services.now_ms();
        let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        links.entry((pool.clone(), region)).or_default().reported_ms = now;
    }

    /// A digest of the pool's content, comparable across regions.
    pub fn digest(&self, pool: &PoolId) -> Result<Digest> {
        let r = self.services.store.read()?;
        let (seq, _) = r.log_head(pool)?;
        let mut h = Sha256::new();
        let entities = r.for_each_entity(pool, &mut |e| {
            h.update(serde_json::to_vec(&normalized(e)).map_err(Error::internal)?);
            h.update(b"\n");
            Ok(())
        })?;
        Ok(Digest { seq, sha256: hex::encode(h.finalize()), entities })
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
fn normalized(e: Entity) -> Entity {
    e
}
