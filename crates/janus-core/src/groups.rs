//! Groups and memberships: CreateGroup, GetGroup, UpdateGroup, DeleteGroup, ListGroups,
//! AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminListGroupsForUser, ListUsersInGroup.

use serde::Deserialize;

use janus_types::{Entity, EntityKey, Error, Group, GroupName, Membership, PoolId, Result, User, UserKey};

use crate::users::{get, pool_of};
use crate::{page, Services};

/// CreateGroup / UpdateGroup input.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupInput {
    pub user_pool_id: PoolId,
    pub group_name: GroupName,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub precedence: Option<i64>,
}

fn group_not_found() -> Error {
    Error::ResourceNotFoundException("Group not found.".into())
}

impl Services {
    /// CreateGroup.
    pub fn create_group(&self, input: GroupInput) -> Result<Group> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        pool_of(&*tx, &input.user_pool_id)?;
        self.quotas.check_groups(&*tx, &input.user_pool_id)?;
        if tx.group(&input.user_pool_id, &input.group_name)?.is_some() {
            return Err(Error::GroupExistsException(format!(
                "A group with the name {} already exists.",
                input.group_name
            )));
        }
        let group = Group {
            name: input.group_name,
            description: input.description,
            role_arn: input.role_arn,
            precedence: input.precedence,
            created_ms: now,
            modified_ms: now,
        };
        tx.put(&input.user_pool_id, Entity::Group(group.clone()))?;
        tx.commit()?;
        Ok(group)
    }

    /// GetGroup.
    pub fn get_group(&self, pool: &PoolId, name: &GroupName) -> Result<Group> {
        let r = self.store.read()?;
        pool_of(&*r, pool)?;
        r.group(pool, name)?.ok_or_else(group_not_found)
    }

    /// UpdateGroup: members that are sent replace the stored ones.
    pub fn update_group(&self, input: GroupInput) -> Result<Group> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        pool_of(&*tx, &input.user_pool_id)?;
        let mut group = tx.group(&input.user_pool_id, &input.group_name)?.ok_or_else(group_not_found)?;
        if input.description.is_some() {
            group.description = input.description;
        }
        if input.role_arn.is_some() {
            group.role_arn = input.role_arn;
        }
        if input.precedence.is_some() {
            group.precedence = input.precedence;
        }
        group.modified_ms = now;
        tx.put(&input.user_pool_id, Entity::Group(group.clone()))?;
        tx.commit()?;
        Ok(group)
    }

    /// DeleteGroup (its memberships go with it).
    pub fn delete_group(&self, pool: &PoolId, name: &GroupName) -> Result<()> {
        let mut tx = self.store.write(self.now_ms())?;
        pool_of(&*tx, pool)?;
        tx.group(pool, name)?.ok_or_else(group_not_found)?;
        tx.delete(pool, EntityKey::Group { name: name.clone() })?;
        tx.commit()
    }

    /// ListGroups.
    pub fn list_groups(
        &self,
        pool: &PoolId,
        limit: usize,
        token: Option<&str>,
    ) -> Result<(Vec<Group>, Option<String>)> {
        let after = token.map(page::key).transpose()?.map(|k| GroupName::parse(&k)).transpose()?;
        let r = self.store.read()?;
        pool_of(&*r, pool)?;
        let groups = r.groups(pool, after.as_ref(), limit + 1)?;
        Ok(page::split(groups, limit, |g| g.name.to_string()))
    }

    /// AdminAddUserToGroup / AdminRemoveUserFromGroup.
    pub fn set_membership(&self, pool: &PoolId, username: &str, group: &GroupName, member: bool) -> Result<()> {
        let mut tx = self.store.write(self.now_ms())?;
        let p = pool_of(&*tx, pool)?;
        let user = get(&*tx, &p, username)?;
        tx.group(pool, group)?.ok_or_else(group_not_found)?;
        let m = Membership { group: group.clone(), user: user.key };
        if member {
            tx.put(pool, Entity::Membership(m))?;
        } else {
            tx.delete(pool, EntityKey::Membership { group: m.group, user: m.user })?;
        }
        tx.commit()
    }

    /// AdminListGroupsForUser.
    pub fn groups_for_user(
        &self,
        pool: &PoolId,
        username: &str,
        limit: usize,
        token: Option<&str>,
    ) -> Result<(Vec<Group>, Option<String>)> {
        let after = token.map(page::key).transpose()?.map(|k| GroupName::parse(&k)).transpose()?;
        let r = self.store.read()?;
        let p = pool_of(&*r, pool)?;
        let user = get(&*r, &p, username)?;
        let groups = r.groups_of_user(pool, &user.key, after.as_ref(), limit + 1)?;
        Ok(page::split(groups, limit, |g| g.name.to_string()))
    }

    /// ListUsersInGroup.
    pub fn users_in_group(
        &self,
        pool: &PoolId,
        group: &GroupName,
        limit: usize,
        token: Option<&str>,
    ) -> Result<(Vec<User>, Option<String>)> {
        let after = token.map(page::key).transpose()?.map(UserKey::from_stored);
        let r = self.store.read()?;
        pool_of(&*r, pool)?;
        r.group(pool, group)?.ok_or_else(group_not_found)?;
        let users = r.users_in_group(pool, group, after.as_ref(), limit + 1)?;
        Ok(page::split(users, limit, |u| u.key.to_string()))
    }
}
