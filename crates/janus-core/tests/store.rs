//! The store suite: what every backend must do, run on each of them ([`backends`]). Several
//! "nodes" are several store handles on the same data — for PostgreSQL exactly what several
//! Janus processes of one region are.

use serde_json::{json, Map};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use janus_core::auth::{Initiate, Outcome};
use janus_core::groups::GroupInput;
use janus_core::pools::CreatePool;
use janus_core::users::create::CreateUser;
use janus_core::Services;
use janus_store::Store;
use janus_testkit::{backends, Backend, TestStore, World, WorldBuilder};
use janus_types::{ClientId, EntityKey, GroupName, PoolId, Seq};

fn world(backend: Backend) -> World {
    WorldBuilder::new(backend).rsa_bits(1024).build()
}

fn pool(s: &Services) -> PoolId {
    s.create_pool(serde_json::from_value::<CreatePool>(json!({"PoolName": "p"})).unwrap()).unwrap().id
}

fn create_user(s: &Services, pool: &PoolId, name: &str) -> janus_types::Result<()> {
    s.admin_create_user(CreateUser {
        validation_data: Vec::new(),
        client_metadata: Default::default(),
        user_pool_id: pool.clone(),
        username: name.into(),
        user_attributes: vec![],
        temporary_password: None,
        force_alias_creation: false,
        message_action: Some("SUPPRESS".into()),
        desired_delivery_mediums: vec![],
    })
    .map(drop)
}

/// Every change of `pool`, checked to be numbered 1, 2, 3 … with nothing missing or twice.
fn gap_free_log(s: &Services, pool: &PoolId) -> Vec<janus_types::Change> {
    let changes = s.store.read().unwrap().changes(pool, Seq(0), usize::MAX >> 1).unwrap();
    let seqs: Vec<u64> = changes.iter().map(|c| c.seq.0).collect();
    assert_eq!(seqs, (1..=changes.len() as u64).collect::<Vec<_>>(), "the log is gap-free");
    changes
}

#[test]
fn concurrent_writers_on_four_nodes_leave_a_gap_free_log_that_replays_to_the_same_pool() {
    for backend in backends() {
        let w = world(backend);
        let pool = pool(&w.s);
        let group = GroupName::parse("g").unwrap();
        w.s.create_group(GroupInput {
            user_pool_id: pool.clone(),
            group_name: group.clone(),
            description: None,
            role_arn: None,
            precedence: None,
        })
        .unwrap();
        let nodes: Vec<Arc<Services>> = (0..4).map(|n| Arc::new(w.node(n))).collect();
        let mut threads = Vec::new();
        for (n, node) in nodes.iter().enumerate() {
            for t in 0..8 {
                let (node, pool, group) = (node.clone(), pool.clone(), group.clone());
                threads.push(std::thread::spawn(move || {
                    for i in 0..6 {
                        let name = format!("u{n}-{t}-{i}");
                        create_user(&node, &pool, &name).unwrap();
                        node.set_membership(&pool, &name, &group, true).unwrap();
                    }
                }));
            }
        }
        for t in threads {
            t.join().unwrap();
        }
        let changes = gap_free_log(&w.s, &pool);
        let users: BTreeSet<_> = changes
            .iter()
            .filter_map(|c| match &c.key {
                EntityKey::User { key } if c.state.is_some() => Some(key.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(users.len(), 4 * 8 * 6, "{backend:?}: every user written once");
        assert_eq!(w.s.store.read().unwrap().user_count(&pool).unwrap(), 4 * 8 * 6);

        let replica = TestStore::new(backend);
        let mut tx = replica.store.write(0).unwrap();
        for c in &changes {
            assert!(tx.apply(c).unwrap());
        }
        tx.commit().unwrap();
        let (a, b) = (w.s.store.read().unwrap(), replica.store.read().unwrap());
        assert_eq!(a.entities(&pool).unwrap(), b.entities(&pool).unwrap(), "{backend:?}: the replica is equal");
    }
}

#[test]
fn pages_are_ordered_byte_wise_whatever_the_database_collation() {
    for backend in backends() {
        let w = world(backend);
        let pool = pool(&w.s);
        let names = ["b", "B", "a", "_x", "Z", "ä", "a-b", "a_b", "aB", "1"];
        for n in names {
            create_user(&w.s, &pool, n).unwrap();
        }
        let r = w.s.store.read().unwrap();
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = r.users(&pool, None, after.as_ref(), 3).unwrap();
            if page.is_empty() {
                break;
            }
            after = Some(page.last().unwrap().key.clone());
            seen.extend(page.into_iter().map(|u| u.key.as_str().to_owned()));
        }
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "{backend:?}: byte order");
        assert_eq!(seen.len(), names.len());
    }
}

#[test]
fn a_read_is_one_snapshot_and_a_dropped_write_leaves_nothing() {
    for backend in backends() {
        let w = world(backend);
        let pool = pool(&w.s);
        create_user(&w.s, &pool, "first").unwrap();
        let other = w.node(1);
        let r = w.s.store.read().unwrap();
        assert_eq!(r.user_count(&pool).unwrap(), 1);
        create_user(&other, &pool, "second").unwrap();
        assert_eq!(r.user_count(&pool).unwrap(), 1, "{backend:?}: an open read does not see later commits");
        assert!(r.user(&pool, &janus_types::UserKey::from_stored("second".into())).unwrap().is_none());
        drop(r);
        assert_eq!(w.s.store.read().unwrap().user_count(&pool).unwrap(), 2);

        let head = w.s.store.read().unwrap().log_head(&pool).unwrap();
        {
            let mut tx = w.s.store.write(1).unwrap();
            tx.delete(&pool, EntityKey::Pool).unwrap();
        }
        let r = w.s.store.read().unwrap();
        assert_eq!(r.log_head(&pool).unwrap(), head, "{backend:?}: rolled back");
        assert!(r.pool(&pool).unwrap().is_some());
    }
}

#[test]
fn a_pool_of_any_size_streams_in_full() {
    for backend in backends() {
        let w = world(backend);
        let pool = pool(&w.s);
        for i in 0..1_100 {
            create_user(&w.s, &pool, &format!("user{i:04}")).unwrap();
        }
        let r = w.s.store.read().unwrap();
        let mut users = 0;
        let n = r
            .for_each_entity(&pool, &mut |e| {
                if matches!(e, janus_types::Entity::User(_)) {
                    users += 1;
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(users, 1_100, "{backend:?}");
        assert_eq!(n, r.entity_count(&pool).unwrap());
    }
}

#[test]
fn wrong_passwords_spread_over_two_nodes_lock_at_the_same_count_as_on_one() {
    for backend in backends() {
        let w = World::new(backend); // signing keys of full size: sign-in loads them
        let pool = pool(&w.s);
        let mut cfg = Map::new();
        cfg.insert("ExplicitAuthFlows".into(), json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]));
        let client = w.s.create_client(&pool, "c".into(), false, None, cfg).unwrap().id;
        create_user(&w.s, &pool, "alice").unwrap();
        w.s.admin_set_password(&pool, "alice", "Right-Passw0rd!", true).unwrap();
        let nodes = [Arc::new(w.node(1)), Arc::new(w.node(2))];
        // Five wrong passwords, at once, alternating nodes: the fifth locks, none is lost.
        let threads: Vec<_> = (0..5)
            .map(|i| {
                let (node, client) = (nodes[i % 2].clone(), client.clone());
                std::thread::spawn(move || sign_in(&node, &client, "wrong").unwrap_err())
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), "NotAuthorizedException: Incorrect username or password.");
        }
        for node in &nodes {
            let e = sign_in(node, &client, "Right-Passw0rd!").unwrap_err();
            assert_eq!(e, "NotAuthorizedException: Password attempts exceeded", "{backend:?}");
        }
    }
}

fn sign_in(s: &Services, client: &ClientId, password: &str) -> Result<Outcome, String> {
    let params =
        BTreeMap::from([("USERNAME".to_owned(), "alice".to_owned()), ("PASSWORD".to_owned(), password.to_owned())]);
    let input = Initiate {
        session: None,
        client_metadata: Default::default(),
        auth_flow: "USER_PASSWORD_AUTH".into(),
        auth_parameters: params,
        client_id: client.clone(),
        user_pool_id: None,
    };
    s.initiate_auth(input, false)
        .map_err(|e| if e.is_internal() { format!("{e:?}") } else { format!("{}: {e}", e.code()) })
}

#[test]
fn a_commit_on_one_node_wakes_a_long_poll_on_another() {
    // SQLite has one process per data directory, so only the shared backend has "another node".
    for backend in backends().into_iter().filter(|b| *b == Backend::Postgres) {
        let w = world(backend);
        let pool = pool(&w.s);
        // A pool with a replica: a pool without one has no stream to wake, and its writes
        // skip the notification (the node knows from its settings cache).
        let mut placed = w.s.store.read().unwrap().pool(&pool).unwrap().unwrap();
        placed.replication.replicas.push(janus_types::Replica {
            region: janus_types::RegionName::parse("eu-west-1").unwrap(),
            status: janus_types::ReplicaStatus::Active,
        });
        let mut tx = w.s.store.write(0).unwrap();
        tx.put(&pool, janus_types::Entity::Pool(placed)).unwrap();
        tx.commit().unwrap();
        let other = w.node(1);
        // Let the node's listener connect (connecting bumps the counter too).
        let mut seen = other.store.wait_commit(0, Duration::from_millis(1));
        loop {
            let n = other.store.wait_commit(seen, Duration::from_millis(500));
            if n == seen {
                break;
            }
            seen = n;
        }
        let start = std::time::Instant::now();
        let writer = {
            let s = w.node(2);
            let pool = pool.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                create_user(&s, &pool, "late").unwrap();
            })
        };
        let now = other.store.wait_commit(seen, Duration::from_secs(10));
        let waited = start.elapsed();
        assert!(now > seen, "woken by the other node's commit");
        assert!(waited >= Duration::from_millis(150), "woken by the commit, not before it: {waited:?}");
        assert!(waited < Duration::from_secs(5), "woken promptly: {waited:?}");
        writer.join().unwrap();
    }
}

#[test]
fn a_database_migrated_by_a_newer_janus_is_refused_with_a_clear_message() {
    for backend in backends().into_iter().filter(|b| *b == Backend::Postgres) {
        let store = TestStore::new(backend);
        store.execute("UPDATE janus_schema SET version = version + 1");
        let err = format!("{:#}", janus_store::PgStore::open(store.url().unwrap()).err().expect("refused"));
        assert!(err.contains("newer Janus"), "{err}");
        // Several nodes starting at once migrate once: the advisory lock serializes them.
        let fresh = TestStore::new(backend);
        let url = fresh.url().unwrap().to_owned();
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                std::thread::spawn(move || janus_store::PgStore::open(&url).map(drop).map_err(|e| format!("{e:#}")))
            })
            .collect();
        for o in opens {
            o.join().unwrap().unwrap();
        }
    }
}

#[test]
fn a_role_is_held_by_one_node_and_taken_over_when_its_holder_goes() {
    for backend in backends() {
        let store = TestStore::new(backend);
        let (a, b) = (store.store.clone(), store.reopen());
        let held = a.try_lease("puller:p").unwrap().expect("the first node takes the role");
        assert!(held.held());
        assert!(a.try_lease("puller:p").unwrap().is_none(), "{backend:?}: not twice in one node");
        if backend == Backend::Postgres {
            assert!(b.try_lease("puller:p").unwrap().is_none(), "not by a second node");
        }
        assert!(a.try_lease("puller:q").unwrap().is_some(), "{backend:?}: other roles are free");
        drop(held);
        let again = b.try_lease("puller:p").unwrap().expect("free again once dropped");
        if backend == Backend::Postgres {
            // The holder's database session dies (its node was killed): the role is lost
            // there, and another node takes it.
            store.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks \
                 WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            );
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while again.held() {
                assert!(std::time::Instant::now() < deadline, "the lost session is noticed");
                std::thread::sleep(Duration::from_millis(20));
            }
            let taken = a.try_lease("puller:p").unwrap();
            assert!(taken.is_some_and(|l| l.held()), "another node takes the role over");
        }
    }
}

#[test]
fn a_lock_holders_side_read_finds_a_connection_though_writers_queue_behind_its_lock() {
    // With `?janus_pool_size=2`, writers queued on the pool's lock must not hold every
    // connection: the holder's own read beside its write (a keyring or settings look-up)
    // would then wait for one until lock_timeout (15 s) failed the queued writers.
    for backend in backends().into_iter().filter(|b| *b == Backend::Postgres) {
        let w = world(backend);
        let pool = pool(&w.s);
        let url = format!("{}?janus_pool_size=2", w.store.url().unwrap());
        let store: Arc<dyn janus_store::Store> = Arc::new(janus_store::PgStore::open(&url).unwrap());
        let started = std::time::Instant::now();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (store, pool) = (store.clone(), pool.clone());
                std::thread::spawn(move || {
                    for _ in 0..5 {
                        let tx = store.write(0).unwrap();
                        tx.log_head(&pool).unwrap(); // holds the pool's lock from here
                        std::thread::sleep(Duration::from_millis(20)); // the others queue
                        assert!(store.read().unwrap().pool(&pool).unwrap().is_some());
                        tx.commit().unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let took = started.elapsed();
        assert!(took < Duration::from_secs(10), "no wait for a connection held by a queued writer: {took:?}");
    }
}

#[test]
fn a_pool_changed_through_one_node_is_seen_by_another_before_its_cached_copy_expires() {
    // Nodes keep a pool's settings for at most 2 s; a commit that changes a pool tells every
    // node to forget it at once (PostgreSQL: NOTIFY), well inside that bound.
    for backend in backends() {
        let w = world(backend);
        let pool = pool(&w.s);
        let (a, b) = (w.node(1), w.node(2));
        // Node a's listener is up once it reports commits; only then does it cache.
        std::thread::sleep(Duration::from_millis(200));
        let min_length = |s: &Services| s.describe_pool(&pool).unwrap().pool.config.password_policy.minimum_length;
        assert_eq!(min_length(&a), 8);
        let started = std::time::Instant::now();
        b.update_pool(
            serde_json::from_value(json!({
                "UserPoolId": pool.as_str(),
                "Policies": {"PasswordPolicy": {"MinimumLength": 12}},
            }))
            .unwrap(),
        )
        .unwrap();
        while min_length(&a) != 12 {
            assert!(started.elapsed() < Duration::from_secs(1), "{backend:?}: node a still has the old settings");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[test]
fn writes_to_one_pool_at_once_share_one_commit_and_a_failed_one_takes_nothing_with_it() {
    // Group commit (PostgreSQL): requests that write a pool while another holds its turn
    // join its transaction, each in a savepoint; one commit carries them all. A member whose
    // statement fails, or that is dropped, is undone alone.
    for backend in backends().into_iter().filter(|b| *b == Backend::Postgres) {
        let w = world(backend);
        let pool = pool(&w.s);
        create_user(&w.s, &pool, "x").unwrap();
        let x = w.s.store.read().unwrap().user(&pool, &janus_types::UserKey::from_stored("x".into())).unwrap().unwrap();
        let head = w.s.store.read().unwrap().log_head(&pool).unwrap().0;
        let store = Arc::new(janus_store::PgStore::open(w.store.url().unwrap()).unwrap());
        let user = |name: &str, sub: &str| {
            let mut u = x.clone();
            u.username = name.into();
            u.key = janus_types::UserKey::from_stored(name.into());
            u.sub = janus_types::Sub::new(sub.into());
            janus_types::Entity::User(u)
        };
        let (before, _) = store.commit_counts();

        let mut first = store.write(1).unwrap();
        first.put(&pool, user("a", "00000000-0000-4000-8000-00000000000a")).unwrap(); // holds the turn
        let spawn = |name: &'static str, sub: String, commit: bool| {
            let (store, pool, entity) = (store.clone(), pool.clone(), user(name, &sub));
            std::thread::spawn(move || {
                let mut tx = store.write(2).unwrap();
                tx.put(&pool, entity)?;
                if commit {
                    tx.commit()
                } else {
                    Ok(()) // dropped: rolled back
                }
            })
        };
        let others = [
            spawn("b", "00000000-0000-4000-8000-00000000000b".into(), true),
            spawn("dup", x.sub.as_str().to_owned(), true), // x's sub: the unique index refuses it
            spawn("dropped", "00000000-0000-4000-8000-00000000000d".into(), false),
        ];
        std::thread::sleep(Duration::from_millis(500)); // all three wait for their turn
        first.commit().map_err(|e| format!("{e:?}")).unwrap();
        let results: Vec<_> = others.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(results[0].is_ok(), "{:?}", results[0]);
        assert!(results[1].is_err(), "a duplicate sub is refused");
        assert!(results[2].is_ok());

        let (after, writes) = store.commit_counts();
        assert_eq!(after - before, 1, "one commit for the batch");
        assert_eq!(writes, 2, "carrying a and b");
        let r = w.s.store.read().unwrap();
        let names: Vec<String> = r.users(&pool, None, None, 10).unwrap().into_iter().map(|u| u.username).collect();
        assert_eq!(names, ["a", "b", "x"]);
        assert_eq!(r.log_head(&pool).unwrap().0, Seq(head.0 + 2), "two changes logged");
        gap_free_log(&w.s, &pool);
    }
}

#[test]
fn many_writers_to_one_pool_keep_exactly_what_they_committed() {
    // Eight writers on each of two nodes, a third of whose writes are dropped and a third
    // refused by the database: what is left is exactly what was committed, logged once each.
    for backend in backends() {
        let w = world(backend);
        let pool = pool(&w.s);
        create_user(&w.s, &pool, "x").unwrap();
        let x = w.s.store.read().unwrap().user(&pool, &janus_types::UserKey::from_stored("x".into())).unwrap().unwrap();
        let head = w.s.store.read().unwrap().log_head(&pool).unwrap().0;
        let nodes = [w.store.store.clone(), w.store.reopen()];
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let (store, pool, x) = (nodes[t % 2].clone(), pool.clone(), x.clone());
                std::thread::spawn(move || {
                    let mut kept = Vec::new();
                    for i in 0..30 {
                        let mut u = x.clone();
                        u.username = format!("u{t:02}-{i:02}");
                        u.key = janus_types::UserKey::from_stored(u.username.clone());
                        if i % 3 != 2 {
                            u.sub = janus_types::Sub::new(format!("00000000-0000-4000-8000-{:012}", t * 100 + i));
                        }
                        let mut tx = store.write(3).unwrap();
                        let put = tx.put(&pool, janus_types::Entity::User(u.clone()));
                        match i % 3 {
                            0 => {
                                put.unwrap();
                                tx.commit().unwrap();
                                kept.push(u.username);
                            }
                            1 => drop(tx),
                            _ => assert!(put.and_then(|_| tx.commit()).is_err(), "x's sub twice is refused"),
                        }
                    }
                    kept
                })
            })
            .collect();
        let mut kept: Vec<String> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        kept.push("x".into());
        kept.sort();
        let r = w.s.store.read().unwrap();
        let names: Vec<String> = r.users(&pool, None, None, 1000).unwrap().into_iter().map(|u| u.username).collect();
        assert_eq!(names, kept, "{backend:?}");
        assert_eq!(r.log_head(&pool).unwrap().0, Seq(head.0 + 16 * 10), "{backend:?}: one change per kept write");
        gap_free_log(&w.s, &pool);
    }
}

#[test]
fn a_table_that_grows_from_empty_gets_statistics_so_look_ups_use_the_primary_key() {
    // Without statistics PostgreSQL may plan `pool = $1 AND ukey = $2` through an index that
    // leads with `pool` alone — a walk over every user of the pool, cached by the connection.
    // The store analyzes tables that grew, well before autovacuum would.
    for backend in backends().into_iter().filter(|b| *b == Backend::Postgres) {
        let w = world(backend);
        let pool = pool(&w.s);
        for i in 0..800 {
            create_user(&w.s, &pool, &format!("user{i:04}")).unwrap();
        }
        let analyzed = || w.store.query("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'users'");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while analyzed() == ["0"] {
            assert!(std::time::Instant::now() < deadline, "users was never analyzed");
            std::thread::sleep(Duration::from_millis(100));
        }
        let plan = w.store.query(
            "PREPARE q(text, text) AS SELECT body FROM users WHERE pool = $1 AND ukey = $2; \
             SET plan_cache_mode = force_generic_plan; EXPLAIN EXECUTE q('p', 'u')",
        );
        let plan = plan.join("\n");
        assert!(plan.contains("users_pkey") && plan.contains("(pool = $1) AND (ukey = $2)"), "{plan}");
    }
}
