//! Deterministic, seeded simulation of shipping and applying (neon's habit): a primary runs a
//! random workload; a simulated network delivers windows of its change log late, early,
//! twice, or cut short; the replica crashes at random (mid-transaction, and between
//! transactions with its store reopened). The seeds cycle through the store backends for the
//! primary and the replica (see [`combo`]). Whatever happens, the replica ends with
//! exactly the primary's pool and a gap-free log in which every change was applied once.
//!
//! CI runs JANUS_SIM_SEEDS seeds (default 200). A failure names its seed; rerun just that one
//! with `JANUS_SIM_SEED=<n> cargo test -p janus-repl --test simulation`.

use serde_json::json;
use std::sync::Arc;

use janus_core::groups::GroupInput;
use janus_core::pools::CreatePool;
use janus_core::users::create::CreateUser;
use janus_core::users::AttributeInput;
use janus_core::Services;
use janus_repl::applier::{apply_batch, Applied};
use janus_store::Store;
use janus_testkit::{backends, Backend, TestStore, WorldBuilder};
use janus_types::{Change, GroupName, PoolId, Seq};

/// xorshift64*: small, fast, and the same everywhere.
struct Dice(u64);
impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The backends of a seed's primary and replica: every fourth seed cycles through every
/// combination (a log written on SQLite is applied to PostgreSQL and back); the others stay
/// on SQLite, whose transactions cost a fraction of a shared server's round trips.
fn combo(seed: u64) -> (Backend, Backend) {
    let b = backends();
    let n = b.len() as u64;
    if !seed.is_multiple_of(4) {
        return (Backend::Sqlite, Backend::Sqlite);
    }
    let k = seed / 4;
    (b[(k % n) as usize], b[((k / n) % n) as usize])
}

fn workload(s: &Services, pool: &PoolId, dice: &mut Dice, n: usize) {
    for _ in 0..n {
        let u = format!("u{}", dice.below(12));
        let g = GroupName::parse(&format!("g{}", dice.below(4))).unwrap();
        let _ = match dice.below(7) {
            0 | 1 => s
                .admin_create_user(CreateUser {
                    validation_data: Vec::new(),
                    client_metadata: Default::default(),
                    user_pool_id: pool.clone(),
                    username: u,
                    user_attributes: vec![],
                    temporary_password: None,
                    force_alias_creation: false,
                    message_action: Some("SUPPRESS".into()),
                    desired_delivery_mediums: vec![],
                })
                .map(drop),
            2 => s
                .admin_update_attributes(
                    pool,
                    &u,
                    &[AttributeInput { name: "name".into(), value: Some(format!("n{}", dice.next())) }],
                )
                .map(drop),
            3 => s.admin_delete_user(pool, &u),
            4 => s
                .create_group(GroupInput {
                    user_pool_id: pool.clone(),
                    group_name: g,
                    description: None,
                    role_arn: None,
                    precedence: None,
                })
                .map(drop),
            5 => s.set_membership(pool, &u, &g, dice.chance(70)),
            _ => s.delete_group(pool, &g),
        };
    }
}

fn simulate(seed: u64) {
    let (from, to) = combo(seed);
    let mut dice = Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let world = WorldBuilder::new(from).seed(seed).rsa_bits(1024).build();
    let p = &world.s;
    let pool = p.create_pool(serde_json::from_value::<CreatePool>(json!({"PoolName": "sim"})).unwrap()).unwrap().id;
    let n = 20 + dice.below(40) as usize;
    workload(p, &pool, &mut dice, n);
    let log: Vec<Change> = p.store.read().unwrap().changes(&pool, Seq(0), 100_000).unwrap();
    let last = log.last().unwrap().seq;

    let replica_store = TestStore::new(to);
    let mut replica: Arc<dyn Store> = replica_store.store.clone();
    let mut rounds = 0;
    loop {
        let (head, _) = replica.read().unwrap().log_head(&pool).unwrap();
        if head == last {
            break;
        }
        rounds += 1;
        assert!(rounds < 10_000, "seed {seed}: no progress");
        // A delivery: a window of the log, usually from near the replica's head, sometimes
        // stale, early (a gap), repeated, or shuffled.
        let start = match dice.below(10) {
            0 => dice.below(last.0),                           // stale or repeated
            1 => (head.0 + 1 + dice.below(5)).min(last.0 - 1), // early: leaves a gap
            _ => head.0,
        } as usize;
        let len = 1 + dice.below(8) as usize;
        let mut window: Vec<Change> = log.iter().skip(start).take(len).cloned().collect();
        if dice.chance(10) {
            window.reverse();
        }
        if dice.chance(10) {
            window.extend(window.clone());
        }
        if dice.chance(8) {
            // Crash mid-transaction: begin, write part, never commit.
            let mut tx = replica.write(0).unwrap();
            if let Some(c) = window.first().filter(|c| c.seq.0 == head.0 + 1) {
                tx.apply(c).unwrap();
            }
            drop(tx);
        }
        let before = head;
        match apply_batch(&*replica, &pool, &window, 0, |_| Ok(())).unwrap() {
            Applied::Advanced(seq) => assert!(seq > before, "seed {seed}: head moved forward"),
            Applied::Stale | Applied::Gap { .. } => {
                let (after, _) = replica.read().unwrap().log_head(&pool).unwrap();
                assert_eq!(after, before, "seed {seed}: a refused batch changed nothing");
            }
        }
        if dice.chance(5) {
            // Crash between transactions: the process dies, the store is reopened from disk.
            drop(replica);
            replica = replica_store.reopen();
        }
    }
    let (pr, rr) = (p.store.read().unwrap(), replica.read().unwrap());
    assert_eq!(pr.entities(&pool).unwrap(), rr.entities(&pool).unwrap(), "seed {seed}: same pool");
    assert_eq!(pr.log_head(&pool).unwrap(), rr.log_head(&pool).unwrap(), "seed {seed}: same head");
    let applied: Vec<u64> = rr.changes(&pool, Seq(0), 100_000).unwrap().iter().map(|c| c.seq.0).collect();
    assert_eq!(applied, (1..=last.0).collect::<Vec<_>>(), "seed {seed}: every change applied exactly once, in order");
}

#[test]
fn replicas_converge_under_reordering_repetition_and_crashes() {
    if let Some(seed) = std::env::var("JANUS_SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        simulate(seed);
        return;
    }
    let seeds: u64 = std::env::var("JANUS_SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    for seed in 0..seeds {
        simulate(seed);
    }
}
