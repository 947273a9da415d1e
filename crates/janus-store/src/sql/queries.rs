//! Every read of the SQL backends, shared by read and write transactions (a write
//! transaction reads its own uncommitted rows). Entities are stored as JSON bodies; the
//! extra columns exist only to find and order them.

use serde::de::DeserializeOwned;
use std::sync::Arc;

use super::cache::HeadCache;

use janus_types::{
    Change, Client, ClientId, Device, Domain, Entity, Epoch, Error, Group, GroupName, ImportJob, Membership, Pool,
    PoolId, PoolKeys, ResourceServer, Result, Seq, Sub, UiCustomization, User, UserKey,
};

use super::{Arg, Sql};
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

fn parse<T: DeserializeOwned>(body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(Error::internal)
}

fn pool_id(s: &str) -> Result<PoolId> {
    PoolId::parse(s).map_err(|_| Error::internal(anyhow::anyhow!("stored pool id {s:?} does not parse")))
}

/// Typed helpers over [`Sql`]: bodies in column 0.
trait Queries: Sql {
    fn one<T: DeserializeOwned>(&self, sql: &str, args: &[Arg<'_>]) -> Result<Option<T>> {
        let mut out = None;
        self.query(sql, args, &mut |r| {
            out = Some(parse(&r.text(0)?)?);
            Ok(())
        })?;
        Ok(out)
    }

    fn many<T: DeserializeOwned>(&self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query(sql, args, &mut |r| {
            out.push(parse(&r.text(0)?)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Hand each row's body of `sql` (one `?1` = `pool`) to `f`, one at a time.
    fn each<T: DeserializeOwned>(&self, sql: &str, pool: &str, f: &mut dyn FnMut(T) -> Result<()>) -> Result<()> {
        self.stream(sql, &[pool.into()], &mut |r| f(parse(&r.text(0)?)?))
    }

    /// A `count(*)` query with one `?1` = `pool`.
    fn count(&self, sql: &str, pool: &str) -> Result<u64> {
        let mut n = 0;
        self.query(sql, &[pool.into()], &mut |r| {
            n = r.int(0)?;
            Ok(())
        })?;
        Ok(n as u64)
    }

    /// A `(pool, body)` row, for lookups by a region-wide name.
    fn with_pool<T: DeserializeOwned>(&self, sql: &str, key: &str) -> Result<Option<(PoolId, T)>> {
        let mut out = None;
        self.query(sql, &[key.into()], &mut |r| {
            out = Some((pool_id(&r.text(0)?)?, parse(&r.text(1)?)?));
            Ok(())
        })?;
        Ok(out)
    }

    /// The pool's id as text, after [`Sql::touch`] (the pool's lock in a write transaction).
    fn p<'a>(&self, pool: &'a PoolId) -> Result<&'a str> {
        self.touch(pool.as_str())?;
        Ok(pool.as_str())
    }
}

impl<C: Sql + ?Sized> Queries for C {}

fn after_key(after: Option<&str>) -> &str {
    after.unwrap_or("")
}

const KEYS: &str = "SELECT body FROM pool_keys WHERE pool = ?1";

/// `pool`'s row that `sql` (one `?1` = the pool) reads, through `cache`: the kept value when
/// this transaction's log head is the one it was read at, else read, parsed and kept
/// ([`HeadCache`], the embedded store's caches).
fn by_head<C: Sql, V: DeserializeOwned>(
    c: &C,
    cache: &HeadCache<V>,
    generation: u64,
    pool: &PoolId,
    sql: &str,
) -> Result<Option<Arc<V>>> {
    let (seq, epoch) = c.log_head(pool)?;
    let head = (seq.0 as i64, epoch.0 as i64);
    if let Some(hit) = cache.get(pool.as_str(), head) {
        return Ok(Some(hit));
    }
    let found = c.one::<V>(sql, &[c.p(pool)?.into()])?.map(Arc::new);
    if let Some(v) = &found {
        cache.put(generation, pool.as_str(), head, v.clone());
    }
    Ok(found)
}

impl<C: Sql> Read for C {
    fn pool(&self, id: &PoolId) -> Result<Option<Pool>> {
        let sql = "SELECT body FROM pools WHERE id = ?1";
        if let Some((caches, generation, _)) = self.head_caches() {
            return Ok(by_head(self, &caches.pools, generation, id, sql)?.map(|p| Pool::clone(&p)));
        }
        let cache = self.pool_cache();
        if let Some(hit) = cache.and_then(|(c, _)| c.get(id.as_str())) {
            return Ok(Some(Pool::clone(&hit)));
        }
        let found: Option<Pool> = self.one(sql, &[self.p(id)?.into()])?;
        if let (Some((c, generation)), Some(p)) = (cache, &found) {
            c.put(generation, id.as_str(), &Arc::new(p.clone()));
        }
        Ok(found)
    }

    fn pools(&self, after: Option<&PoolId>, limit: usize) -> Result<Vec<Pool>> {
        self.many(
            "SELECT body FROM pools WHERE id > ?1 ORDER BY id LIMIT ?2",
            &[after_key(after.map(PoolId::as_str)).into(), (limit as i64).into()],
        )
    }

    fn client(&self, pool: &PoolId, id: &ClientId) -> Result<Option<Client>> {
        self.one("SELECT body FROM clients WHERE pool = ?1 AND id = ?2", &[self.p(pool)?.into(), id.as_str().into()])
    }

    fn client_by_id(&self, id: &ClientId) -> Result<Option<(PoolId, Client)>> {
        self.with_pool("SELECT pool, body FROM clients WHERE id = ?1", id.as_str())
    }

    fn clients(&self, pool: &PoolId, after: Option<&ClientId>, limit: usize) -> Result<Vec<Client>> {
        self.many(
            "SELECT body FROM clients WHERE pool = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            &[self.p(pool)?.into(), after_key(after.map(ClientId::as_str)).into(), (limit as i64).into()],
        )
    }

    fn user(&self, pool: &PoolId, key: &UserKey) -> Result<Option<User>> {
        self.one("SELECT body FROM users WHERE pool = ?1 AND ukey = ?2", &[self.p(pool)?.into(), key.as_str().into()])
    }

    fn user_by_alias(&self, pool: &PoolId, alias: &str) -> Result<Option<User>> {
        self.one(
            "SELECT u.body FROM aliases a JOIN users u ON u.pool = a.pool AND u.ukey = a.ukey \
             WHERE a.pool = ?1 AND a.alias = ?2",
            &[self.p(pool)?.into(), alias.into()],
        )
    }

    fn user_by_sub(&self, pool: &PoolId, sub: &Sub) -> Result<Option<User>> {
        self.one("SELECT body FROM users WHERE pool = ?1 AND sub = ?2", &[self.p(pool)?.into(), sub.as_str().into()])
    }

    fn users(
        &self,
        pool: &PoolId,
        filter: Option<&UserFilter>,
        after: Option<&UserKey>,
        limit: usize,
    ) -> Result<Vec<User>> {
        let mut sql = String::from("SELECT body FROM users WHERE pool = ?1 AND ukey > ?2");
        let mut args: Vec<Arg<'_>> = vec![self.p(pool)?.into(), after_key(after.map(UserKey::as_str)).into()];
        if let Some(f) = filter {
            let col = column(f.attr);
            if f.attr == FilterAttr::Status {
                sql.push_str(" AND enabled = ?3");
                args.push(i64::from(f.value == "Enabled").into());
            } else if f.op == FilterOp::Equals {
                sql.push_str(&format!(" AND {col} = ?3"));
                args.push(f.value.as_str().into());
            } else {
                sql.push_str(&format!(" AND substr({col}, 1, length(CAST(?3 AS TEXT))) = ?3"));
                args.push(f.value.as_str().into());
            }
        }
        sql.push_str(&format!(" ORDER BY ukey LIMIT {limit}"));
        self.many(&sql, &args)
    }

    fn user_count(&self, pool: &PoolId) -> Result<u64> {
        self.count("SELECT count(*) FROM users WHERE pool = ?1", self.p(pool)?)
    }

    fn group(&self, pool: &PoolId, name: &GroupName) -> Result<Option<Group>> {
        self.one("SELECT body FROM groups WHERE pool = ?1 AND name = ?2", &[self.p(pool)?.into(), name.as_str().into()])
    }

    fn groups(&self, pool: &PoolId, after: Option<&GroupName>, limit: usize) -> Result<Vec<Group>> {
        self.many(
            "SELECT body FROM groups WHERE pool = ?1 AND name > ?2 ORDER BY name LIMIT ?3",
            &[self.p(pool)?.into(), after_key(after.map(GroupName::as_str)).into(), (limit as i64).into()],
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
            &[
                self.p(pool)?.into(),
                user.as_str().into(),
                after_key(after.map(GroupName::as_str)).into(),
                (limit as i64).into(),
            ],
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
            &[
                self.p(pool)?.into(),
                group.as_str().into(),
                after_key(after.map(UserKey::as_str)).into(),
                (limit as i64).into(),
            ],
        )
    }

    fn log_head(&self, pool: &PoolId) -> Result<(Seq, Epoch)> {
        let p = self.p(pool)?;
        let head = match self.known_head(p) {
            Some(known) => known,
            None => {
                let mut head = (0, 0);
                self.query(super::LOG_HEAD, &[p.into()], &mut |r| {
                    head = (r.int(0)?, r.int(1)?);
                    Ok(())
                })?;
                head
            }
        };
        Ok((Seq(head.0 as u64), Epoch(head.1 as u64)))
    }

    fn changes(&self, pool: &PoolId, after: Seq, limit: usize) -> Result<Vec<Change>> {
        self.many(
            "SELECT body FROM changes WHERE pool = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            &[self.p(pool)?.into(), (after.0 as i64).into(), (limit as i64).into()],
        )
    }

    fn keys(&self, pool: &PoolId) -> Result<Option<PoolKeys>> {
        match self.head_caches() {
            Some((caches, _, generation)) => {
                Ok(by_head(self, &caches.keys, generation, pool, KEYS)?.map(|k| PoolKeys::clone(&k)))
            }
            None => self.one(KEYS, &[self.p(pool)?.into()]),
        }
    }

    fn key_ids(&self, pool: &PoolId) -> Result<Option<Vec<String>>> {
        match self.head_caches() {
            Some((caches, _, generation)) => Ok(by_head(self, &caches.keys, generation, pool, KEYS)?.map(|k| k.kids())),
            None => Ok(self.keys(pool)?.map(|k| k.kids())),
        }
    }

    fn domain(&self, name: &str) -> Result<Option<(PoolId, Domain)>> {
        self.with_pool("SELECT pool, body FROM domains WHERE domain = ?1", name)
    }

    fn domains(&self, pool: &PoolId) -> Result<Vec<Domain>> {
        self.many("SELECT body FROM domains WHERE pool = ?1 ORDER BY domain", &[self.p(pool)?.into()])
    }

    fn resource_server(&self, pool: &PoolId, identifier: &str) -> Result<Option<ResourceServer>> {
        self.one(
            "SELECT body FROM resource_servers WHERE pool = ?1 AND identifier = ?2",
            &[self.p(pool)?.into(), identifier.into()],
        )
    }

    fn resource_servers(&self, pool: &PoolId, after: Option<&str>, limit: usize) -> Result<Vec<ResourceServer>> {
        self.many(
            "SELECT body FROM resource_servers WHERE pool = ?1 AND identifier > ?2 ORDER BY identifier LIMIT ?3",
            &[self.p(pool)?.into(), after_key(after).into(), (limit as i64).into()],
        )
    }

    fn ui_customization(&self, pool: &PoolId, client: &str) -> Result<Option<UiCustomization>> {
        self.one(
            "SELECT body FROM ui_customizations WHERE pool = ?1 AND client = ?2",
            &[self.p(pool)?.into(), client.into()],
        )
    }

    fn device(&self, pool: &PoolId, user: &UserKey, key: &str) -> Result<Option<Device>> {
        self.one(
            "SELECT body FROM devices WHERE pool = ?1 AND ukey = ?2 AND dkey = ?3",
            &[self.p(pool)?.into(), user.as_str().into(), key.into()],
        )
    }

    fn devices(&self, pool: &PoolId, user: &UserKey, after: Option<&str>, limit: usize) -> Result<Vec<Device>> {
        self.many(
            "SELECT body FROM devices WHERE pool = ?1 AND ukey = ?2 AND dkey > ?3 ORDER BY dkey LIMIT ?4",
            &[self.p(pool)?.into(), user.as_str().into(), after_key(after).into(), (limit as i64).into()],
        )
    }

    fn import_job(&self, pool: &PoolId, id: &str) -> Result<Option<ImportJob>> {
        self.one("SELECT body FROM import_jobs WHERE pool = ?1 AND id = ?2", &[self.p(pool)?.into(), id.into()])
    }

    fn import_jobs(&self, pool: &PoolId, before: Option<&str>, limit: usize) -> Result<Vec<ImportJob>> {
        let before = before.unwrap_or("\u{10FFFF}");
        self.many(
            "SELECT body FROM import_jobs WHERE pool = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
            &[self.p(pool)?.into(), before.into(), (limit as i64).into()],
        )
    }

    fn active_import_jobs(&self) -> Result<Vec<(PoolId, ImportJob)>> {
        let mut out = Vec::new();
        self.query(
            "SELECT pool, body FROM import_jobs WHERE status IN ('Pending', 'InProgress', 'Stopping') ORDER BY pool, id",
            &[],
            &mut |r| {
                let job = serde_json::from_str(&r.text(1)?).map_err(Error::internal)?;
                out.push((pool_id(&r.text(0)?)?, job));
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn import_chunk(&self, pool: &PoolId, job: &str, n: u32) -> Result<Option<String>> {
        let mut out = None;
        self.query(
            "SELECT body FROM import_chunks WHERE pool = ?1 AND job = ?2 AND n = ?3",
            &[self.p(pool)?.into(), job.into(), i64::from(n).into()],
            &mut |r| {
                out = Some(r.text(0)?);
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn subscriptions(&self) -> Result<Vec<Subscription>> {
        let mut out = Vec::new();
        self.query("SELECT pool, source, url FROM subscriptions ORDER BY pool", &[], &mut |r| {
            out.push(Subscription { pool: pool_id(&r.text(0)?)?, source: r.text(1)?, url: r.text(2)? });
            Ok(())
        })?;
        Ok(out)
    }

    fn local_mark(&self, pool: &PoolId, user: &UserKey, kind: &str) -> Result<i64> {
        let mut mark = 0;
        self.query(
            "SELECT mark FROM local_marks WHERE pool = ?1 AND ukey = ?2 AND kind = ?3",
            &[self.p(pool)?.into(), user.as_str().into(), kind.into()],
            &mut |r| {
                mark = r.int(0)?;
                Ok(())
            },
        )?;
        Ok(mark)
    }

    fn for_each_entity(&self, pool: &PoolId, f: &mut dyn FnMut(Entity) -> Result<()>) -> Result<u64> {
        let p = self.p(pool)?;
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
        self.stream("SELECT grp, ukey FROM members WHERE pool = ?1 ORDER BY grp, ukey", &[p.into()], &mut |r| {
            let g = r.text(0)?;
            let group = GroupName::parse(&g)
                .map_err(|_| Error::internal(anyhow::anyhow!("stored group name {g:?} does not parse")))?;
            hand(Entity::Membership(Membership { group, user: UserKey::from_stored(r.text(1)?) }))
        })?;
        self.each("SELECT body FROM devices WHERE pool = ?1 ORDER BY ukey, dkey", p, &mut |d| hand(Entity::Device(d)))?;
        self.each("SELECT body FROM import_jobs WHERE pool = ?1 ORDER BY id", p, &mut |j| hand(Entity::ImportJob(j)))?;
        Ok(n)
    }

    fn entity_count(&self, pool: &PoolId) -> Result<u64> {
        let p = self.p(pool)?;
        let mut n = 0u64;
        for table in ["pools WHERE id", "pool_keys WHERE pool", "clients WHERE pool", "users WHERE pool"] {
            n += self.count(&format!("SELECT count(*) FROM {table} = ?1"), p)?;
        }
        for table in ["groups", "members", "domains", "resource_servers", "ui_customizations", "devices", "import_jobs"]
        {
            n += self.count(&format!("SELECT count(*) FROM {table} WHERE pool = ?1"), p)?;
        }
        Ok(n)
    }
}
