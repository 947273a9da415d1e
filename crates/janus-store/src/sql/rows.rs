//! How a change becomes rows. This one function serves both the primary (after `put` and
//! `delete` build the change) and replay/replication (`apply`), so a replayed log yields
//! exactly the rows the primary has. Cascades: a pool tombstone removes the pool's rows of
//! every kind; a user or group tombstone removes its memberships, a user tombstone its devices.

use janus_types::{Change, Entity, EntityKey, Error, Result, User};

use super::{Arg, Sql};

/// Write the rows `change` describes.
pub fn apply(conn: &(impl Sql + ?Sized), change: &Change) -> Result<()> {
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
pub fn put_entity(conn: &(impl Sql + ?Sized), pool: &str, entity: &Entity) -> Result<()> {
    match entity {
        Entity::Pool(p) => {
            conn.pool_written(pool);
            exec(
                conn,
                "INSERT INTO pools (id, body) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                &[pool.into(), to_json(p)?.as_str().into()],
            )
        }
        Entity::Client(c) => exec(
            conn,
            "INSERT INTO clients (pool, id, body) VALUES (?1, ?2, ?3) \
             ON CONFLICT (pool, id) DO UPDATE SET body = excluded.body",
            &[pool.into(), c.id.as_str().into(), to_json(c)?.as_str().into()],
        ),
        Entity::User(u) => put_user(conn, pool, u),
        Entity::Group(g) => exec(
            conn,
            "INSERT INTO groups (pool, name, body) VALUES (?1, ?2, ?3) \
             ON CONFLICT (pool, name) DO UPDATE SET body = excluded.body",
            &[pool.into(), g.name.as_str().into(), to_json(g)?.as_str().into()],
        ),
        Entity::Membership(m) => exec(
            conn,
            "INSERT INTO members (pool, grp, ukey) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            &[pool.into(), m.group.as_str().into(), m.user.as_str().into()],
        ),
        Entity::Keys(k) => {
            conn.keys_written(pool);
            exec(
            conn,
            "INSERT INTO pool_keys (pool, body) VALUES (?1, ?2) ON CONFLICT (pool) DO UPDATE SET body = excluded.body",
            &[pool.into(), to_json(k)?.as_str().into()],
        )
        }
        Entity::Domain(d) => exec(
            conn,
            "INSERT INTO domains (domain, pool, body) VALUES (?1, ?2, ?3) \
             ON CONFLICT (domain) DO UPDATE SET pool = excluded.pool, body = excluded.body",
            &[d.domain.as_str().into(), pool.into(), to_json(d)?.as_str().into()],
        ),
        Entity::ResourceServer(r) => exec(
            conn,
            "INSERT INTO resource_servers (pool, identifier, body) VALUES (?1, ?2, ?3) \
             ON CONFLICT (pool, identifier) DO UPDATE SET body = excluded.body",
            &[pool.into(), r.identifier.as_str().into(), to_json(r)?.as_str().into()],
        ),
        Entity::UiCustomization(u) => exec(
            conn,
            "INSERT INTO ui_customizations (pool, client, body) VALUES (?1, ?2, ?3) \
             ON CONFLICT (pool, client) DO UPDATE SET body = excluded.body",
            &[pool.into(), u.client.as_str().into(), to_json(u)?.as_str().into()],
        ),
        Entity::Device(d) => exec(
            conn,
            "INSERT INTO devices (pool, ukey, dkey, body) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (pool, ukey, dkey) DO UPDATE SET body = excluded.body",
            &[pool.into(), d.user.as_str().into(), d.key.as_str().into(), to_json(d)?.as_str().into()],
        ),
        Entity::ImportJob(j) => exec(
            conn,
            "INSERT INTO import_jobs (pool, id, status, body) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (pool, id) DO UPDATE SET status = excluded.status, body = excluded.body",
            &[pool.into(), j.id.as_str().into(), j.status.as_str().into(), to_json(j)?.as_str().into()],
        ),
    }
}

/// Remove the rows at `key`, with the cascades the change format defines.
fn delete_key(conn: &(impl Sql + ?Sized), pool: &str, key: &EntityKey) -> Result<()> {
    match key {
        EntityKey::Pool => delete_pool_rows(conn, pool),
        EntityKey::Client { id } => {
            exec(conn, "DELETE FROM clients WHERE pool = ?1 AND id = ?2", &[pool.into(), id.as_str().into()])
        }
        EntityKey::User { key } => {
            let k = key.as_str();
            exec(conn, "DELETE FROM users WHERE pool = ?1 AND ukey = ?2", &[pool.into(), k.into()])?;
            exec(conn, "DELETE FROM aliases WHERE pool = ?1 AND ukey = ?2", &[pool.into(), k.into()])?;
            exec(conn, "DELETE FROM members WHERE pool = ?1 AND ukey = ?2", &[pool.into(), k.into()])?;
            exec(conn, "DELETE FROM devices WHERE pool = ?1 AND ukey = ?2", &[pool.into(), k.into()])
        }
        EntityKey::Group { name } => {
            let n = name.as_str();
            exec(conn, "DELETE FROM groups WHERE pool = ?1 AND name = ?2", &[pool.into(), n.into()])?;
            exec(conn, "DELETE FROM members WHERE pool = ?1 AND grp = ?2", &[pool.into(), n.into()])
        }
        EntityKey::Membership { group, user } => exec(
            conn,
            "DELETE FROM members WHERE pool = ?1 AND grp = ?2 AND ukey = ?3",
            &[pool.into(), group.as_str().into(), user.as_str().into()],
        ),
        EntityKey::Keys => {
            conn.keys_written(pool);
            exec(conn, "DELETE FROM pool_keys WHERE pool = ?1", &[pool.into()])
        }
        EntityKey::Domain { name } => {
            exec(conn, "DELETE FROM domains WHERE pool = ?1 AND domain = ?2", &[pool.into(), name.into()])
        }
        EntityKey::ResourceServer { identifier } => exec(
            conn,
            "DELETE FROM resource_servers WHERE pool = ?1 AND identifier = ?2",
            &[pool.into(), identifier.into()],
        ),
        EntityKey::UiCustomization { client } => {
            exec(conn, "DELETE FROM ui_customizations WHERE pool = ?1 AND client = ?2", &[pool.into(), client.into()])
        }
        EntityKey::Device { user, key } => exec(
            conn,
            "DELETE FROM devices WHERE pool = ?1 AND ukey = ?2 AND dkey = ?3",
            &[pool.into(), user.as_str().into(), key.as_str().into()],
        ),
        EntityKey::ImportJob { id } => {
            exec(conn, "DELETE FROM import_chunks WHERE pool = ?1 AND job = ?2", &[pool.into(), id.as_str().into()])?;
            exec(conn, "DELETE FROM import_jobs WHERE pool = ?1 AND id = ?2", &[pool.into(), id.as_str().into()])
        }
    }
}

/// Remove every data row of a pool (its log and head stay).
pub fn delete_pool_rows(conn: &(impl Sql + ?Sized), pool: &str) -> Result<()> {
    conn.pool_written(pool);
    conn.keys_written(pool);
    exec(conn, "DELETE FROM pools WHERE id = ?1", &[pool.into()])?;
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
        "devices",
        "import_jobs",
        "import_chunks",
    ] {
        exec(conn, &format!("DELETE FROM {table} WHERE pool = ?1"), &[pool.into()])?;
    }
    Ok(())
}

fn put_user(conn: &(impl Sql + ?Sized), pool: &str, u: &User) -> Result<()> {
    let a = |name: &str| Arg::OptText(u.attributes.get(name).map(String::as_str));
    let body = to_json(u)?;
    exec(
        conn,
        "INSERT INTO users (pool, ukey, sub, username, status, enabled, email, \
         phone_number, name, given_name, family_name, preferred_username, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
         ON CONFLICT (pool, ukey) DO UPDATE SET sub = excluded.sub, username = excluded.username, \
         status = excluded.status, enabled = excluded.enabled, email = excluded.email, \
         phone_number = excluded.phone_number, name = excluded.name, given_name = excluded.given_name, \
         family_name = excluded.family_name, preferred_username = excluded.preferred_username, \
         body = excluded.body",
        &[
            pool.into(),
            u.key.as_str().into(),
            u.sub.as_str().into(),
            u.username.as_str().into(),
            u.status.as_str().into(),
            i64::from(u.enabled).into(),
            a("email"),
            a("phone_number"),
            a("name"),
            a("given_name"),
            a("family_name"),
            a("preferred_username"),
            body.as_str().into(),
        ],
    )?;
    let k = u.key.as_str();
    exec(conn, "DELETE FROM aliases WHERE pool = ?1 AND ukey = ?2", &[pool.into(), k.into()])?;
    for alias in &u.aliases {
        exec(
            conn,
            "INSERT INTO aliases (pool, alias, ukey) VALUES (?1, ?2, ?3)",
            &[pool.into(), alias.as_str().into(), k.into()],
        )?;
    }
    Ok(())
}

/// Append `change` to its pool's log and advance the pool's head.
pub fn append(conn: &(impl Sql + ?Sized), change: &Change) -> Result<()> {
    let p = change.pool.as_str();
    exec(
        conn,
        "INSERT INTO changes (pool, seq, body) VALUES (?1, ?2, ?3)",
        &[p.into(), (change.seq.0 as i64).into(), to_json(change)?.as_str().into()],
    )?;
    set_head(conn, p, change.seq.0 as i64, change.epoch.0 as i64)
}

/// Set the pool's log head.
pub fn set_head(conn: &(impl Sql + ?Sized), pool: &str, seq: i64, epoch: i64) -> Result<()> {
    if conn.keep_head(pool, seq, epoch) {
        return Ok(());
    }
    write_head(conn, pool, seq, epoch)
}

/// Write the pool's log head row.
pub(crate) fn write_head(conn: &(impl Sql + ?Sized), pool: &str, seq: i64, epoch: i64) -> Result<()> {
    exec(
        conn,
        "INSERT INTO log_head (pool, seq, epoch) VALUES (?1, ?2, ?3) \
         ON CONFLICT (pool) DO UPDATE SET seq = excluded.seq, epoch = excluded.epoch",
        &[pool.into(), seq.into(), epoch.into()],
    )
}

/// Row writes need no answer: deferred, so a backend can pipeline them.
fn exec(conn: &(impl Sql + ?Sized), sql: &str, args: &[Arg<'_>]) -> Result<()> {
    conn.defer(sql, args)
}

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(Error::internal)
}
