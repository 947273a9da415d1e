//! The built-in keyring kept in the region's shared store (PostgreSQL), so every node of the
//! region holds the same keys and sees a key disabled through any node within a second. The
//! text stored is the sealed keyring, exactly as the file holds it; the unlock secret (key
//! file or passphrase) never leaves the nodes, and every node needs the same one.

use std::sync::Arc;

use janus_crypto::keys::keyring_backing::KeyringBacking;
use janus_crypto::keys::{KeyError, KeyErrorKind};
use janus_store::Store;

/// The region document the keyring is kept in.
pub const DOC: &str = "keyring";

/// A keyring in `store`.
pub struct StoreBacking {
    store: Arc<dyn Store>,
    place: String,
}

impl std::fmt::Debug for StoreBacking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.place)
    }
}

impl StoreBacking {
    /// The keyring of the region whose store is `store` (described as `place`).
    pub fn new(store: Arc<dyn Store>, place: &str) -> Self {
        Self { store, place: format!("the keyring in {place}") }
    }
}

fn unavailable(e: janus_types::Error) -> KeyError {
    KeyError::new(KeyErrorKind::Unavailable, format!("the store holding the keyring: {e}"))
}

impl KeyringBacking for StoreBacking {
    fn describe(&self) -> String {
        self.place.clone()
    }

    fn load(&self) -> Result<Option<(u64, String)>, KeyError> {
        self.store.region_doc(DOC).map_err(unavailable)
    }

    fn version(&self) -> Result<Option<u64>, KeyError> {
        self.store.region_doc_version(DOC).map_err(unavailable)
    }

    fn save(&self, version: u64, text: &str) -> Result<bool, KeyError> {
        self.store.put_region_doc(DOC, version, text).map_err(unavailable)
    }

    fn shared(&self) -> bool {
        true
    }
}
