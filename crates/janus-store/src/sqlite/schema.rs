//! Numbered schema migrations, applied in order at start-up inside one transaction each.
//! `PRAGMA user_version` records the version; a database newer than this binary knows is
//! refused with a message saying so, before anything is touched.

use anyhow::{bail, Context};
use rusqlite::Connection;

/// Each entry migrates from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE pools (id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE clients (
    pool TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, id)) WITHOUT ROWID;
CREATE TABLE users (
    pool TEXT NOT NULL, ukey TEXT NOT NULL, sub TEXT NOT NULL, username TEXT NOT NULL,
    status TEXT NOT NULL, enabled INTEGER NOT NULL,
    email TEXT, phone_number TEXT, name TEXT, given_name TEXT, family_name TEXT,
    preferred_username TEXT, body TEXT NOT NULL,
    PRIMARY KEY (pool, ukey));
CREATE UNIQUE INDEX users_by_sub ON users (pool, sub);
CREATE INDEX users_by_email ON users (pool, email);
CREATE TABLE aliases (
    pool TEXT NOT NULL, alias TEXT NOT NULL, ukey TEXT NOT NULL,
    PRIMARY KEY (pool, alias)) WITHOUT ROWID;
CREATE INDEX aliases_by_user ON aliases (pool, ukey);
CREATE TABLE groups (
    pool TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, name)) WITHOUT ROWID;
CREATE TABLE members (
    pool TEXT NOT NULL, grp TEXT NOT NULL, ukey TEXT NOT NULL,
    PRIMARY KEY (pool, grp, ukey)) WITHOUT ROWID;
CREATE INDEX members_by_user ON members (pool, ukey, grp);
CREATE TABLE log_head (pool TEXT PRIMARY KEY, seq INTEGER NOT NULL, epoch INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE TABLE changes (
    pool TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, seq)) WITHOUT ROWID;
"#,
    r#"
CREATE TABLE pool_keys (pool TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX clients_by_id ON clients (id);
"#,
    r#"
CREATE TABLE subscriptions (pool TEXT PRIMARY KEY, source TEXT NOT NULL, url TEXT NOT NULL) WITHOUT ROWID;
"#,
    // Region-local security marks (used MFA codes on a secondary): never logged, never replicated.
    r#"
CREATE TABLE local_marks (
    pool TEXT NOT NULL, ukey TEXT NOT NULL, kind TEXT NOT NULL, mark INTEGER NOT NULL,
    PRIMARY KEY (pool, ukey, kind)) WITHOUT ROWID;
"#,
    // OAuth: domains, resource servers and hosted-UI customizations (replicated entities).
    r#"
CREATE TABLE domains (domain TEXT PRIMARY KEY, pool TEXT NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX domains_by_pool ON domains (pool, domain);
CREATE TABLE resource_servers (
    pool TEXT NOT NULL, identifier TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, identifier)) WITHOUT ROWID;
CREATE TABLE ui_customizations (
    pool TEXT NOT NULL, client TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, client)) WITHOUT ROWID;
"#,
    // Region documents (the sealed keyring, when the region's nodes share it): never logged.
    r#"
CREATE TABLE region_docs (name TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;
"#,
    // Users' devices (replicated entities); device keys are unique in a pool.
    r#"
CREATE TABLE devices (
    pool TEXT NOT NULL, ukey TEXT NOT NULL, dkey TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, ukey, dkey)) WITHOUT ROWID;
"#,
    // User import jobs (replicated entities) and their uploaded CSV (region-local, never
    // logged), in chunks of whole lines.
    r#"
CREATE TABLE import_jobs (
    pool TEXT NOT NULL, id TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, id)) WITHOUT ROWID;
CREATE INDEX import_jobs_by_status ON import_jobs (status);
CREATE TABLE import_chunks (
    pool TEXT NOT NULL, job TEXT NOT NULL, n INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, job, n)) WITHOUT ROWID;
"#,
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring `conn`'s schema up to [`SCHEMA_VERSION`], or refuse a newer one.
pub fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        bail!(
            "the data directory was written by a newer Janus (schema version {current}); \
             this binary understands up to version {SCHEMA_VERSION}. Run the newer binary, \
             or restore a backup taken before the upgrade."
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql).with_context(|| format!("schema migration {}", i + 1))?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied schema migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::SqliteStore;

    #[test]
    fn a_newer_schema_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(dir.path()).unwrap());
        let conn = rusqlite::Connection::open(dir.path().join("janus.db")).unwrap();
        conn.pragma_update(None, "user_version", super::SCHEMA_VERSION + 1).unwrap();
        drop(conn);
        let err = SqliteStore::open(dir.path()).err().expect("newer schema refused").to_string();
        assert!(err.contains("newer Janus"), "{err}");
    }

    #[test]
    fn reopening_keeps_the_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(dir.path()).unwrap());
        drop(SqliteStore::open(dir.path()).unwrap());
        let conn = rusqlite::Connection::open(dir.path().join("janus.db")).unwrap();
        let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, super::SCHEMA_VERSION);
    }
}
