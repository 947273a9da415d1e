//! Key management through the administrator API (`janus keys …`): create, list, describe,
//! enable, disable, rotate and restrict the region's CMKs, carry a multi-region key to another
//! region as a sealed bundle, and mark a pool's sensitive attributes. Rotating a CMK re-wraps
//! the data keys of the pools this region is primary for (their `Keys` entity changes and
//! replicates); nothing else is re-encrypted.

use std::sync::Arc;

use janus_crypto::keys::arn::key_id_of;
use janus_crypto::keys::{KeyAdmin, KeyInfo, KeyPolicy};
use janus_types::{Entity, Error, PoolId, Result};

use crate::vault::Vault;
use crate::Services;

const PAGE: usize = 200;

impl Services {
    fn vault_or_err(&self) -> Result<&Arc<Vault>> {
        self.vault()
            .ok_or_else(|| Error::OperationNotEnabledException("No key provider is configured in this region.".into()))
    }

    /// The region's key management interface.
    pub fn key_admin(&self) -> Result<&dyn KeyAdmin> {
        self.vault_or_err()?
            .provider()
            .admin()
            .ok_or_else(|| Error::UnsupportedOperationException("This key provider is managed outside Janus.".into()))
    }

    /// Describe a key.
    pub fn describe_key(&self, key: &str) -> Result<KeyInfo> {
        self.vault_or_err()?.provider().describe(key).map_err(|e| e.into_admin_error())
    }

    /// Create a key.
    pub fn create_key(&self, multi_region: bool, description: &str, policy: KeyPolicy) -> Result<KeyInfo> {
        let info = self.key_admin()?.create(multi_region, description, policy).map_err(|e| e.into_admin_error())?;
        tracing::info!(target: "janus::audit", event = "key_created", key = %info.arn, "key created");
        Ok(info)
    }

    /// Enable or disable a key.
    pub fn set_key_enabled(&self, key: &str, enabled: bool) -> Result<KeyInfo> {
        let info = self.key_admin()?.set_enabled(key, enabled).map_err(|e| e.into_admin_error())?;
        tracing::warn!(target: "janus::audit", event = if enabled { "key_enabled" } else { "key_disabled" },
            key = %info.arn, "key state changed");
        Ok(info)
    }

    /// Replace a key's policy.
    pub fn set_key_policy(&self, key: &str, policy: KeyPolicy) -> Result<KeyInfo> {
        let info = self.key_admin()?.set_policy(key, policy).map_err(|e| e.into_admin_error())?;
        tracing::warn!(target: "janus::audit", event = "key_policy_changed", key = %info.arn,
            pools = ?info.policy.pools, regions = ?info.policy.regions, "key policy changed");
        Ok(info)
    }

    /// Rotate a key, then re-wrap the data keys of this region's primary pools under it.
    /// Returns the key and how many data keys were re-wrapped.
    pub fn rotate_key(&self, key: &str) -> Result<(KeyInfo, u64)> {
        let info = self.key_admin()?.rotate(key).map_err(|e| e.into_admin_error())?;
        tracing::info!(target: "janus::audit", event = "key_rotated", key = %info.arn, version = info.current_version, "key rotated");
        let n = self.rewrap_pools(&info.key_id)?;
        Ok((info, n))
    }

    /// Re-wrap, under its CMK's current version, the DEK of every pool this region is
    /// primary for whose CMK has id `key_id`. One short transaction per pool, so traffic goes on.
    pub fn rewrap_pools(&self, key_id_wanted: &str) -> Result<u64> {
        let vault = self.vault_or_err()?.clone();
        let mut after: Option<PoolId> = None;
        let mut n = 0;
        loop {
            let pools = self.raw_store().read()?.pools(after.as_ref(), PAGE)?;
            for pool in &pools {
                if self.is_primary(pool) && self.rewrap_pool(&vault, &pool.id, key_id_wanted)? {
                    n += 1;
                }
            }
            if pools.len() < PAGE {
                return Ok(n);
            }
            after = pools.last().map(|p| p.id.clone());
        }
    }

    fn rewrap_pool(&self, vault: &Vault, pool: &PoolId, wanted: &str) -> Result<bool> {
        let mut tx = self.raw_store().write(self.now_ms())?;
        let Some(mut keys) = tx.keys(pool)? else { return Ok(false) };
        let Some(dek) = keys.dek.clone().filter(|d| key_id_of(&d.key_arn) == wanted) else { return Ok(false) };
        keys.dek = Some(vault.rewrap(pool, &dek, &dek.key_arn)?);
        tx.put(pool, Entity::Keys(keys))?;
        tx.commit()?;
        vault.forget(pool);
        Ok(true)
    }

    /// Mark which attributes of `pool` are stored encrypted; the pool's users are re-written
    /// so values already stored follow at once.
    pub fn set_sensitive_attributes(&self, pool: &PoolId, attributes: Vec<String>) -> Result<Vec<String>> {
        let p = self.load_pool(pool)?;
        self.ensure_primary(&p, "SetSensitiveAttributes")?;
        let mut attributes = attributes;
        attributes.sort();
        attributes.dedup();
        let mut tx = self.store.write(self.now_ms())?;
        let mut keys = tx.keys(pool)?.ok_or_else(|| Error::pool_not_found(pool.as_str()))?;
        keys.sensitive_attributes = attributes.clone();
        tx.put(pool, Entity::Keys(keys))?;
        tx.commit()?;
        self.rewrite_users(pool)?;
        Ok(attributes)
    }

    /// Write every user of `pool` again, so each is stored as the pool's settings now say.
    pub(crate) fn rewrite_users(&self, pool: &PoolId) -> Result<()> {
        let mut after = None;
        loop {
            let mut tx = self.store.write(self.now_ms())?;
            let users = tx.users(pool, None, after.as_ref(), PAGE)?;
            for u in &users {
                tx.put(pool, Entity::User(u.clone()))?;
            }
            tx.commit()?;
            if users.len() < PAGE {
                return Ok(());
            }
            after = users.last().map(|u| u.key.clone());
        }
    }
}
