//! Planner statistics for tables that grow fast. PostgreSQL plans a query from its tables'
//! statistics, which autovacuum refreshes at most once a minute, after a tenth of a table
//! changed. A table that grows from empty meanwhile has none, and its queries are planned as
//! if `pool = $1` picked out one row: then an index that leads with `pool` alone looks as
//! good as the primary key, and `SELECT … WHERE pool = $1 AND ukey = $2` may walk every user
//! of the pool (seen: a third of a fresh pool's look-ups did, through `users_by_email`, each
//! plan cached by its connection for good). So every node checks every second for
//! Janus's tables that changed by more than a tenth (and [`MIN_CHANGED`] rows) since their
//! last analysis, and runs `ANALYZE` on them — the usual advice after a bulk load, applied
//! as the load happens. New statistics invalidate the plans every session cached, so all
//! nodes re-plan. Two nodes that check at once analyze twice, which only costs time.

use std::time::Duration;

use tokio_postgres::{Config, NoTls};

use super::pool::Pool;

/// How often a node checks.
const EVERY: Duration = Duration::from_secs(1);

/// Rows a table must have changed by, at least, before it is analyzed again.
const MIN_CHANGED: i64 = 500;

/// Tables analyzed together need to be named; these are the ones that grow with use.
const TABLES: &[&str] = &["users", "aliases", "members", "changes", "groups", "clients", "local_marks"];

/// The checking task; stops when dropped.
pub(crate) struct Analyzer(tokio::task::JoinHandle<()>);

impl Analyzer {
    pub(crate) fn start(pool: &Pool) -> Self {
        Self(pool.rt.handle().spawn(run(pool.config().clone())))
    }
}

impl Drop for Analyzer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The tables to analyze now.
const STALE: &str = "SELECT s.relname::text FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
     WHERE s.schemaname = current_schema() AND s.relname = ANY($1::text[]) \
     AND s.n_mod_since_analyze >= greatest($2::bigint, 0.1 * greatest(c.reltuples, 0))";

async fn run(config: Config) {
    let tables: Vec<String> = TABLES.iter().map(|t| (*t).to_owned()).collect();
    loop {
        tokio::time::sleep(EVERY).await;
        let Ok((client, connection)) = config.connect(NoTls).await else { continue };
        let io = tokio::spawn(connection);
        loop {
            let stale = match client.query(STALE, &[&tables, &MIN_CHANGED]).await {
                Ok(rows) => rows.iter().filter_map(|r| r.try_get::<_, String>(0).ok()).collect::<Vec<_>>(),
                Err(e) => {
                    tracing::debug!(error = %e, "statistics check failed");
                    break;
                }
            };
            if !stale.is_empty() {
                // The names come from the constant list above, never from input.
                let sql = format!("SET lock_timeout = '1s'; ANALYZE {}", stale.join(", "));
                match client.batch_execute(&sql).await {
                    Ok(()) => tracing::debug!(tables = %stale.join(","), "analyzed"),
                    Err(e) => tracing::debug!(error = %e, "ANALYZE failed"),
                }
            }
            tokio::time::sleep(EVERY).await;
        }
        io.abort();
    }
}
