//! The replica's side: one thread per replicated pool. It loads a snapshot when it has
//! nothing (or when the primary's log no longer reaches back to what it has), then applies
//! batches of changes, each batch in one transaction with the applied `seq`, and reports its
//! position to the primary. Errors back off and retry; a restart resumes from the stored
//! `seq`. A change stamped with an epoch older than the replica's is refused (fencing).
//!
//! Every node of a region starts a thread per pool, but only the node holding the pool's
//! puller lease ([`janus_store::Store::try_lease`]) pulls; the others try again every
//! second, so when the holder dies another node takes over within about a second of the
//! database noticing (at once for a killed process: its connection closes).

use anyhow::Context as _;
use std::io::{BufRead as _, BufReader, Seek as _, SeekFrom};
use std::sync::Arc;
use std::time::Duration;

use janus_store::Subscription;
use janus_types::{Error, PoolId, RegionName, Seq};

use crate::applier::{apply_batch, Applied};
use crate::peer::Peer;
use crate::wire::{self, Status};
use crate::Replicator;

pub(crate) const LONG_POLL: Duration = Duration::from_secs(10);

/// How often a node without a pool's puller lease tries to take it.
const LEASE_RETRY: Duration = Duration::from_secs(1);

impl Replicator {
    /// Start pulling every pool this region subscribes to, and keep looking: a pool another
    /// node of the region subscribed to (the shared store) gets its thread here within a
    /// second, so this node can take its puller lease over should that node die.
    pub fn start_all(self: &Arc<Self>) -> anyhow::Result<()> {
        for sub in self.services.store.read()?.subscriptions()? {
            self.start(sub);
        }
        let me = self.clone();
        std::thread::Builder::new().name("repl-subscriptions".into()).spawn(move || {
            while !me.stopping() {
                std::thread::sleep(LEASE_RETRY);
                match me.services.store.read().and_then(|r| r.subscriptions()) {
                    Ok(subs) => subs.into_iter().for_each(|sub| me.start(sub)),
                    Err(e) => tracing::warn!(error = %e, "cannot read this region's subscriptions"),
                }
            }
        })?;
        Ok(())
    }

    /// Start pulling one pool (no-op when already running).
    pub fn start(self: &Arc<Self>, sub: Subscription) {
        if !self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(sub.pool.clone()) {
            return;
        }
        let me = self.clone();
        let name = format!("repl-{}", sub.pool);
        let spawned = std::thread::Builder::new().name(name).spawn(move || me.run(sub));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start a replication thread");
        }
    }

    /// Whether `pool` is still subscribed. A store that cannot answer is no answer: the
    /// caller retries with backoff, replication does not stop on a read error.
    fn subscribed(&self, pool: &PoolId) -> janus_types::Result<bool> {
        let subs = self.services.store.read()?.subscriptions()?;
        Ok(subs.iter().any(|s| s.pool == *pool))
    }

    fn run(self: Arc<Self>, sub: Subscription) {
        let Some(secret) = self.peers.secret.clone() else {
            tracing::error!(pool = %sub.pool, "replication secret not configured; not pulling");
            return;
        };
        let peer = Peer::new(&sub.url, &secret);
        let mut backoff = Duration::from_millis(100);
        let mut need_snapshot = false;
        let mut lease: Option<Box<dyn janus_store::Lease>> = None;
        tracing::info!(pool = %sub.pool, source = %sub.source, "replicating");
        loop {
            match self.subscribed(&sub.pool) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    tracing::error!(pool = %sub.pool, error = %e, "could not read the subscriptions; retrying");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            }
            if !self.available() {
                std::thread::sleep(Duration::from_millis(200)); // out of service: as if down
                continue;
            }
            if !self.hold_puller_lease(&sub.pool, &mut lease) {
                std::thread::sleep(LEASE_RETRY);
                continue;
            }
            match self.step(&peer, &sub.pool, &mut need_snapshot) {
                Ok(()) => backoff = Duration::from_millis(100),
                Err(e) => {
                    tracing::warn!(pool = %sub.pool, error = %format!("{e:#}"), "replication step failed; retrying");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        self.set_pulling(&sub.pool, false);
        self.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&sub.pool);
        tracing::info!(pool = %sub.pool, "stopped replicating");
    }

    /// Keep (or take) the pool's puller lease; false when another node holds it.
    fn hold_puller_lease(&self, pool: &PoolId, lease: &mut Option<Box<dyn janus_store::Lease>>) -> bool {
        if lease.as_ref().is_some_and(|l| l.held()) {
            return true;
        }
        if lease.take().is_some() {
            self.set_pulling(pool, false);
            tracing::warn!(pool = %pool, "lost the puller lease; another node may pull now");
        }
        match self.services.store.try_lease(&format!("puller:{pool}")) {
            Ok(Some(l)) => {
                *lease = Some(l);
                self.set_pulling(pool, true);
                tracing::info!(pool = %pool, "this node pulls the pool");
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(pool = %pool, error = %e, "cannot take the puller lease; retrying");
                false
            }
        }
    }

    fn set_pulling(&self, pool: &PoolId, on: bool) {
        let mut set = self.pulling.lock().unwrap_or_else(|p| p.into_inner());
        if on {
            set.insert(pool.clone());
        } else {
            set.remove(pool);
        }
    }

    /// Whether this node pulls `pool` (holds its puller lease). Only that node knows when
    /// the primary was last heard from, so only it may decide to promote.
    pub fn pulls_here(&self, pool: &PoolId) -> bool {
        self.pulling.lock().unwrap_or_else(|p| p.into_inner()).contains(pool)
    }

    fn step(&self, peer: &Peer, pool: &PoolId, need_snapshot: &mut bool) -> anyhow::Result<()> {
        let (head, _) = {
            let r = self.services.store.read()?;
            let present = r.pool(pool)?.is_some();
            let (head, epoch) = r.log_head(pool)?;
            (if present { head } else { Seq(0) }, epoch)
        };
        if head == Seq(0) || *need_snapshot {
            // (A fenced former primary keeps its rows with head 0 until this replaces them.)
            self.load_snapshot(peer, pool)?;
            *need_snapshot = false;
            return Ok(());
        }
        let batch = peer.changes(pool, head.0, LONG_POLL, self.services.region.as_str())?;
        self.note_primary_contact(pool);
        let check = |r: &dyn janus_store::Read| {
            ensure_still_replica(r, pool)
                .map_err(|e| janus_types::Error::internal(std::io::Error::other(e.to_string())))
        };
        if batch.changes.is_empty() && batch.head > head {
            tracing::warn!(pool = %pool, have = head.0, primary = batch.head.0, "primary's log was trimmed past this replica; re-snapshotting");
            *need_snapshot = true;
            return Ok(());
        }
        match apply_batch(&*self.services.store, pool, &batch.changes, self.services.now_ms(), check)? {
            // No separate report: the next long poll, sent at once, asks for the changes
            // after the new head and so tells the primary (a synchronous writer waits on it).
            Applied::Advanced(last) => self.count_applied(pool, last.0.saturating_sub(head.0)),
            Applied::Stale => {}
            Applied::Gap { have, next } => {
                tracing::warn!(pool = %pool, have = have.0, next = next.0, "log does not reach back; re-snapshotting");
                *need_snapshot = true;
            }
        }
        Ok(())
    }

    /// The initial copy (or a re-copy): spool the snapshot to an unnamed file in the spool
    /// directory while it streams, then replace the pool in one transaction read back from
    /// the file, so the region keeps serving its old copy until the new one is whole and
    /// memory stays flat whatever the pool's size.
    fn load_snapshot(&self, peer: &Peer, pool: &PoolId) -> anyhow::Result<()> {
        tracing::info!(pool = %pool, "initial copy: fetching snapshot");
        let file = tempfile::tempfile_in(&self.peers.spool)
            .with_context(|| format!("spool file in {}", self.peers.spool.display()))?;
        let mut writer = std::io::BufWriter::new(file);
        let head = peer.snapshot(pool, &mut writer, |done, total| {
            tracing::info!(pool = %pool, done, total, "initial copy: {done}/{total} entities received");
            self.set_copy(pool, crate::admin::CopyProgress { received: done, total, applied: false });
        })?;
        let mut file = writer.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        let mut entities = BufReader::with_capacity(256 * 1024, file).lines().map(|line| {
            let line = line.map_err(Error::internal)?;
            serde_json::from_str(&line).map_err(Error::internal)
        });
        let mut tx = self.services.store.write(self.services.now_ms())?;
        ensure_still_replica(&*tx, pool)?;
        let loaded = tx.load_snapshot(pool, head.seq, head.epoch, &mut entities)?;
        anyhow::ensure!(loaded == head.entities, "snapshot spool held {loaded} of {} entities", head.entities);
        tx.commit()?;
        self.set_copy(pool, crate::admin::CopyProgress { received: loaded, total: loaded, applied: true });
        tracing::info!(pool = %pool, seq = head.seq.0, entities = loaded, "initial copy applied");
        self.note_primary_contact(pool);
        self.report(peer, pool, head.seq);
        Ok(())
    }

    fn report(&self, peer: &Peer, pool: &PoolId, applied: Seq) {
        let status = Status { v: wire::VERSION, region: self.services.region.to_string(), applied };
        if let Err(e) = peer.post::<_, serde_json::Value>(pool, crate::wire::Endpoint::Status, &status) {
            tracing::debug!(pool = %pool, error = %e, "status report failed");
        }
    }

    fn set_copy(&self, pool: &PoolId, p: crate::admin::CopyProgress) {
        self.copies.lock().unwrap_or_else(|e| e.into_inner()).insert(pool.clone(), p);
    }

    /// This region's name.
    pub fn region(&self) -> &RegionName {
        &self.services.region
    }
}

/// Inside the applying transaction: this region must still be subscribed to `pool` (a
/// promotion removes the subscription in the same transaction that starts the new epoch, so
/// a puller that was mid-request can never write into a pool its region now leads).
fn ensure_still_replica(tx: &dyn janus_store::Read, pool: &PoolId) -> anyhow::Result<()> {
    anyhow::ensure!(tx.subscriptions()?.iter().any(|s| s.pool == *pool), "no longer a replica of {pool}");
    Ok(())
}
