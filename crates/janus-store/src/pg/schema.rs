//! PostgreSQL schema migrations. Several nodes may start at once against one database, so
//! migrating happens under a session advisory lock: the first node migrates, the others wait
//! and then find nothing to do. `janus_schema` records the version; a database newer than
//! this binary knows is refused, before anything is touched, with a message saying so.
//!
//! Text keys are `COLLATE "C"`: pagination compares and orders them byte-wise, exactly as
//! SQLite does, whatever collation the operator's database defaults to.

use anyhow::{bail, Context};

use super::conn::{PgConn, Runtime};

/// Each entry migrates from version `i` to `i + 1`. Version 1 is the SQLite schema as of its
/// version 5, in PostgreSQL's types.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE pools (id TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE clients (
    pool TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, id));
CREATE INDEX clients_by_id ON clients (id);
CREATE TABLE users (
    pool TEXT COLLATE "C" NOT NULL, ukey TEXT COLLATE "C" NOT NULL, sub TEXT COLLATE "C" NOT NULL,
    username TEXT COLLATE "C" NOT NULL, status TEXT COLLATE "C" NOT NULL, enabled BIGINT NOT NULL,
    email TEXT COLLATE "C", phone_number TEXT COLLATE "C", name TEXT COLLATE "C",
    given_name TEXT COLLATE "C", family_name TEXT COLLATE "C", preferred_username TEXT COLLATE "C",
    body TEXT NOT NULL,
    PRIMARY KEY (pool, ukey));
CREATE UNIQUE INDEX users_by_sub ON users (pool, sub);
CREATE INDEX users_by_email ON users (pool, email);
CREATE TABLE aliases (
    pool TEXT COLLATE "C" NOT NULL, alias TEXT COLLATE "C" NOT NULL, ukey TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (pool, alias));
CREATE INDEX aliases_by_user ON aliases (pool, ukey);
CREATE TABLE groups (
    pool TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, name));
CREATE TABLE members (
    pool TEXT COLLATE "C" NOT NULL, grp TEXT COLLATE "C" NOT NULL, ukey TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (pool, grp, ukey));
CREATE INDEX members_by_user ON members (pool, ukey, grp);
CREATE TABLE log_head (pool TEXT COLLATE "C" PRIMARY KEY, seq BIGINT NOT NULL, epoch BIGINT NOT NULL);
CREATE TABLE changes (
    pool TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, seq));
CREATE TABLE pool_keys (pool TEXT COLLATE "C" PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE subscriptions (
    pool TEXT COLLATE "C" PRIMARY KEY, source TEXT NOT NULL, url TEXT NOT NULL);
CREATE TABLE local_marks (
    pool TEXT COLLATE "C" NOT NULL, ukey TEXT COLLATE "C" NOT NULL, kind TEXT COLLATE "C" NOT NULL,
    mark BIGINT NOT NULL,
    PRIMARY KEY (pool, ukey, kind));
CREATE TABLE domains (
    domain TEXT COLLATE "C" PRIMARY KEY, pool TEXT COLLATE "C" NOT NULL, body TEXT NOT NULL);
CREATE INDEX domains_by_pool ON domains (pool, domain);
CREATE TABLE resource_servers (
    pool TEXT COLLATE "C" NOT NULL, identifier TEXT COLLATE "C" NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, identifier));
CREATE TABLE ui_customizations (
    pool TEXT COLLATE "C" NOT NULL, client TEXT COLLATE "C" NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, client));
"#,
    // Region documents (the sealed keyring the region's nodes share): never logged.
    r#"
CREATE TABLE region_docs (name TEXT COLLATE "C" PRIMARY KEY, version BIGINT NOT NULL, body TEXT NOT NULL);
"#,
    // Users' devices (replicated entities).
    r#"
CREATE TABLE devices (
    pool TEXT COLLATE "C" NOT NULL, ukey TEXT COLLATE "C" NOT NULL, dkey TEXT COLLATE "C" NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (pool, ukey, dkey));
"#,
    // User import jobs (replicated) and their uploaded CSV (region-local, never logged).
    r#"
CREATE TABLE import_jobs (
    pool TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, status TEXT COLLATE "C" NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (pool, id));
CREATE INDEX import_jobs_by_status ON import_jobs (status);
CREATE TABLE import_chunks (
    pool TEXT COLLATE "C" NOT NULL, job TEXT COLLATE "C" NOT NULL, n BIGINT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (pool, job, n));
"#,
];

/// The schema version this binary writes.
pub const PG_SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The advisory lock key migrations run under ("janusmig" as bytes).
const MIGRATION_LOCK: i64 = 0x6a61_6e75_736d_6967;

/// Bring the database's schema up to [`PG_SCHEMA_VERSION`], or refuse a newer one. Returns
/// the version found before migrating.
pub fn migrate(rt: &Runtime, conn: &mut PgConn) -> anyhow::Result<i64> {
    conn.batch(rt, &format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
    let result = migrate_locked(rt, conn);
    let unlocked = conn.batch(rt, &format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
    let found = result?;
    unlocked?;
    Ok(found)
}

fn migrate_locked(rt: &Runtime, conn: &mut PgConn) -> anyhow::Result<i64> {
    conn.batch(rt, "CREATE TABLE IF NOT EXISTS janus_schema (version BIGINT NOT NULL)")?;
    let rows = conn.query(rt, "SELECT version FROM janus_schema", &[])?;
    let current: i64 = match rows.first() {
        Some(r) => r.try_get(0)?,
        None => {
            conn.batch(rt, "INSERT INTO janus_schema (version) VALUES (0)")?;
            0
        }
    };
    if current > PG_SCHEMA_VERSION {
        bail!(
            "the database was written by a newer Janus (schema version {current}); this binary \
             understands up to version {PG_SCHEMA_VERSION}. Run the newer binary, or restore a \
             backup taken before the upgrade."
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        let script = format!("BEGIN; {sql}; UPDATE janus_schema SET version = {version}; COMMIT;");
        if let Err(e) = conn.batch(rt, &script) {
            let _ = conn.batch(rt, "ROLLBACK");
            return Err(e).with_context(|| format!("schema migration {version}"));
        }
        tracing::info!(version, "applied PostgreSQL schema migration");
    }
    Ok(current)
}
