//! `kill -9` at an arbitrary moment loses nothing that was acknowledged: writers create users
//! as fast as they can, the process is killed mid-stream, and after a restart every user whose
//! creation was answered 200 is there. Three rounds, each on the restarted process.

use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::support::start;

#[test]
fn kill_9_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Arc::new(start(dir.path()));
    let created = j.call("CreateUserPool", json!({"PoolName": "durable"})).unwrap();
    let pool = created["UserPool"]["Id"].as_str().unwrap().to_owned();
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    for round in 0..3u64 {
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (j, acked, pool) = (j.clone(), acked.clone(), pool.clone());
                std::thread::spawn(move || {
                    for i in 0.. {
                        let name = format!("r{round}w{w}u{i}");
                        let input = json!({"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS"});
                        match j.call("AdminCreateUser", input) {
                            Ok(_) => acked.lock().unwrap().push(name),
                            Err((0, _)) => return, // connection refused or reset: the process died
                            Err((s, v)) => panic!("unexpected {s} {v}"),
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400 + 150 * round));
        // SIGKILL while the writers are mid-request; they see the connection drop and stop.
        let pid = j.pid();
        std::process::Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        for w in writers {
            w.join().unwrap();
        }
        drop(j);
        j = Arc::new(start(dir.path()));
        let names = acked.lock().unwrap().clone();
        assert!(names.len() > 10 * (round as usize + 1), "writes were acknowledged before the kill");
        for name in &names {
            let got = j.call("AdminGetUser", json!({"UserPoolId": pool, "Username": name}));
            assert!(got.is_ok(), "acknowledged user {name} survived kill -9: {got:?}");
        }
    }
}
