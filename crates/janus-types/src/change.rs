//! The change-log record: one committed mutation of one entity, as its full new state or a
//! tombstone, stamped with the pool's gap-free `seq` and its `epoch`. This is a persisted and
//! replicated format; `v` says which version wrote it.
//!
//! Deletion semantics are part of the format: a pool tombstone removes everything in the
//! pool; a user or group tombstone removes that entity's memberships, and a user tombstone
//! its devices.

use serde::{Deserialize, Serialize};

use crate::entity::Entity;
use crate::ids::{ClientId, Epoch, GroupName, PoolId, Seq, UserKey};

/// The change-record format written by this build.
pub const CHANGE_FORMAT: u32 = 1;

/// Which entity of a pool a change is about.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntityKey {
    Pool,
    Client { id: ClientId },
    User { key: UserKey },
    Group { name: GroupName },
    Membership { group: GroupName, user: UserKey },
    Keys,
    Domain { name: String },
    ResourceServer { identifier: String },
    UiCustomization { client: String },
    Device { user: UserKey, key: String },
    ImportJob { id: String },
}

/// One committed change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Record format version.
    pub v: u32,
    /// The pool changed.
    pub pool: PoolId,
    /// Position in the pool's change log.
    pub seq: Seq,
    /// The pool's epoch when the change was committed.
    pub epoch: Epoch,
    /// Commit time, ms since the epoch.
    pub at_ms: i64,
    /// Which entity.
    pub key: EntityKey,
    /// The entity's full new state; `None` is a tombstone.
    pub state: Option<Entity>,
}
