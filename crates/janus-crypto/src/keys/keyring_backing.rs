//! Where the sealed keyring text is kept: a file of the node's own (the embedded store's
//! companion), or a shared place — the region's database — so that every node of a region
//! uses the same keys. The text is sealed either way; only a node with the unlock secret
//! opens it. A shared backing is versioned: a save names the version it replaces and fails
//! when another node saved first, and nodes poll the version to pick up each other's
//! changes (a key disabled through one node is refused by every node within a second).

use std::path::PathBuf;

use super::keyring_file;
use super::KeyError;

/// A place for the sealed keyring.
pub trait KeyringBacking: Send + Sync + std::fmt::Debug {
    /// Where it is, for messages.
    fn describe(&self) -> String;
    /// The sealed text and its version; `None` when nothing was ever saved.
    fn load(&self) -> Result<Option<(u64, String)>, KeyError>;
    /// The stored version alone (cheap, polled); `None` when nothing was saved.
    fn version(&self) -> Result<Option<u64>, KeyError>;
    /// Save `text` as `version`, provided the stored version is `version - 1` (nothing stored
    /// for version 1); false, and nothing written, when another writer saved first.
    fn save(&self, version: u64, text: &str) -> Result<bool, KeyError>;
    /// Whether other processes may change it (then it is polled).
    fn shared(&self) -> bool;
}

/// The keyring file: one process owns it (the data directory is locked), so its version
/// is whatever this process last saved.
#[derive(Debug)]
pub struct FileBacking {
    path: PathBuf,
    version: std::sync::atomic::AtomicU64,
}

impl FileBacking {
    /// The file at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self { path, version: Default::default() }
    }
}

impl KeyringBacking for FileBacking {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn load(&self) -> Result<Option<(u64, String)>, KeyError> {
        if !self.path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&self.path).map_err(|e| {
            KeyError::new(super::KeyErrorKind::Unavailable, format!("reading {}: {e}", self.path.display()))
        })?;
        self.version.store(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Some((1, text)))
    }

    fn version(&self) -> Result<Option<u64>, KeyError> {
        let v = self.version.load(std::sync::atomic::Ordering::SeqCst);
        Ok((v > 0).then_some(v))
    }

    fn save(&self, version: u64, text: &str) -> Result<bool, KeyError> {
        keyring_file::write_atomic(&self.path, text)?;
        self.version.store(version, std::sync::atomic::Ordering::SeqCst);
        Ok(true)
    }

    fn shared(&self) -> bool {
        false
    }
}
