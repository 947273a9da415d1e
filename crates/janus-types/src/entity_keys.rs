//! The envelope-encryption record of a pool: its data key (DEK) wrapped by its CMK. It lives
//! in the pool's `Keys` entity, so it replicates with the pool and a replica unwraps the same
//! DEK with its own region's copy of a multi-region key. Persisted and replicated: add fields
//! with `#[serde(default)]`, never rename one.

use serde::{Deserialize, Serialize};

/// A pool's DEK, wrapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedDek {
    /// Record format version (1).
    pub v: u32,
    /// The CMK that wraps it (the primary region's ARN of a multi-region key).
    pub key_arn: String,
    /// The id every field encrypted under this DEK names.
    pub dek_id: String,
    /// The wrapped key as the key provider returned it, base64 (it names its CMK version).
    pub wrapped: String,
    /// When it was last wrapped (creation, CMK rotation or a new CMK), ms since the epoch.
    pub wrapped_ms: i64,
}
