//! The write side of the SQL backends: stamping changes with the pool's next `seq`, applying
//! changes from elsewhere, snapshots and log maintenance — once, for both engines.
//!
//! Gap-freedom: every method here names its pool first, and [`Sql::touch`] then holds the
//! pool's write lock until the transaction ends (SQLite: the single writer; PostgreSQL: a
//! transaction-scoped advisory lock). `seq` N+1 is therefore assigned only after the
//! transaction that wrote N has committed or rolled back, so commit order is `seq` order and
//! a reader that sees N+1 also sees N: the log never shows a hole that fills in later.
//! (On PostgreSQL, requests that share a transaction by group commit take turns inside it
//! under that one lock: their `seq`s follow their turns and become visible at one commit.)

use janus_types::{Change, Entity, EntityKey, Epoch, Error, PoolId, Result, Seq, CHANGE_FORMAT};

use super::{rows, SqlWrite};
use crate::{Read, Subscription, Write};

fn log<C: SqlWrite + Read>(tx: &C, pool: &PoolId, key: EntityKey, state: Option<Entity>) -> Result<Seq> {
    let (head, epoch) = tx.log_head(pool)?;
    let change = Change {
        v: CHANGE_FORMAT,
        pool: pool.clone(),
        seq: Seq(head.0 + 1),
        epoch: if epoch.0 == 0 { Epoch(1) } else { epoch },
        at_ms: tx.now_ms(),
        key,
        state,
    };
    rows::apply(tx, &change)?;
    rows::append(tx, &change)?;
    tx.logged(pool.as_str());
    Ok(change.seq)
}

impl<C: SqlWrite> Write for C {
    fn put(&mut self, pool: &PoolId, entity: Entity) -> Result<Seq> {
        log(self, pool, entity.key(), Some(entity))
    }

    fn delete(&mut self, pool: &PoolId, key: EntityKey) -> Result<Seq> {
        log(self, pool, key, None)
    }

    fn apply(&mut self, change: &Change) -> Result<bool> {
        let (head, _) = self.log_head(&change.pool)?;
        if change.seq <= head {
            return Ok(false);
        }
        if change.seq.0 != head.0 + 1 {
            return Err(Error::internal(anyhow::anyhow!(
                "change log gap for {}: head {} but got {}",
                change.pool,
                head,
                change.seq
            )));
        }
        rows::apply(self, change)?;
        rows::append(self, change)?;
        self.logged(change.pool.as_str());
        Ok(true)
    }

    fn load_snapshot(
        &mut self,
        pool: &PoolId,
        seq: Seq,
        epoch: Epoch,
        entities: &mut dyn Iterator<Item = Result<Entity>>,
    ) -> Result<u64> {
        self.touch(pool.as_str())?;
        rows::delete_pool_rows(self, pool.as_str())?;
        let mut n = 0;
        for e in entities {
            rows::put_entity(self, pool.as_str(), &e?)?;
            n += 1;
        }
        self.reset_log(pool, seq, epoch)?;
        Ok(n)
    }

    fn keep_history(&mut self, change: &Change) -> Result<()> {
        self.touch(change.pool.as_str())?;
        let body = serde_json::to_string(change).map_err(Error::internal)?;
        self.exec(
            "INSERT INTO changes (pool, seq, body) VALUES (?1, ?2, ?3)",
            &[change.pool.as_str().into(), (change.seq.0 as i64).into(), body.as_str().into()],
        )?;
        Ok(())
    }

    fn restore(&mut self, pool: &PoolId, entity: &Entity) -> Result<()> {
        self.touch(pool.as_str())?;
        rows::put_entity(self, pool.as_str(), entity)
    }

    fn reset_log(&mut self, pool: &PoolId, seq: Seq, epoch: Epoch) -> Result<()> {
        let p = pool.as_str();
        self.touch(p)?;
        self.exec("DELETE FROM changes WHERE pool = ?1", &[p.into()])?;
        rows::set_head(self, p, seq.0 as i64, epoch.0 as i64)?;
        self.logged(p);
        Ok(())
    }

    fn trim_log(&mut self, pool: &PoolId, below: Seq) -> Result<u64> {
        self.touch(pool.as_str())?;
        self.exec("DELETE FROM changes WHERE pool = ?1 AND seq < ?2", &[pool.as_str().into(), (below.0 as i64).into()])
    }

    fn advance_epoch(&mut self, pool: &PoolId) -> Result<Epoch> {
        let (seq, epoch) = self.log_head(pool)?;
        let next = Epoch(epoch.0.max(1) + 1);
        rows::set_head(self, pool.as_str(), seq.0 as i64, next.0 as i64)?;
        self.logged(pool.as_str());
        Ok(next)
    }

    fn set_subscription(&mut self, pool: &PoolId, sub: Option<&Subscription>) -> Result<()> {
        let p = pool.as_str();
        self.touch(p)?;
        match sub {
            Some(s) => self.exec(
                "INSERT INTO subscriptions (pool, source, url) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (pool) DO UPDATE SET source = excluded.source, url = excluded.url",
                &[p.into(), s.source.as_str().into(), s.url.as_str().into()],
            ),
            None => self.exec("DELETE FROM subscriptions WHERE pool = ?1", &[p.into()]),
        }?;
        Ok(())
    }

    fn raise_local_mark(&mut self, pool: &PoolId, user: &janus_types::UserKey, kind: &str, mark: i64) -> Result<bool> {
        let p = pool.as_str();
        self.touch(p)?;
        let changed = self.exec(
            "INSERT INTO local_marks (pool, ukey, kind, mark) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (pool, ukey, kind) DO UPDATE SET mark = excluded.mark WHERE excluded.mark > local_marks.mark",
            &[p.into(), user.as_str().into(), kind.into(), mark.into()],
        )?;
        Ok(changed > 0)
    }

    fn put_import_chunk(&mut self, pool: &PoolId, job: &str, n: u32, body: &str) -> Result<()> {
        let p = pool.as_str();
        self.touch(p)?;
        self.exec(
            "INSERT INTO import_chunks (pool, job, n, body) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (pool, job, n) DO UPDATE SET body = excluded.body",
            &[p.into(), job.into(), i64::from(n).into(), body.into()],
        )?;
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        self.finish()
    }
}
