//! The decrypting view of a store transaction: entities come out with their secrets opened
//! (either stored form is read: `jenc1:` ciphertext, or a value written before encryption);
//! sensitive sign-in aliases are looked up by their keyed digest; a ListUsers filter on a
//! sensitive attribute is evaluated here, page by page, since the store holds only ciphertext.
//! Changes, snapshots and everything else pass through as stored.

use janus_store::{FilterAttr, FilterOp, Read, Subscription, UserFilter};
use janus_types::{
    Change, Client, ClientId, Device, Domain, Entity, Epoch, Group, GroupName, ImportJob, Pool, PoolId, PoolKeys,
    ResourceServer, Result, Seq, Sub, UiCustomization, User, UserKey,
};

use super::fields::{has_secrets, hashed_alias, Fields};
use super::Vault;

/// The decrypting view both wrappers read through.
pub(super) struct View<'a> {
    pub(super) inner: &'a dyn Read,
    pub(super) vault: &'a Vault,
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

    fn device(&self, pool: &PoolId, d: Device) -> Result<Device> {
        match self.open(pool, Entity::Device(d))? {
            Entity::Device(d) => Ok(d),
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
    fn key_ids(&self, pool: &PoolId) -> Result<Option<Vec<String>>> {
        let Some(k) = self.inner.keys(pool)? else { return Ok(None) };
        // The key use is still checked (a disabled or refused CMK fails here); nothing is opened.
        self.vault.load(pool, &k)?;
        Ok(Some(k.kids()))
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
    fn device(&self, pool: &PoolId, user: &UserKey, key: &str) -> Result<Option<Device>> {
        self.inner.device(pool, user, key)?.map(|d| View::device(self, pool, d)).transpose()
    }
    fn devices(&self, pool: &PoolId, user: &UserKey, after: Option<&str>, limit: usize) -> Result<Vec<Device>> {
        self.inner.devices(pool, user, after, limit)?.into_iter().map(|d| View::device(self, pool, d)).collect()
    }
    fn import_job(&self, pool: &PoolId, id: &str) -> Result<Option<ImportJob>> {
        self.inner.import_job(pool, id)
    }
    fn import_jobs(&self, pool: &PoolId, before: Option<&str>, limit: usize) -> Result<Vec<ImportJob>> {
        self.inner.import_jobs(pool, before, limit)
    }
    fn active_import_jobs(&self) -> Result<Vec<(PoolId, ImportJob)>> {
        self.inner.active_import_jobs()
    }
    fn import_chunk(&self, pool: &PoolId, job: &str, n: u32) -> Result<Option<String>> {
        let Some(mut body) = self.inner.import_chunk(pool, job, n)? else { return Ok(None) };
        if let Some(s) = self.vault.secrets(pool, || self.inner.keys(pool))? {
            Fields { vault: self.vault, pool, secrets: &s }.open_chunk(job, n, &mut body)?;
        }
        Ok(Some(body))
    }
    fn subscriptions(&self) -> Result<Vec<Subscription>> {
        self.inner.subscriptions()
    }
    fn local_mark(&self, pool: &PoolId, user: &UserKey, kind: &str) -> Result<i64> {
        self.inner.local_mark(pool, user, kind)
    }
}
