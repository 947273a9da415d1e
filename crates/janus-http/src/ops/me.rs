//! Operations a signed-in user makes with an access token (unsigned, as the SDKs send them),
//! and AdminUserGlobalSignOut.

use serde::Deserialize;
use serde_json::{json, Value};

use janus_core::users::AttributeInput;
use janus_core::Services;
use janus_types::{Error, PoolId};

use super::{admin, empty, input, public, public_read, Operation};
use crate::render;

pub const OPS: &[Operation] = &[
    public_read("GetUser", get_user).point_read(),
    public_read("GetUserAuthFactors", get_user_auth_factors).point_read(),
    public("UpdateUserAttributes", update_user_attributes),
    public("DeleteUserAttributes", delete_user_attributes),
    public("ChangePassword", change_password),
    public("DeleteUser", delete_user),
    public_read("GlobalSignOut", global_sign_out),
    admin("AdminUserGlobalSignOut", admin_user_global_sign_out),
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Token {
    access_token: String,
}

fn get_user(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Token = input(v)?;
    Ok(render::get_user(&s.get_user(&r.access_token)?))
}

fn get_user_auth_factors(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Token = input(v)?;
    let (user, factors) = s.user_auth_factors(&r.access_token)?;
    Ok(render::user_auth_factors(&user, &factors))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateAttributes {
    access_token: String,
    user_attributes: Vec<AttributeInput>,
}

fn update_user_attributes(s: &Services, v: Value) -> Result<Value, Error> {
    let metadata = super::client_metadata(&v)?;
    let r: UpdateAttributes = input(v)?;
    let sent = s.update_my_attributes(&r.access_token, &r.user_attributes, &metadata)?;
    Ok(json!({"CodeDeliveryDetailsList": sent.iter().map(render::delivery).collect::<Vec<_>>()}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteAttributes {
    access_token: String,
    user_attribute_names: Vec<String>,
}

fn delete_user_attributes(s: &Services, v: Value) -> Result<Value, Error> {
    let r: DeleteAttributes = input(v)?;
    s.delete_my_attributes(&r.access_token, &r.user_attribute_names)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChangePassword {
    access_token: String,
    previous_password: Option<String>,
    proposed_password: String,
}

fn change_password(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ChangePassword = input(v)?;
    s.change_password(&r.access_token, r.previous_password.as_deref().unwrap_or(""), &r.proposed_password)?;
    empty()
}

fn delete_user(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Token = input(v)?;
    s.delete_me(&r.access_token)?;
    empty()
}

fn global_sign_out(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Token = input(v)?;
    s.global_sign_out(&r.access_token)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserRef {
    user_pool_id: PoolId,
    username: String,
}

fn admin_user_global_sign_out(s: &Services, v: Value) -> Result<Value, Error> {
    let r: UserRef = input(v)?;
    s.admin_global_sign_out(&r.user_pool_id, &r.username)?;
    empty()
}
