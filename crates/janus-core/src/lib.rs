//! Janus's behaviour. [`Services`] holds everything an operation needs (store, clock,
//! randomness, password hasher, region, outbox) and is built once at start-up; each module
//! holds the operations on one kind of entity. Inputs are typed request structs named like
//! Cognito's; outputs are domain entities the wire layer renders.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod attributes;
pub mod auth;
pub mod branding;
pub mod client_secrets;
pub mod clients;
pub mod codes;
pub mod credential;
pub mod delivery;
pub mod devices;
pub mod domains;
pub mod existence;
pub mod groups;
pub mod imports;
pub mod key_admin;
pub mod key_migration;
pub mod keys;
pub mod me;
pub mod messages;
pub mod mfa;
pub mod oauth;
pub mod outbox;
pub mod page;
pub mod password_policy;
pub mod placement;
pub mod pools;
pub mod quotas;
pub mod recovery;
pub mod regional;
pub mod resource_servers;
pub mod security;
pub mod signing_rotation;
pub mod signup;
pub mod tags;
pub mod triggers;
pub mod unsupported;
pub mod users;
pub mod vault;

use std::sync::Arc;

use janus_crypto::PasswordHasher;
use janus_store::Store;
use janus_types::{Clock, Error, Pool, PoolId, Random, RegionName, Result};

pub use outbox::Outbox;

/// What a region is built from; [`Services::new`] adds the derived state.
pub struct Parts {
    /// The store backend.
    pub store: Arc<dyn Store>,
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub rng: Arc<dyn Random>,
    /// Password hashing.
    pub hasher: PasswordHasher,
    /// This region's name.
    pub region: RegionName,
    /// The account id used in ARNs.
    pub account: String,
    /// Where messages to users are delivered.
    pub outbox: Arc<dyn Outbox>,
    /// The base URL of token issuers: a pool's issuer is `<issuer_base>/<pool id>`.
    pub issuer_base: String,
    /// Size of new pools' RSA signing keys: 2048 ([`RSA_BITS`]). Tests that never sign a
    /// token may use less to run faster (the signer takes 2048 bits and up).
    pub rsa_bits: usize,
}

/// The RSA key size of new pools' signing keys.
pub const RSA_BITS: usize = 2048;

/// Everything the operations need, passed down explicitly (no globals).
#[derive(Clone)]
pub struct Services {
    /// The store backend.
    pub store: Arc<dyn Store>,
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub rng: Arc<dyn Random>,
    /// Password hashing.
    pub hasher: PasswordHasher,
    /// This region's name.
    pub region: RegionName,
    /// The account id used in ARNs.
    pub account: String,
    /// Where messages to users (invitations, codes) are delivered.
    pub outbox: Arc<dyn Outbox>,
    /// The base URL of token issuers.
    pub issuer_base: String,
    /// How many pools, clients, groups and resource servers may be created.
    pub quotas: quotas::Quotas,
    rsa_bits: usize,
    srp: Arc<janus_crypto::srp::Group>,
    keys: Arc<keys::KeyCache>,
    decoy: Arc<std::sync::OnceLock<String>>,
    upstream: Arc<std::sync::OnceLock<Arc<dyn security::Upstream>>>,
    decoys: Arc<existence::Decoys>,
    vault: Option<Arc<vault::Vault>>,
    raw_store: Arc<dyn Store>,
    invoker: Arc<dyn triggers::invoke::Invoker>,
    data_keys: Arc<dyn triggers::senders::DataKeys>,
    trigger_stats: Arc<triggers::stats::TriggerStats>,
}

impl Services {
    /// Build the services of a region.
    pub fn new(p: Parts) -> Self {
        let invoker = triggers::invoke::LambdaInvoker::new(Default::default(), p.clock.clone());
        let unsigned = Arc::new(janus_crypto::keys::aws_credentials::Fixed(None));
        let data_keys = triggers::senders::KmsDataKeys::new(None, unsigned, p.clock.clone());
        Self {
            invoker: Arc::new(invoker),
            data_keys: Arc::new(data_keys),
            trigger_stats: Arc::default(),
            raw_store: p.store.clone(),
            vault: None,
            store: p.store,
            clock: p.clock,
            rng: p.rng,
            hasher: p.hasher,
            region: p.region,
            account: p.account,
            outbox: p.outbox,
            issuer_base: p.issuer_base.trim_end_matches('/').to_owned(),
            rsa_bits: p.rsa_bits,
            quotas: quotas::Quotas::default(),
            srp: Arc::new(janus_crypto::srp::Group::new()),
            keys: Arc::new(keys::KeyCache::default()),
            decoy: Arc::new(std::sync::OnceLock::new()),
            upstream: Arc::new(std::sync::OnceLock::new()),
            decoys: Arc::default(),
        }
    }

    /// Encrypt pools' secrets at rest under data keys wrapped by `provider`'s keys: from
    /// here on, services see the store through [`vault::EncryptedStore`].
    pub fn with_keys(
        mut self,
        provider: Arc<dyn janus_crypto::keys::KeyProvider>,
        settings: vault::KeySettings,
    ) -> Self {
        let vault = Arc::new(vault::Vault::new(provider, settings, self.rng.clone(), self.clock.clone()));
        self.store = Arc::new(vault::EncryptedStore::new(self.raw_store.clone(), vault.clone()));
        self.vault = Some(vault);
        self
    }

    /// Call triggers' functions through `invoker` (by default: AWS Lambda, unsigned).
    pub fn with_invoker(mut self, invoker: Arc<dyn triggers::invoke::Invoker>) -> Self {
        self.invoker = invoker;
        self
    }

    /// Encrypt the custom senders' codes under data keys from `data_keys` (by default: AWS
    /// KMS in the key's region, unsigned).
    pub fn with_data_keys(mut self, data_keys: Arc<dyn triggers::senders::DataKeys>) -> Self {
        self.data_keys = data_keys;
        self
    }

    /// What the triggers have done since start-up.
    pub fn trigger_stats(&self) -> &triggers::stats::TriggerStats {
        &self.trigger_stats
    }

    /// The envelope-encryption vault, when keys are configured.
    pub fn vault(&self) -> Option<&Arc<vault::Vault>> {
        self.vault.as_ref()
    }

    /// The store without decryption: rows and changes exactly as stored.
    pub fn raw_store(&self) -> &Arc<dyn Store> {
        &self.raw_store
    }

    /// Now, in ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Load a pool or answer ResourceNotFoundException.
    pub fn load_pool(&self, id: &PoolId) -> Result<Pool> {
        self.store.read()?.pool(id)?.ok_or_else(|| Error::pool_not_found(id.as_str()))
    }
}
