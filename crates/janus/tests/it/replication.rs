//! Two real regions on loopback: a replica is created, copied, activated and kept in step
//! through a mixed workload and a `kill -9` of the replica; both regions then hold the same
//! pool (digests computed independently in each), users sign in on the secondary with
//! passwords set on the primary, and the secondary refuses writes.

use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;

use super::support::{start_with, wait_until, Janus, Options};

const SECRET: &str = "test-replication-secret";

fn region(dir: &std::path::Path, name: &str, peer: Option<(&str, &str)>) -> Janus {
    let mut o = Options::new(dir);
    o.args = vec!["--region".into(), name.into(), "--issuer-url".into(), "http://issuer.test".into()];
    if let Some((n, url)) = peer {
        o.args.extend(["--peer".into(), format!("{n}={url}")]);
    }
    o.env = vec![("JANUS_REPLICATION_SECRET", SECRET.into())];
    start_with(o)
}

fn digest(j: &Janus, pool: &str) -> Value {
    let (status, v) = j.get(&format!("/replication/v1/pools/{pool}/digest"), &[("x-janus-replication-secret", SECRET)]);
    assert_eq!(status, 200, "{v}");
    v
}

/// The value of one sample of `/metrics` (`name{labels}` exactly).
fn metric(j: &Janus, sample: &str) -> f64 {
    let (_, text) = j.get("/metrics", &[]);
    let text = text.as_str().unwrap_or_default().to_owned();
    let line =
        text.lines().find(|l| l.starts_with(&format!("{sample} "))).unwrap_or_else(|| panic!("{sample} in {text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

fn in_step(a: &Janus, b: &Janus, pool: &str) {
    wait_until("the replica to match the primary", || digest(a, pool) == digest(b, pool));
}

fn workload(a: &Janus, pool: &str, round: u32, n: u32) {
    for i in 0..n {
        let user = format!("u{}", (i * 7 + round) % 40);
        let group = format!("g{}", i % 5);
        let _ = match i % 6 {
            0 => a.call(
                "AdminCreateUser",
                json!({"UserPoolId": pool, "Username": user, "MessageAction": "SUPPRESS",
                "UserAttributes": [{"Name": "email", "Value": format!("{user}@example.com")}]}),
            ),
            1 => a.call(
                "AdminUpdateUserAttributes",
                json!({"UserPoolId": pool, "Username": user,
                "UserAttributes": [{"Name": "given_name", "Value": format!("r{round}i{i}")}]}),
            ),
            2 => a.call("CreateGroup", json!({"UserPoolId": pool, "GroupName": group})),
            3 => a.call("AdminAddUserToGroup", json!({"UserPoolId": pool, "Username": user, "GroupName": group})),
            4 if i % 12 == 4 => a.call("AdminDeleteUser", json!({"UserPoolId": pool, "Username": user})),
            _ => a.call("AdminDisableUser", json!({"UserPoolId": pool, "Username": user})),
        };
    }
}

#[test]
fn a_replica_follows_the_primary_through_a_crash_and_serves_sign_in() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut b = region(dir_b.path(), "us-west-2", None);
    let a = region(dir_a.path(), "us-east-1", Some(("us-west-2", &b.endpoint)));

    let pool = a.call("CreateUserPool", json!({"PoolName": "replicated"})).unwrap()["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = a
        .call(
            "CreateUserPoolClient",
            json!({"UserPoolId": pool, "ClientName": "app",
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )
        .unwrap()["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    a.call("AdminCreateUser", json!({"UserPoolId": pool, "Username": "alice", "MessageAction": "SUPPRESS"})).unwrap();
    a.call(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "alice", "Password": "Passw0rd!one", "Permanent": true}),
    )
    .unwrap();
    workload(&a, &pool, 0, 60);

    let created = a.call("CreateUserPoolReplica", json!({"UserPoolId": pool, "RegionName": "us-west-2"})).unwrap();
    assert_eq!(created["UserPoolReplica"]["Status"], "CREATING");
    wait_until("INACTIVE", || {
        let list = a.call("ListUserPoolReplicas", json!({"UserPoolId": pool})).unwrap();
        list["UserPoolReplicas"][1]["Status"] == "INACTIVE"
    });
    let copy = b.call("JanusAdmin.DescribeReplication", json!({"UserPoolId": pool})).unwrap()["InitialCopy"].clone();
    assert_eq!(copy["Applied"], true, "the replica reports its initial copy: {copy}");
    assert!(copy["Total"].as_u64().unwrap() > 3, "pool, keys, client, users, groups: {copy}");
    let watched = Command::new(env!("CARGO_BIN_EXE_janus"))
        .args(["replica", "status", "--watch", "--pool", &pool, "--endpoint", &b.endpoint])
        .env("JANUS_ADMIN_ACCESS_KEY_ID", super::support::KEY_ID)
        .env("JANUS_ADMIN_SECRET_ACCESS_KEY", super::support::SECRET)
        .output()
        .unwrap();
    assert!(watched.status.success());
    assert!(String::from_utf8_lossy(&watched.stderr).contains("] "), "a progress bar");
    let sign_in = |j: &Janus, pw: &str| {
        j.call(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "alice", "PASSWORD": pw}}),
        )
    };
    let refused = sign_in(&b, "Passw0rd!one").unwrap_err();
    assert_eq!(refused.1["__type"], "OperationNotEnabledException", "an INACTIVE replica refuses end users");
    a.call("UpdateUserPoolReplica", json!({"UserPoolId": pool, "RegionName": "us-west-2", "Status": "ACTIVE"}))
        .unwrap();
    in_step(&a, &b, &pool);

    // kill -9 the replica while the primary keeps writing; it resumes where it was.
    workload(&a, &pool, 1, 60);
    Command::new("kill").args(["-KILL", &b.pid()]).status().unwrap();
    workload(&a, &pool, 2, 60);
    drop(b);
    b = region(dir_b.path(), "us-west-2", None);
    workload(&a, &pool, 3, 30);
    in_step(&a, &b, &pool);

    a.call(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "alice", "Password": "Passw0rd!two", "Permanent": true}),
    )
    .unwrap();
    in_step(&a, &b, &pool);
    let tokens = sign_in(&b, "Passw0rd!two").expect("sign-in on the secondary with the password set on the primary");
    let access = tokens["AuthenticationResult"]["AccessToken"].as_str().unwrap();
    assert_eq!(
        a.call("GetUser", json!({"AccessToken": access})).unwrap()["Username"],
        "alice",
        "a token from B works in A"
    );
    let write =
        b.call("AdminCreateUser", json!({"UserPoolId": pool, "Username": "mallory", "MessageAction": "SUPPRESS"}));
    assert_eq!(write.unwrap_err().1["__type"], "OperationNotEnabledException");

    let (status, _) = b.get(&format!("/replication/v1/pools/{pool}/digest"), &[]);
    assert_eq!(status, 403, "replication endpoints need the secret");
    let (status, _) =
        b.get(&format!("/replication/v1/pools/{pool}/digest"), &[("x-janus-replication-secret", "wrong")]);
    assert_eq!(status, 403);
}

/// xorshift64*, so the workload is the same on every run.
struct Dice(u64);
impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

#[test]
fn ten_thousand_mixed_writes_replicate_exactly_and_every_user_signs_in_on_the_secondary() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let b = region(dir_b.path(), "us-west-2", None);
    let a = region(dir_a.path(), "us-east-1", Some(("us-west-2", &b.endpoint)));
    let pool = a
        .call("CreateUserPool", json!({"PoolName": "busy", "Policies": {"PasswordPolicy": {"MinimumLength": 8}}}))
        .unwrap()["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = a
        .call("CreateUserPoolClient", json!({"UserPoolId": pool, "ClientName": "app", "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}))
        .unwrap()["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
    a.call("CreateUserPoolReplica", json!({"UserPoolId": pool, "RegionName": "us-west-2"})).unwrap();
    wait_until("INACTIVE", || {
        a.call("ListUserPoolReplicas", json!({"UserPoolId": pool})).unwrap()["UserPoolReplicas"][1]["Status"]
            == "INACTIVE"
    });
    a.call("UpdateUserPoolReplica", json!({"UserPoolId": pool, "RegionName": "us-west-2", "Status": "ACTIVE"}))
        .unwrap();

    let mut dice = Dice(0x5EED);
    let mut passwords = std::collections::BTreeMap::<String, String>::new();
    let (mut writes, mut acknowledged) = (0, 0);
    while writes < 10_000 {
        let user = format!("user{}", dice.below(150));
        let group = format!("group{}", dice.below(8));
        let op = dice.below(100);
        let result = match op {
            0..=24 => a.call(
                "AdminCreateUser",
                json!({"UserPoolId": pool, "Username": user, "MessageAction": "SUPPRESS",
                "UserAttributes": [{"Name": "email", "Value": format!("{user}@example.com")}]}),
            ),
            25..=44 => a.call(
                "AdminUpdateUserAttributes",
                json!({"UserPoolId": pool, "Username": user,
                "UserAttributes": [{"Name": "given_name", "Value": format!("v{writes}")}]}),
            ),
            45..=47 => {
                let pw = format!("Pw-{writes}-x");
                let r = a.call(
                    "AdminSetUserPassword",
                    json!({"UserPoolId": pool, "Username": user, "Password": pw, "Permanent": true}),
                );
                if r.is_ok() {
                    passwords.insert(user.clone(), pw);
                }
                r
            }
            48..=55 => {
                let r = a.call("AdminDeleteUser", json!({"UserPoolId": pool, "Username": user}));
                if r.is_ok() {
                    passwords.remove(&user);
                }
                r
            }
            56..=63 => {
                a.call("CreateGroup", json!({"UserPoolId": pool, "GroupName": group, "Precedence": dice.below(10)}))
            }
            64..=65 => a.call("DeleteGroup", json!({"UserPoolId": pool, "GroupName": group})),
            66..=79 => a.call("AdminAddUserToGroup", json!({"UserPoolId": pool, "Username": user, "GroupName": group})),
            80..=87 => {
                a.call("AdminRemoveUserFromGroup", json!({"UserPoolId": pool, "Username": user, "GroupName": group}))
            }
            88..=91 => a.call("AdminDisableUser", json!({"UserPoolId": pool, "Username": user})),
            92..=96 => a.call("AdminEnableUser", json!({"UserPoolId": pool, "Username": user})),
            97 => a.call(
                "UpdateGroup",
                json!({"UserPoolId": pool, "GroupName": group, "Description": format!("d{writes}")}),
            ),
            98 => a.call(
                "TagResource",
                json!({"ResourceArn": format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{pool}"),
                "Tags": {format!("k{}", dice.below(5)): format!("v{writes}")}}),
            ),
            _ => a.call(
                "AdminDeleteUserAttributes",
                json!({"UserPoolId": pool, "Username": user, "UserAttributeNames": ["given_name"]}),
            ),
        };
        match &result {
            Err((status, v)) => assert_eq!(*status, 400, "never a 500: {v}"),
            Ok(_) => acknowledged += 1,
        }
        writes += 1;
    }
    wait_until("the replica to match after 10,000 writes", || digest(&a, &pool) == digest(&b, &pool));
    // The apply-rate counter saw every acknowledged write (each is one change or more), and
    // no more changes than the primary's log holds.
    let applied = metric(&b, &format!("janus_replica_changes_applied_total{{pool=\"{pool}\"}}"));
    let head = metric(&a, &format!("janus_pool_seq{{pool=\"{pool}\"}}"));
    assert!(
        applied >= acknowledged as f64 && applied <= head,
        "applied {applied}, acknowledged {acknowledged}, head {head}"
    );
    let mut signed_in = 0;
    for (user, pw) in &passwords {
        let enabled = a.call("AdminGetUser", json!({"UserPoolId": pool, "Username": user})).unwrap()["Enabled"] == true;
        let r = b.call(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": user, "PASSWORD": pw}}),
        );
        if enabled {
            assert!(r.is_ok(), "{user} signs in on the secondary with the password last set on the primary: {r:?}");
            signed_in += 1;
        } else {
            assert_eq!(r.unwrap_err().1["message"], "User is disabled.");
        }
    }
    assert!(signed_in > 10, "enough users with passwords to mean something ({signed_in})");
}

#[test]
fn lockout_and_sign_out_on_the_secondary_hold_in_both_regions() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let b = region(dir_b.path(), "us-west-2", None);
    let a = region(dir_a.path(), "us-east-1", Some(("us-west-2", &b.endpoint)));
    let pool = a.call("CreateUserPool", json!({"PoolName": "shared-security"})).unwrap()["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = a
        .call("CreateUserPoolClient", json!({"UserPoolId": pool, "ClientName": "app", "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}))
        .unwrap()["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
    for name in ["locked", "leaver"] {
        a.call("AdminCreateUser", json!({"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS"})).unwrap();
        a.call(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": name, "Password": "Right-Passw0rd!", "Permanent": true}),
        )
        .unwrap();
    }
    a.call("CreateUserPoolReplica", json!({"UserPoolId": pool, "RegionName": "us-west-2"})).unwrap();
    wait_until("INACTIVE", || {
        a.call("ListUserPoolReplicas", json!({"UserPoolId": pool})).unwrap()["UserPoolReplicas"][1]["Status"]
            == "INACTIVE"
    });
    a.call("UpdateUserPoolReplica", json!({"UserPoolId": pool, "RegionName": "us-west-2", "Status": "ACTIVE"}))
        .unwrap();
    in_step(&a, &b, &pool);
    let sign_in = |j: &Janus, user: &str, pw: &str| {
        j.call("InitiateAuth", json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": user, "PASSWORD": pw}}))
    };

    // Five failures on the secondary lock the account on the primary too (AWS does not share this).
    for _ in 0..5 {
        assert_eq!(sign_in(&b, "locked", "wrong").unwrap_err().1["message"], "Incorrect username or password.");
    }
    let on_primary = sign_in(&a, "locked", "Right-Passw0rd!").unwrap_err();
    assert_eq!(
        on_primary.1["message"], "Password attempts exceeded",
        "the lockout earned on the secondary holds on the primary"
    );
    in_step(&a, &b, &pool);
    assert_eq!(sign_in(&b, "locked", "Right-Passw0rd!").unwrap_err().1["message"], "Password attempts exceeded");

    // A global sign-out on the secondary revokes the tokens in both regions.
    let t = sign_in(&a, "leaver", "Right-Passw0rd!").unwrap();
    let access = t["AuthenticationResult"]["AccessToken"].as_str().unwrap();
    let refresh = t["AuthenticationResult"]["RefreshToken"].as_str().unwrap();
    b.call("GlobalSignOut", json!({"AccessToken": access})).expect("the secondary serves sign-out");
    assert!(a.call("GetUser", json!({"AccessToken": access})).is_err(), "revoked on the primary");
    in_step(&a, &b, &pool);
    let again = b.call(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": refresh}}),
    );
    assert!(again.is_err(), "and its refresh token is dead on the secondary");
}

#[test]
fn a_cut_link_delays_but_loses_and_duplicates_nothing() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let b = region(dir_b.path(), "us-west-2", None);
    // The replica reaches the primary only through the relay (the primary advertises it).
    let port_a = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let proxy = super::proxy::Proxy::start(format!("127.0.0.1:{port_a}"));
    let mut o = super::support::Options::new(dir_a.path());
    o.listen = format!("127.0.0.1:{port_a}");
    o.args = vec![
        "--region".into(),
        "us-east-1".into(),
        "--issuer-url".into(),
        "http://issuer.test".into(),
        "--peer".into(),
        format!("us-west-2={}", b.endpoint),
        "--advertise-url".into(),
        format!("http://127.0.0.1:{}", proxy.port),
    ];
    o.env = vec![("JANUS_REPLICATION_SECRET", SECRET.into())];
    let a = start_with(o);
    let pool = a.call("CreateUserPool", json!({"PoolName": "partitioned"})).unwrap()["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    a.call("CreateUserPoolReplica", json!({"UserPoolId": pool, "RegionName": "us-west-2"})).unwrap();
    wait_until("INACTIVE", || {
        a.call("ListUserPoolReplicas", json!({"UserPoolId": pool})).unwrap()["UserPoolReplicas"][1]["Status"]
            == "INACTIVE"
    });
    in_step(&a, &b, &pool);

    for round in 0..3 {
        proxy.cut();
        workload(&a, &pool, 10 + round, 40);
        std::thread::sleep(Duration::from_millis(300));
        assert_ne!(digest(&a, &pool), digest(&b, &pool), "round {round}: the partition holds the replica back");
        proxy.restore();
        in_step(&a, &b, &pool);
    }
    let d = a.call("JanusAdmin.DescribeReplication", json!({"UserPoolId": pool})).unwrap();
    assert_eq!(d["Replicas"][0]["LagChanges"], 0, "{d}");
    assert_eq!(d["Replicas"][0]["AppliedSeq"], d["Seq"], "{d}");
}

#[test]
fn a_replica_away_longer_than_log_retention_copies_the_pool_again() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let b = region(dir_b.path(), "us-west-2", None);
    let mut o = Options::new(dir_a.path());
    o.args = vec!["--region".into(), "us-east-1".into(), "--issuer-url".into(), "http://issuer.test".into()];
    o.args.extend(["--peer".into(), format!("us-west-2={}", b.endpoint)]);
    o.env = vec![
        ("JANUS_REPLICATION_SECRET", SECRET.into()),
        ("JANUS_LOG_RETENTION_SECS", "1".into()),
        ("JANUS_LOG_RETENTION_MIN_CHANGES", "0".into()),
    ];
    let a = start_with(o);
    let pool = a.call("CreateUserPool", json!({"PoolName": "forgetful"})).unwrap()["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    workload(&a, &pool, 0, 40);
    a.call("CreateUserPoolReplica", json!({"UserPoolId": pool, "RegionName": "us-west-2"})).unwrap();
    wait_until("INACTIVE", || {
        a.call("ListUserPoolReplicas", json!({"UserPoolId": pool})).unwrap()["UserPoolReplicas"][1]["Status"]
            == "INACTIVE"
    });
    in_step(&a, &b, &pool);
    let b_seq = digest(&b, &pool)["seq"].as_u64().unwrap();

    // The replica goes away; the primary writes on and retention drops everything after the
    // replica's position before it comes back.
    Command::new("kill").args(["-KILL", &b.pid()]).status().unwrap();
    drop(b);
    workload(&a, &pool, 1, 60);
    let next = format!("/replication/v1/pools/{pool}/changes?after={b_seq}&wait_ms=0");
    wait_until("the primary to trim its log", || {
        let (status, v) = a.get(&next, &[("x-janus-replication-secret", SECRET)]);
        assert_eq!(status, 200, "{v}");
        v["changes"].as_array().unwrap().first().is_none_or(|c| c["seq"].as_u64().unwrap() > b_seq + 1)
    });

    // Back, it finds the log no longer reaches its position and copies the pool again.
    let b = region(dir_b.path(), "us-west-2", None);
    in_step(&a, &b, &pool);
    workload(&a, &pool, 2, 30);
    in_step(&a, &b, &pool);
}
