//! [`EncryptedStore`]: the store as services see it. Entities pass through [`super::fields`]
//! on the way in (sealed) and out (opened); the change log, snapshots and applied changes
//! pass through untouched, so replication only ever moves ciphertext. Writing a pool's keys
//! gives the pool a DEK under the CMK its `KeyConfiguration` names; writing a pool whose
//! `KeyConfiguration` names another CMK re-wraps the DEK under it (in the same transaction).

use std::sync::Arc;

use janus_crypto::keys::arn::{is_multi_region, key_id_of};
use janus_store::{Read, Store, Subscription, UserFilter, Write};
use janus_types::{
    Change, Client, ClientId, Device, Domain, Entity, EntityKey, Epoch, Group, GroupName, ImportJob, Pool, PoolId,
    PoolKeys, ResourceServer, Result, Seq, Sub, UiCustomization, User, UserKey,
};

use super::fields::{has_secrets, Fields};
use super::view::View;
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
    fn try_lease(&self, name: &str) -> Result<Option<Box<dyn janus_store::Lease>>> {
        self.inner.try_lease(name)
    }
    fn local_reads(&self) -> bool {
        self.inner.local_reads()
    }
    fn region_doc(&self, name: &str) -> Result<Option<(u64, String)>> {
        self.inner.region_doc(name)
    }
    fn region_doc_version(&self, name: &str) -> Result<Option<u64>> {
        self.inner.region_doc_version(name)
    }
    fn put_region_doc(&self, name: &str, version: u64, body: &str) -> Result<bool> {
        self.inner.put_region_doc(name, version, body)
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
            fn key_ids(&self, pool: &PoolId) -> Result<Option<Vec<String>>> {
                self.view().key_ids(pool)
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
            fn device(&self, pool: &PoolId, user: &UserKey, key: &str) -> Result<Option<Device>> {
                Read::device(&self.view(), pool, user, key)
            }
            fn devices(&self, pool: &PoolId, user: &UserKey, after: Option<&str>, n: usize) -> Result<Vec<Device>> {
                Read::devices(&self.view(), pool, user, after, n)
            }
            fn import_job(&self, pool: &PoolId, id: &str) -> Result<Option<ImportJob>> {
                self.view().import_job(pool, id)
            }
            fn import_jobs(&self, pool: &PoolId, before: Option<&str>, n: usize) -> Result<Vec<ImportJob>> {
                self.view().import_jobs(pool, before, n)
            }
            fn active_import_jobs(&self) -> Result<Vec<(PoolId, ImportJob)>> {
                self.view().active_import_jobs()
            }
            fn import_chunk(&self, pool: &PoolId, job: &str, n: u32) -> Result<Option<String>> {
                self.view().import_chunk(pool, job, n)
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

    /// When the pool's `KeyConfiguration` names another CMK, re-wrap its DEK under it, once
    /// every replica region has shown it can unwrap the result.
    fn follow_key_config(&mut self, pool: &PoolId, p: &Pool) -> Result<()> {
        let Some(mut stored) = self.inner.keys(pool)? else { return Ok(()) };
        let Some(dek) = stored.dek.clone() else { return Ok(()) };
        let arn = self.vault.key_for_config(pool, p.config.key_configuration.as_ref())?;
        if key_id_of(&arn) == key_id_of(&dek.key_arn) {
            return Ok(());
        }
        if let Some(r) = p.replication.replicas.first().filter(|_| !is_multi_region(&arn)) {
            return Err(janus_types::Error::InvalidUserPoolConfigurationException(format!(
                "Pool {pool} has a replica in {}: its key must be a multi-region key present there, and {arn} is not \
                 multi-region.",
                r.region
            )));
        }
        let rewrapped = self.vault.rewrap(pool, &dek, &arn)?;
        // Every replica must be able to unwrap it before the pool moves (a short call to each
        // replica region, made while this write waits: key changes are rare).
        for r in &p.replication.replicas {
            self.vault.check_replica(pool, r.region.as_str(), &rewrapped)?;
        }
        stored.dek = Some(rewrapped);
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
    fn keep_history(&mut self, change: &janus_types::Change) -> Result<()> {
        self.inner.keep_history(change)
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
    fn put_import_chunk(&mut self, pool: &PoolId, job: &str, n: u32, body: &str) -> Result<()> {
        let mut body = body.to_owned();
        if let Some(s) = self.vault.secrets(pool, || self.inner.keys(pool))? {
            Fields { vault: self.vault, pool, secrets: &s }.seal_chunk(job, n, &mut body);
        }
        self.inner.put_import_chunk(pool, job, n, &body)
    }
    fn commit(self: Box<Self>) -> Result<()> {
        self.inner.commit()
    }
}
