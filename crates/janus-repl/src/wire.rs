//! Messages between regions, all JSON and versioned (`v`). A snapshot is NDJSON: one
//! [`SnapshotHead`] line, then one entity per line, so it streams in chunks of any size.

use serde::{Deserialize, Serialize};

use janus_types::{Change, Epoch, Seq};

/// Wire format version of this build.
pub const VERSION: u32 = 1;

/// First line of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotHead {
    /// Format version.
    pub v: u32,
    /// The snapshot is the pool as of this `seq`.
    pub seq: Seq,
    /// The pool's epoch then.
    pub epoch: Epoch,
    /// How many entity lines follow.
    pub entities: u64,
}

/// A batch of changes after some `seq`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Changes {
    /// Format version.
    pub v: u32,
    /// The primary's committed head when the batch was read.
    pub head: Seq,
    /// The changes, in order, gap-free from the requested `seq` + 1.
    pub changes: Vec<Change>,
}

/// A replica's report to the primary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    /// Format version.
    pub v: u32,
    /// The replica's region.
    pub region: String,
    /// The last `seq` it applied.
    pub applied: Seq,
}

/// The primary's request that a region host a replica of a pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Host {
    /// Format version.
    pub v: u32,
    /// The primary's region name.
    pub source: String,
    /// The primary's base URL.
    pub url: String,
    /// The pool's wrapped data key: the region must unwrap it before it agrees to host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_check: Option<janus_types::WrappedDek>,
}

/// The primary's request that a region drop its replica of a pool (DeleteUserPoolReplica).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unhost {
    /// Format version.
    pub v: u32,
    /// The asking region: it must be the pool's primary as the replica knows it (absent
    /// from regions older than issue 13, which are refused with a message saying so).
    #[serde(default)]
    pub source: Option<String>,
}

/// A replica's status change, forwarded by a secondary to the primary (UpdateUserPoolReplica).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplicaStatusUpdate {
    /// Format version.
    pub v: u32,
    /// The replica region.
    pub region: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
}

/// A content digest of a pool, computed independently in each region.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Digest {
    /// The `seq` the digest is at.
    pub seq: Seq,
    /// SHA-256 over the pool's entities in key order (hex).
    pub sha256: String,
    /// How many entities.
    pub entities: u64,
}
