//! Change-log retention on an injected clock: what is old and beyond the newest N goes, what
//! a recently heard-from replica still needs stays, and a replica asking for trimmed changes
//! is told so at once (the head runs ahead of an empty batch), which makes it re-copy.

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

use janus_core::groups::GroupInput;
use janus_core::pools::CreatePool;
use janus_repl::retention::Retention;
use janus_repl::wire::{self, Status};
use janus_repl::{Peers, Replicator};
use janus_testkit::{backends, Backend, WorldBuilder};
use janus_types::{GroupName, ManualClock, PoolId, Seq};

const MINUTE: i64 = 60_000;

/// A region's replicator on a test world (kept alive beside it).
fn region(backend: Backend, clock: Arc<ManualClock>) -> (Arc<Replicator>, janus_testkit::World) {
    let kit = WorldBuilder::new(backend).seed(7).rsa_bits(1024).clock(clock).build();
    let peers = Peers {
        advertise: "http://127.0.0.1:1".into(),
        urls: Default::default(),
        secret: None,
        spool: kit.store.dir().to_owned(),
    };
    (Replicator::new(kit.s.clone(), peers), kit)
}

/// One group per minute, `n` of them: one change each.
fn groups(r: &Replicator, clock: &ManualClock, pool: &PoolId, from: usize, n: usize) {
    for i in from..from + n {
        clock.advance(MINUTE);
        let input = GroupInput {
            user_pool_id: pool.clone(),
            group_name: GroupName::parse(&format!("g{i}")).unwrap(),
            description: None,
            role_arn: None,
            precedence: None,
        };
        r.services.create_group(input).unwrap();
    }
}

fn first_kept(r: &Replicator, pool: &PoolId) -> Seq {
    r.services.store.read().unwrap().changes(pool, Seq(0), 1).unwrap()[0].seq
}

#[test]
fn old_changes_beyond_the_newest_go_and_what_a_replica_needs_stays() {
    for backend in backends() {
        old_changes_go_on(backend);
    }
}

fn old_changes_go_on(backend: Backend) {
    let clock = Arc::new(ManualClock::at(1_700_000_000_000));
    let (r, _kit) = region(backend, clock.clone());
    let pool =
        r.services.create_pool(serde_json::from_value::<CreatePool>(json!({"PoolName": "p"})).unwrap()).unwrap().id;
    groups(&r, &clock, &pool, 0, 100);
    let (head, _) = r.services.store.read().unwrap().log_head(&pool).unwrap();
    let before = first_kept(&r, &pool);

    // Keep 30 minutes, at least 10 changes: the 30 newest groups survive (the age rule
    // keeps more than the count rule); 31 with the one exactly 30 minutes old.
    let keep = Retention { max_age: Duration::from_secs(30 * 60), min_changes: 10 };
    let dropped = r.trim_logs(keep).unwrap();
    let first = first_kept(&r, &pool);
    assert_eq!(first.0, head.0 - 30, "changes from the last 30 minutes (inclusive) are kept");
    assert_eq!(dropped, first.0 - before.0);
    assert_eq!(r.services.store.read().unwrap().log_head(&pool).unwrap().0, head, "the head stays");

    // The count rule wins when everything is old.
    clock.advance(24 * 60 * MINUTE);
    r.trim_logs(keep).unwrap();
    assert_eq!(first_kept(&r, &pool).0, head.0 - 9, "the 10 newest changes are kept whatever their age");

    // A replica that reported recently, 5 changes behind the kept window, holds it back.
    groups(&r, &clock, &pool, 100, 50);
    let (head, _) = r.services.store.read().unwrap().log_head(&pool).unwrap();
    let behind = Seq(head.0 - 40);
    let status = Status { v: wire::VERSION, region: "us-west-2".into(), applied: behind };
    r.record_status(&pool, &status).unwrap();
    r.trim_logs(keep).unwrap();
    assert_eq!(first_kept(&r, &pool).0, behind.0 + 1, "the replica's next change is kept");

    // Once it has been silent longer than the period, it no longer holds the log.
    clock.advance(31 * MINUTE);
    r.trim_logs(keep).unwrap();
    assert_eq!(first_kept(&r, &pool).0, head.0 - 9);

    // Asking for changes that were trimmed answers at once with the head ahead of an empty
    // batch (a replica re-copies on that), instead of waiting out the long poll.
    let asked = std::time::Instant::now();
    let batch = r.changes(&pool, Seq(head.0 - 20), Duration::from_secs(5), None).unwrap();
    assert!(asked.elapsed() < Duration::from_secs(2), "no long poll over a trimmed log");
    assert_eq!(batch.head, head);
    assert_eq!(batch.changes.first().map(|c| c.seq), Some(Seq(head.0 - 9)), "the batch starts after a gap");

    // With nothing kept, a replica one change behind gets an empty batch with the head ahead
    // of it, at once.
    r.trim_logs(Retention { max_age: Duration::ZERO, min_changes: 0 }).unwrap();
    assert!(r.services.store.read().unwrap().changes(&pool, Seq(0), 1).unwrap().is_empty());
    let asked = std::time::Instant::now();
    let batch = r.changes(&pool, Seq(head.0 - 1), Duration::from_secs(5), None).unwrap();
    assert!(asked.elapsed() < Duration::from_secs(2));
    assert!(batch.changes.is_empty());
    assert_eq!(batch.head, head);
}
