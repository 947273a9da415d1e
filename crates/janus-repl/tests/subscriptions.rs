//! A store that cannot answer while the puller checks its subscription (issue 15): the puller
//! retries with backoff and keeps replicating once the store answers again — it used to take
//! the error for "not subscribed" and stop for good.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use janus_repl::{Peers, Replicator};
use janus_store::{Lease, Read, Store, Subscription, Write};
use janus_testkit::{Backend, WorldBuilder};
use janus_types::{Error, PoolId, Result};

/// The store, whose reads fail while `failing` is set.
struct Flaky {
    inner: Arc<dyn Store>,
    failing: AtomicBool,
}

impl Store for Flaky {
    fn read(&self) -> Result<Box<dyn Read + '_>> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::Unavailable(anyhow::anyhow!("the database is restarting")));
        }
        self.inner.read()
    }
    fn write(&self, now_ms: i64) -> Result<Box<dyn Write + '_>> {
        self.inner.write(now_ms)
    }
    fn shutdown(&self) -> Result<()> {
        self.inner.shutdown()
    }
    fn wait_commit(&self, seen: u64, timeout: Duration) -> u64 {
        self.inner.wait_commit(seen, timeout)
    }
    fn try_lease(&self, name: &str) -> Result<Option<Box<dyn Lease>>> {
        self.inner.try_lease(name)
    }
    fn region_doc(&self, name: &str) -> Result<Option<(u64, String)>> {
        self.inner.region_doc(name)
    }
    fn region_doc_version(&self, name: &str) -> Result<Option<u64>> {
        self.inner.region_doc_version(name)
    }
    fn put_region_doc(&self, name: &str, version: u64, body: &str) -> Result<bool> {
        self.inner.put_region_doc(name, version, body)
    }
}

#[test]
fn a_store_error_while_checking_the_subscription_does_not_stop_replication() {
    let w = WorldBuilder::new(Backend::Sqlite).region("us-west-2").rsa_bits(1024).build();
    let pool = PoolId::parse("us-east-1_abcdefghi").unwrap();
    // The primary is nowhere (a closed port): the puller holds the lease and retries pulling.
    let sub = Subscription { pool: pool.clone(), source: "us-east-1".into(), url: "http://127.0.0.1:9".into() };
    let mut tx = w.s.store.write(0).unwrap();
    tx.set_subscription(&pool, Some(&sub)).unwrap();
    tx.commit().unwrap();

    let flaky = Arc::new(Flaky { inner: w.s.store.clone(), failing: AtomicBool::new(true) });
    let mut services = w.s.clone();
    services.store = flaky.clone();
    let peers = Peers {
        advertise: "http://127.0.0.1:1".into(),
        urls: Default::default(),
        secret: Some("s".into()),
        spool: w.store.dir().to_owned(),
    };
    let replicator = Replicator::new(services, peers);
    replicator.start(sub);
    std::thread::sleep(Duration::from_millis(700)); // several checks fail meanwhile
    assert!(!replicator.pulls_here(&pool));
    flaky.failing.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !replicator.pulls_here(&pool) {
        assert!(Instant::now() < deadline, "the puller gave up while the store could not answer");
        std::thread::sleep(Duration::from_millis(20));
    }
    replicator.stop();
}
