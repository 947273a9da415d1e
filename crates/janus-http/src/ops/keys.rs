//! Janus's key-management operations (`JanusAdmin.*Key*`), what `janus keys` calls: the
//! region's CMKs, their state and policy, rotation, and moving a multi-region key between
//! regions as a sealed bundle. Key material never appears in a request or a response.

use serde::Deserialize;
use serde_json::{json, Value};

use janus_core::Services;
use janus_crypto::keys::{KeyInfo, KeyPolicy};
use janus_types::{Error, PoolId};

use super::{admin, admin_global, input, Operation};

pub const OPS: &[Operation] = &[
    admin_global("JanusAdmin.CreateKey", create_key),
    admin_global("JanusAdmin.ListKeys", list_keys),
    admin_global("JanusAdmin.DescribeKey", describe_key),
    admin_global("JanusAdmin.EnableKey", enable_key),
    admin_global("JanusAdmin.DisableKey", disable_key),
    admin_global("JanusAdmin.RotateKey", rotate_key),
    admin_global("JanusAdmin.PutKeyPolicy", put_key_policy),
    admin_global("JanusAdmin.GetTransportKey", get_transport_key),
    admin_global("JanusAdmin.ExportKeyReplica", export_key_replica),
    admin_global("JanusAdmin.ImportKeyReplica", import_key_replica),
    admin("JanusAdmin.SetSensitiveAttributes", set_sensitive_attributes),
    admin("JanusAdmin.RotateSigningKey", rotate_signing_key),
    admin("JanusAdmin.RotateSealingKey", rotate_sealing_key),
];

fn key_json(k: &KeyInfo) -> Result<Value, Error> {
    serde_json::to_value(k).map_err(Error::internal)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyInput {
    #[serde(default)]
    pools: Option<Vec<String>>,
    #[serde(default)]
    regions: Option<Vec<String>>,
}

impl PolicyInput {
    fn policy(self) -> KeyPolicy {
        let d = KeyPolicy::default();
        KeyPolicy { pools: self.pools.unwrap_or(d.pools), regions: self.regions.unwrap_or(d.regions) }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateKey {
    #[serde(default)]
    multi_region: bool,
    #[serde(default)]
    description: String,
    policy: Option<PolicyInput>,
}

fn create_key(s: &Services, v: Value) -> Result<Value, Error> {
    let i: CreateKey = input(v)?;
    let policy = i.policy.map(PolicyInput::policy).unwrap_or_default();
    Ok(json!({"KeyMetadata": key_json(&s.create_key(i.multi_region, &i.description, policy)?)?}))
}

fn list_keys(s: &Services, _: Value) -> Result<Value, Error> {
    let keys = s.key_admin()?.list().map_err(|e| e.into_admin_error())?;
    Ok(json!({"Keys": keys.iter().map(key_json).collect::<Result<Vec<_>, _>>()?}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyRef {
    key_id: String,
}

fn describe_key(s: &Services, v: Value) -> Result<Value, Error> {
    let i: KeyRef = input(v)?;
    Ok(json!({"KeyMetadata": key_json(&s.describe_key(&i.key_id)?)?}))
}

fn enable_key(s: &Services, v: Value) -> Result<Value, Error> {
    let i: KeyRef = input(v)?;
    Ok(json!({"KeyMetadata": key_json(&s.set_key_enabled(&i.key_id, true)?)?}))
}

fn disable_key(s: &Services, v: Value) -> Result<Value, Error> {
    let i: KeyRef = input(v)?;
    Ok(json!({"KeyMetadata": key_json(&s.set_key_enabled(&i.key_id, false)?)?}))
}

fn rotate_key(s: &Services, v: Value) -> Result<Value, Error> {
    let i: KeyRef = input(v)?;
    let (info, n) = s.rotate_key(&i.key_id)?;
    Ok(json!({"KeyMetadata": key_json(&info)?, "RewrappedDataKeys": n}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutPolicy {
    key_id: String,
    policy: PolicyInput,
}

fn put_key_policy(s: &Services, v: Value) -> Result<Value, Error> {
    let i: PutPolicy = input(v)?;
    Ok(json!({"KeyMetadata": key_json(&s.set_key_policy(&i.key_id, i.policy.policy())?)?}))
}

fn get_transport_key(s: &Services, _: Value) -> Result<Value, Error> {
    let public = s.key_admin()?.transport_public_key().map_err(|e| e.into_admin_error())?;
    Ok(
        json!({"Region": s.region.as_str(), "TransportPublicKey": public, "Algorithm": "RSAES_OAEP_SHA_256+AES_256_GCM"}),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Export {
    key_id: String,
    replica_region: String,
    transport_public_key: String,
}

fn export_key_replica(s: &Services, v: Value) -> Result<Value, Error> {
    let i: Export = input(v)?;
    let bundle = s
        .key_admin()?
        .export_replica(&i.key_id, &i.replica_region, &i.transport_public_key)
        .map_err(|e| e.into_admin_error())?;
    tracing::info!(target: "janus::audit", event = "key_exported", key = %i.key_id, to = %i.replica_region,
        "multi-region key sealed for another region");
    Ok(json!({"Bundle": bundle}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Import {
    bundle: String,
}

fn import_key_replica(s: &Services, v: Value) -> Result<Value, Error> {
    let i: Import = input(v)?;
    let info = s.key_admin()?.import_replica(&i.bundle).map_err(|e| e.into_admin_error())?;
    tracing::info!(target: "janus::audit", event = "key_imported", key = %info.arn, "multi-region key imported");
    Ok(json!({"KeyMetadata": key_json(&info)?}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Sensitive {
    user_pool_id: PoolId,
    attributes: Vec<String>,
}

fn set_sensitive_attributes(s: &Services, v: Value) -> Result<Value, Error> {
    let i: Sensitive = input(v)?;
    Ok(json!({"SensitiveAttributes": s.set_sensitive_attributes(&i.user_pool_id, i.attributes)?}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolRef {
    user_pool_id: PoolId,
}

fn rotate_signing_key(s: &Services, v: Value) -> Result<Value, Error> {
    let i: PoolRef = input(v)?;
    let r = s.rotate_signing_key(&i.user_pool_id)?;
    Ok(json!({"Kid": r.kid, "ActiveFromMs": r.active_from_ms, "PreviousKeysRetireAfterMs": r.previous_retire_after_ms}))
}

fn rotate_sealing_key(s: &Services, v: Value) -> Result<Value, Error> {
    let i: PoolRef = input(v)?;
    Ok(json!({"Kid": s.rotate_sealing_key(&i.user_pool_id)?}))
}
