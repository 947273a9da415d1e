//! Where a pool lives: its primary region and its replicas with their Cognito status. This is
//! pool data (it travels in the pool entity), so every region agrees on who is primary; the
//! role a region plays for a pool follows from comparing its own name with `primary`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::ids::RegionName;

/// A replica's status, as Cognito's `ReplicaStatusType`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReplicaStatus {
    Creating,
    Inactive,
    Active,
    Deleting,
}

impl ReplicaStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaStatus::Creating => "CREATING",
            ReplicaStatus::Inactive => "INACTIVE",
            ReplicaStatus::Active => "ACTIVE",
            ReplicaStatus::Deleting => "DELETING",
        }
    }
}

/// One replica of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replica {
    /// The region holding it.
    pub region: RegionName,
    /// Its status.
    pub status: ReplicaStatus,
}

/// A pool's placement.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Replication {
    /// The primary region; `None` means the region named in the pool id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<RegionName>,
    /// The replicas, in the order they were created.
    #[serde(default)]
    pub replicas: Vec<Replica>,
    /// The last `seq` of the previous epoch, set by a promotion: a former primary's changes
    /// after it never reached the new primary (the realised RPO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence_seq: Option<u64>,
    /// Synchronous mode: a write is acknowledged once every replica applied it, or after
    /// this many milliseconds (then the replica is marked lagging). `None`: asynchronous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_timeout_ms: Option<u64>,
    /// Each region's own settings (message senders, triggers, tags), which UpdateUserPool
    /// may set in a secondary too; a region's view of the pool overlays its entry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub regional: BTreeMap<RegionName, RegionalSettings>,
}

/// The settings one region keeps for itself, as Cognito's `UserPoolType` members.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RegionalSettings {
    /// `EmailConfiguration`, `SmsConfiguration`, `LambdaConfig` when set.
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// `UserPoolTags`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}
