//! App client operations, and the rotation of their secrets.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use janus_core::Services;
use janus_types::{ClientId, Error, PoolId};

use super::{admin, admin_read, empty, input, limit, Operation};
use crate::render;

pub const OPS: &[Operation] = &[
    admin("CreateUserPoolClient", create_user_pool_client),
    admin_read("DescribeUserPoolClient", describe_user_pool_client),
    admin("UpdateUserPoolClient", update_user_pool_client),
    admin("DeleteUserPoolClient", delete_user_pool_client),
    admin_read("ListUserPoolClients", list_user_pool_clients),
    admin("AddUserPoolClientSecret", add_user_pool_client_secret),
    admin_read("ListUserPoolClientSecrets", list_user_pool_client_secrets),
    admin("DeleteUserPoolClientSecret", delete_user_pool_client_secret),
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientRef {
    user_pool_id: PoolId,
    client_id: ClientId,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateClient {
    user_pool_id: PoolId,
    client_name: String,
    #[serde(default)]
    generate_secret: bool,
    client_secret: Option<String>,
}

fn create_user_pool_client(s: &Services, v: Value) -> Result<Value, Error> {
    let r: CreateClient = input(v.clone())?;
    let request: Map<String, Value> = input(v)?;
    let c = s.create_client(&r.user_pool_id, r.client_name, r.generate_secret, r.client_secret, request)?;
    Ok(json!({ "UserPoolClient": render::client(&r.user_pool_id, &c) }))
}

fn describe_user_pool_client(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ClientRef = input(v)?;
    let c = s.describe_client(&r.user_pool_id, &r.client_id)?;
    Ok(json!({ "UserPoolClient": render::client(&r.user_pool_id, &c) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateClient {
    user_pool_id: PoolId,
    client_id: ClientId,
    client_name: Option<String>,
}

fn update_user_pool_client(s: &Services, v: Value) -> Result<Value, Error> {
    let r: UpdateClient = input(v.clone())?;
    let request: Map<String, Value> = input(v)?;
    let c = s.update_client(&r.user_pool_id, &r.client_id, r.client_name, request)?;
    Ok(json!({ "UserPoolClient": render::client(&r.user_pool_id, &c) }))
}

fn delete_user_pool_client(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ClientRef = input(v)?;
    s.delete_client(&r.user_pool_id, &r.client_id)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListClients {
    user_pool_id: PoolId,
    max_results: Option<usize>,
    next_token: Option<String>,
}

fn list_user_pool_clients(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ListClients = input(v)?;
    let (clients, next) = s.list_clients(&r.user_pool_id, limit(r.max_results), r.next_token.as_deref())?;
    let items: Vec<Value> = clients.iter().map(|c| render::client_description(&r.user_pool_id, c)).collect();
    let mut out = json!({ "UserPoolClients": items });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddSecret {
    user_pool_id: PoolId,
    client_id: ClientId,
    client_secret: Option<String>,
}

fn add_user_pool_client_secret(s: &Services, v: Value) -> Result<Value, Error> {
    let r: AddSecret = input(v)?;
    let d = s.add_client_secret(&r.user_pool_id, &r.client_id, r.client_secret)?;
    Ok(json!({ "ClientSecretDescriptor": render::client_secret(&d) }))
}

fn list_user_pool_client_secrets(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ClientRef = input(v)?;
    let secrets = s.list_client_secrets(&r.user_pool_id, &r.client_id)?;
    Ok(json!({ "ClientSecrets": secrets.iter().map(render::client_secret).collect::<Vec<_>>() }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteSecret {
    user_pool_id: PoolId,
    client_id: ClientId,
    client_secret_id: String,
}

fn delete_user_pool_client_secret(s: &Services, v: Value) -> Result<Value, Error> {
    let r: DeleteSecret = input(v)?;
    s.delete_client_secret(&r.user_pool_id, &r.client_id, &r.client_secret_id)?;
    empty()
}
