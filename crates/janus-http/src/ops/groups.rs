//! Group and membership operations.

use serde::Deserialize;
use serde_json::{json, Value};

use janus_core::groups::GroupInput;
use janus_core::Services;
use janus_types::{Error, GroupName, PoolId};

use super::{admin, admin_read, empty, input, limit, Operation};
use crate::render;

pub const OPS: &[Operation] = &[
    admin("CreateGroup", create_group),
    admin_read("GetGroup", get_group),
    admin("UpdateGroup", update_group),
    admin("DeleteGroup", delete_group),
    admin_read("ListGroups", list_groups),
    admin("AdminAddUserToGroup", admin_add_user_to_group),
    admin("AdminRemoveUserFromGroup", admin_remove_user_from_group),
    admin_read("AdminListGroupsForUser", admin_list_groups_for_user),
    admin_read("ListUsersInGroup", list_users_in_group),
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupRef {
    user_pool_id: PoolId,
    group_name: GroupName,
}

fn create_group(s: &Services, v: Value) -> Result<Value, Error> {
    let r: GroupInput = input(v)?;
    let pool = r.user_pool_id.clone();
    Ok(json!({ "Group": render::group(&pool, &s.create_group(r)?) }))
}

fn get_group(s: &Services, v: Value) -> Result<Value, Error> {
    let r: GroupRef = input(v)?;
    Ok(json!({ "Group": render::group(&r.user_pool_id, &s.get_group(&r.user_pool_id, &r.group_name)?) }))
}

fn update_group(s: &Services, v: Value) -> Result<Value, Error> {
    let r: GroupInput = input(v)?;
    let pool = r.user_pool_id.clone();
    Ok(json!({ "Group": render::group(&pool, &s.update_group(r)?) }))
}

fn delete_group(s: &Services, v: Value) -> Result<Value, Error> {
    let r: GroupRef = input(v)?;
    s.delete_group(&r.user_pool_id, &r.group_name)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListGroups {
    user_pool_id: PoolId,
    limit: Option<usize>,
    next_token: Option<String>,
}

fn page(key: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut out = json!({ key: items });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    out
}

fn list_groups(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ListGroups = input(v)?;
    let (groups, next) = s.list_groups(&r.user_pool_id, limit(r.limit), r.next_token.as_deref())?;
    Ok(page("Groups", groups.iter().map(|g| render::group(&r.user_pool_id, g)).collect(), next))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Membership {
    user_pool_id: PoolId,
    username: String,
    group_name: GroupName,
}

fn admin_add_user_to_group(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Membership = input(v)?;
    s.set_membership(&r.user_pool_id, &r.username, &r.group_name, true)?;
    empty()
}

fn admin_remove_user_from_group(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Membership = input(v)?;
    s.set_membership(&r.user_pool_id, &r.username, &r.group_name, false)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupsForUser {
    user_pool_id: PoolId,
    username: String,
    limit: Option<usize>,
    next_token: Option<String>,
}

fn admin_list_groups_for_user(s: &Services, v: Value) -> Result<Value, Error> {
    let r: GroupsForUser = input(v)?;
    let (groups, next) = s.groups_for_user(&r.user_pool_id, &r.username, limit(r.limit), r.next_token.as_deref())?;
    Ok(page("Groups", groups.iter().map(|g| render::group(&r.user_pool_id, g)).collect(), next))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UsersInGroup {
    user_pool_id: PoolId,
    group_name: GroupName,
    limit: Option<usize>,
    next_token: Option<String>,
}

fn list_users_in_group(s: &Services, v: Value) -> Result<Value, Error> {
    let r: UsersInGroup = input(v)?;
    let (users, next) = s.users_in_group(&r.user_pool_id, &r.group_name, limit(r.limit), r.next_token.as_deref())?;
    Ok(page("Users", users.iter().map(|u| render::user(u, None)).collect(), next))
}
