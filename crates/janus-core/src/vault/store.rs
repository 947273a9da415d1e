//! [`EncryptedStore`]: the store as services see it. Entities pass through [`super::fields`]
//! on the way in (sealed) and out (opened); the change log, snapshots and applied changes
//! pass through untouched, so replication only ever moves ciphertext. Writing a pool's keys
//! gives the pool a DEK under the CMK its `KeyConfiguration` names; writing a pool whose
//! `KeyConfiguration` names another CMK re-wraps the DEK under it (in the same transaction).

use std::sync::Arc;

use janus_store::{FilterAttr, FilterOp, Read, Store, Subscription, UserFilter, Write};
use janus_types::{
    Change, Client, ClientId, Domain, Entity, EntityKey, Epoch, Group, GroupName, Pool, PoolId, PoolKeys,
    ResourceServer, Result, Seq, Sub, UiCustomization, User, UserKey,
};

use super::fields::{has_secrets, hashed_alias, Fields};
use super::Vault;

/// A store whose entities' secrets are encrypted under their pool's DEK.
pub struct EncryptedStore {
    inner: Arc<dyn Store>,
    vault: Arc<Vault>,
}

impl EncryptedStore {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn Store>, vault: Arc<Vault>) -> Self {
        Self { inner, vault }
    }
}

impl Store for EncryptedStore {
    fn read(&self) -> Result<Box<dyn Read + '_>> {
        Ok(Box::new(EncRead { inner: self.inner.read()?, vault: &self.vault }))
    }
    fn write(&self, now_ms: i64) -> Result<Box<dyn Write + '_>> {
        Ok(Box::new(EncWrite { inner: self.inner.write(now_ms)?, vault: &self.vault }))
    }
    fn shutdown(&self) -> Result<()> {
        self.inner.shutdown()
    }
    fn wait_commit(&self, seen: u64, timeout: std::time::Duration) -> u64 {
        self.inner.wait_commit(seen, timeout)
    }
}

struct EncRead<'a> {
    inner: Box<dyn Read + 'a>,
    vault: &'a Vault,
}

struct EncWrite<'a> {
    inner: Box<dyn Write + 'a>,
    vault: &'a Vault,
}

/// The decrypting view both wrappers read through.
struct View<'a> {
    inner: &'a dyn Read,
    vault: &'a Vault,
}

fn attr_name(a: FilterAttr) -> Option<&'static str> {
    Some(match a {
        FilterAttr::Email => "email",
        FilterAttr::PhoneNumber => "phone_number",
        FilterAttr::Name => "name",
        FilterAttr::GivenName => "given_name",
        FilterAttr::FamilyName => "family_name",
        FilterAttr::PreferredUsername => "preferred_username",
        _ => return None,
    })
}

const SCAN_PAGE: usize = 500;

impl View<'_> {
    fn open(&self, pool: &PoolId, mut e: Entity) -> Result<Entity> {
        if !has_secrets(&e) {
            return Ok(e);
        }
        if let Some(s) = self.vault.secrets(pool, || self.inner.keys(pool))? {
            Fields { vault: self.vault, pool, secrets: &s }.open_entity(&mut e)?;
        }
        Ok(e)
    }

    fn user(&self, pool: &PoolId, u: User) -> Result<User> {
        match self.open(pool, Entity::User(u))? {
            Entity::User(u) => Ok(u),
            _ => unreachable!("open keeps the entity kind"),
        }
    }

    fn users(&self, pool: &PoolId, list: Vec<User>) -> Result<Vec<User>> {
        list.into_iter().map(|u| self.user(pool, u)).collect()
    }

    fn client(&self, pool: &PoolId, c: Client) -> Result<Client> {
        match self.open(pool, Entity::Client(c))? {
            Entity::Client(c) => Ok(c),
            _ => unreachable!("open keeps the entity kind"),
        }
    }

    /// The stored form of a sign-in alias (a digest when its attribute is sensitive).
    fn alias(&self, pool: &PoolId, alias: &str) -> Result<String> {
        let Some((attr, _)) = alias.split_once(':') else { return Ok(alias.to_owned()) };
        match self.vault.secrets(pool, || self.inner.keys(pool))? {
            Some(s) if s.sensitive.iter().any(|a| a == attr) => Ok(hashed_alias(&s.dek, attr, alias)),
            _ => Ok(alias.to_owned()),
        }
    }

    /// ListUsers filtering on a sensitive attribute: the store holds only ciphertext, so the
    /// pool's users are opened and compared here, page by page.
    fn scan(
        &self,
        pool: &PoolId,
        f: &UserFilter,
        name: &str,
        after: Option<&UserKey>,
        limit: usize,
    ) -> Result<Vec<User>> {
        let mut out = Vec::new();
        let mut cursor = after.cloned();
        loop {
            let page = self.inner.users(pool, None, cursor.as_ref(), SCAN_PAGE)?;
            let n = page.len();
            for u in page {
                cursor = Some(u.key.clone());
                let u = self.user(pool, u)?;
                let v = u.attributes.get(name).map(String::as_str).unwrap_or_default();
                let hit = match f.op {
                    FilterOp::Equals => v == f.value,
                    FilterOp::StartsWith => v.starts_with(&f.value),
                };
                if hit {
                    out.push(u);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
            if n < SCAN_PAGE {
                return Ok(out);
            }
        }
    }
}

impl Read for View<'_> {
    fn pool(&self, id: &PoolId) -> Result<Option<Pool>> {
        self.inner.pool(id)
    }
    fn pools(&self, after: Option<&PoolId>, limit: usize) -> Result<Vec<Pool>> {
        self.inner.pools(after, limit)
    }
    fn client(&self, pool: &PoolId, id: &ClientId) -> Result<Option<Client>> {
        self.inner.client(pool, id)?.map(|c| View::client(self, pool, c)).transpose()
    }
    fn client_by_id(&self, id: &ClientId) -> Result<Option<(PoolId, Client)>> {
        self.inner.client_by_id(id)?.map(|(p, c)| View::client(self, &p, c).map(|c| (p, c))).transpose()
    }
    fn clients(&self, pool: &PoolId, after: Option<&ClientId>, limit: usize) -> Result<Vec<Client>> {
        self.inner.clients(pool, after, limit)?.into_iter().map(|c| View::client(self, pool, c)).collect()
    }
    fn user(&self, pool: &PoolId, key: &UserKey) -> Result<Option<User>> {
        self.inner.user(pool, key)?.map(|u| View::user(self, pool, u)).transpose()
    }
    fn user_by_alias(&self, pool: &PoolId, alias: &str) -> Result<Option<User>> {
        let stored = self.alias(pool, alias)?;
        self.inner.user_by_alias(pool, &stored)?.map(|u| View::user(self, pool, u)).transpose()
    }
    fn user_by_sub(&self, pool: &PoolId, sub: &Sub) -> Result<Option<User>> {
        self.inner.user_by_sub(pool, sub)?.map(|u| View::user(self, pool, u)).transpose()
    }
    fn users(
        &self,
        pool: &PoolId,
        filter: Option<&UserFilter>,
        after: Option<&UserKey>,
        limit: usize,
    ) -> Result<Vec<User>> {
        if let Some((f, name)) = filter.and_then(|f| attr_name(f.attr).map(|n| (f, n))) {
            let s = self.vault.secrets(pool, || self.inner.keys(pool))?;
            if s.is_some_and(|s| s.sensitive.iter().any(|a| a == name)) {
                return self.scan(pool, f, name, after, limit);
            }
        }
        View::users(self, pool, self.inner.users(pool, filter, after, limit)?)
    }
    fn user_count(&self, pool: &PoolId) -> Result<u64> {
        self.inner.user_count(pool)
    }
    fn group(&self, pool: &PoolId, name: &GroupName) -> Result<Option<Group>> {
        self.inner.group(pool, name)
    }
    fn groups(&self, pool: &PoolId, after: Option<&GroupName>, limit: usize) -> Result<Vec<Group>> {
        self.inner.groups(pool, after, limit)
    }
    fn groups_of_user(
        &self,
        pool: &PoolId,
        user: &UserKey,
        after: Option<&GroupName>,
        limit: usize,
    ) -> Result<Vec<Group>> {
        self.inner.groups_of_user(pool, user, after, limit)
    }
    fn users_in_group(
        &self,
        pool: &PoolId,
        group: &GroupName,
        after: Option<&UserKey>,
        limit: usize,
    ) -> Result<Vec<User>> {
        View::users(self, pool, self.inner.users_in_group(pool, group, after, limit)?)
    }
    fn log_head(&self, pool: &PoolId) -> Result<(Seq, Epoch)> {
        self.inner.log_head(pool)
    }
    fn changes(&self, pool: &PoolId, after: Seq, limit: usize) -> Result<Vec<Change>> {
        self.inner.changes(pool, after, limit)
    }
    fn keys(&self, pool: &PoolId) -> Result<Option<PoolKeys>> {
        let Some(mut k) = self.inner.keys(pool)? else { return Ok(None) };
        if let Some(s) = self.vault.load(pool, &k)? {
            let mut e = Entity::Keys(k);
            Fields { vault: self.vault, pool, secrets: &s }.open_entity(&mut e)?;
            let Entity::Keys(opened) = e else { unreachable!("open keeps the entity kind") };
            k = opened;
        }
        Ok(Some(k))
    }
    fn for_each_entity(&self, pool: &PoolId, f: &mut dyn FnMut(Entity) -> Result<()>) -> Result<u64> {
        self.inner.for_each_entity(pool, f)
    }
    fn entity_count(&self, pool: &PoolId) -> Result<u64> {
        self.inner.entity_count(pool)
    }
    fn domain(&self, name: &str) -> Result<Option<(PoolId, Domain)>> {
        self.inner.domain(name)
    }
    fn domains(&self, pool: &PoolId) -> Result<Vec<Domain>> {
        self.inner.domains(pool)
    }
    fn resource_server(&self, pool: &PoolId, identifier: &str) -> Result<Option<ResourceServer>> {
        self.inner.resource_server(pool, identifier)
    }
    fn resource_servers(&self, pool: &PoolId, after: Option<&str>, limit: usize) -> Result<Vec<ResourceServer>> {
        self.inner.resource_servers(pool, after, limit)
    }
    fn ui_customization(&self, pool: &PoolId, client: &str) -> Result<Option<UiCustomization>> {
        self.inner.ui_customization(pool, client)
    }
    fn subscriptions(&self) -> Result<Vec<Subscription>> {
        self.inner.subscriptions()
    }
    fn local_mark(&self, pool: &PoolId, user: &UserKey, kind: &str) -> Result<i64> {
        self.inner.local_mark(pool, user, kind)
    }
}

/// Forward every [`Read`] method to the decrypting [`View`].
macro_rules! through_view {
    ($t:ident) => {
        impl Read for $t<'_> {
            fn pool(&self, id: &PoolId) -> Result<Option<Pool>> {
                self.view().pool(id)
            }
            fn pools(&self, after: Option<&PoolId>, limit: usize) -> Result<Vec<Pool>> {
                self.view().pools(after, limit)
            }
            fn client(&self, pool: &PoolId, id: &ClientId) -> Result<Option<Client>> {
                Read::client(&self.view(), pool, id)
            }
            fn client_by_id(&self, id: &ClientId) -> Result<Option<(PoolId, Client)>> {
                self.view().client_by_id(id)
            }
            fn clients(&self, pool: &PoolId, after: Option<&ClientId>, limit: usize) -> Result<Vec<Client>> {
                self.view().clients(pool, after, limit)
            }
            fn user(&self, pool: &PoolId, key: &UserKey) -> Result<Option<User>> {
                Read::user(&self.view(), pool, key)
            }
            fn user_by_alias(&self, pool: &PoolId, alias: &str) -> Result<Option<User>> {
                self.view().user_by_alias(pool, alias)
            }
            fn user_by_sub(&self, pool: &PoolId, sub: &Sub) -> Result<Option<User>> {
                self.view().user_by_sub(pool, sub)
            }
            fn users(
                &self,
                pool: &PoolId,
                f: Option<&UserFilter>,
                after: Option<&UserKey>,
                n: usize,
            ) -> Result<Vec<User>> {
                Read::users(&self.view(), pool, f, after, n)
            }
            fn user_count(&self, pool: &PoolId) -> Result<u64> {
                self.view().user_count(pool)
            }
            fn group(&self, pool: &PoolId, name: &GroupName) -> Result<Option<Group>> {
                self.view().group(pool, name)
            }
            fn groups(&self, pool: &PoolId, after: Option<&GroupName>, limit: usize) -> Result<Vec<Group>> {
                self.view().groups(pool, after, limit)
            }
            fn groups_of_user(
                &self,
                pool: &PoolId,
                u: &UserKey,
                after: Option<&GroupName>,
                n: usize,
            ) -> Result<Vec<Group>> {
                self.view().groups_of_user(pool, u, after, n)
            }
            fn users_in_group(
                &self,
                pool: &PoolId,
                g: &GroupName,
                after: Option<&UserKey>,
                n: usize,
            ) -> Result<Vec<User>> {
                self.view().users_in_group(pool, g, after, n)
            }
            fn log_head(&self, pool: &PoolId) -> Result<(Seq, Epoch)> {
                self.view().log_head(pool)
            }
            fn changes(&self, pool: &PoolId, after: Seq, limit: usize) -> Result<Vec<Change>> {
                self.view().changes(pool, after, limit)
            }
            fn keys(&self, pool: &PoolId) -> Result<Option<PoolKeys>> {
                self.view().keys(pool)
            }
            fn for_each_entity(&self, pool: &PoolId, f: &mut dyn FnMut(Entity) -> Result<()>) -> Result<u64> {
                self.view().for_each_entity(pool, f)
            }
            fn entity_count(&self, pool: &PoolId) -> Result<u64> {
                self.view().entity_count(pool)
            }
            fn domain(&self, name: &str) -> Result<Option<(PoolId, Domain)>> {
                self.view().domain(name)
            }
            fn domains(&self, pool: &PoolId) -> Result<Vec<Domain>> {
                self.view().domains(pool)
            }
            fn resource_server(&self, pool: &PoolId, identifier: &str) -> Result<Option<ResourceServer>> {
                self.view().resource_server(pool, identifier)
            }
            fn resource_servers(&self, pool: &PoolId, after: Option<&str>, n: usize) -> Result<Vec<ResourceServer>> {
                self.view().resource_servers(pool, after, n)
            }
            fn ui_customization(&self, pool: &PoolId, client: &str) -> Result<Option<UiCustomization>> {
                self.view().ui_customization(pool, client)
            }
            fn subscriptions(&self) -> Result<Vec<Subscription>> {
                self.view().subscriptions()
            }
            fn local_mark(&self, pool: &PoolId, user: &UserKey, kind: &str) -> Result<i64> {
                self.view().local_mark(pool, user, kind)
            }
        }
    };
}

impl EncRead<'_> {
    fn view(&self) -> View<'_> {
        View { inner: &*self.inner, vault: self.vault }
    }
}

impl EncWrite<'_> {
    fn view(&self) -> View<'_> {
        View { inner: &*self.inner, vault: self.vault }
    }
}

through_view!(EncRead);
through_view!(EncWrite);

/// The key id part of a key ARN (the same for every region's copy of a multi-region key).
fn key_id(arn: &str) -> &str {
    arn.rsplit_once("key/").map_or(arn, |(_, id)| id)
}

impl EncWrite<'_> {
    /// Give `k` the pool's DEK: the one it carries, the stored one, or a new one under the
    /// CMK the pool's `KeyConfiguration` names.
    fn ensure_dek(&self, pool: &PoolId, k: &mut PoolKeys) -> Result<()> {
        if k.dek.is_some() {
            return Ok(());
        }
        if let Some(stored) = self.inner.keys(pool)?.and_then(|s| s.dek) {
            k.dek = Some(stored);
            return Ok(());
        }
        let config = self.inner.pool(pool)?.and_then(|p| p.config.key_configuration);
        let arn = self.vault.key_for_config(pool, config.as_ref())?;
        k.dek = Some(self.vault.create_dek(pool, &arn)?);
        Ok(())
    }

    /// When the pool's `KeyConfiguration` names another CMK, re-wrap its DEK under it.
    fn follow_key_config(&mut self, pool: &PoolId, p: &Pool) -> Result<()> {
        let Some(mut stored) = self.inner.keys(pool)? else { return Ok(()) };
        let Some(dek) = stored.dek.clone() else { return Ok(()) };
        let arn = self.vault.key_for_config(pool, p.config.key_configuration.as_ref())?;
        if key_id(&arn) == key_id(&dek.key_arn) {
            return Ok(());
        }
        stored.dek = Some(self.vault.rewrap(pool, &dek, &arn)?);
        self.vault.forget(pool);
        self.inner.put(pool, Entity::Keys(stored))?;
        tracing::info!(pool = %pool, key = %arn, "re-wrapped the pool's data key under its new key");
        Ok(())
    }

    fn seal(&mut self, pool: &PoolId, mut entity: Entity) -> Result<Entity> {
        let secrets = match &mut entity {
            Entity::Pool(p) => {
                self.follow_key_config(pool, p)?;
                return Ok(entity);
            }
            Entity::Keys(k) => {
                self.ensure_dek(pool, k)?;
                self.vault.load(pool, k)?
            }
            e if !has_secrets(e) => return Ok(entity),
            _ => self.vault.secrets(pool, || self.inner.keys(pool))?,
        };
        if let Some(s) = secrets {
            Fields { vault: self.vault, pool, secrets: &s }.seal_entity(&mut entity)?;
        }
        Ok(entity)
    }
}

impl Write for EncWrite<'_> {
    fn put(&mut self, pool: &PoolId, entity: Entity) -> Result<Seq> {
        let entity = self.seal(pool, entity)?;
        self.inner.put(pool, entity)
    }
    fn delete(&mut self, pool: &PoolId, key: EntityKey) -> Result<Seq> {
        if matches!(key, EntityKey::Pool | EntityKey::Keys) {
            self.vault.forget(pool);
        }
        self.inner.delete(pool, key)
    }
    fn apply(&mut self, change: &Change) -> Result<bool> {
        if matches!(change.key, EntityKey::Pool | EntityKey::Keys) {
            self.vault.forget(&change.pool);
        }
        self.inner.apply(change)
    }
    fn load_snapshot(
        &mut self,
        pool: &PoolId,
        seq: Seq,
        epoch: Epoch,
        entities: &mut dyn Iterator<Item = Result<Entity>>,
    ) -> Result<u64> {
        self.vault.forget(pool);
        self.inner.load_snapshot(pool, seq, epoch, entities)
    }
    fn restore(&mut self, pool: &PoolId, entity: &Entity) -> Result<()> {
        self.inner.restore(pool, entity)
    }
    fn reset_log(&mut self, pool: &PoolId, seq: Seq, epoch: Epoch) -> Result<()> {
        self.inner.reset_log(pool, seq, epoch)
    }
    fn trim_log(&mut self, pool: &PoolId, below: Seq) -> Result<u64> {
        self.inner.trim_log(pool, below)
    }
    fn advance_epoch(&mut self, pool: &PoolId) -> Result<Epoch> {
        self.inner.advance_epoch(pool)
    }
    fn set_subscription(&mut self, pool: &PoolId, sub: Option<&Subscription>) -> Result<()> {
        self.inner.set_subscription(pool, sub)
    }
    fn raise_local_mark(&mut self, pool: &PoolId, user: &UserKey, kind: &str, mark: i64) -> Result<bool> {
        self.inner.raise_local_mark(pool, user, kind, mark)
    }
    fn commit(self: Box<Self>) -> Result<()> {
        self.inner.commit()
    }
}
