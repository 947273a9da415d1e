//! A user's device (Cognito's remembered devices): the key and group key Janus issued at a
//! sign-in, the SRP verifier the client registered for it with ConfirmDevice, and whether
//! it is remembered. Replicated with the pool, so a remembered device is remembered in every
//! region. A persisted format: add fields with `#[serde(default)]`.

use serde::{Deserialize, Serialize};

use crate::ids::UserKey;

/// One confirmed device of a user.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// The user it belongs to.
    pub user: UserKey,
    /// The device key, `<region>_<uuid>`.
    pub key: String,
    /// The device group key: the "pool name" of the device's SRP handshake.
    pub group: String,
    /// The SRP salt (hex).
    pub salt: String,
    /// The SRP verifier `v` (hex); as secret as a password hash, sealed at rest.
    pub verifier: String,
    /// `device_name`, as ConfirmDevice set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `dev:device_remembered_status`: a remembered device skips MFA.
    pub remembered: bool,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// Last change of its status or name, ms since the epoch.
    pub modified_ms: i64,
    /// Last sign-in with it, ms since the epoch.
    pub last_auth_ms: i64,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("user", &self.user)
            .field("key", &self.key)
            .field("remembered", &self.remembered)
            .finish_non_exhaustive()
    }
}
