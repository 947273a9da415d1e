//! Administrator user operations.

use serde::Deserialize;
use serde_json::{json, Value};

use janus_core::users::create::CreateUser;
use janus_core::users::AttributeInput;
use janus_core::Services;
use janus_types::{Error, PoolId};

use super::{admin, admin_read, empty, input, limit, Operation};
use crate::render;

pub const OPS: &[Operation] = &[
    admin("AdminCreateUser", admin_create_user),
    admin_read("AdminGetUser", admin_get_user).point_read(),
    admin_read("AdminGetUserAuthFactors", admin_get_user_auth_factors).point_read(),
    admin("AdminDeleteUser", admin_delete_user),
    admin("AdminUpdateUserAttributes", admin_update_user_attributes),
    admin("AdminDeleteUserAttributes", admin_delete_user_attributes),
    admin("AdminSetUserPassword", admin_set_user_password),
    admin("AdminDisableUser", admin_disable_user),
    admin("AdminEnableUser", admin_enable_user),
    admin("AdminConfirmSignUp", admin_confirm_sign_up),
    admin("AdminResetUserPassword", admin_reset_user_password),
    admin_read("ListUsers", list_users),
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserRef {
    user_pool_id: PoolId,
    username: String,
}

fn admin_create_user(s: &Services, v: Value) -> Result<Value, Error> {
    let user = s.admin_create_user(input::<CreateUser>(v)?)?;
    Ok(json!({ "User": render::user(&user, None) }))
}

fn admin_get_user(s: &Services, v: Value) -> Result<Value, Error> {
    let r: UserRef = input(v)?;
    Ok(render::admin_get_user(&s.admin_get_user(&r.user_pool_id, &r.username)?))
}

fn admin_get_user_auth_factors(s: &Services, v: Value) -> Result<Value, Error> {
    let r: UserRef = input(v)?;
    let (user, factors) = s.admin_user_auth_factors(&r.user_pool_id, &r.username)?;
    Ok(render::user_auth_factors(&user, &factors))
}

fn admin_delete_user(s: &Services, v: Value) -> Result<Value, Error> {
    let r: UserRef = input(v)?;
    s.admin_delete_user(&r.user_pool_id, &r.username)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateAttributes {
    user_pool_id: PoolId,
    username: String,
    user_attributes: Vec<AttributeInput>,
}

fn admin_update_user_attributes(s: &Services, v: Value) -> Result<Value, Error> {
    let r: UpdateAttributes = input(v)?;
    s.admin_update_attributes(&r.user_pool_id, &r.username, &r.user_attributes)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteAttributes {
    user_pool_id: PoolId,
    username: String,
    user_attribute_names: Vec<String>,
}

fn admin_delete_user_attributes(s: &Services, v: Value) -> Result<Value, Error> {
    let r: DeleteAttributes = input(v)?;
    s.admin_delete_attributes(&r.user_pool_id, &r.username, &r.user_attribute_names)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetPassword {
    user_pool_id: PoolId,
    username: String,
    password: String,
    #[serde(default)]
    permanent: bool,
}

fn admin_set_user_password(s: &Services, v: Value) -> Result<Value, Error> {
    let r: SetPassword = input(v)?;
    s.admin_set_password(&r.user_pool_id, &r.username, &r.password, r.permanent)?;
    empty()
}

fn admin_disable_user(s: &Services, v: Value) -> Result<Value, Error> {
    let r: UserRef = input(v)?;
    s.admin_set_enabled(&r.user_pool_id, &r.username, false)?;
    empty()
}

fn admin_enable_user(s: &Services, v: Value) -> Result<Value, Error> {
    let r: UserRef = input(v)?;
    s.admin_set_enabled(&r.user_pool_id, &r.username, true)?;
    empty()
}

fn admin_confirm_sign_up(s: &Services, v: Value) -> Result<Value, Error> {
    let metadata = super::client_metadata(&v)?;
    let r: UserRef = input(v)?;
    s.admin_confirm_sign_up(&r.user_pool_id, &r.username, &metadata)?;
    empty()
}

fn admin_reset_user_password(s: &Services, v: Value) -> Result<Value, Error> {
    let metadata = super::client_metadata(&v)?;
    let r: UserRef = input(v)?;
    s.admin_reset_password(&r.user_pool_id, &r.username, &metadata)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListUsers {
    user_pool_id: PoolId,
    attributes_to_get: Option<Vec<String>>,
    limit: Option<usize>,
    pagination_token: Option<String>,
    filter: Option<String>,
}

fn list_users(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ListUsers = input(v)?;
    let (users, next) =
        s.list_users(&r.user_pool_id, r.filter.as_deref(), limit(r.limit), r.pagination_token.as_deref())?;
    let only = r.attributes_to_get.as_deref();
    let items: Vec<Value> = users.iter().map(|u| render::user(u, only)).collect();
    let mut out = json!({ "Users": items });
    if let Some(n) = next {
        out["PaginationToken"] = json!(n);
    }
    Ok(out)
}
