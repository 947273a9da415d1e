//! The Cognito replica API: CreateUserPoolReplica, ListUserPoolReplicas,
//! UpdateUserPoolReplica, DeleteUserPoolReplica.

use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

use janus_core::placement::Access;
use janus_repl::admin::ReplicaView;
use janus_repl::Replicator;
use janus_types::{Error, PoolId};

use super::{admin_replication, input, Operation};

pub const OPS: &[Operation] = &[
    admin_replication("CreateUserPoolReplica", Access::AdminWrite, create_user_pool_replica),
    admin_replication("ListUserPoolReplicas", Access::AdminRead, list_user_pool_replicas),
    admin_replication("UpdateUserPoolReplica", Access::AnyRegion, update_user_pool_replica),
    admin_replication("DeleteUserPoolReplica", Access::AdminWrite, delete_user_pool_replica),
    admin_replication("JanusAdmin.PromoteUserPool", Access::AnyRegion, promote_user_pool),
    admin_replication("JanusAdmin.DescribeReplication", Access::AdminRead, describe_replication),
    admin_replication("JanusAdmin.SetReplicationMode", Access::AdminWrite, set_replication_mode),
    admin_replication("JanusAdmin.SetAvailability", Access::Global, set_availability),
    admin_replication("JanusAdmin.DescribeReadiness", Access::Global, describe_readiness),
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Availability {
    available: bool,
}

/// Take the region out of service (it then refuses traffic as if down) or put it back.
fn set_availability(r: &Arc<Replicator>, v: Value) -> Result<Value, Error> {
    let a: Availability = input(v)?;
    r.set_available(a.available);
    Ok(json!({"Available": r.available()}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReadinessQuery {
    user_pool_id: Option<PoolId>,
}

/// `/ready`'s body through the administrator API (the drill and audit use it).
fn describe_readiness(r: &Arc<Replicator>, v: Value) -> Result<Value, Error> {
    let q: ReadinessQuery = input(v)?;
    let ready = r.readiness(q.user_pool_id.as_ref(), janus_repl::health::Want::Serve)?;
    let mut out = serde_json::to_value(&ready).map_err(Error::internal)?;
    out["Failover"] = json!({
        "Auto": r.failover_settings().enabled,
        "IntervalMs": r.failover_settings().interval.as_millis() as u64,
        "Failures": r.failover_settings().failures,
        "Witness": r.failover_settings().witness.is_some(),
        "AutoPromotions": r.auto_promotions(),
    });
    out["ClockMs"] = json!(r.services.now_ms());
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Mode {
    user_pool_id: PoolId,
    mode: String,
    timeout_ms: Option<u64>,
}

fn set_replication_mode(r: &Arc<Replicator>, v: Value) -> Result<Value, Error> {
    let m: Mode = input(v)?;
    r.set_mode(&m.user_pool_id, &m.mode, m.timeout_ms)?;
    Ok(json!({}))
}

fn replica(v: &ReplicaView) -> Value {
    json!({"RegionName": v.region, "Status": v.status, "Role": v.role, "UserPoolArn": v.arn})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReplicaRef {
    user_pool_id: PoolId,
    region_name: String,
    status: Option<String>,
}

fn create_user_pool_replica(r: &Arc<Replicator>, v: Value) -> Result<Value, Error> {
    let i: ReplicaRef = input(v)?;
    Ok(json!({"UserPoolReplica": replica(&r.create_replica(&i.user_pool_id, &i.region_name)?)}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolRef {
    user_pool_id: PoolId,
}

fn list_user_pool_replicas(r: &Arc<Replicator>, v: Value) -> Result<Value, Error> {
    let i: PoolRef = input(v)?;
    let list: Vec<Value> = r.list_replicas(&i.user_pool_id)?.iter().map(replica).collect();
    Ok(json!({"UserPoolReplicas": list}))
}

fn update_user_pool_replica(r: &Arc<Replicator>, v: Value) -> Result<Value, Error> {
    let i: ReplicaRef = input(v)?;
    let status = i.status.unwrap_or_default();
    Ok(json!({"UserPoolReplica": replica(&r.update_replica(&i.user_pool_id, &i.region_name, &status)?)}))
}

fn delete_user_pool_replica(r: &Arc<Replicator>, v: Value) -> Result<Value, Error> {
    let i: ReplicaRef = input(v)?;
    Ok(json!({"UserPoolReplica": replica(&r.delete_replica(&i.user_pool_id, &i.region_name)?)}))
}

fn promote_user_pool(r: &Arc<Replicator>, v: Value) -> Result<Value, Error> {
    let i: PoolRef = input(v)?;
    let p = r.promote(&i.user_pool_id)?;
    Ok(json!({"Epoch": p.epoch.0, "FenceSeq": p.fence_seq.0, "FormerPrimary": p.former_primary,
        "FormerPrimaryFenced": p.former_primary_fenced}))
}

fn describe_replication(r: &Arc<Replicator>, v: Value) -> Result<Value, Error> {
    let i: PoolRef = input(v)?;
    let s = r.describe(&i.user_pool_id)?;
    serde_json::to_value(s).map_err(Error::internal)
}
