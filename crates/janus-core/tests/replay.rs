//! Property: replaying a pool's change log into an empty store yields exactly the same pool
//! (every entity and the log head). Random workloads run through the real services, so every
//! kind of mutation — including deletes, cascades and alias moves — is covered, on every
//! backend and across backends (a log written on SQLite replays into PostgreSQL and back).

use proptest::prelude::*;
use serde_json::{json, Map};

use janus_core::devices::Owner;
use janus_core::groups::GroupInput;
use janus_core::pools::{CreatePool, UpdatePool};
use janus_core::users::create::CreateUser;
use janus_core::users::AttributeInput;
use janus_core::Services;
use janus_testkit::{backends, Backend, TestStore, WorldBuilder};
use janus_types::{GroupName, PoolId, Seq};

fn world(backend: Backend, seed: u64) -> janus_testkit::World {
    WorldBuilder::new(backend).seed(seed).rsa_bits(1024).build()
}

/// The (source, replica) backends for a case: every combination over the cases, so a log
/// written on one backend is replayed into the other as well as into its own kind.
fn combo(seed: u64) -> (Backend, Backend) {
    let b = backends();
    let n = b.len() as u64;
    (b[(seed % n) as usize], b[((seed / n) % n) as usize])
}

#[derive(Debug, Clone)]
enum Op {
    CreateUser(u8, bool),
    UpdateEmail(u8, u8, bool),
    DeleteAttr(u8),
    SetPassword(u8, bool),
    Enable(u8, bool),
    DeleteUser(u8),
    CreateGroup(u8),
    DeleteGroup(u8),
    Join(u8, u8),
    Leave(u8, u8),
    CreateClient,
    DeleteFirstClient,
    UpdatePool(u8),
    Tag(u8),
    CreateDomain(u8),
    DeleteDomain(u8),
    PutResourceServer(u8, u8),
    DeleteResourceServer(u8),
    Brand(u8),
    ConfirmDevice(u8, u8),
    ForgetDevice(u8, u8),
    DeviceStatus(u8, u8, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let n = 0u8..6;
    prop_oneof![
        (n.clone(), any::<bool>()).prop_map(|(u, v)| Op::CreateUser(u, v)),
        (n.clone(), n.clone(), any::<bool>()).prop_map(|(u, e, v)| Op::UpdateEmail(u, e, v)),
        n.clone().prop_map(Op::DeleteAttr),
        (n.clone(), any::<bool>()).prop_map(|(u, p)| Op::SetPassword(u, p)),
        (n.clone(), any::<bool>()).prop_map(|(u, e)| Op::Enable(u, e)),
        n.clone().prop_map(Op::DeleteUser),
        n.clone().prop_map(Op::CreateGroup),
        n.clone().prop_map(Op::DeleteGroup),
        (n.clone(), n.clone()).prop_map(|(u, g)| Op::Join(u, g)),
        (n.clone(), n.clone()).prop_map(|(u, g)| Op::Leave(u, g)),
        Just(Op::CreateClient),
        Just(Op::DeleteFirstClient),
        n.clone().prop_map(Op::UpdatePool),
        n.clone().prop_map(Op::Tag),
        n.clone().prop_map(Op::CreateDomain),
        n.clone().prop_map(Op::DeleteDomain),
        (n.clone(), n.clone()).prop_map(|(r, k)| Op::PutResourceServer(r, k)),
        n.clone().prop_map(Op::DeleteResourceServer),
        n.clone().prop_map(Op::Brand),
        (n.clone(), 0u8..3).prop_map(|(u, d)| Op::ConfirmDevice(u, d)),
        (n.clone(), 0u8..3).prop_map(|(u, d)| Op::ForgetDevice(u, d)),
        (n, 0u8..3, any::<bool>()).prop_map(|(u, d, r)| Op::DeviceStatus(u, d, r)),
    ]
}

fn attr(name: &str, value: &str) -> AttributeInput {
    AttributeInput { name: name.into(), value: Some(value.into()) }
}

/// Run one operation; domain errors (user missing, alias taken, …) are part of the workload.
fn run(s: &Services, pool: &PoolId, arn: &str, op: &Op) {
    let user = |u: &u8| format!("user{u}");
    let group = |g: &u8| GroupName::parse(&format!("group{g}")).unwrap();
    let _ = match op {
        Op::CreateUser(u, with_pw) => s
            .admin_create_user(CreateUser {
                validation_data: Vec::new(),
                client_metadata: Default::default(),
                user_pool_id: pool.clone(),
                username: user(u),
                user_attributes: vec![attr("email", &format!("{u}@example.com")), attr("email_verified", "true")],
                temporary_password: with_pw.then(|| "Temp-Passw0rd!".into()),
                force_alias_creation: true,
                message_action: Some("SUPPRESS".into()),
                desired_delivery_mediums: vec![],
            })
            .map(drop),
        Op::UpdateEmail(u, e, verified) => s
            .admin_update_attributes(
                pool,
                &user(u),
                &[
                    attr("email", &format!("{e}@example.com")),
                    attr("email_verified", if *verified { "true" } else { "false" }),
                ],
            )
            .map(drop),
        Op::DeleteAttr(u) => s.admin_delete_attributes(pool, &user(u), &["given_name".into()]).map(drop),
        Op::SetPassword(u, permanent) => s.admin_set_password(pool, &user(u), "Perm-Passw0rd!", *permanent).map(drop),
        Op::Enable(u, e) => s.admin_set_enabled(pool, &user(u), *e).map(drop),
        Op::DeleteUser(u) => s.admin_delete_user(pool, &user(u)),
        Op::CreateGroup(g) => s
            .create_group(GroupInput {
                user_pool_id: pool.clone(),
                group_name: group(g),
                description: Some(format!("g{g}")),
                role_arn: None,
                precedence: Some(i64::from(*g)),
            })
            .map(drop),
        Op::DeleteGroup(g) => s.delete_group(pool, &group(g)),
        Op::Join(u, g) => s.set_membership(pool, &user(u), &group(g), true),
        Op::Leave(u, g) => s.set_membership(pool, &user(u), &group(g), false),
        Op::CreateClient => s.create_client(pool, "c".into(), true, None, Map::new()).map(drop),
        Op::DeleteFirstClient => match s.list_clients(pool, 1, None) {
            Ok((cs, _)) if !cs.is_empty() => s.delete_client(pool, &cs[0].id),
            _ => Ok(()),
        },
        Op::UpdatePool(n) => s.update_pool(
            serde_json::from_value::<UpdatePool>(json!({"UserPoolId": pool, "MfaConfiguration": "OFF",
                "Policies": {"PasswordPolicy": {"MinimumLength": 8 + n}}}))
            .unwrap(),
        ),
        Op::Tag(n) => s.retag(arn, [(format!("k{n}"), format!("v{n}"))].into(), &[format!("k{}", n + 1)]),
        Op::CreateDomain(n) => s
            .create_domain(janus_core::domains::DomainInput {
                user_pool_id: pool.clone(),
                domain: if n % 2 == 0 { format!("d{n}") } else { format!("d{n}.example.com") },
                custom_domain_config: (n % 2 == 1).then(|| json!({"CertificateArn": "arn:aws:acm:x"})),
                routing: None,
                managed_login_version: Some(i64::from(*n)),
            })
            .map(drop),
        Op::DeleteDomain(n) => s.delete_domain(pool, &format!("d{n}")),
        Op::PutResourceServer(r, k) => {
            let input = janus_core::resource_servers::ResourceServerInput {
                user_pool_id: pool.clone(),
                identifier: format!("rs{r}"),
                name: format!("n{k}"),
                scopes: (0..*k)
                    .map(|i| janus_core::resource_servers::ScopeInput {
                        scope_name: format!("s{i}"),
                        scope_description: "d".into(),
                    })
                    .collect(),
            };
            s.create_resource_server(input.clone()).or_else(|_| s.update_resource_server(input)).map(drop)
        }
        Op::DeleteResourceServer(r) => s.delete_resource_server(pool, &format!("rs{r}")),
        Op::Brand(n) => {
            let css = (n % 3 != 0).then(|| format!(".c{{color:#{n}{n}{n}}}"));
            s.set_ui_customization(pool, None, css, None).map(drop)
        }
        Op::ConfirmDevice(u, d) => confirm_device(s, pool, &user(u), &device(d)),
        Op::ForgetDevice(u, d) => s.forget_device(Owner::Admin(pool, &user(u)), Some(&device(d))),
        Op::DeviceStatus(u, d, remembered) => {
            let status = if *remembered { "remembered" } else { "not_remembered" };
            s.update_device_status(Owner::Admin(pool, &user(u)), &device(d), Some(status))
        }
    };
}

fn device(d: &u8) -> String {
    format!("us-east-1_0000000{d}-0000-4000-8000-000000000000")
}

/// What ConfirmDevice stores (its access-token check is the HTTP tests' business).
fn confirm_device(s: &Services, pool: &PoolId, username: &str, key: &str) -> janus_types::Result<()> {
    let mut tx = s.store.write(s.now_ms())?;
    let p = janus_core::users::pool_of(&*tx, pool)?;
    let user = janus_core::users::get(&*tx, &p, username)?;
    let device = janus_types::Device {
        group: janus_core::devices::group_key(pool, &user),
        user: user.key,
        key: key.into(),
        salt: "abc".into(),
        verifier: "def".into(),
        name: Some("phone".into()),
        remembered: true,
        created_ms: 1,
        modified_ms: 1,
        last_auth_ms: 1,
    };
    tx.put(pool, janus_types::Entity::Device(device))?;
    tx.commit()
}

fn replay_matches(ops: &[Op], seed: u64) {
    let (from, to) = combo(seed);
    let world = world(from, seed);
    let a = &world.s;
    let pool = a
        .create_pool(
            serde_json::from_value::<CreatePool>(json!({"PoolName": "p", "AliasAttributes": ["email"]})).unwrap(),
        )
        .unwrap();
    for op in ops {
        run(a, &pool.id, &pool.arn, op);
    }
    let replica = TestStore::new(to);
    let b = &replica.store;
    let changes = a.store.read().unwrap().changes(&pool.id, Seq(0), usize::MAX >> 1).unwrap();
    let mut tx = b.write(0).unwrap();
    for c in &changes {
        assert!(tx.apply(c).unwrap(), "change {} applied", c.seq);
        assert!(!tx.apply(c).unwrap(), "re-applying change {} is a no-op", c.seq);
    }
    tx.commit().unwrap();
    let (ra, rb) = (a.store.read().unwrap(), b.read().unwrap());
    assert_eq!(ra.entities(&pool.id).unwrap(), rb.entities(&pool.id).unwrap());
    assert_eq!(ra.log_head(&pool.id).unwrap(), rb.log_head(&pool.id).unwrap());
    let seqs: Vec<u64> = changes.iter().map(|c| c.seq.0).collect();
    assert_eq!(seqs, (1..=changes.len() as u64).collect::<Vec<_>>(), "the log is gap-free");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]
    #[test]
    fn replaying_the_change_log_rebuilds_the_pool(ops in prop::collection::vec(op(), 1..60), seed in any::<u64>()) {
        replay_matches(&ops, seed);
    }
}

#[test]
fn deleting_the_pool_replays_to_nothing() {
    for backend in backends() {
        deleting_the_pool_replays_to_nothing_on(backend);
    }
}

fn deleting_the_pool_replays_to_nothing_on(backend: Backend) {
    let world = world(backend, 1);
    let a = &world.s;
    let pool = a.create_pool(serde_json::from_value::<CreatePool>(json!({"PoolName": "p"})).unwrap()).unwrap();
    run(a, &pool.id, &pool.arn, &Op::CreateUser(1, false));
    run(a, &pool.id, &pool.arn, &Op::CreateGroup(1));
    run(a, &pool.id, &pool.arn, &Op::Join(1, 1));
    a.delete_pool(&pool.id).unwrap();
    let replica = TestStore::new(backend);
    let b = &replica.store;
    let changes = a.store.read().unwrap().changes(&pool.id, Seq(0), 1000).unwrap();
    let mut tx = b.write(0).unwrap();
    for c in &changes {
        tx.apply(c).unwrap();
    }
    tx.commit().unwrap();
    assert!(b.read().unwrap().entities(&pool.id).unwrap().is_empty());
    assert!(a.store.read().unwrap().entities(&pool.id).unwrap().is_empty());
}
