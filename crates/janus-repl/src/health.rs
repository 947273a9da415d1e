//! Readiness: can this region serve end users for its pools right now? `/ready` answers
//! from here (docs/failover.md has the contract load balancers and DNS checkers rely on).
//!
//! A pool is ready here when the store answers, its keys load, and the region's role allows
//! end users: the primary (unless it gave up its write lease, see `lease`), or a secondary
//! whose replica is ACTIVE. The whole region can also be taken out of service on purpose
//! (`JanusAdmin.SetAvailability`, used by `janus drill`): then nothing is ready and the
//! region refuses traffic as if it were down.

use serde::Serialize;
use std::sync::atomic::Ordering;

use janus_types::{PoolId, ReplicaStatus, Result};

use crate::Replicator;

/// Which role a caller asks readiness for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Serving end users (a primary or an ACTIVE secondary).
    Serve,
    /// Being the pool's primary (writes too).
    Primary,
}

/// One pool's readiness here.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PoolReadiness {
    /// The pool.
    pub user_pool_id: String,
    /// `PRIMARY` or `SECONDARY`.
    pub role: &'static str,
    /// This region's replica status (`None` on the primary).
    pub replica_status: Option<&'static str>,
    /// Ready for what was asked.
    pub ready: bool,
    /// Why not, when not.
    pub reason: Option<String>,
    /// The epoch.
    pub epoch: u64,
    /// Last committed (primary) or applied (secondary) `seq`.
    pub seq: u64,
    /// On a secondary: seconds since it last heard from the primary.
    pub primary_contact_age_seconds: Option<f64>,
    /// On the primary: the largest lag of its replicas, in changes.
    pub max_replica_lag_changes: Option<u64>,
}

/// The region's readiness.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Readiness {
    /// Every pool asked about is ready.
    pub ready: bool,
    /// The region is in service (not taken out by `JanusAdmin.SetAvailability`).
    pub available: bool,
    /// This region.
    pub region: String,
    /// Per pool.
    pub pools: Vec<PoolReadiness>,
}

impl Replicator {
    /// Take this region out of service (`false`) or put it back.
    pub fn set_available(&self, available: bool) {
        self.available.store(available, Ordering::SeqCst);
        tracing::warn!(available, "region availability set by an administrator");
    }

    /// True unless an administrator took the region out of service.
    pub fn available(&self) -> bool {
        self.available.load(Ordering::SeqCst)
    }

    /// Readiness of `pool`, or of every pool this region holds.
    pub fn readiness(&self, pool: Option<&PoolId>, want: Want) -> Result<Readiness> {
        let available = self.available();
        let ids = match pool {
            Some(p) => vec![p.clone()],
            None => self.pool_ids()?,
        };
        let mut pools = Vec::with_capacity(ids.len());
        for id in &ids {
            pools.push(self.pool_readiness(id, want, available)?);
        }
        let ready = available && pools.iter().all(|p| p.ready);
        Ok(Readiness { ready, available, region: self.services.region.to_string(), pools })
    }

    fn pool_readiness(&self, id: &PoolId, want: Want, available: bool) -> Result<PoolReadiness> {
        let r = self.services.store.read()?;
        let Some(pool) = r.pool(id)? else {
            return Ok(PoolReadiness {
                user_pool_id: id.to_string(),
                role: "SECONDARY",
                replica_status: Some(ReplicaStatus::Creating.as_str()),
                ready: false,
                reason: Some("the pool is not held here (yet)".into()),
                epoch: 0,
                seq: 0,
                primary_contact_age_seconds: None,
                max_replica_lag_changes: None,
            });
        };
        let (seq, epoch) = r.log_head(id)?;
        let keys = self.services.pool_keys(&*r, id);
        drop(r);
        let primary = self.services.is_primary(&pool);
        let status = self.services.replica_status_here(&pool);
        let reason = if !available {
            Some("the region is out of service (JanusAdmin.SetAvailability)".to_owned())
        } else if let Err(e) = keys {
            Some(format!("the pool's keys are not usable: {}", e.code()))
        } else if primary && !self.holds_lease(&pool) {
            Some("the primary lost its write lease (no witness or replica contact)".to_owned())
        } else if !primary && want == Want::Primary {
            Some(format!("this region is a secondary; the primary is {}", pool.primary_region()))
        } else if status.is_some_and(|s| s != ReplicaStatus::Active) {
            Some(format!("the replica here is {}", status.map_or("", ReplicaStatus::as_str)))
        } else {
            None
        };
        let now = self.services.now_ms();
        let max_lag = pool
            .replication
            .replicas
            .iter()
            .filter_map(|rep| self.link(id, &rep.region).map(|l| seq.0.saturating_sub(l.applied)))
            .max();
        Ok(PoolReadiness {
            user_pool_id: id.to_string(),
            role: if primary { "PRIMARY" } else { "SECONDARY" },
            replica_status: status.map(ReplicaStatus::as_str),
            ready: reason.is_none(),
            reason,
            epoch: epoch.0,
            seq: seq.0,
            primary_contact_age_seconds: (!primary)
                .then(|| self.primary_contact_ms(id).map(|at| (now - at) as f64 / 1000.0))
                .flatten(),
            max_replica_lag_changes: primary.then_some(max_lag).flatten(),
        })
    }

    /// When this region (as a replica of `pool`) last heard from the primary.
    pub fn primary_contact_ms(&self, pool: &PoolId) -> Option<i64> {
        self.contacts.lock().unwrap_or_else(|p| p.into_inner()).get(pool).copied()
    }

    pub(crate) fn note_primary_contact(&self, pool: &PoolId) {
        let now = self.services.now_ms();
        self.contacts.lock().unwrap_or_else(|p| p.into_inner()).insert(pool.clone(), now);
    }
}
