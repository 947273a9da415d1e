//! Device operations: ConfirmDevice, GetDevice, ListDevices, ForgetDevice,
//! UpdateDeviceStatus (the user's access token) and AdminGetDevice, AdminListDevices,
//! AdminForgetDevice, AdminUpdateDeviceStatus (the administrator names the user).

use serde::Deserialize;
use serde_json::{json, Value};

use janus_core::devices::{Confirmation, Owner};
use janus_core::Services;
use janus_types::{Device, Error, PoolId};

use super::{admin, admin_read, empty, input, limit, public, public_read, Operation};
use crate::render::date;

pub const OPS: &[Operation] = &[
    public("ConfirmDevice", confirm_device),
    public_read("GetDevice", get_device).point_read(),
    public_read("ListDevices", list_devices),
    public("ForgetDevice", forget_device),
    public("UpdateDeviceStatus", update_device_status),
    admin_read("AdminGetDevice", admin_get_device),
    admin_read("AdminListDevices", admin_list_devices),
    admin("AdminForgetDevice", admin_forget_device),
    admin("AdminUpdateDeviceStatus", admin_update_device_status),
];

/// `DeviceType`.
fn device(d: &Device) -> Value {
    let mut attributes = vec![json!({"Name": "device_status", "Value": "valid"})];
    if let Some(name) = &d.name {
        attributes.push(json!({"Name": "device_name", "Value": name}));
    }
    let remembered = if d.remembered { "remembered" } else { "not_remembered" };
    attributes.push(json!({"Name": "dev:device_remembered_status", "Value": remembered}));
    json!({
        "DeviceKey": d.key,
        "DeviceAttributes": attributes,
        "DeviceCreateDate": date(d.created_ms),
        "DeviceLastModifiedDate": date(d.modified_ms),
        "DeviceLastAuthenticatedDate": date(d.last_auth_ms),
    })
}

fn page(devices: &[Device], next: Option<String>) -> Value {
    let mut out = json!({ "Devices": devices.iter().map(device).collect::<Vec<_>>() });
    if let Some(n) = next {
        out["PaginationToken"] = json!(n);
    }
    out
}

fn token(t: &Option<String>) -> Result<&str, Error> {
    t.as_deref().ok_or_else(|| Error::NotAuthorizedException("Missing AccessToken.".into()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VerifierConfig {
    password_verifier: Option<String>,
    salt: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Confirm {
    access_token: String,
    device_key: String,
    device_name: Option<String>,
    device_secret_verifier_config: Option<VerifierConfig>,
}

fn confirm_device(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Confirm = input(v)?;
    let config = r.device_secret_verifier_config.unwrap_or(VerifierConfig { password_verifier: None, salt: None });
    let c =
        Confirmation { key: r.device_key, salt: config.salt, verifier: config.password_verifier, name: r.device_name };
    let necessary = s.confirm_device(&r.access_token, c)?;
    Ok(json!({ "UserConfirmationNecessary": necessary }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Own {
    access_token: Option<String>,
    device_key: String,
    device_remembered_status: Option<String>,
}

fn get_device(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Own = input(v)?;
    Ok(json!({ "Device": device(&s.get_device(Owner::Token(token(&r.access_token)?), &r.device_key)?) }))
}

fn forget_device(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Own = input(v)?;
    s.forget_device(Owner::Token(token(&r.access_token)?), Some(&r.device_key))?;
    empty()
}

fn update_device_status(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Own = input(v)?;
    s.update_device_status(
        Owner::Token(token(&r.access_token)?),
        &r.device_key,
        r.device_remembered_status.as_deref(),
    )?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct List {
    access_token: Option<String>,
    user_pool_id: Option<PoolId>,
    username: Option<String>,
    limit: Option<usize>,
    pagination_token: Option<String>,
}

fn listing(s: &Services, owner: Owner<'_>, r: &List) -> Result<Value, Error> {
    let n = limit(r.limit.filter(|n| *n > 0));
    let (devices, next) = s.list_devices(owner, n, r.pagination_token.as_deref())?;
    Ok(page(&devices, next))
}

fn list_devices(s: &Services, v: Value) -> Result<Value, Error> {
    let r: List = input(v)?;
    listing(s, Owner::Token(token(&r.access_token)?), &r)
}

fn admin_list_devices(s: &Services, v: Value) -> Result<Value, Error> {
    let r: List = input(v)?;
    let (Some(pool), Some(user)) = (&r.user_pool_id, &r.username) else {
        return Err(Error::invalid("UserPoolId and Username are required."));
    };
    listing(s, Owner::Admin(pool, user), &r)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminOwn {
    user_pool_id: PoolId,
    username: String,
    device_key: String,
    device_remembered_status: Option<String>,
}

fn admin_get_device(s: &Services, v: Value) -> Result<Value, Error> {
    let r: AdminOwn = input(v)?;
    Ok(json!({ "Device": device(&s.get_device(Owner::Admin(&r.user_pool_id, &r.username), &r.device_key)?) }))
}

fn admin_forget_device(s: &Services, v: Value) -> Result<Value, Error> {
    let r: AdminOwn = input(v)?;
    s.forget_device(Owner::Admin(&r.user_pool_id, &r.username), Some(&r.device_key))?;
    empty()
}

fn admin_update_device_status(s: &Services, v: Value) -> Result<Value, Error> {
    let r: AdminOwn = input(v)?;
    let owner = Owner::Admin(&r.user_pool_id, &r.username);
    s.update_device_status(owner, &r.device_key, r.device_remembered_status.as_deref())?;
    empty()
}
