//! Replication between regions (DESIGN.md, "Replication"). Pull, not push: a replica asks
//! the primary for a consistent snapshot, then for the changes after the last `seq` it
//! applied, long-polling. The primary keeps no cursor per replica, only the last status each
//! reported (for lag). Apply is idempotent and stores the applied `seq` in the same
//! transaction as the data, so a crash anywhere loses and duplicates nothing.
//!
//! `shipper` is the primary's side, `puller` the replica's, `admin` the Cognito replica API
//! (CreateUserPoolReplica, ListUserPoolReplicas, UpdateUserPoolReplica,
//! DeleteUserPoolReplica), `wire` the versioned messages between regions, `peer` the HTTP
//! client that carries them, `retention` the trimming of change logs and `regional`
//! UpdateUserPool from a secondary.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admin;
pub mod applier;
pub mod failover;
pub mod health;
mod keycheck;
pub mod lease;
pub mod peer;
pub mod puller;
pub mod regional;
pub mod retention;
pub mod shipper;
pub mod sync;
pub mod watcher;
pub mod wire;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use janus_core::Services;
use janus_types::{PoolId, RegionName};

/// How this region reaches the others.
#[derive(Clone)]
pub struct Peers {
    /// This region's own base URL, as the others reach it.
    pub advertise: String,
    /// Other regions by name → base URL.
    pub urls: BTreeMap<String, String>,
    /// The shared secret replication traffic carries; without one, replication is off.
    pub secret: Option<String>,
    /// Where a replica spools an incoming snapshot before applying it (the data directory).
    pub spool: std::path::PathBuf,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers").field("advertise", &self.advertise).field("urls", &self.urls).finish_non_exhaustive()
    }
}

/// What the primary last heard from a replica.
#[derive(Debug, Clone, Default)]
pub struct LinkStatus {
    /// The last `seq` the replica applied.
    pub applied: u64,
    /// When it said so (ms since the epoch).
    pub reported_ms: i64,
    /// A synchronous write timed out waiting for it, and it has not caught up since.
    pub lagging: bool,
}

/// A secondary's way to its pools' primaries, for security events (lockout, sign-out,
/// revocation): the subscription says where the primary is.
struct UpstreamLink(std::sync::Weak<Replicator>);

impl janus_core::security::Upstream for UpstreamLink {
    fn send(
        &self,
        pool: &PoolId,
        event: &janus_core::security::SecurityEvent,
    ) -> janus_types::Result<janus_core::security::Verdict> {
        let me =
            self.0.upgrade().ok_or_else(|| janus_types::Error::internal(std::io::Error::other("shutting down")))?;
        let secret = me
            .peers
            .secret
            .clone()
            .ok_or_else(|| janus_types::Error::internal(std::io::Error::other("no replication secret")))?;
        let subs = me.services.store.read()?.subscriptions()?;
        let sub = subs
            .iter()
            .find(|s| s.pool == *pool)
            .ok_or_else(|| janus_types::Error::internal(std::io::Error::other("not a replica")))?;
        let answer = peer::Peer::quick(&sub.url, &secret)
            .post::<_, serde_json::Value>(pool, crate::wire::Endpoint::Security, event)
            .map_err(|e| janus_types::Error::internal(std::io::Error::other(format!("{e:#}"))))?;
        Ok(serde_json::from_value(answer["verdict"].clone()).unwrap_or_default())
    }
}

/// Replication state of one region.
pub struct Replicator {
    /// The region's services.
    pub services: Services,
    /// Where the other regions are.
    pub peers: Peers,
    running: Mutex<HashSet<PoolId>>,
    links: Mutex<HashMap<(PoolId, RegionName), LinkStatus>>,
    lost: Mutex<HashMap<PoolId, failover::LostReport>>,
    reported: std::sync::Condvar,
    stopping: std::sync::atomic::AtomicBool,
    copies: Mutex<HashMap<PoolId, admin::CopyProgress>>,
    /// When, as a replica, this region last heard from each pool's primary.
    contacts: Mutex<HashMap<PoolId, i64>>,
    /// In service (an administrator may take the region out, for a drill).
    available: std::sync::atomic::AtomicBool,
    /// Automatic failover and witness settings (set once at start-up).
    failover: std::sync::OnceLock<watcher::AutoFailover>,
    /// When the witness last took this region's heartbeat.
    witness_ok_ms: std::sync::atomic::AtomicI64,
    /// Promotions the watcher made.
    auto_promotions: std::sync::atomic::AtomicU64,
    /// Changes applied here as a replica since start-up, per pool (the apply rate's counter).
    applied: Mutex<HashMap<PoolId, u64>>,
    /// The pools this node pulls: it holds their puller lease (one node per region does).
    pulling: Mutex<HashSet<PoolId>>,
}

impl Replicator {
    /// A replicator for `services`.
    pub fn new(services: Services, peers: Peers) -> Arc<Self> {
        let me = Arc::new(Self {
            services,
            peers,
            running: Mutex::new(HashSet::new()),
            links: Mutex::new(HashMap::new()),
            lost: Mutex::new(HashMap::new()),
            reported: std::sync::Condvar::new(),
            stopping: Default::default(),
            copies: Default::default(),
            contacts: Default::default(),
            available: std::sync::atomic::AtomicBool::new(true),
            failover: std::sync::OnceLock::new(),
            witness_ok_ms: Default::default(),
            auto_promotions: Default::default(),
            applied: Default::default(),
            pulling: Default::default(),
        });
        me.services.set_upstream(Arc::new(UpstreamLink(Arc::downgrade(&me))));
        if let Some(v) = me.services.vault() {
            v.set_replica_check(Arc::new(keycheck::ReplicaKeys(Arc::downgrade(&me))));
        }
        me
    }

    /// True when `secret` is this region's replication secret (constant time); false when
    /// replication has no secret configured (never open by default).
    pub fn authorized(&self, secret: &str) -> bool {
        let Some(ours) = &self.peers.secret else { return false };
        janus_crypto::same_secret(ours.as_bytes(), secret.as_bytes())
    }

    /// The process is shutting down: long polls return at once.
    pub fn stop(&self) {
        self.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// True once [`Replicator::stop`] was called.
    pub fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Set the automatic failover and witness settings (once, before starting threads).
    pub fn configure_failover(&self, cfg: watcher::AutoFailover) {
        let _ = self.failover.set(cfg);
    }

    /// The automatic failover settings in force.
    pub fn failover_settings(&self) -> watcher::AutoFailover {
        self.failover.get().cloned().unwrap_or_default()
    }

    pub(crate) fn count_auto_promotion(&self) {
        self.auto_promotions.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Promotions the automatic failover watcher made since start-up.
    pub fn auto_promotions(&self) -> u64 {
        self.auto_promotions.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn count_applied(&self, pool: &PoolId, changes: u64) {
        let mut m = self.applied.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(pool.clone()).or_default() += changes;
    }

    /// Changes applied here as a replica since start-up, per pool.
    pub fn applied_totals(&self) -> Vec<(PoolId, u64)> {
        let m = self.applied.lock().unwrap_or_else(|p| p.into_inner());
        m.iter().map(|(p, n)| (p.clone(), *n)).collect()
    }

    /// Every pool this region holds.
    pub fn pool_ids(&self) -> janus_types::Result<Vec<PoolId>> {
        let r = self.services.store.read()?;
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = r.pools(after.as_ref(), 100)?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            out.extend(page.into_iter().map(|p| p.id));
        }
        Ok(out)
    }

    /// The last status `region` reported for `pool`.
    pub fn link(&self, pool: &PoolId, region: &RegionName) -> Option<LinkStatus> {
        self.links.lock().unwrap_or_else(|p| p.into_inner()).get(&(pool.clone(), region.clone())).cloned()
    }
}
