//! Every read of the SQLite backend, shared by read and write transactions (a write
//! transaction reads its own uncommitted rows). Entities are stored as JSON bodies; the
//! extra columns exist only to find and order them.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, OptionalExtension};
use serde::de::DeserializeOwned;

use janus_types::{
    Change, Client, ClientId, Domain, Entity, Epoch, Group, GroupName, Membership, Pool, PoolId, PoolKeys,
    ResourceServer, Result, Seq, Sub, UiCustomization, User, UserKey,
};

use super::{db_err, json_err, HasConn};
use crate::filter::{FilterAttr, FilterOp, UserFilter};
use crate::{Read, Subscription};

fn column(attr: FilterAttr) -> &'static str {
    match attr {
        FilterAttr::Username => "username",
        FilterAttr::Email => "email",
        FilterAttr::PhoneNumber => "phone_number",
        FilterAttr::Name => "name",
        FilterAttr::GivenName => "given_name",
        FilterAttr::FamilyName => "family_name",
        FilterAttr::PreferredUsername => "preferred_username",
        FilterAttr::UserStatus => "status",
        FilterAttr::Status => "enabled",
        FilterAttr::Sub => "sub",
    }
}

fn parse<T: DeserializeOwned>(body: String) -> Result<T> {
    serde_json::from_str(&body).map_err(json_err)
}

trait Queries {
    fn one<T: DeserializeOwned>(&self, sql: &str, p: impl rusqlite::Params) -> Result<Option<T>>;
    fn many<T: DeserializeOwned>(&self, sql: &str, p: impl rusqlite::Params) -> Result<Vec<T>>;
    /// Hand each row's body of `sql` (one `?1` = `pool`) to `f`, one at a time.
    fn each<T: DeserializeOwned>(&self, sql: &str, pool: &str, f: &mut dyn FnMut(T) -> Result<()>) -> Result<()>;
    /// A `count(*)` query with one `?1` = `pool`.
    fn count(&self, sql: &str, pool: &str) -> Result<u64>;
}

impl<C: HasConn> Queries for C {
    fn one<T: DeserializeOwned>(&self, sql: &str, p: impl rusqlite::Params) -> Result<Option<T>> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(db_err)?;
        let body: Option<String> = stmt.query_row(p, |r| r.get(0)).optional().map_err(db_err)?;
        body.map(parse).transpose()
    }

    fn many<T: DeserializeOwned>(&self, sql: &str, p: impl rusqlite::Params) -> Result<Vec<T>> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(db_err)?;
        let rows = stmt.query_map(p, |r| r.get::<_, String>(0)).map_err(db_err)?;
        rows.map(|r| r.map_err(db_err).and_then(parse)).collect()
    }

    fn each<T: DeserializeOwned>(&self, sql: &str, pool: &str, f: &mut dyn FnMut(T) -> Result<()>) -> Result<()> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(db_err)?;
        let mut rows = stmt.query(params![pool]).map_err(db_err)?;
        while let Some(row) = rows.next().map_err(db_err)? {
            f(parse(row.get::<_, String>(0).map_err(db_err)?)?)?;
        }
        Ok(())
    }

    fn count(&self, sql: &str, pool: &str) -> Result<u64> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(db_err)?;
        let n: i64 = stmt.query_row(params![pool], |r| r.get(0)).map_err(db_err)?;
        Ok(n as u64)
    }
}

fn after_key(after: Option<&str>) -> &str {
    after.unwrap_or("")
}

impl<C: HasConn> Read for C {
    fn pool(&self, id: &PoolId) -> Result<Option<Pool>> {
        self.one("SELECT body FROM pools WHERE id = ?1", params![id.as_str()])
    }

    fn pools(&self, after: Option<&PoolId>, limit: usize) -> Result<Vec<Pool>> {
        self.many(
            "SELECT body FROM pools WHERE id > ?1 ORDER BY id LIMIT ?2",
            params![after_key(after.map(PoolId::as_str)), limit as i64],
        )
    }

    fn client(&self, pool: &PoolId, id: &ClientId) -> Result<Option<Client>> {
        self.one("SELECT body FROM clients WHERE pool = ?1 AND id = ?2", params![pool.as_str(), id.as_str()])
    }

    fn client_by_id(&self, id: &ClientId) -> Result<Option<(PoolId, Client)>> {
        let mut stmt = self.conn().prepare_cached("SELECT pool, body FROM clients WHERE id = ?1").map_err(db_err)?;
        let row: Option<(String, String)> =
            stmt.query_row(params![id.as_str()], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(db_err)?;
        match row {
            Some((pool, body)) => {
                let pool = PoolId::parse(&pool).map_err(|_| db_err(rusqlite::Error::InvalidQuery))?;
                Ok(Some((pool, parse(body)?)))
            }
            None => Ok(None),
        }
    }

    fn clients(&self, pool: &PoolId, after: Option<&ClientId>, limit: usize) -> Result<Vec<Client>> {
        self.many(
            "SELECT body FROM clients WHERE pool = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            params![pool.as_str(), after_key(after.map(ClientId::as_str)), limit as i64],
        )
    }

    fn user(&self, pool: &PoolId, key: &UserKey) -> Result<Option<User>> {
        self.one("SELECT body FROM users WHERE pool = ?1 AND ukey = ?2", params![pool.as_str(), key.as_str()])
    }

    fn user_by_alias(&self, pool: &PoolId, alias: &str) -> Result<Option<User>> {
        self.one(
            "SELECT u.body FROM aliases a JOIN users u ON u.pool = a.pool AND u.ukey = a.ukey \
             WHERE a.pool = ?1 AND a.alias = ?2",
            params![pool.as_str(), alias],
        )
    }

    fn user_by_sub(&self, pool: &PoolId, sub: &Sub) -> Result<Option<User>> {
        self.one("SELECT body FROM users WHERE pool = ?1 AND sub = ?2", params![pool.as_str(), sub.as_str()])
    }

    fn users(
        &self,
        pool: &PoolId,
        filter: Option<&UserFilter>,
        after: Option<&UserKey>,
        limit: usize,
    ) -> Result<Vec<User>> {
        let mut sql = String::from("SELECT body FROM users WHERE pool = ?1 AND ukey > ?2");
        let mut args: Vec<SqlValue> =
            vec![pool.as_str().to_owned().into(), after_key(after.map(UserKey::as_str)).to_owned().into()];
        if let Some(f) = filter {
            let col = column(f.attr);
            if f.attr == FilterAttr::Status {
                sql.push_str(" AND enabled = ?3");
                args.push(i64::from(f.value == "Enabled").into());
            } else if f.op == FilterOp::Equals {
                sql.push_str(&format!(" AND {col} = ?3"));
                args.push(f.value.clone().into());
            } else {
                sql.push_str(&format!(" AND substr({col}, 1, length(?3)) = ?3"));
                args.push(f.value.clone().into());
            }
        }
        sql.push_str(&format!(" ORDER BY ukey LIMIT {limit}"));
        self.many(&sql, params_from_iter(args))
    }

    fn user_count(&self, pool: &PoolId) -> Result<u64> {
        let mut stmt = self.conn().prepare_cached("SELECT count(*) FROM users WHERE pool = ?1").map_err(db_err)?;
        let n: i64 = stmt.query_row(params![pool.as_str()], |r| r.get(0)).map_err(db_err)?;
        Ok(n as u64)
    }

    fn group(&self, pool: &PoolId, name: &GroupName) -> Result<Option<Group>> {
        self.one("SELECT body FROM groups WHERE pool = ?1 AND name = ?2", params![pool.as_str(), name.as_str()])
    }

    fn groups(&self, pool: &PoolId, after: Option<&GroupName>, limit: usize) -> Result<Vec<Group>> {
        self.many(
            "SELECT body FROM groups WHERE pool = ?1 AND name > ?2 ORDER BY name LIMIT ?3",
            params![pool.as_str(), after_key(after.map(GroupName::as_str)), limit as i64],
        )
    }

    fn groups_of_user(
        &self,
        pool: &PoolId,
        user: &UserKey,
        after: Option<&GroupName>,
        limit: usize,
    ) -> Result<Vec<Group>> {
        self.many(
            "SELECT g.body FROM members m JOIN groups g ON g.pool = m.pool AND g.name = m.grp \
             WHERE m.pool = ?1 AND m.ukey = ?2 AND m.grp > ?3 ORDER BY m.grp LIMIT ?4",
            params![pool.as_str(), user.as_str(), after_key(after.map(GroupName::as_str)), limit as i64],
        )
    }

    fn users_in_group(
        &self,
        pool: &PoolId,
        group: &GroupName,
        after: Option<&UserKey>,
        limit: usize,
    ) -> Result<Vec<User>> {
        self.many(
            "SELECT u.body FROM members m JOIN users u ON u.pool = m.pool AND u.ukey = m.ukey \
             WHERE m.pool = ?1 AND m.grp = ?2 AND m.ukey > ?3 ORDER BY m.ukey LIMIT ?4",
            params![pool.as_str(), group.as_str(), after_key(after.map(UserKey::as_str)), limit as i64],
        )
    }

    fn log_head(&self, pool: &PoolId) -> Result<(Seq, Epoch)> {
        let mut stmt = self.conn().prepare_cached("SELECT seq, epoch FROM log_head WHERE pool = ?1").map_err(db_err)?;
        let row: Option<(i64, i64)> =
            stmt.query_row(params![pool.as_str()], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(db_err)?;
        let (s, e) = row.unwrap_or((0, 0));
        Ok((Seq(s as u64), Epoch(e as u64)))
    }

    fn changes(&self, pool: &PoolId, after: Seq, limit: usize) -> Result<Vec<Change>> {
        self.many(
            "SELECT body FROM changes WHERE pool = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            params![pool.as_str(), after.0 as i64, limit as i64],
        )
    }

    fn keys(&self, pool: &PoolId) -> Result<Option<PoolKeys>> {
        self.one("SELECT body FROM pool_keys WHERE pool = ?1", params![pool.as_str()])
    }

    fn domain(&self, name: &str) -> Result<Option<(PoolId, Domain)>> {
        let mut stmt =
            self.conn().prepare_cached("SELECT pool, body FROM domains WHERE domain = ?1").map_err(db_err)?;
        let row: Option<(String, String)> =
            stmt.query_row(params![name], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(db_err)?;
        match row {
            Some((pool, body)) => {
                let pool = PoolId::parse(&pool).map_err(|_| db_err(rusqlite::Error::InvalidQuery))?;
                Ok(Some((pool, parse(body)?)))
            }
            None => Ok(None),
        }
    }

    fn domains(&self, pool: &PoolId) -> Result<Vec<Domain>> {
        self.many("SELECT body FROM domains WHERE pool = ?1 ORDER BY domain", params![pool.as_str()])
    }

    fn resource_server(&self, pool: &PoolId, identifier: &str) -> Result<Option<ResourceServer>> {
        self.one(
            "SELECT body FROM resource_servers WHERE pool = ?1 AND identifier = ?2",
            params![pool.as_str(), identifier],
        )
    }

    fn resource_servers(&self, pool: &PoolId, after: Option<&str>, limit: usize) -> Result<Vec<ResourceServer>> {
        self.many(
            "SELECT body FROM resource_servers WHERE pool = ?1 AND identifier > ?2 ORDER BY identifier LIMIT ?3",
            params![pool.as_str(), after_key(after), limit as i64],
        )
    }

    fn ui_customization(&self, pool: &PoolId, client: &str) -> Result<Option<UiCustomization>> {
        self.one("SELECT body FROM ui_customizations WHERE pool = ?1 AND client = ?2", params![pool.as_str(), client])
    }

    fn subscriptions(&self) -> Result<Vec<Subscription>> {
        let mut stmt =
            self.conn().prepare_cached("SELECT pool, source, url FROM subscriptions ORDER BY pool").map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .map_err(db_err)?;
        let mut out = Vec::new();
        for row in rows {
            let (pool, source, url) = row.map_err(db_err)?;
            let pool = PoolId::parse(&pool).map_err(|_| db_err(rusqlite::Error::InvalidQuery))?;
            out.push(Subscription { pool, source, url });
        }
        Ok(out)
    }

    fn local_mark(&self, pool: &PoolId, user: &UserKey, kind: &str) -> Result<i64> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT mark FROM local_marks WHERE pool = ?1 AND ukey = ?2 AND kind = ?3")
            .map_err(db_err)?;
        let mut rows = stmt.query(params![pool.as_str(), user.as_str(), kind]).map_err(db_err)?;
        match rows.next().map_err(db_err)? {
            Some(row) => row.get(0).map_err(db_err),
            None => Ok(0),
        }
    }

    fn for_each_entity(&self, pool: &PoolId, f: &mut dyn FnMut(Entity) -> Result<()>) -> Result<u64> {
        let p = pool.as_str();
        let mut n = 0u64;
        let mut hand = |e: Entity| {
            n += 1;
            f(e)
        };
        if let Some(pool) = self.pool(pool)? {
            hand(Entity::Pool(pool))?;
        }
        if let Some(keys) = self.keys(pool)? {
            hand(Entity::Keys(keys))?;
        }
        self.each("SELECT body FROM clients WHERE pool = ?1 ORDER BY id", p, &mut |c| hand(Entity::Client(c)))?;
        self.each("SELECT body FROM users WHERE pool = ?1 ORDER BY ukey", p, &mut |u| hand(Entity::User(u)))?;
        self.each("SELECT body FROM groups WHERE pool = ?1 ORDER BY name", p, &mut |g| hand(Entity::Group(g)))?;
        self.each("SELECT body FROM domains WHERE pool = ?1 ORDER BY domain", p, &mut |d| hand(Entity::Domain(d)))?;
        self.each("SELECT body FROM resource_servers WHERE pool = ?1 ORDER BY identifier", p, &mut |r| {
            hand(Entity::ResourceServer(r))
        })?;
        self.each("SELECT body FROM ui_customizations WHERE pool = ?1 ORDER BY client", p, &mut |u| {
            hand(Entity::UiCustomization(u))
        })?;
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT grp, ukey FROM members WHERE pool = ?1 ORDER BY grp, ukey")
            .map_err(db_err)?;
        let mut rows = stmt.query(params![p]).map_err(db_err)?;
        while let Some(row) = rows.next().map_err(db_err)? {
            let (g, u): (String, String) = (row.get(0).map_err(db_err)?, row.get(1).map_err(db_err)?);
            let group = GroupName::parse(&g).map_err(|_| db_err(rusqlite::Error::InvalidQuery))?;
            hand(Entity::Membership(Membership { group, user: UserKey::from_stored(u) }))?;
        }
        Ok(n)
    }

    fn entity_count(&self, pool: &PoolId) -> Result<u64> {
        let p = pool.as_str();
        let mut n = 0u64;
        for table in ["pools WHERE id", "pool_keys WHERE pool", "clients WHERE pool", "users WHERE pool"] {
            n += self.count(&format!("SELECT count(*) FROM {table} = ?1"), p)?;
        }
        for table in ["groups", "members", "domains", "resource_servers", "ui_customizations"] {
            n += self.count(&format!("SELECT count(*) FROM {table} WHERE pool = ?1"), p)?;
        }
        Ok(n)
    }
}
