//! Users: finding a user by the name a caller typed (user name, or a sign-in alias), and
//! the administrator operations on users. Creation lives in `create`, the single-user admin
//! operations in `admin`, ListUsers and its filter grammar in `list`.

pub mod admin;
pub mod create;
pub mod list;

use std::collections::BTreeMap;

use janus_store::Read;
use janus_types::{Error, Pool, PoolId, Result, User, UserKey};

use crate::attributes::{self, alias_key};

/// A Cognito attribute as sent: `{"Name": .., "Value": ..}`.
#[allow(missing_docs)]
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeInput {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// Turn wire attributes into `(name, value)` pairs.
pub fn pairs(attrs: &[AttributeInput]) -> Vec<(String, String)> {
    attrs
        .iter()
        .map(|a| (a.name.clone(), crate::attributes::normalised(&a.name, a.value.as_deref().unwrap_or_default())))
        .collect()
}

/// Find the user a caller means by `name`: the user name itself, else (in pools with
/// username or alias attributes) the user holding it as a sign-in alias.
pub fn find(r: &dyn Read, pool: &Pool, name: &str) -> Result<Option<User>> {
    let key = UserKey::of(name, pool.config.case_sensitive());
    if let Some(u) = r.user(&pool.id, &key)? {
        return Ok(Some(u));
    }
    let sign_in_attrs = pool.config.username_attributes.iter().chain(&pool.config.alias_attributes);
    for attr in sign_in_attrs {
        if let Some(u) = r.user_by_alias(&pool.id, &alias_key(attr, name))? {
            return Ok(Some(u));
        }
    }
    Ok(None)
}

/// Like [`find`], answering UserNotFoundException when there is no such user.
pub fn get(r: &dyn Read, pool: &Pool, name: &str) -> Result<User> {
    find(r, pool, name)?.ok_or_else(Error::user_not_found)
}

/// [`claim_aliases`] for a user whose attributes change: another user's sign-in name (a
/// username attribute) is an alias taken, AliasExistsException — UsernameExistsException is
/// for a new user only.
pub fn claim_aliases_on_update(r: &dyn Read, pool: &Pool, user: &mut User) -> Result<Vec<User>> {
    claim_aliases(r, pool, user, false).map_err(|e| match e {
        Error::UsernameExistsException(m) => Error::AliasExistsException(m),
        e => e,
    })
}

/// Recompute `user.aliases` and check none is held by another user. With `force`, an alias
/// attribute held by someone else is taken from them (ForceAliasCreation): the displaced
/// users are returned, already updated, for the caller to store.
pub fn claim_aliases(r: &dyn Read, pool: &Pool, user: &mut User, force: bool) -> Result<Vec<User>> {
    user.aliases = attributes::aliases_of(&pool.config, &user.attributes);
    let mut displaced = Vec::new();
    for alias in &user.aliases {
        let Some(mut other) = r.user_by_alias(&pool.id, alias)? else { continue };
        if other.key == user.key {
            continue;
        }
        let (attr, _) = alias.split_once(':').unwrap_or((alias, ""));
        let message = format!("An account with the given {attr} already exists.");
        if pool.config.username_attributes.iter().any(|a| a == attr) {
            return Err(Error::UsernameExistsException(message));
        }
        if !force || attr == "preferred_username" {
            return Err(Error::AliasExistsException(message));
        }
        other.attributes.insert(format!("{attr}_verified"), "false".into());
        other.aliases = attributes::aliases_of(&pool.config, &other.attributes);
        displaced.push(other);
    }
    Ok(displaced)
}

/// A new user of `pool` with nothing sent, locked or revoked yet.
pub fn new_user(
    pool: &Pool,
    username: String,
    sub: janus_types::Sub,
    attributes: BTreeMap<String, String>,
    status: janus_types::UserStatus,
    password: Option<janus_types::PasswordCredential>,
    now_ms: i64,
) -> User {
    User {
        key: UserKey::of(&username, pool.config.case_sensitive()),
        username,
        sub,
        attributes,
        enabled: true,
        status,
        created_ms: now_ms,
        modified_ms: now_ms,
        password,
        aliases: vec![],
        security: Default::default(),
        codes: Default::default(),
        mfa: Default::default(),
    }
}

/// Attributes as a map, for building a user.
pub fn to_map(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    pairs.into_iter().collect()
}

/// The pool and a write-guard check shared by the user operations.
pub fn pool_of(r: &dyn Read, id: &PoolId) -> Result<Pool> {
    r.pool(id)?.ok_or_else(|| Error::pool_not_found(id.as_str()))
}
