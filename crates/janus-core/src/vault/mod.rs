//! Envelope encryption of a pool's secrets. Each pool has a data key (DEK), stored only
//! wrapped by the pool's CMK in its `Keys` entity; [`EncryptedStore`] wraps the store so every
//! entity services write has its secrets sealed under the DEK before it reaches a row or the
//! change log, and every entity they read is opened again. Replication moves rows and changes
//! as stored, so secrets travel and rest encrypted; a replica opens them with its own copy of
//! the multi-region key.
//!
//! Unwrapped DEKs are cached in memory per pool, but every use still asks the key provider
//! whether the key is enabled and its policy allows the pool here — a disabled key stops its
//! pools at once, and nothing ever falls back to another key. Provider errors are counted by
//! kind for `janus_key_provider_errors_total` and denied uses are logged as audit events.

mod fields;
mod store;
mod view;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use janus_crypto::envelope::Dek;
use janus_crypto::keys::{KeyError, KeyErrorKind, KeyProvider};
use janus_types::{Clock, Error, PoolId, PoolKeys, Random, Result, WrappedDek};

pub use store::EncryptedStore;

/// A pool's unwrapped DEK and what encryption needs to know about the pool.
pub struct PoolSecrets {
    /// The DEK.
    pub dek: Dek,
    /// The CMK that wraps it.
    pub key_arn: String,
    /// Attributes stored encrypted.
    pub sensitive: Vec<String>,
    wrapped: String,
    /// The provider's generation when this pool's use of its key was last authorized.
    authorized_at: std::sync::atomic::AtomicU64,
}

impl PoolSecrets {
    fn authorized(&self, generation: Option<u64>) -> bool {
        generation.is_some_and(|g| self.authorized_at.load(std::sync::atomic::Ordering::Relaxed) == g)
    }
}

/// How a region treats keys beyond what its provider decides.
#[derive(Debug, Clone, Copy)]
pub struct KeySettings {
    /// CreateUserPoolReplica refuses pools whose key is not a customer-managed multi-region key.
    pub replica_requires_cmk: bool,
    /// How long a new signing key is published in the JWKS before it signs, in ms.
    pub signing_activation_ms: i64,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self { replica_requires_cmk: true, signing_activation_ms: 300_000 }
    }
}

/// Asks a replica region whether it can unwrap a pool's data key (replication sets it).
pub trait ReplicaKeyCheck: Send + Sync + 'static {
    /// Ok when `region` unwraps `dek` of `pool` with its own copy of the key, under its policy.
    fn check(&self, pool: &PoolId, region: &str, dek: &WrappedDek) -> Result<()>;
}

/// The region's key provider, the DEK cache and the error counters.
pub struct Vault {
    /// Settings.
    pub settings: KeySettings,
    provider: Arc<dyn KeyProvider>,
    rng: Arc<dyn Random>,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<PoolId, Arc<PoolSecrets>>>,
    errors: Mutex<BTreeMap<&'static str, u64>>,
    replica_check: std::sync::OnceLock<Arc<dyn ReplicaKeyCheck>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Vault {
    /// A vault over `provider`.
    pub fn new(
        provider: Arc<dyn KeyProvider>,
        settings: KeySettings,
        rng: Arc<dyn Random>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            settings,
            provider,
            rng,
            clock,
            cache: Mutex::default(),
            errors: Mutex::default(),
            replica_check: std::sync::OnceLock::new(),
        }
    }

    /// Connect the vault to the replica regions (replication does, at start-up).
    pub fn set_replica_check(&self, check: Arc<dyn ReplicaKeyCheck>) {
        let _ = self.replica_check.set(check);
    }

    /// Ask `region` whether it can unwrap `dek` (Ok when no replication link is set).
    pub fn check_replica(&self, pool: &PoolId, region: &str, dek: &WrappedDek) -> Result<()> {
        self.replica_check.get().map_or(Ok(()), |c| c.check(pool, region, dek))
    }

    /// The key provider.
    pub fn provider(&self) -> &dyn KeyProvider {
        &*self.provider
    }

    /// `(provider, kind, count)` of key provider errors so far, every kind (zeros included).
    pub fn error_counts(&self) -> Vec<(&'static str, &'static str, u64)> {
        let seen = lock(&self.errors);
        KeyErrorKind::ALL
            .iter()
            .map(|k| (self.provider.name(), k.as_str(), seen.get(k.as_str()).copied().unwrap_or(0)))
            .collect()
    }

    /// Count, log and convert a provider error met while `pool` used its key.
    pub fn fail(&self, pool: &PoolId, e: KeyError) -> Error {
        *lock(&self.errors).entry(e.kind.as_str()).or_default() += 1;
        match e.kind {
            KeyErrorKind::Denied | KeyErrorKind::Disabled | KeyErrorKind::NotFound => {
                tracing::warn!(target: "janus::audit", event = "key_use_refused", pool = %pool,
                    region = %self.provider.region(), kind = e.kind.as_str(), reason = %e, "key use refused");
            }
            _ => tracing::error!(pool = %pool, kind = e.kind.as_str(), error = %e, "key provider error"),
        }
        e.into_use_error()
    }

    /// The CMK a pool's `KeyConfiguration` names: the region's default key for
    /// `AWS_OWNED_KEY` (or none), `KmsKeyArn` for `CUSTOMER_MANAGED_KEY`.
    pub fn key_for_config(&self, pool: &PoolId, config: Option<&Value>) -> Result<String> {
        match config.and_then(|c| c["KeyType"].as_str()) {
            None | Some("AWS_OWNED_KEY") => self.provider.default_key().map_err(|e| self.fail(pool, e)),
            Some("CUSTOMER_MANAGED_KEY") => config
                .and_then(|c| c["KmsKeyArn"].as_str())
                .map(str::to_owned)
                .ok_or_else(|| Error::invalid("KeyConfiguration CUSTOMER_MANAGED_KEY needs KmsKeyArn.")),
            Some(other) => {
                Err(Error::invalid(format!("KeyType {other} is not AWS_OWNED_KEY or CUSTOMER_MANAGED_KEY.")))
            }
        }
    }

    /// A new DEK for `pool` under `key_arn`.
    pub fn create_dek(&self, pool: &PoolId, key_arn: &str) -> Result<WrappedDek> {
        let dk = self.provider.generate_data_key(key_arn, pool.as_str()).map_err(|e| self.fail(pool, e))?;
        let mut id = [0u8; 6];
        self.rng.fill(&mut id);
        Ok(WrappedDek {
            v: 1,
            key_arn: key_arn.to_owned(),
            dek_id: hex::encode(id),
            wrapped: B64.encode(&dk.wrapped),
            wrapped_ms: self.clock.now_ms(),
        })
    }

    /// Unwrap `dek` without caching it: the replica set-up check.
    pub fn check_unwrap(&self, pool: &PoolId, dek: &WrappedDek) -> Result<()> {
        let wrapped = B64.decode(&dek.wrapped).map_err(Error::internal)?;
        self.provider.unwrap_data_key(&dek.key_arn, pool.as_str(), &wrapped).map_err(|e| self.fail(pool, e))?;
        Ok(())
    }

    /// `dek` wrapped again under `key_arn`'s current version (CMK rotation or a new CMK).
    pub fn rewrap(&self, pool: &PoolId, dek: &WrappedDek, key_arn: &str) -> Result<WrappedDek> {
        let wrapped = B64.decode(&dek.wrapped).map_err(Error::internal)?;
        let plain =
            self.provider.unwrap_data_key(&dek.key_arn, pool.as_str(), &wrapped).map_err(|e| self.fail(pool, e))?;
        let again = self.provider.wrap_data_key(key_arn, pool.as_str(), &plain).map_err(|e| self.fail(pool, e))?;
        Ok(WrappedDek {
            key_arn: key_arn.to_owned(),
            wrapped: B64.encode(again),
            wrapped_ms: self.clock.now_ms(),
            ..dek.clone()
        })
    }

    /// The pool's secrets given its stored keys (`None` for a pool stored before encryption).
    pub fn secrets(
        &self,
        pool: &PoolId,
        keys: impl FnOnce() -> Result<Option<PoolKeys>>,
    ) -> Result<Option<Arc<PoolSecrets>>> {
        let hit = lock(&self.cache).get(pool).cloned();
        if let Some(s) = hit {
            self.authorize(pool, &s)?;
            return Ok(Some(s));
        }
        let Some(stored) = keys()? else { return Ok(None) };
        self.load(pool, &stored)
    }

    /// Unwrap and cache the DEK `stored` holds.
    pub fn load(&self, pool: &PoolId, stored: &PoolKeys) -> Result<Option<Arc<PoolSecrets>>> {
        let Some(dek) = &stored.dek else { return Ok(None) };
        let hit = lock(&self.cache)
            .get(pool)
            .filter(|s| s.wrapped == dek.wrapped && s.sensitive == stored.sensitive_attributes)
            .cloned();
        if let Some(s) = hit {
            self.authorize(pool, &s)?;
            return Ok(Some(s));
        }
        let generation = self.provider.generation();
        let wrapped = B64.decode(&dek.wrapped).map_err(Error::internal)?;
        let plain =
            self.provider.unwrap_data_key(&dek.key_arn, pool.as_str(), &wrapped).map_err(|e| self.fail(pool, e))?;
        let s = Arc::new(PoolSecrets {
            dek: Dek::new(dek.dek_id.clone(), plain),
            key_arn: dek.key_arn.clone(),
            sensitive: stored.sensitive_attributes.clone(),
            wrapped: dek.wrapped.clone(),
            authorized_at: std::sync::atomic::AtomicU64::new(generation.unwrap_or(0)),
        });
        lock(&self.cache).insert(pool.clone(), s.clone());
        Ok(Some(s))
    }

    /// Check (again) that the pool may use its key, unless nothing about any key changed
    /// since the last check (the keyring's generation), which keeps the hot path to one load.
    fn authorize(&self, pool: &PoolId, s: &PoolSecrets) -> Result<()> {
        let generation = self.provider.generation();
        if s.authorized(generation) {
            return Ok(());
        }
        self.provider.authorize(&s.key_arn, pool.as_str()).map_err(|e| self.fail(pool, e))?;
        if let Some(g) = generation {
            s.authorized_at.store(g, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    /// Drop a pool's cached DEK (its keys entity changed or the pool went away).
    pub fn forget(&self, pool: &PoolId) {
        lock(&self.cache).remove(pool);
    }

    pub(crate) fn rng(&self) -> &dyn Random {
        &*self.rng
    }
}
