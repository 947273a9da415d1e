//! Failover with real processes: the primary dies with changes the replica never received;
//! the replica is promoted (new epoch) and takes writes; when the former primary comes back
//! it finds the newer epoch by itself, refuses writes, reports exactly the changes that were
//! lost, and re-syncs as a secondary. Failback is the same operation the other way.

use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

use super::support::{free_port, start_with, wait_until, Janus, Options};

const SECRET: &str = "failover-secret";

fn region(dir: &std::path::Path, name: &str, listen: &str, peer: (&str, &str)) -> Janus {
    let mut o = Options::new(dir);
    o.args = vec!["--region".into(), name.into(), "--peer".into(), format!("{}={}", peer.0, peer.1)];
    o.listen = listen.into();
    o.env = vec![("JANUS_REPLICATION_SECRET", SECRET.into())];
    start_with(o)
}

fn digest(j: &Janus, pool: &str) -> Value {
    j.get(&format!("/replication/v1/pools/{pool}/digest"), &[("x-janus-replication-secret", SECRET)]).1
}

fn kill9(j: &Janus) {
    Command::new("kill").args(["-KILL", &j.pid()]).status().unwrap();
}

#[test]
fn promotion_fences_the_former_primary_and_reports_the_lost_tail() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (port_a, port_b) = (free_port(), free_port());
    let (url_a, url_b) = (format!("http://127.0.0.1:{port_a}"), format!("http://127.0.0.1:{port_b}"));
    let (listen_a, listen_b) = (format!("127.0.0.1:{port_a}"), format!("127.0.0.1:{port_b}"));
    let b = region(dir_b.path(), "us-west-2", &listen_b, ("us-east-1", &url_a));
    let a = region(dir_a.path(), "us-east-1", &listen_a, ("us-west-2", &url_b));

    let pool = a.call("CreateUserPool", json!({"PoolName": "failover"})).unwrap()["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in 0..10 {
        a.call(
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": format!("kept{i}"), "MessageAction": "SUPPRESS"}),
        )
        .unwrap();
    }
    a.call("CreateUserPoolReplica", json!({"UserPoolId": pool, "RegionName": "us-west-2"})).unwrap();
    wait_until("INACTIVE", || {
        a.call("ListUserPoolReplicas", json!({"UserPoolId": pool})).unwrap()["UserPoolReplicas"][1]["Status"]
            == "INACTIVE"
    });
    wait_until("the replica to catch up", || digest(&a, &pool) == digest(&b, &pool));

    // The link is cut (the replica is down) while the primary commits three more changes,
    // then the primary dies too.
    kill9(&b);
    drop(b);
    for i in 0..3 {
        a.call(
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": format!("lost{i}"), "MessageAction": "SUPPRESS"}),
        )
        .unwrap();
    }
    kill9(&a);
    drop(a);

    // The replica comes back alone and is promoted.
    let b = region(dir_b.path(), "us-west-2", &listen_b, ("us-east-1", &url_a));
    let promoted = b.call("JanusAdmin.PromoteUserPool", json!({"UserPoolId": pool})).unwrap();
    assert_eq!(promoted["Epoch"], 2);
    assert_eq!(promoted["FormerPrimaryFenced"], false, "the former primary is down");
    b.call("AdminCreateUser", json!({"UserPoolId": pool, "Username": "after-failover", "MessageAction": "SUPPRESS"}))
        .expect("the promoted region takes writes");

    // The former primary restarts, finds the newer epoch, and reports what it lost.
    let a = region(dir_a.path(), "us-east-1", &listen_a, ("us-west-2", &url_b));
    wait_until("the former primary to fence itself", || {
        let d = a.call("JanusAdmin.DescribeReplication", json!({"UserPoolId": pool}));
        d.is_ok_and(|d| d["Role"] == "SECONDARY" && d["LostChanges"].is_object())
    });
    let d = a.call("JanusAdmin.DescribeReplication", json!({"UserPoolId": pool})).unwrap();
    let lost = d["LostChanges"]["changes"].as_array().unwrap();
    assert_eq!(lost.len(), 3, "exactly the three unreplicated creates: {d}");
    assert_eq!(d["LostChanges"]["fence_seq"], promoted["FenceSeq"]);
    wait_until("the former primary to re-sync", || digest(&a, &pool) == digest(&b, &pool));
    assert!(a.call("AdminGetUser", json!({"UserPoolId": pool, "Username": "after-failover"})).is_ok());
    assert!(
        a.call("AdminGetUser", json!({"UserPoolId": pool, "Username": "lost0"})).is_err(),
        "the lost tail is gone, not merged"
    );
    let refused = a
        .call("AdminCreateUser", json!({"UserPoolId": pool, "Username": "x", "MessageAction": "SUPPRESS"}))
        .unwrap_err();
    assert_eq!(refused.1["__type"], "OperationNotEnabledException");

    // Failback: the same operation in the other direction.
    wait_until("the former primary to be INACTIVE", || {
        let l = b.call("ListUserPoolReplicas", json!({"UserPoolId": pool})).unwrap();
        l["UserPoolReplicas"][1]["Status"] == "INACTIVE"
    });
    let back = a.call("JanusAdmin.PromoteUserPool", json!({"UserPoolId": pool})).unwrap();
    assert_eq!(back["Epoch"], 3);
    assert_eq!(back["FormerPrimaryFenced"], true);
    a.call("AdminCreateUser", json!({"UserPoolId": pool, "Username": "after-failback", "MessageAction": "SUPPRESS"}))
        .unwrap();
    wait_until("the failback to replicate", || digest(&a, &pool) == digest(&b, &pool));
    let d = b.call("JanusAdmin.DescribeReplication", json!({"UserPoolId": pool})).unwrap();
    assert_eq!(d["LostChanges"]["changes"].as_array().map(Vec::len), Some(0), "a planned failback loses nothing");
}

#[test]
fn synchronous_mode_loses_no_acknowledged_write_and_survives_a_dead_replica() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (port_a, port_b) = (free_port(), free_port());
    let (url_a, url_b) = (format!("http://127.0.0.1:{port_a}"), format!("http://127.0.0.1:{port_b}"));
    let b = region(dir_b.path(), "us-west-2", &format!("127.0.0.1:{port_b}"), ("us-east-1", &url_a));
    let a = region(dir_a.path(), "us-east-1", &format!("127.0.0.1:{port_a}"), ("us-west-2", &url_b));
    let pool =
        a.call("CreateUserPool", json!({"PoolName": "sync"})).unwrap()["UserPool"]["Id"].as_str().unwrap().to_owned();
    a.call("CreateUserPoolReplica", json!({"UserPoolId": pool, "RegionName": "us-west-2"})).unwrap();
    wait_until("INACTIVE", || {
        a.call("ListUserPoolReplicas", json!({"UserPoolId": pool})).unwrap()["UserPoolReplicas"][1]["Status"]
            == "INACTIVE"
    });
    a.call("JanusAdmin.SetReplicationMode", json!({"UserPoolId": pool, "Mode": "SYNC", "TimeoutMs": 5000})).unwrap();

    // Every acknowledged write is on the replica before the acknowledgement: kill -9 the
    // primary right after the last one and promote the replica; nothing is missing.
    let mut acked = Vec::new();
    for i in 0..30 {
        let name = format!("sync{i}");
        a.call("AdminCreateUser", json!({"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS"})).unwrap();
        acked.push(name);
    }
    kill9(&a);
    drop(a);
    b.call("JanusAdmin.PromoteUserPool", json!({"UserPoolId": pool})).unwrap();
    for name in &acked {
        assert!(
            b.call("AdminGetUser", json!({"UserPoolId": pool, "Username": name})).is_ok(),
            "acknowledged {name} is on the replica"
        );
    }

    // The former primary comes back as a replica; then the new replica dies: a synchronous
    // write waits for the timeout, goes through, and the replica is reported lagging.
    let a = region(dir_a.path(), "us-east-1", &format!("127.0.0.1:{port_a}"), ("us-west-2", &url_b));
    wait_until("the former primary to re-sync", || digest(&a, &pool) == digest(&b, &pool));
    wait_until("INACTIVE", || {
        b.call("ListUserPoolReplicas", json!({"UserPoolId": pool})).unwrap()["UserPoolReplicas"][1]["Status"]
            == "INACTIVE"
    });
    b.call("JanusAdmin.SetReplicationMode", json!({"UserPoolId": pool, "Mode": "SYNC", "TimeoutMs": 300})).unwrap();
    kill9(&a);
    let started = Instant::now();
    b.call(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "while-replica-down", "MessageAction": "SUPPRESS"}),
    )
    .expect("the primary keeps serving when its replica is gone");
    assert!(started.elapsed() >= Duration::from_millis(250), "it waited for the replica first");
    let d = b.call("JanusAdmin.DescribeReplication", json!({"UserPoolId": pool})).unwrap();
    assert_eq!(d["Mode"], "SYNC");
    assert_eq!(d["Replicas"][0]["Lagging"], true, "{d}");
    // …and says so in its metrics.
    let (status, text) = b.get("/metrics", &[]);
    assert_eq!(status, 200);
    let text = text.as_str().expect("Prometheus text");
    let replica = d["Replicas"][0]["Region"].as_str().unwrap();
    let lagging = format!("janus_replica_lagging{{pool=\"{pool}\",replica=\"{replica}\"}} 1");
    assert!(text.contains(&lagging), "{lagging} in:\n{text}");
    assert!(text.contains(&format!("janus_pool_primary{{pool=\"{pool}\"}} 1")), "{text}");
    assert!(text.contains("# TYPE janus_replica_lag_changes gauge"), "{text}");
}
