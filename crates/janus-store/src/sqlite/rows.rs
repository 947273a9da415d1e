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
    match &change.state {
        Some(entity) if entity.key() == change.key => put_entity(conn, pool, entity),
        Some(_) => Err(Error::internal(anyhow::anyhow!(
            "change {} of {pool}: state does not match key {:?}",
            change.seq,
            change.key
        ))),
        None => delete_key(conn, pool, &change.key),
    }
}

/// Store one entity's rows (insert or replace).
pub fn put_entity(conn: &Connection, pool: &str, entity: &Entity) -> Result<()> {
    match entity {
        Entity::Pool(p) => {
            exec(conn, "INSERT OR REPLACE INTO pools (id, body) VALUES (?1, ?2)", params![pool, to_json(p)?])
        }
        Entity::Client(c) => exec(
            conn,
            "INSERT OR REPLACE INTO clients (pool, id, body) VALUES (?1, ?2, ?3)",
            params![pool, c.id.as_str(), to_json(c)?],
        ),
        Entity::User(u) => put_user(conn, pool, u),
        Entity::Group(g) => exec(
            conn,
            "INSERT OR REPLACE INTO groups (pool, name, body) VALUES (?1, ?2, ?3)",
            params![pool, g.name.as_str(), to_json(g)?],
        ),
        Entity::Membership(m) => exec(
            conn,
            "INSERT OR IGNORE INTO members (pool, grp, ukey) VALUES (?1, ?2, ?3)",
            params![pool, m.group.as_str(), m.user.as_str()],
        ),
        Entity::Keys(k) => {
            exec(conn, "INSERT OR REPLACE INTO pool_keys (pool, body) VALUES (?1, ?2)", params![pool, to_json(k)?])
        }
        Entity::Domain(d) => exec(
            conn,
            "INSERT OR REPLACE INTO domains (domain, pool, body) VALUES (?1, ?2, ?3)",
            params![d.domain, pool, to_json(d)?],
        ),
        Entity::ResourceServer(r) => exec(
            conn,
            "INSERT OR REPLACE INTO resource_servers (pool, identifier, body) VALUES (?1, ?2, ?3)",
            params![pool, r.identifier, to_json(r)?],
        ),
        Entity::UiCustomization(u) => exec(
            conn,
            "INSERT OR REPLACE INTO ui_customizations (pool, client, body) VALUES (?1, ?2, ?3)",
            params![pool, u.client, to_json(u)?],
        ),
    }
}

/// Remove the rows at `key`, with the cascades the change format defines.
fn delete_key(conn: &Connection, pool: &str, key: &EntityKey) -> Result<()> {
    match key {
        EntityKey::Pool => delete_pool_rows(conn, pool),
        EntityKey::Client { id } => {
            exec(conn, "DELETE FROM clients WHERE pool = ?1 AND id = ?2", params![pool, id.as_str()])
        }
        EntityKey::User { key } => {
            let k = key.as_str();
            exec(conn, "DELETE FROM users WHERE pool = ?1 AND ukey = ?2", params![pool, k])?;
            exec(conn, "DELETE FROM aliases WHERE pool = ?1 AND ukey = ?2", params![pool, k])?;
            exec(conn, "DELETE FROM members WHERE pool = ?1 AND ukey = ?2", params![pool, k])
        }
        EntityKey::Group { name } => {
            let n = name.as_str();
            exec(conn, "DELETE FROM groups WHERE pool = ?1 AND name = ?2", params![pool, n])?;
            exec(conn, "DELETE FROM members WHERE pool = ?1 AND grp = ?2", params![pool, n])
        }
        EntityKey::Membership { group, user } => exec(
            conn,
            "DELETE FROM members WHERE pool = ?1 AND grp = ?2 AND ukey = ?3",
            params![pool, group.as_str(), user.as_str()],
        ),
        EntityKey::Keys => exec(conn, "DELETE FROM pool_keys WHERE pool = ?1", params![pool]),
        EntityKey::Domain { name } => {
            exec(conn, "DELETE FROM domains WHERE pool = ?1 AND domain = ?2", params![pool, name])
        }
        EntityKey::ResourceServer { identifier } => {
            exec(conn, "DELETE FROM resource_servers WHERE pool = ?1 AND identifier = ?2", params![pool, identifier])
        }
        EntityKey::UiCustomization { client } => {
            exec(conn, "DELETE FROM ui_customizations WHERE pool = ?1 AND client = ?2", params![pool, client])
        }
    }
}

/// Remove every data row of a pool (its log and head stay).
pub fn delete_pool_rows(conn: &Connection, pool: &str) -> Result<()> {
    exec(conn, "DELETE FROM pools WHERE id = ?1", params![pool])?;
    for table in [
        "clients",
        "users",
        "aliases",
        "groups",
        "members",
        "pool_keys",
        "domains",
        "resource_servers",
        "ui_customizations",
    ] {
        exec(conn, &format!("DELETE FROM {table} WHERE pool = ?1"), params![pool])?;
    }
    Ok(())
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
    let mut stmt =
        conn.prepare_cached("INSERT INTO aliases (pool, alias, ukey) VALUES (?1, ?2, ?3)").map_err(db_err)?;
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
