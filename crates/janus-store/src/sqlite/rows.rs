//! How a change becomes rows. This one function serves both the primary (after `put` and
//! `delete` build the change) and replay/replication (`apply`), so a replayed log yields
//! exactly the rows the primary has. Cascades: a pool tombstone removes the pool's rows of
//! every kind; a user or group tombstone removes its memberships.

use rusqlite::{params, Connection};

use janus_types::{Change, Entity, EntityKey, Error, Result, User};

use super::{db_err, json_err};

/// Write the rows `change` describes.
pub fn apply(conn: &Connection, change: &Change) -> Result<()> {
    let pool = change.pool.as_str();
    match (&change.key, &change.state) {
        (EntityKey::Pool, Some(Entity::Pool(p))) => exec(
            conn,
            "INSERT OR REPLACE INTO pools (id, body) VALUES (?1, ?2)",
            params![pool, to_json(p)?],
        ),
        (EntityKey::Pool, None) => {
            for table in ["pools WHERE id", "clients WHERE pool", "users WHERE pool"] {
                exec(conn, &format!("DELETE FROM {table} = ?1"), params![pool])?;
            }
            for table in ["aliases", "groups", "members", "pool_keys"] {
                exec(conn, &format!("DELETE FROM {table} WHERE pool = ?1"), params![pool])?;
            }
            Ok(())
        }
        (EntityKey::Client { id }, Some(Entity::Client(c))) if *id == c.id => exec(
            conn,
            "INSERT OR REPLACE INTO clients (pool, id, body) VALUES (?1, ?2, ?3)",
            params![pool, id.as_str(), to_json(c)?],
        ),
        (EntityKey::Client { id }, None) => exec(
            conn,
            "DELETE FROM clients WHERE pool = ?1 AND id = ?2",
            params![pool, id.as_str()],
        ),
        (EntityKey::User { key }, Some(Entity::User(u))) if *key == u.key => {
            put_user(conn, pool, u)
        }
        (EntityKey::User { key }, None) => {
            let k = key.as_str();
            exec(conn, "DELETE FROM users WHERE pool = ?1 AND ukey = ?2", params![pool, k])?;
            exec(conn, "DELETE FROM aliases WHERE pool = ?1 AND ukey = ?2", params![pool, k])?;
            exec(conn, "DELETE FROM members WHERE pool = ?1 AND ukey = ?2", params![pool, k])
        }
        (EntityKey::Group { name }, Some(Entity::Group(g))) if *name == g.name => exec(
            conn,
            "INSERT OR REPLACE INTO groups (pool, name, body) VALUES (?1, ?2, ?3)",
            params![pool, name.as_str(), to_json(g)?],
        ),
        (EntityKey::Group { name }, None) => {
            let n = name.as_str();
            exec(conn, "DELETE FROM groups WHERE pool = ?1 AND name = ?2", params![pool, n])?;
            exec(conn, "DELETE FROM members WHERE pool = ?1 AND grp = ?2", params![pool, n])
        }
        (EntityKey::Membership { group, user }, Some(Entity::Membership(m)))
            if m.group == *group && m.user == *user =>
        {
            exec(
                conn,
                "INSERT OR IGNORE INTO members (pool, grp, ukey) VALUES (?1, ?2, ?3)",
                params![pool, group.as_str(), user.as_str()],
            )
        }
        (EntityKey::Membership { group, user }, None) => exec(
            conn,
            "DELETE FROM members WHERE pool = ?1 AND grp = ?2 AND ukey = ?3",
            params![pool, group.as_str(), user.as_str()],
        ),
        (EntityKey::Keys, Some(Entity::Keys(k))) => exec(
            conn,
            "INSERT OR REPLACE INTO pool_keys (pool, body) VALUES (?1, ?2)",
            params![pool, to_json(k)?],
        ),
        (EntityKey::Keys, None) => exec(conn, "DELETE FROM pool_keys WHERE pool = ?1", params![pool]),
        (key, _) => Err(Error::internal(anyhow::anyhow!(
            "change {} of {pool}: state does not match key {key:?}",
            change.seq
        ))),
    }
}

fn put_user(conn: &Connection, pool: &str, u: &User) -> Result<()> {
    let a = |name: &str| u.attributes.get(name).map(String::as_str);
    exec(
        conn,
        "INSERT OR REPLACE INTO users (pool, ukey, sub, username, status, enabled, email, \
         phone_number, name, given_name, family_name, preferred_username, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            pool,
            u.key.as_str(),
            u.sub.as_str(),
            u.username,
            u.status.as_str(),
            u.enabled,
            a("email"),
            a("phone_number"),
            a("name"),
            a("given_name"),
            a("family_name"),
            a("preferred_username"),
            to_json(u)?
        ],
    )?;
    let k = u.key.as_str();
    exec(conn, "DELETE FROM aliases WHERE pool = ?1 AND ukey = ?2", params![pool, k])?;
    let mut stmt = conn
        .prepare_cached("INSERT INTO aliases (pool, alias, ukey) VALUES (?1, ?2, ?3)")
        .map_err(db_err)?;
    for alias in &u.aliases {
        stmt.execute(params![pool, alias, k]).map_err(db_err)?;
    }
    Ok(())
}

/// Append `change` to its pool's log and advance the pool's head.
pub fn append(conn: &Connection, change: &Change) -> Result<()> {
    exec(
        conn,
        "INSERT INTO changes (pool, seq, body) VALUES (?1, ?2, ?3)",
        params![change.pool.as_str(), change.seq.0 as i64, to_json(change)?],
    )?;
    exec(
        conn,
        "INSERT OR REPLACE INTO log_head (pool, seq, epoch) VALUES (?1, ?2, ?3)",
        params![change.pool.as_str(), change.seq.0 as i64, change.epoch.0 as i64],
    )
}

fn exec(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<()> {
    conn.prepare_cached(sql).and_then(|mut s| s.execute(p)).map_err(db_err)?;
    Ok(())
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(json_err)
}
