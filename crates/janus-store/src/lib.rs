//! Janus storage. The traits here are the only way services touch data; a backend is chosen
//! once at start-up. Every mutation goes through [`Write::put`] or [`Write::delete`], which
//! write the entity's rows **and** append its change to the pool's change log in the same
//! transaction, so the log is complete by construction. [`Write::apply`] writes a change
//! that was committed elsewhere (replay, replication) through the same row logic.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod filter;
mod lease;
pub mod pg;
mod sql;
pub mod sqlite;

use janus_types::{
    Change, Client, ClientId, Device, Domain, Entity, EntityKey, Epoch, Group, GroupName, ImportJob, Pool, PoolId,
    PoolKeys, ResourceServer, Result, Seq, Sub, UiCustomization, User, UserKey,
};

pub use filter::{FilterAttr, FilterOp, UserFilter};
pub use lease::Lease;
pub use pg::PgStore;
pub use sqlite::SqliteStore;

/// A store backend.
pub trait Store: Send + Sync + 'static {
    /// A consistent read-only view.
    fn read(&self) -> Result<Box<dyn Read + '_>>;
    /// A read-write transaction; changes are stamped `now_ms`. Dropping it without
    /// [`Write::commit`] rolls it back.
    fn write(&self, now_ms: i64) -> Result<Box<dyn Write + '_>>;
    /// Make the on-disk state self-contained before the process exits (for SQLite: fold the
    /// WAL into the database file, so a copy of `janus.db` alone is a complete backup).
    fn shutdown(&self) -> Result<()>;
    /// The number of transactions committed since start; blocks up to `timeout` until it
    /// exceeds `seen` (the replication stream long-polls with this).
    fn wait_commit(&self, seen: u64, timeout: std::time::Duration) -> u64;
    /// True when a read is a local call that never waits on a network or a lock for long
    /// (the embedded store): a point read may then run on an async task's thread.
    fn local_reads(&self) -> bool {
        false
    }
    /// Take the region-wide role `name` if no node holds it: `Some` while this node does. A
    /// node that dies loses its roles by itself (see [`Lease::held`]).
    fn try_lease(&self, name: &str) -> Result<Option<Box<dyn Lease>>>;
    /// The region document `name` (shared by the region's nodes, never replicated: the
    /// sealed keyring) and its version.
    fn region_doc(&self, name: &str) -> Result<Option<(u64, String)>>;
    /// The version of region document `name` alone (polled).
    fn region_doc_version(&self, name: &str) -> Result<Option<u64>>;
    /// Save `body` as `version` of region document `name`, if the stored version is
    /// `version - 1` (nothing stored, for 1); false when another node saved first.
    fn put_region_doc(&self, name: &str, version: u64, body: &str) -> Result<bool>;
}

/// A pool this region holds a replica of, and where to pull it from (region-local state,
/// never replicated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The pool.
    pub pool: PoolId,
    /// The primary region's name.
    pub source: String,
    /// The primary region's base URL.
    pub url: String,
}

/// Reads, all within one consistent view.
pub trait Read {
    /// A pool by id.
    fn pool(&self, id: &PoolId) -> Result<Option<Pool>>;
    /// Pools ordered by id, after `after`.
    fn pools(&self, after: Option<&PoolId>, limit: usize) -> Result<Vec<Pool>>;
    /// An app client.
    fn client(&self, pool: &PoolId, id: &ClientId) -> Result<Option<Client>>;
    /// An app client by id alone, with its pool (client ids are unique across pools).
    fn client_by_id(&self, id: &ClientId) -> Result<Option<(PoolId, Client)>>;
    /// App clients ordered by id, after `after`.
    fn clients(&self, pool: &PoolId, after: Option<&ClientId>, limit: usize) -> Result<Vec<Client>>;
    /// A user by storage key.
    fn user(&self, pool: &PoolId, key: &UserKey) -> Result<Option<User>>;
    /// A user by sign-in alias index key (`email:<value>` …).
    fn user_by_alias(&self, pool: &PoolId, alias: &str) -> Result<Option<User>>;
    /// A user by subject.
    fn user_by_sub(&self, pool: &PoolId, sub: &Sub) -> Result<Option<User>>;
    /// Users ordered by key, after `after`, optionally filtered.
    fn users(
        &self,
        pool: &PoolId,
        filter: Option<&UserFilter>,
        after: Option<&UserKey>,
        limit: usize,
    ) -> Result<Vec<User>>;
    /// How many users the pool has.
    fn user_count(&self, pool: &PoolId) -> Result<u64>;
    /// A group by name.
    fn group(&self, pool: &PoolId, name: &GroupName) -> Result<Option<Group>>;
    /// Groups ordered by name, after `after`.
    fn groups(&self, pool: &PoolId, after: Option<&GroupName>, limit: usize) -> Result<Vec<Group>>;
    /// The groups a user belongs to, ordered by name.
    fn groups_of_user(
        &self,
        pool: &PoolId,
        user: &UserKey,
        after: Option<&GroupName>,
        limit: usize,
    ) -> Result<Vec<Group>>;
    /// The members of a group, ordered by key.
    fn users_in_group(
        &self,
        pool: &PoolId,
        group: &GroupName,
        after: Option<&UserKey>,
        limit: usize,
    ) -> Result<Vec<User>>;
    /// The pool's last committed `seq` and its epoch (zeros for an unknown pool).
    fn log_head(&self, pool: &PoolId) -> Result<(Seq, Epoch)>;
    /// Changes of a pool with `seq > after`, in order.
    fn changes(&self, pool: &PoolId, after: Seq, limit: usize) -> Result<Vec<Change>>;
    /// The pool's key material.
    fn keys(&self, pool: &PoolId) -> Result<Option<PoolKeys>>;
    /// The ids of the pool's keys ([`PoolKeys::kids`]), for a cache to tell whether its
    /// parsed keys are current without the key material being opened.
    fn key_ids(&self, pool: &PoolId) -> Result<Option<Vec<String>>> {
        Ok(self.keys(pool)?.map(|k| k.kids()))
    }
    /// Every entity of a pool, ordered by key (the pool's full content), handed to `f` one at
    /// a time so a pool of any size streams in constant memory. Returns how many.
    fn for_each_entity(&self, pool: &PoolId, f: &mut dyn FnMut(Entity) -> Result<()>) -> Result<u64>;
    /// How many entities [`Read::for_each_entity`] would hand out.
    fn entity_count(&self, pool: &PoolId) -> Result<u64>;
    /// Every entity of a pool, ordered by key, in memory (tests and small pools).
    fn entities(&self, pool: &PoolId) -> Result<Vec<Entity>> {
        let mut out = Vec::new();
        self.for_each_entity(pool, &mut |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }
    /// A domain by name (prefix or custom), with its pool; names are unique in a region.
    fn domain(&self, name: &str) -> Result<Option<(PoolId, Domain)>>;
    /// The pool's domains, ordered by name.
    fn domains(&self, pool: &PoolId) -> Result<Vec<Domain>>;
    /// A resource server by identifier.
    fn resource_server(&self, pool: &PoolId, identifier: &str) -> Result<Option<ResourceServer>>;
    /// Resource servers ordered by identifier, after `after`.
    fn resource_servers(&self, pool: &PoolId, after: Option<&str>, limit: usize) -> Result<Vec<ResourceServer>>;
    /// The UI customization of `client` (a client id or `ALL`).
    fn ui_customization(&self, pool: &PoolId, client: &str) -> Result<Option<UiCustomization>>;
    /// A device of `user` by key.
    fn device(&self, pool: &PoolId, user: &UserKey, key: &str) -> Result<Option<Device>>;
    /// The devices of `user`, ordered by key, after `after`.
    fn devices(&self, pool: &PoolId, user: &UserKey, after: Option<&str>, limit: usize) -> Result<Vec<Device>>;
    /// A user import job.
    fn import_job(&self, pool: &PoolId, id: &str) -> Result<Option<ImportJob>>;
    /// The pool's import jobs, newest first, created before the job `before`.
    fn import_jobs(&self, pool: &PoolId, before: Option<&str>, limit: usize) -> Result<Vec<ImportJob>>;
    /// The import jobs of every pool a runner still has work for.
    fn active_import_jobs(&self) -> Result<Vec<(PoolId, ImportJob)>>;
    /// Chunk `n` of a job's uploaded CSV (region-local, never replicated).
    fn import_chunk(&self, pool: &PoolId, job: &str, n: u32) -> Result<Option<String>>;
    /// The pools this region replicates from elsewhere.
    fn subscriptions(&self) -> Result<Vec<Subscription>>;
    /// A region-local mark of `user` (0 when none): state a secondary keeps for itself, such
    /// as the last MFA code step used here. Never logged as a change, never replicated.
    fn local_mark(&self, pool: &PoolId, user: &UserKey, kind: &str) -> Result<i64>;
}

/// A read-write transaction.
pub trait Write: Read {
    /// Store `entity` (insert or replace) and log it with the pool's next `seq`.
    fn put(&mut self, pool: &PoolId, entity: Entity) -> Result<Seq>;
    /// Remove the entity at `key` (with the cascade [`Change`] documents) and log a tombstone.
    fn delete(&mut self, pool: &PoolId, key: EntityKey) -> Result<Seq>;
    /// Write a change committed elsewhere, keeping its `seq`; a change at or below the pool's
    /// head is ignored (apply is idempotent). Returns whether it was applied.
    fn apply(&mut self, change: &Change) -> Result<bool>;
    /// Replace the pool's content with a snapshot taken at `seq`/`epoch` on another region;
    /// the local log restarts at `seq` (changes after it are applied with [`Write::apply`]).
    /// The entities stream in; the first error aborts (and the transaction rolls back).
    /// Returns how many were loaded.
    fn load_snapshot(
        &mut self,
        pool: &PoolId,
        seq: Seq,
        epoch: Epoch,
        entities: &mut dyn Iterator<Item = Result<Entity>>,
    ) -> Result<u64>;
    /// Add `change` to the pool's retained log as history: its rows are not touched and the
    /// head does not move (a store copy carries the log over after the snapshot of its head,
    /// so replicas following the pool can still resume from an older `seq`).
    fn keep_history(&mut self, change: &Change) -> Result<()>;
    /// Store `entity` as replicated state, without logging a change.
    fn restore(&mut self, pool: &PoolId, entity: &Entity) -> Result<()>;
    /// Empty the pool's change log and set its head to `seq`/`epoch`.
    fn reset_log(&mut self, pool: &PoolId, seq: Seq, epoch: Epoch) -> Result<()>;
    /// Drop the pool's logged changes with `seq < below` (retention); the head stays. Returns
    /// how many were dropped.
    fn trim_log(&mut self, pool: &PoolId, below: Seq) -> Result<u64>;
    /// Start a new epoch for `pool` (promotion): later changes carry it. Returns it.
    fn advance_epoch(&mut self, pool: &PoolId) -> Result<Epoch>;
    /// Record (or with `None`, forget) that this region replicates `pool`.
    fn set_subscription(&mut self, pool: &PoolId, sub: Option<&Subscription>) -> Result<()>;
    /// Raise `user`'s region-local mark `kind` to `mark`; false (and nothing written) when it
    /// already stands at `mark` or higher. Not logged, not replicated (see [`Read::local_mark`]).
    fn raise_local_mark(&mut self, pool: &PoolId, user: &UserKey, kind: &str, mark: i64) -> Result<bool>;
    /// Store chunk `n` of a job's uploaded CSV: region-local, not logged, not replicated.
    fn put_import_chunk(&mut self, pool: &PoolId, job: &str, n: u32, body: &str) -> Result<()>;
    /// Make everything durable and visible.
    fn commit(self: Box<Self>) -> Result<()>;
}
