//! Messages between regions, all JSON and versioned (`v`). A snapshot is NDJSON: one
//! [`SnapshotHead`] line, then one entity per line, so it streams in chunks of any size.

use serde::{Deserialize, Serialize};

use janus_types::{Change, Epoch, Seq};

/// Wire format version of this build.
pub const VERSION: u32 = 1;

/// Where every endpoint of the protocol lives: `<PREFIX>/<pool>/<endpoint>`.
pub const PREFIX: &str = "/replication/v1/pools";

/// The replication protocol's endpoints, named once for the server's routes and the client.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Snapshot,
    Changes,
    Digest,
    Status,
    Host,
    Unhost,
    KeyCheck,
    ReplicaStatus,
    Head,
    Demote,
    Security,
    Regional,
}

impl Endpoint {
    /// Its last path segment.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Snapshot => "snapshot",
            Endpoint::Changes => "changes",
            Endpoint::Digest => "digest",
            Endpoint::Status => "status",
            Endpoint::Host => "host",
            Endpoint::Unhost => "unhost",
            Endpoint::KeyCheck => "key-check",
            Endpoint::ReplicaStatus => "replica-status",
            Endpoint::Head => "head",
            Endpoint::Demote => "demote",
            Endpoint::Security => "security",
            Endpoint::Regional => "regional",
        }
    }

    /// The server's route pattern (`{pool}` is the path parameter).
    pub fn route(self) -> String {
        format!("{PREFIX}/{{pool}}/{}", self.name())
    }

    /// The URL of `pool`'s endpoint at the region whose base URL is `base`.
    pub fn url(self, base: &str, pool: &impl std::fmt::Display) -> String {
        format!("{base}{PREFIX}/{pool}/{}", self.name())
    }
}

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
    /// SHA-256 (hex) of each change as the sender serialized it, in the same order; the
    /// receiver checks them ([`Changes::verify`]) before it applies anything.
    #[serde(default)]
    pub sums: Vec<String>,
}

/// A change's checksum: SHA-256 of its JSON. Both sides serialize the same struct with the
/// same serde_json (maps keep their order), so a change damaged in the log or on the way, or
/// one carrying members this build does not know, does not match.
pub fn checksum(change: &Change) -> String {
    use sha2::Digest;
    let json = serde_json::to_vec(change).unwrap_or_default();
    hex::encode(sha2::Sha256::digest(json))
}

impl Changes {
    /// A batch of this build's format, with its checksums.
    pub fn new(head: Seq, changes: Vec<Change>) -> Self {
        let sums = changes.iter().map(checksum).collect();
        Self { v: VERSION, head, changes, sums }
    }

    /// Refuse a batch of a format this build does not know, without a checksum for every
    /// change, or with a change whose checksum does not match.
    pub fn verify(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.v == VERSION,
            "a batch of changes in format {}, not {VERSION}: upgrade this region",
            self.v
        );
        anyhow::ensure!(
            self.sums.len() == self.changes.len(),
            "a batch of {} changes with {} checksums: refused",
            self.changes.len(),
            self.sums.len()
        );
        for (c, sum) in self.changes.iter().zip(&self.sums) {
            anyhow::ensure!(checksum(c) == *sum, "change {} of {} does not match its checksum: refused", c.seq, c.pool);
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use janus_types::{EntityKey, PoolId};

    fn change(seq: u64) -> Change {
        Change {
            v: janus_types::CHANGE_FORMAT,
            pool: PoolId::parse("us-east-1_abcdefghi").unwrap(),
            seq: Seq(seq),
            epoch: Epoch(1),
            at_ms: 7,
            key: EntityKey::Pool,
            state: None,
        }
    }

    #[test]
    fn a_batch_is_refused_when_its_format_or_a_checksum_is_wrong() {
        let batch = Changes::new(Seq(2), vec![change(1), change(2)]);
        let sent: Changes = serde_json::from_slice(&serde_json::to_vec(&batch).unwrap()).unwrap();
        sent.verify().unwrap();
        let mut damaged = sent.clone();
        damaged.changes[1].at_ms = 8;
        assert!(damaged.verify().unwrap_err().to_string().contains("checksum"));
        let mut unsummed = sent.clone();
        unsummed.sums.clear();
        assert!(unsummed.verify().is_err());
        let mut newer = sent;
        newer.v = VERSION + 1;
        assert!(newer.verify().unwrap_err().to_string().contains("upgrade"));
    }

    #[test]
    fn routes_and_urls_name_the_same_paths() {
        for e in [Endpoint::Snapshot, Endpoint::Changes, Endpoint::KeyCheck, Endpoint::ReplicaStatus] {
            assert_eq!(e.route().replace("{pool}", "p"), e.url("", &"p"));
        }
    }
}
