//! Encrypting a store written before issue 5: at start-up, every pool this region is primary
//! for whose keys carry no data key gets one (under the CMK its KeyConfiguration names), and
//! its keys, app clients and users are written again, so their secrets are sealed from then
//! on. Each pool is its own few transactions and its changes replicate like any others;
//! meanwhile reads take either form, so nothing stops while it runs.

use janus_types::{Entity, PoolId, Result};

use crate::Services;

const PAGE: usize = 200;

impl Services {
    /// Give every unencrypted primary pool a data key and seal its secrets. Returns how many
    /// pools were migrated.
    pub fn encrypt_legacy_pools(&self) -> Result<u64> {
        if self.vault().is_none() {
            return Ok(0);
        }
        let mut after: Option<PoolId> = None;
        let mut n = 0;
        loop {
            let pools = self.raw_store().read()?.pools(after.as_ref(), PAGE)?;
            for pool in pools.iter().filter(|p| self.is_primary(p)) {
                let Some(keys) = self.raw_store().read()?.keys(&pool.id)? else { continue };
                if keys.dek.is_some() {
                    continue;
                }
                let mut tx = self.store.write(self.now_ms())?;
                tx.put(&pool.id, Entity::Keys(keys))?;
                tx.commit()?;
                self.rewrite_clients(&pool.id)?;
                self.rewrite_users(&pool.id)?;
                tracing::info!(pool = %pool.id, "encrypted a pool stored before encryption at rest");
                n += 1;
            }
            if pools.len() < PAGE {
                return Ok(n);
            }
            after = pools.last().map(|p| p.id.clone());
        }
    }

    fn rewrite_clients(&self, pool: &PoolId) -> Result<()> {
        let mut after = None;
        loop {
            let mut tx = self.store.write(self.now_ms())?;
            let clients = tx.clients(pool, after.as_ref(), PAGE)?;
            for c in &clients {
                tx.put(pool, Entity::Client(c.clone()))?;
            }
            tx.commit()?;
            if clients.len() < PAGE {
                return Ok(());
            }
            after = clients.last().map(|c| c.id.clone());
        }
    }
}
