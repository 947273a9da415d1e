//! Janus's domain vocabulary: identifiers parsed once at the edge, the entities a user pool
//! is made of, the change-log record, the one domain error enum, and the injected clock and
//! randomness. Nothing here performs I/O.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod change;
pub mod entity;
mod entity_device;
mod entity_import;
mod entity_keys;
mod entity_oauth;
mod entity_pool;
pub mod env;
pub mod error;
pub mod ids;
pub mod replication;
pub mod wire;

pub use change::{Change, EntityKey, CHANGE_FORMAT};
pub use entity::{
    Client, ClientSecret, CodeBudget, Device, Domain, Entity, Group, ImportJob, ImportStatus, Membership, MfaFactor,
    PasswordCredential, PendingCode, Pool, PoolKeys, PoolMfa, ResourceServer, Scope, SoftwareToken, StoredKey, Tier,
    UiCustomization, User, UserMfa, UserSecurity, UserStatus,
};
pub use entity_keys::WrappedDek;
pub use env::{Clock, ManualClock, Random, SystemClock};
pub use error::{Error, Result};
pub use ids::{ClientId, Epoch, GroupName, PoolId, RegionName, Seq, Sub, UserKey};
pub use replication::{RegionalSettings, Replica, ReplicaStatus, Replication};
