//! The `[keys]` configuration: where the keyring lives and what unlocks it, and whether a
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
    keyring: Option<PathBuf>,
    key_file: Option<PathBuf>,
    replica_requires_cmk: Option<bool>,
    signing_key_activation_secs: Option<u64>,
}

/// The resolved key settings.
#[derive(Clone)]
pub struct KeysConfig {
    /// The keyring file.
    pub keyring: PathBuf,
    /// What unlocks it.
    pub unlock: Unlock,
    /// CreateUserPoolReplica refuses pools without a customer-managed multi-region key.
    pub replica_requires_cmk: bool,
    /// How long a new signing key is published before it signs (seconds).
    pub signing_key_activation_secs: u64,
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
        None => f.signing_key_activation_secs.unwrap_or(300),
    };
    Ok(KeysConfig {
        keyring,
        unlock,
        replica_requires_cmk: flag("JANUS_REPLICA_REQUIRES_CMK", f.replica_requires_cmk, true)?,
        signing_key_activation_secs: activation,
    })
}
