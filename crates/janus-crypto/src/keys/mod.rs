//! Key providers: where customer-managed keys (CMKs) live and the only code that touches
//! their material. A provider wraps and unwraps pool data keys (DEKs) under a CMK named by
//! its ARN, checks the key's state and policy on every use, and describes keys. The
//! built-in [`keyring::Keyring`] is the default; an AWS KMS provider speaks the same trait.
//!
//! Invariants: a provider never returns CMK material; a wrapped DEK is bound to the pool it
//! was made for (associated data), so it cannot be unwrapped for another pool; a denied or
//! failed use is a [`KeyError`] naming the key and the region, never a fallback to another key.

pub mod arn;
pub mod aws_credentials;
pub mod aws_kms;
pub mod keyring;
mod keyring_admin;
pub mod keyring_backing;
mod keyring_file;
pub mod kms_api;
mod material;
pub mod sigv4;
#[cfg(test)]
mod tests;
pub mod transport;

use serde::{Deserialize, Serialize};
use std::fmt;

pub use arn::KeyArn;

/// What went wrong with a key, as a label for metrics and as the choice of domain error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyErrorKind {
    /// No such key in this region.
    NotFound,
    /// The key exists and is disabled.
    Disabled,
    /// The key's policy does not allow this pool or region.
    Denied,
    /// The operation needs a multi-region key.
    NotMultiRegion,
    /// A malformed request (bad ARN, bad bundle).
    Invalid,
    /// A ciphertext or wrapped key failed authentication.
    Integrity,
    /// The provider could not be reached or failed.
    Unavailable,
}

impl KeyErrorKind {
    /// Every kind, in a stable order.
    pub const ALL: [KeyErrorKind; 7] = [
        KeyErrorKind::NotFound,
        KeyErrorKind::Disabled,
        KeyErrorKind::Denied,
        KeyErrorKind::NotMultiRegion,
        KeyErrorKind::Invalid,
        KeyErrorKind::Integrity,
        KeyErrorKind::Unavailable,
    ];

    /// The label used in `janus_key_provider_errors_total{kind}`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyErrorKind::NotFound => "not_found",
            KeyErrorKind::Disabled => "disabled",
            KeyErrorKind::Denied => "denied",
            KeyErrorKind::NotMultiRegion => "not_multi_region",
            KeyErrorKind::Invalid => "invalid",
            KeyErrorKind::Integrity => "integrity",
            KeyErrorKind::Unavailable => "unavailable",
        }
    }
}

/// A key provider error. Its message names the key and the region, never key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// What kind of failure.
    pub kind: KeyErrorKind,
    /// A sentence for operators.
    pub message: String,
}

impl KeyError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: KeyErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// The domain error for an operator's key-management call (`janus keys …`).
    pub fn into_admin_error(self) -> janus_types::Error {
        use janus_types::Error;
        match self.kind {
            KeyErrorKind::NotFound => Error::ResourceNotFoundException(self.message),
            KeyErrorKind::Integrity | KeyErrorKind::Unavailable => Error::internal(self),
            _ => Error::InvalidParameterException(self.message),
        }
    }

    /// The domain error for a pool's use of its key (sign-in, writes, replica set-up): the
    /// pool's key configuration cannot be honoured.
    pub fn into_use_error(self) -> janus_types::Error {
        use janus_types::Error;
        match self.kind {
            KeyErrorKind::Integrity => Error::internal(self),
            KeyErrorKind::Invalid => Error::InvalidParameterException(self.message),
            _ => Error::InvalidUserPoolConfigurationException(self.message),
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KeyError {}

/// Which pools and regions may use a key. A pattern is an exact id or a prefix ending in
/// `*`; `["*"]` allows everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPolicy {
    /// Pool id patterns allowed to use the key.
    pub pools: Vec<String>,
    /// Region name patterns allowed to use the key.
    pub regions: Vec<String>,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self { pools: vec!["*".into()], regions: vec!["*".into()] }
    }
}

fn matches(patterns: &[String], value: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => p == value,
    })
}

impl KeyPolicy {
    /// True when `pool` in `region` may use the key.
    pub fn allows(&self, pool: &str, region: &str) -> bool {
        matches(&self.pools, pool) && matches(&self.regions, region)
    }
}

/// What a provider tells about a key (never its material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyInfo {
    /// The key's ARN in this region.
    pub arn: String,
    /// `mrk-<hex>` or a UUID.
    pub key_id: String,
    /// True for a multi-region key.
    pub multi_region: bool,
    /// True for the region's default ("AWS owned") key.
    pub aws_owned: bool,
    /// False after `disable`.
    pub enabled: bool,
    /// The version that wraps new data keys (1 before any rotation).
    pub current_version: u32,
    /// The key's policy.
    pub policy: KeyPolicy,
    /// Free text.
    pub description: String,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
}

/// A fresh data key: its plaintext (to cache in memory only) and its wrapped form (to store).
pub struct DataKey {
    /// The 256-bit key.
    pub plaintext: [u8; 32],
    /// The key wrapped by the CMK, bound to its pool.
    pub wrapped: Vec<u8>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey").field("wrapped_len", &self.wrapped.len()).finish_non_exhaustive()
    }
}

/// A source of CMKs.
pub trait KeyProvider: Send + Sync + 'static {
    /// `keyring` or `aws-kms` (the `provider` label of the error counter).
    fn name(&self) -> &'static str;
    /// The region this provider serves.
    fn region(&self) -> &str;
    /// The region's default ("AWS owned") key, used by pools with `AWS_OWNED_KEY`.
    fn default_key(&self) -> Result<String, KeyError>;
    /// Describe a key by ARN (or key id).
    fn describe(&self, key: &str) -> Result<KeyInfo, KeyError>;
    /// Check that `pool` may use `key` here now (exists, enabled, policy allows).
    fn authorize(&self, key: &str, pool: &str) -> Result<KeyInfo, KeyError>;
    /// A new data key for `pool`, wrapped by `key`.
    fn generate_data_key(&self, key: &str, pool: &str) -> Result<DataKey, KeyError>;
    /// Unwrap a data key of `pool` wrapped by `key`.
    fn unwrap_data_key(&self, key: &str, pool: &str, wrapped: &[u8]) -> Result<[u8; 32], KeyError>;
    /// Wrap an existing data key of `pool` under `key`'s current version (rotation re-wrap).
    fn wrap_data_key(&self, key: &str, pool: &str, plaintext: &[u8; 32]) -> Result<Vec<u8>, KeyError>;
    /// The management interface, for providers Janus administers itself.
    fn admin(&self) -> Option<&dyn KeyAdmin> {
        None
    }
    /// A number that changes whenever any key's state or policy changes, for providers that
    /// know (the keyring): a caller that authorized a use at generation `g` may skip asking
    /// again while the generation is still `g`. `None`: ask every time.
    fn generation(&self) -> Option<u64> {
        None
    }
}

/// Key management (`janus keys …`), offered by the built-in keyring.
pub trait KeyAdmin: Send + Sync {
    /// Create a key.
    fn create(&self, multi_region: bool, description: &str, policy: KeyPolicy) -> Result<KeyInfo, KeyError>;
    /// Every key of this region.
    fn list(&self) -> Result<Vec<KeyInfo>, KeyError>;
    /// Enable or disable a key.
    fn set_enabled(&self, key: &str, enabled: bool) -> Result<KeyInfo, KeyError>;
    /// Start a new key version; new data keys are wrapped with it.
    fn rotate(&self, key: &str) -> Result<KeyInfo, KeyError>;
    /// Replace a key's policy.
    fn set_policy(&self, key: &str, policy: KeyPolicy) -> Result<KeyInfo, KeyError>;
    /// This region's transport public key (SPKI DER, base64) that replica bundles are sealed to.
    fn transport_public_key(&self) -> Result<String, KeyError>;
    /// Seal a multi-region key for `target_region`, whose transport public key is given.
    fn export_replica(&self, key: &str, target_region: &str, transport_key: &str) -> Result<String, KeyError>;
    /// Open a bundle sealed to this region and add (or refresh) the key it holds.
    fn import_replica(&self, bundle: &str) -> Result<KeyInfo, KeyError>;
}
