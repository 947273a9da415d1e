//! Automatic failover with real processes: `/ready` says who may serve; a secondary with the
//! watcher on promotes itself after the primary is killed, and a token issued before the kill
//! keeps working; with a witness, a partition between the two regions alone promotes no one,
//! and when the primary is cut off from everyone, it stops taking writes before the secondary
//! starts — no moment where both accept writes for the pool.

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::proxy::Proxy;
use super::support::{free_port, start_with, wait_within, Janus, Options};

const SECRET: &str = "auto-failover-secret";

struct Region<'a> {
    name: &'a str,
    listen: String,
    peer: (&'a str, String),
    advertise: Option<String>,
    env: Vec<(&'a str, String)>,
}

fn start(dir: &std::path::Path, r: &Region<'_>) -> Janus {
    let mut o = Options::new(dir);
    o.args = vec!["--region".into(), r.name.into(), "--peer".into(), format!("{}={}", r.peer.0, r.peer.1)];
    if let Some(a) = &r.advertise {
        o.args.extend(["--advertise-url".into(), a.clone()]);
    }
    o.listen = r.listen.clone();
    o.env = vec![("JANUS_REPLICATION_SECRET", SECRET.into())];
    o.env.extend(r.env.iter().cloned());
    start_with(o)
}

/// us-east-1 and us-west-2 peered directly on loopback; `env_b` configures the secondary.
fn pair(dir_a: &std::path::Path, dir_b: &std::path::Path, env_b: Vec<(&'static str, String)>) -> (Janus, Janus) {
    let (port_a, port_b) = (free_port(), free_port());
    let region = |name, port, peer: (&'static str, u16), env| Region {
        name,
        listen: format!("127.0.0.1:{port}"),
        peer: (peer.0, format!("http://127.0.0.1:{}", peer.1)),
        advertise: None,
        env,
    };
    let b = start(dir_b, &region("us-west-2", port_b, ("us-east-1", port_a), env_b));
    let a = start(dir_a, &region("us-east-1", port_a, ("us-west-2", port_b), vec![]));
    (a, b)
}

fn ready(j: &Janus, query: &str) -> (u16, Value) {
    j.get(&format!("/ready{query}"), &[])
}

/// A pool on `a` with an app client, a user with a password, replicated to `b` and ACTIVE.
fn replicated_pool(a: &Janus, b: &Janus) -> (String, String) {
    let pool =
        a.call("CreateUserPool", json!({"PoolName": "auto"})).unwrap()["UserPool"]["Id"].as_str().unwrap().to_owned();
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
    a.call("CreateUserPoolReplica", json!({"UserPoolId": pool, "RegionName": "us-west-2"})).unwrap();
    wait_within("INACTIVE", Duration::from_secs(30), || {
        a.call("ListUserPoolReplicas", json!({"UserPoolId": pool})).unwrap()["UserPoolReplicas"][1]["Status"]
            == "INACTIVE"
    });
    a.call("UpdateUserPoolReplica", json!({"UserPoolId": pool, "RegionName": "us-west-2", "Status": "ACTIVE"}))
        .unwrap();
    wait_within("ACTIVE on the secondary", Duration::from_secs(30), || ready(b, &format!("?pool={pool}")).0 == 200);
    (pool, client)
}

fn sign_in(j: &Janus, client: &str) -> Result<Value, (u16, Value)> {
    j.call(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "alice", "PASSWORD": "Passw0rd!one"}}),
    )
}

fn create(j: &Janus, pool: &str, name: &str) -> bool {
    j.call("AdminCreateUser", json!({"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS"})).is_ok()
}

const FAST: [(&str, &str); 3] =
    [("JANUS_FAILOVER_AUTO", "true"), ("JANUS_FAILOVER_INTERVAL_MS", "300"), ("JANUS_FAILOVER_FAILURES", "3")];

fn fast_env(extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    FAST.iter().map(|(k, v)| (*k, (*v).to_owned())).chain(extra.iter().cloned()).collect()
}

#[test]
fn ready_says_who_serves_and_an_out_of_service_region_refuses_traffic() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = pair(dir_a.path(), dir_b.path(), vec![]);
    let (pool, client) = replicated_pool(&a, &b);
    let (status, body) = ready(&a, &format!("?pool={pool}&role=primary"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Pools"][0]["Role"], "PRIMARY");
    let (status, body) = ready(&b, &format!("?pool={pool}&role=primary"));
    assert_eq!(status, 503, "a secondary is not the primary: {body}");
    assert!(body["Pools"][0]["Reason"].as_str().unwrap().contains("secondary"), "{body}");
    assert_eq!(ready(&b, &format!("?pool={pool}")).0, 200, "an ACTIVE secondary serves end users");
    assert_eq!(ready(&b, "?role=bogus").0, 400);

    let down = a.call("JanusAdmin.SetAvailability", json!({"Available": false})).unwrap();
    assert_eq!(down["Available"], false);
    assert_eq!(ready(&a, "").0, 503);
    let refused = sign_in(&a, &client).unwrap_err();
    assert_eq!(refused.0, 503, "out of service: refused as if down");
    assert_eq!(refused.1["__type"], "ServiceUnavailableException", "the Cognito API answers in its shape");
    let (status, body) = a.get(&format!("/oauth/{pool}/.well-known/openid-configuration"), &[]);
    assert_eq!((status, &body["error"]), (503, &json!("temporarily_unavailable")), "OAuth answers in RFC 6749's");
    assert_eq!(a.get("/health", &[]).0, 200, "the process still answers /health");
    sign_in(&b, &client).expect("the secondary keeps serving");
    a.call("JanusAdmin.SetAvailability", json!({"Available": true})).unwrap();
    sign_in(&a, &client).expect("back in service");
}

#[test]
fn the_watcher_promotes_the_secondary_when_the_primary_is_killed() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = pair(dir_a.path(), dir_b.path(), fast_env(&[]));
    let (pool, client) = replicated_pool(&a, &b);
    let tokens = sign_in(&a, &client).unwrap()["AuthenticationResult"].clone();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(ready(&b, &format!("?pool={pool}&role=primary")).0, 503, "a healthy primary is left alone");

    Command::new("kill").args(["-KILL", &a.pid()]).status().unwrap();
    let killed = Instant::now();
    drop(a);
    wait_within("the watcher to promote us-west-2", Duration::from_secs(20), || {
        ready(&b, &format!("?pool={pool}&role=primary")).0 == 200
    });
    let promoted_after = killed.elapsed();
    assert!(promoted_after >= Duration::from_millis(600), "not before the failed checks: {promoted_after:?}");
    assert!(create(&b, &pool, "after-failover"), "the new primary takes writes");
    let access = tokens["AccessToken"].as_str().unwrap();
    assert_eq!(b.call("GetUser", json!({"AccessToken": access})).unwrap()["Username"], "alice");
    let refresh = tokens["RefreshToken"].as_str().unwrap();
    b.call(
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": refresh}}),
    )
    .expect("a refresh token from before the kill refreshes on the new primary");
    let d = b.call("JanusAdmin.DescribeReadiness", json!({})).unwrap();
    assert_eq!(d["Failover"]["AutoPromotions"], 1, "{d}");
    let (_, metrics) = b.get("/metrics", &[]);
    assert!(metrics.as_str().unwrap().contains("janus_failover_auto_promotions_total 1"), "{metrics}");
}

struct Witness(Child, String);

impl Witness {
    fn start() -> Witness {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_janus"))
            .args(["witness", "--listen", &format!("127.0.0.1:{port}")])
            .env("JANUS_REPLICATION_SECRET", SECRET)
            .env("JANUS_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        wait_within("the witness", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Witness(child, url)
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn with_a_witness_a_partition_never_makes_two_primaries() {
    let witness = Witness::start();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (port_a, port_b) = (free_port(), free_port());
    // Everything between the regions crosses `link`; A reaches the witness through `to_witness`.
    let link = Proxy::start(format!("127.0.0.1:{port_a}"));
    let to_witness = Proxy::start(witness.1.trim_start_matches("http://").to_owned());
    let b = start(
        dir_b.path(),
        &Region {
            name: "us-west-2",
            listen: format!("127.0.0.1:{port_b}"),
            peer: ("us-east-1", format!("http://127.0.0.1:{}", link.port)),
            advertise: None,
            env: fast_env(&[("JANUS_WITNESS_URL", witness.1.clone())]),
        },
    );
    let a = start(
        dir_a.path(),
        &Region {
            name: "us-east-1",
            listen: format!("127.0.0.1:{port_a}"),
            peer: ("us-west-2", format!("http://127.0.0.1:{port_b}")),
            advertise: Some(format!("http://127.0.0.1:{}", link.port)),
            env: fast_env(&[("JANUS_WITNESS_URL", format!("http://127.0.0.1:{}", to_witness.port))]),
        },
    );
    let (pool, _) = replicated_pool(&a, &b);

    // Only the link between the regions is cut: the witness still hears from A, so B holds
    // back, and A keeps taking writes (its lease holds through the witness).
    link.cut();
    std::thread::sleep(Duration::from_secs(3)); // ten checks at 300 ms
    assert_eq!(ready(&b, &format!("?pool={pool}&role=primary")).0, 503, "B must not promote");
    assert!(create(&a, &pool, "during-partition"), "A still takes writes");

    // Now A is cut off from the witness too. Write to both regions continuously: A must stop
    // before B starts.
    to_witness.cut();
    let (mut last_a, mut first_b): (Option<Instant>, Option<Instant>) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut i = 0;
    while first_b.is_none() || Instant::now() < first_b.unwrap() + Duration::from_millis(500) {
        assert!(Instant::now() < deadline, "B never promoted");
        i += 1;
        if create(&a, &pool, &format!("a{i}")) {
            last_a = Some(Instant::now());
        }
        if create(&b, &pool, &format!("b{i}")) && first_b.is_none() {
            first_b = Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (last_a, first_b) = (last_a.expect("A took writes before losing its lease"), first_b.unwrap());
    assert!(last_a < first_b, "A accepted a write {:?} after B's first", last_a - first_b);
    let refused = a
        .call("AdminCreateUser", json!({"UserPoolId": pool, "Username": "late", "MessageAction": "SUPPRESS"}))
        .unwrap_err();
    assert_eq!(refused.1["__type"], "OperationNotEnabledException", "{refused:?}");
}
