//! User pool operations.

use serde::Deserialize;
use serde_json::{json, Value};

use janus_core::attributes::SchemaInput;
use janus_core::pools::{CreatePool, PoolView};
use janus_core::Services;
use janus_types::{Error, PoolId};

use std::sync::Arc;

use janus_core::placement::Access;
use janus_repl::Replicator;

use super::{admin, admin_global, admin_read, admin_replication, empty, input, Operation};
use crate::render;

pub const OPS: &[Operation] = &[
    admin_global("CreateUserPool", create_user_pool),
    admin_read("DescribeUserPool", describe_user_pool),
    admin_replication("UpdateUserPool", Access::AnyRegion, update_user_pool),
    admin("DeleteUserPool", delete_user_pool),
    admin_global("ListUserPools", list_user_pools),
    admin("AddCustomAttributes", add_custom_attributes),
    admin_read("JanusAdmin.ProbeTriggers", probe_triggers),
    admin_read("GetSigningCertificate", get_signing_certificate),
];

fn get_signing_certificate(s: &Services, v: Value) -> Result<Value, Error> {
    let r: PoolRef = input(v)?;
    Ok(json!({ "Certificate": s.signing_certificate(&r.user_pool_id)? }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolRef {
    user_pool_id: PoolId,
}

fn create_user_pool(s: &Services, v: Value) -> Result<Value, Error> {
    let pool = s.create_pool(input::<CreatePool>(v)?)?;
    let view = PoolView { pool, estimated_users: 0, replica_regions: vec![] };
    Ok(json!({ "UserPool": render::pool(&view) }))
}

fn describe_user_pool(s: &Services, v: Value) -> Result<Value, Error> {
    let r: PoolRef = input(v)?;
    let mut pool = render::pool(&s.describe_pool(&r.user_pool_id)?);
    let (prefix, custom) = s.pool_domains(&r.user_pool_id)?;
    if let Some(d) = prefix {
        pool["Domain"] = json!(d);
    }
    if let Some(d) = custom {
        pool["CustomDomain"] = json!(d);
    }
    Ok(json!({ "UserPool": pool }))
}

/// Send each trigger this region configures for the pool its test event (`janus audit
/// --probe-triggers`): `{"Probes": [{"Trigger", "Function", "Response" | "Error"}]}`.
fn probe_triggers(s: &Services, v: Value) -> Result<Value, Error> {
    let r: PoolRef = input(v)?;
    let pool = s.load_pool(&r.user_pool_id)?;
    Ok(json!({ "Probes": s.probe_triggers(&pool) }))
}

/// In a secondary, only regional settings (`janus_repl::regional`).
fn update_user_pool(r: &Arc<Replicator>, v: Value) -> Result<Value, Error> {
    r.update_pool(v)?;
    empty()
}

fn delete_user_pool(s: &Services, v: Value) -> Result<Value, Error> {
    let r: PoolRef = input(v)?;
    s.delete_pool(&r.user_pool_id)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPools {
    max_results: usize,
    next_token: Option<String>,
}

fn list_user_pools(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ListPools = input(v)?;
    let (pools, next) = s.list_pools(r.max_results, r.next_token.as_deref())?;
    let items: Vec<Value> = pools.iter().map(render::pool_description).collect();
    let mut out = json!({ "UserPools": items });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddCustom {
    user_pool_id: PoolId,
    custom_attributes: Vec<SchemaInput>,
}

fn add_custom_attributes(s: &Services, v: Value) -> Result<Value, Error> {
    let r: AddCustom = input(v)?;
    s.add_custom_attributes(&r.user_pool_id, &r.custom_attributes)?;
    empty()
}
