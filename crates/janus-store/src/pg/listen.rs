//! Commit notifications between nodes: a write that appended to a change log sends
//! `NOTIFY janus_commits` in its transaction (delivered at commit), and every node keeps one
//! connection that listens and bumps its commit counter, so [`crate::Store::wait_commit`] —
//! the replication long-poll — wakes on any node's commit. When the listening connection is
//! lost the counter is bumped as well (waiters re-check rather than miss a commit), and it
//! reconnects every second until the database answers again. A notification that names a
//! pool (`pool:<id>`, sent by a transaction that changed its settings) makes the node forget
//! that pool in its settings cache, which is on only while this connection listens.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio_postgres::{AsyncMessage, Config, NoTls};

use super::pool::Pool;
use crate::sql::cache::PoolCache;

/// The notification channel.
pub(crate) const CHANNEL: &str = "janus_commits";

/// How a notification's payload names a pool whose settings changed.
pub(crate) const POOL_PAYLOAD: &str = "pool:";

type Commits = Arc<(Mutex<u64>, Condvar)>;

fn bump(commits: &Commits) {
    let (n, cv) = &**commits;
    *n.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    cv.notify_all();
}

/// The listening task; stops when dropped.
pub(crate) struct Listener(tokio::task::JoinHandle<()>);

impl Listener {
    pub(crate) fn start(pool: &Pool, commits: Commits, pools: Arc<PoolCache>) -> Self {
        let config = pool.config().clone();
        Self(pool.rt.handle().spawn(run(config, commits, pools)))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn run(config: Config, commits: Commits, pools: Arc<PoolCache>) {
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let woken = commits.clone();
                let cache = pools.clone();
                let messages = tokio::spawn(async move {
                    while let Some(m) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                        match m {
                            Ok(AsyncMessage::Notification(n)) => {
                                if let Some(pool) = n.payload().strip_prefix(POOL_PAYLOAD) {
                                    cache.forget(pool);
                                }
                                bump(&woken);
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::debug!(error = %e, "commit listener connection ended");
                                break;
                            }
                        }
                    }
                });
                match client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    Ok(()) => {
                        pools.set_live(true);
                        bump(&commits);
                        let _ = messages.await;
                        pools.set_live(false);
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "LISTEN failed");
                        messages.abort();
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "commit listener cannot connect"),
        }
        bump(&commits);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
