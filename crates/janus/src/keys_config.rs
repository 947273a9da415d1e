//! The `[keys]` configuration: the key provider, where the keyring lives and what unlocks it, whether a
//! replica needs a customer-managed multi-region key. Defaults → `[keys]` in the file →
//! `JANUS_KEYRING*` / `JANUS_REPLICA_REQUIRES_CMK` → `--keyring` / `--keyring-key-file`.
//! The passphrase comes from the environment only, so it is never in a file or a process list.

use anyhow::bail;
use serde::Deserialize;
use std::path::{Path, PathBuf};

use janus_crypto::keys::keyring::Unlock;

/// `[keys]` as written in the file.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    provider: Option<String>,
    keyring: Option<PathBuf>,
    key_file: Option<PathBuf>,
    replica_requires_cmk: Option<bool>,
    signing_key_activation_secs: Option<u64>,
    kms_endpoint: Option<String>,
    kms_region: Option<String>,
    kms_default_key: Option<String>,
    kms_cache_secs: Option<u64>,
}

/// Where the AWS KMS provider finds KMS.
#[derive(Clone)]
pub struct KmsConfig {
    /// KMS's URL.
    pub endpoint: String,
    /// The KMS region (default: this region).
    pub region: Option<String>,
    /// The key of `AWS_OWNED_KEY` pools.
    pub default_key: String,
    /// How long a DescribeKey answer is trusted.
    pub cache_secs: u64,
    /// Access key id and secret (`JANUS_KMS_*`, else `AWS_*`).
    pub credentials: (String, String),
}

/// The resolved key settings.
#[derive(Clone)]
pub struct KeysConfig {
    /// `keyring` (default) or `none` (no encryption at rest: development and benchmarks only).
    pub provider: String,
    /// The keyring file.
    pub keyring: PathBuf,
    /// What unlocks it.
    pub unlock: Unlock,
    /// CreateUserPoolReplica refuses pools without a customer-managed multi-region key.
    pub replica_requires_cmk: bool,
    /// How long a new signing key is published before it signs (seconds).
    pub signing_key_activation_secs: u64,
    /// The AWS KMS provider's settings (provider `aws-kms`).
    pub kms: Option<KmsConfig>,
}

impl std::fmt::Debug for KeysConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeysConfig")
            .field("keyring", &self.keyring)
            .field("unlock", &self.unlock)
            .finish_non_exhaustive()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn flag(var: &str, file: Option<bool>, default: bool) -> anyhow::Result<bool> {
    Ok(match env(var).as_deref() {
        Some("1" | "true" | "on") => true,
        Some("0" | "false" | "off") => false,
        Some(other) => bail!("{var} must be true or false, not {other:?}"),
        None => file.unwrap_or(default),
    })
}

/// Resolve the key settings for a region whose data directory is `data_dir`.
pub fn resolve(
    file: Option<KeysFile>,
    keyring_flag: Option<PathBuf>,
    key_file_flag: Option<PathBuf>,
    data_dir: &Path,
) -> anyhow::Result<KeysConfig> {
    let f = file.unwrap_or_default();
    let kms_settings = f.clone();
    let keyring = keyring_flag
        .or_else(|| env("JANUS_KEYRING").map(PathBuf::from))
        .or(f.keyring)
        .unwrap_or_else(|| data_dir.join("keyring.json"));
    let key_file = key_file_flag.or_else(|| env("JANUS_KEYRING_KEY_FILE").map(PathBuf::from)).or(f.key_file);
    let unlock = match (env("JANUS_KEYRING_PASSPHRASE"), key_file) {
        (Some(_), Some(_)) => bail!("give the keyring a passphrase or a key file, not both"),
        (Some(p), None) => Unlock::Passphrase(p),
        (None, Some(k)) => Unlock::KeyFile(k),
        (None, None) => Unlock::KeyFile(keyring.with_extension("key")),
    };
    let activation = match env("JANUS_SIGNING_KEY_ACTIVATION_SECS") {
        Some(v) => {
            v.parse().map_err(|_| anyhow::anyhow!("JANUS_SIGNING_KEY_ACTIVATION_SECS must be a whole number"))?
        }
        None => f
            .signing_key_activation_secs
            .unwrap_or((janus_core::vault::KeySettings::default().signing_activation_ms / 1000) as u64),
    };
    let provider = env("JANUS_KEY_PROVIDER").or(f.provider.clone()).unwrap_or_else(|| "keyring".into());
    if !["keyring", "none", "aws-kms"].contains(&provider.as_str()) {
        bail!("the key provider must be keyring, aws-kms or none, not {provider:?}");
    }
    let kms = if provider == "aws-kms" { Some(kms(&kms_settings)?) } else { None };
    Ok(KeysConfig {
        provider,
        keyring,
        unlock,
        replica_requires_cmk: flag("JANUS_REPLICA_REQUIRES_CMK", f.replica_requires_cmk, true)?,
        signing_key_activation_secs: activation,
        kms,
    })
}

fn kms(f: &KeysFile) -> anyhow::Result<KmsConfig> {
    let endpoint = env("JANUS_KMS_ENDPOINT").or(f.kms_endpoint.clone());
    let Some(endpoint) = endpoint else { bail!("the aws-kms key provider needs JANUS_KMS_ENDPOINT (kms_endpoint)") };
    let Some(default_key) = env("JANUS_KMS_DEFAULT_KEY").or(f.kms_default_key.clone()) else {
        bail!("the aws-kms key provider needs JANUS_KMS_DEFAULT_KEY (kms_default_key), the key of AWS_OWNED_KEY pools")
    };
    let cache_secs = match env("JANUS_KMS_CACHE_SECS") {
        Some(v) => v.parse().map_err(|_| anyhow::anyhow!("JANUS_KMS_CACHE_SECS must be a whole number"))?,
        None => f.kms_cache_secs.unwrap_or(30),
    };
    let id = env("JANUS_KMS_ACCESS_KEY_ID").or_else(|| env("AWS_ACCESS_KEY_ID"));
    let secret = env("JANUS_KMS_SECRET_ACCESS_KEY").or_else(|| env("AWS_SECRET_ACCESS_KEY"));
    let (Some(id), Some(secret)) = (id, secret) else {
        bail!("the aws-kms key provider needs JANUS_KMS_ACCESS_KEY_ID and JANUS_KMS_SECRET_ACCESS_KEY (or AWS_*)")
    };
    let region = env("JANUS_KMS_REGION").or(f.kms_region.clone());
    Ok(KmsConfig { endpoint, region, default_key, cache_secs, credentials: (id, secret) })
}
