//! The Cognito replica API and the requests regions send each other to carry it out.
//! CreateUserPoolReplica (on the primary) records a CREATING replica and asks the region to
//! host it; ListUserPoolReplicas lists the primary and its replicas; UpdateUserPoolReplica
//! (in either region: a secondary forwards it) sets ACTIVE or INACTIVE;
//! DeleteUserPoolReplica (on the primary, INACTIVE replicas only) tells the region to drop it.

use std::sync::Arc;

use janus_store::Subscription;
use janus_types::{Entity, Error, Pool, PoolId, RegionName, Replica, ReplicaStatus, Result, Tier};

use crate::peer::Peer;
use crate::wire::{self, Host, Unhost};
use crate::Replicator;

/// A row of ListUserPoolReplicas, as Cognito's `UserPoolReplicaType`.
#[derive(Debug, Clone)]
pub struct ReplicaView {
    /// Region.
    pub region: String,
    /// Status.
    pub status: &'static str,
    /// `PRIMARY` or `SECONDARY`.
    pub role: &'static str,
    /// The pool's ARN in that region.
    pub arn: String,
}

fn view(pool: &Pool, r: &Replica) -> ReplicaView {
    ReplicaView {
        region: r.region.to_string(),
        status: r.status.as_str(),
        role: "SECONDARY",
        arn: pool.arn_in(r.region.as_str()),
    }
}

impl Replicator {
    pub(crate) fn peer(&self, region: &str) -> Result<Peer> {
        let secret = self.peers.secret.as_deref().ok_or_else(|| {
            Error::invalid("Replication is not configured in this region: set JANUS_REPLICATION_SECRET and --peer.")
        })?;
        let url = self
            .peers
            .urls
            .get(region)
            .ok_or_else(|| Error::invalid(format!("No peer is configured for region {region}.")))?;
        Ok(Peer::new(url, secret))
    }

    /// CreateUserPoolReplica.
    pub fn create_replica(&self, pool_id: &PoolId, region: &str) -> Result<ReplicaView> {
        let region = RegionName::parse(region)?;
        let pool = self.services.load_pool(pool_id)?;
        self.services.ensure_primary(&pool, "CreateUserPoolReplica")?;
        if pool.config.user_pool_tier == Tier::Lite {
            return Err(Error::FeatureUnavailableInTierException(
                "Replication requires the ESSENTIALS or PLUS tier.".into(),
            ));
        }
        if region == self.services.region || pool.replication.replicas.iter().any(|r| r.region == region) {
            return Err(Error::invalid(format!("The user pool already exists in {region}.")));
        }
        let peer = self.peer(region.as_str())?;
        let key_check = self.replica_key_check(&pool, &region)?;
        let replica = Replica { region: region.clone(), status: ReplicaStatus::Creating };
        self.set_replicas(pool_id, |list| list.push(replica.clone()))?;
        let host = Host {
            v: wire::VERSION,
            source: self.services.region.to_string(),
            url: self.peers.advertise.clone(),
            key_check,
        };
        if let Err(e) = peer.post::<_, serde_json::Value>(pool_id, crate::wire::Endpoint::Host, &host) {
            self.set_replicas(pool_id, |list| list.retain(|r| r.region != region))?;
            return Err(crate::keycheck::refusal(&region, &e));
        }
        tracing::info!(pool = %pool_id, region = %region, "replica created");
        Ok(view(&pool, &replica))
    }

    fn set_replicas(&self, pool_id: &PoolId, f: impl FnOnce(&mut Vec<Replica>)) -> Result<Pool> {
        let now = self.services.now_ms();
        let mut tx = self.services.store.write(now)?;
        let mut pool = tx.pool(pool_id)?.ok_or_else(|| Error::pool_not_found(pool_id.as_str()))?;
        f(&mut pool.replication.replicas);
        pool.modified_ms = now;
        tx.put(pool_id, Entity::Pool(pool.clone()))?;
        tx.commit()?;
        Ok(pool)
    }

    /// ListUserPoolReplicas: the primary first, then each replica.
    pub fn list_replicas(&self, pool_id: &PoolId) -> Result<Vec<ReplicaView>> {
        let pool = self.services.load_pool(pool_id)?;
        let primary = pool.primary_region().to_owned();
        let mut out =
            vec![ReplicaView { arn: pool.arn_in(&primary), region: primary, status: "ACTIVE", role: "PRIMARY" }];
        out.extend(pool.replication.replicas.iter().map(|r| view(&pool, r)));
        Ok(out)
    }

    /// UpdateUserPoolReplica; a secondary forwards it to the primary.
    pub fn update_replica(&self, pool_id: &PoolId, region: &str, status: &str) -> Result<ReplicaView> {
        let status = match status {
            "ACTIVE" => ReplicaStatus::Active,
            "INACTIVE" => ReplicaStatus::Inactive,
            other => return Err(Error::invalid(format!("Status must be ACTIVE or INACTIVE, not {other}."))),
        };
        let pool = self.services.load_pool(pool_id)?;
        if !self.services.is_primary(&pool) {
            let peer = self.peer(pool.primary_region())?;
            let body = wire::ReplicaStatusUpdate {
                v: wire::VERSION,
                region: region.to_owned(),
                status: status.as_str().into(),
            };
            peer.post::<_, serde_json::Value>(pool_id, crate::wire::Endpoint::ReplicaStatus, &body)
                .map_err(|e| Error::invalid(format!("The primary region could not be reached: {e:#}")))?;
            let mut r = pool
                .replication
                .replicas
                .iter()
                .find(|r| r.region.as_str() == region)
                .cloned()
                .ok_or_else(|| Error::ResourceNotFoundException(format!("No replica in {region}.")))?;
            r.status = status;
            return Ok(view(&pool, &r));
        }
        let mut found = None;
        let pool = self.set_replicas(pool_id, |list| {
            if let Some(r) = list.iter_mut().find(|r| r.region.as_str() == region) {
                if r.status != ReplicaStatus::Creating {
                    r.status = status;
                }
                found = Some(r.clone());
            }
        })?;
        let r = found.ok_or_else(|| Error::ResourceNotFoundException(format!("No replica in {region}.")))?;
        if r.status == ReplicaStatus::Creating {
            return Err(Error::invalid("The replica is still being created."));
        }
        Ok(view(&pool, &r))
    }

    /// DeleteUserPoolReplica.
    pub fn delete_replica(&self, pool_id: &PoolId, region: &str) -> Result<ReplicaView> {
        let pool = self.services.load_pool(pool_id)?;
        self.services.ensure_primary(&pool, "DeleteUserPoolReplica")?;
        let r = pool
            .replication
            .replicas
            .iter()
            .find(|r| r.region.as_str() == region)
            .cloned()
            .ok_or_else(|| Error::ResourceNotFoundException(format!("No replica in {region}.")))?;
        if r.status != ReplicaStatus::Inactive {
            return Err(Error::invalid("Only an INACTIVE replica can be deleted."));
        }
        self.peer(region)?
            .post::<_, serde_json::Value>(
                pool_id,
                crate::wire::Endpoint::Unhost,
                &Unhost { v: wire::VERSION, source: Some(self.services.region.to_string()) },
            )
            .map_err(|e| Error::invalid(format!("Region {region} could not be reached: {e:#}")))?;
        self.set_replicas(pool_id, |list| list.retain(|x| x.region.as_str() != region))?;
        Ok(ReplicaView { status: "DELETING", ..view(&pool, &r) })
    }

    /// The primary asks this region to host a replica of `pool`. Refused where the pool is
    /// primary, and where this region already follows another primary for it (only the
    /// primary it follows may re-point it) — checked inside the write.
    pub fn host(self: &Arc<Self>, pool_id: &PoolId, h: &Host) -> Result<()> {
        RegionName::parse(&h.source)?;
        if let Some(dek) = &h.key_check {
            self.check_replica_key(pool_id, dek)?;
        }
        let sub = Subscription { pool: pool_id.clone(), source: h.source.clone(), url: h.url.clone() };
        let mut tx = self.services.store.write(self.services.now_ms())?;
        if let Some(primary) = self.followed_primary(&*tx, pool_id)? {
            if primary != h.source {
                return Err(Error::invalid(format!(
                    "This region follows {primary} for this user pool, not {}.",
                    h.source
                )));
            }
        }
        tx.set_subscription(pool_id, Some(&sub))?;
        tx.commit()?;
        tracing::info!(target: "janus::audit", event = "replica_hosted", pool = %pool_id, primary = %h.source,
            url = %h.url, "this region now holds a replica of the pool");
        self.start(sub);
        Ok(())
    }

    /// The primary this region follows for `pool` (its subscription, or the primary its copy
    /// names); `None` when it holds nothing of the pool. An error where this region is the
    /// pool's primary: nothing another region says may drop or re-point a primary.
    fn followed_primary(&self, r: &dyn janus_store::Read, pool_id: &PoolId) -> Result<Option<String>> {
        let pool = r.pool(pool_id)?;
        if let Some(p) = pool.as_ref().filter(|p| self.services.is_primary(p)) {
            tracing::warn!(target: "janus::audit", event = "replication_request_refused", pool = %p.id,
                "another region asked to host or drop a pool this region is primary of");
            return Err(Error::invalid("This region is the pool's primary."));
        }
        let sub = r.subscriptions()?.into_iter().find(|s| s.pool == *pool_id);
        Ok(sub.map(|s| s.source).or_else(|| pool.map(|p| p.primary_region().to_owned())))
    }

    /// The primary tells this region to drop its replica of `pool`. Only a region that holds
    /// the pool as a secondary drops it, only when the asking region names the primary it
    /// follows, and every drop is an audit event. (Regions share one secret, so this guards
    /// against a stale or mistaken region, not against a holder of the secret.)
    pub fn unhost(&self, pool_id: &PoolId, u: &Unhost) -> Result<()> {
        let source = u.source.as_deref().ok_or_else(|| {
            Error::invalid("This unhost request names no asking region: upgrade the primary region to this version.")
        })?;
        let mut tx = self.services.store.write(self.services.now_ms())?;
        match self.followed_primary(&*tx, pool_id)? {
            None => return Err(Error::pool_not_found(pool_id.as_str())),
            Some(primary) if primary != source => {
                tracing::warn!(target: "janus::audit", event = "replication_request_refused", pool = %pool_id,
                    asked_by = %source, primary = %primary, "a region that is not the primary asked to drop a replica");
                return Err(Error::invalid(format!("Only the pool's primary ({primary}) may drop this replica.")));
            }
            Some(_) => {}
        }
        tx.set_subscription(pool_id, None)?;
        tx.load_snapshot(pool_id, janus_types::Seq(0), janus_types::Epoch(0), &mut std::iter::empty())?;
        tx.commit()?;
        tracing::warn!(target: "janus::audit", event = "replica_dropped", pool = %pool_id, primary = %source,
            "replica dropped at the primary's request");
        Ok(())
    }
}

/// Replication status of a pool as this region sees it (`janus replica status`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Description {
    /// The pool.
    pub user_pool_id: String,
    /// `PRIMARY` or `SECONDARY` here.
    pub role: &'static str,
    /// The primary region.
    pub primary: String,
    /// The epoch.
    pub epoch: u64,
    /// `SYNC` or `ASYNC`.
    pub mode: &'static str,
    /// The last committed (primary) or applied (secondary) `seq` here.
    pub seq: u64,
    /// Per replica (as the primary knows them).
    pub replicas: Vec<ReplicaLag>,
    /// Changes this region committed as primary that a promotion superseded.
    pub lost_changes: Option<crate::failover::LostReport>,
    /// On a secondary: the last initial copy (snapshot) it loaded or is loading.
    pub initial_copy: Option<CopyProgress>,
}

/// Progress of an initial copy on the replica.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopyProgress {
    /// Entities received so far.
    pub received: u64,
    /// Entities in the snapshot.
    pub total: u64,
    /// True once the snapshot is applied (the replica then streams changes).
    pub applied: bool,
}

/// One replica's position.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicaLag {
    /// Region.
    pub region: String,
    /// Status.
    pub status: &'static str,
    /// Last `seq` it reported applied (none yet: `null`).
    pub applied_seq: Option<u64>,
    /// Changes it trails by.
    pub lag_changes: Option<u64>,
    /// Seconds since the oldest change it has not applied was committed (0 when caught up).
    pub lag_seconds: Option<f64>,
    /// Seconds since it last reported (the link's health).
    pub last_report_age_seconds: Option<f64>,
    /// A synchronous write went ahead without it and it has not caught up since.
    pub lagging: bool,
}

impl Replicator {
    /// Describe `pool`'s replication from here.
    pub fn describe(&self, pool_id: &PoolId) -> Result<Description> {
        let r = self.services.store.read()?;
        let copy = self.copies.lock().unwrap_or_else(|e| e.into_inner()).get(pool_id).copied();
        let Some(pool) = r.pool(pool_id)? else {
            // A replica whose initial copy is still arriving: report just that.
            let sub = r.subscriptions()?.into_iter().find(|s| s.pool == *pool_id);
            let (Some(sub), Some(_)) = (sub, copy) else { return Err(Error::pool_not_found(pool_id.as_str())) };
            return Ok(Description {
                user_pool_id: pool_id.to_string(),
                role: "SECONDARY",
                primary: sub.source,
                epoch: 0,
                mode: "ASYNC",
                seq: 0,
                replicas: vec![],
                lost_changes: None,
                initial_copy: copy,
            });
        };
        let (seq, epoch) = r.log_head(pool_id)?;
        let now = self.services.now_ms();
        let mut replicas = Vec::new();
        for rep in &pool.replication.replicas {
            let link = self.link(pool_id, &rep.region);
            let lag_seconds = match &link {
                Some(l) if l.applied >= seq.0 => Some(0.0),
                Some(l) => {
                    r.changes(pool_id, janus_types::Seq(l.applied), 1)?.first().map(|c| (now - c.at_ms) as f64 / 1000.0)
                }
                None => None,
            };
            replicas.push(ReplicaLag {
                region: rep.region.to_string(),
                status: rep.status.as_str(),
                applied_seq: link.as_ref().map(|l| l.applied),
                lag_changes: link.as_ref().map(|l| seq.0.saturating_sub(l.applied)),
                lag_seconds,
                last_report_age_seconds: link.as_ref().map(|l| (now - l.reported_ms) as f64 / 1000.0),
                lagging: link.as_ref().is_some_and(|l| l.lagging),
            });
        }
        Ok(Description {
            user_pool_id: pool_id.to_string(),
            role: if self.services.is_primary(&pool) { "PRIMARY" } else { "SECONDARY" },
            primary: pool.primary_region().to_owned(),
            epoch: epoch.0,
            mode: if pool.replication.sync_timeout_ms.is_some() { "SYNC" } else { "ASYNC" },
            seq: seq.0,
            replicas,
            lost_changes: self.lost(pool_id),
            initial_copy: copy,
        })
    }
}
