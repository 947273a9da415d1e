//! `janus serve`: start-up, configuration precedence, credentials, authentication of
//! administrator calls, bad input, and clean shutdown.

use serde_json::json;

use super::support::{self, start, start_with, Options, KEY_ID, SECRET};

#[test]
fn serves_health_and_shuts_down_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let j = start(dir.path());
    let pool = j.call("CreateUserPool", json!({"PoolName": "p"})).unwrap();
    assert!(pool["UserPool"]["Id"].as_str().unwrap().starts_with("us-east-1_"));
    assert!(j.terminate(), "exit status 0 after SIGTERM");
    let wal = std::fs::metadata(dir.path().join("janus.db-wal")).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal, 0, "a clean shutdown folds the WAL into janus.db (a copy of it is a full backup)");
}

#[test]
fn flags_override_environment_which_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("janus.toml");
    std::fs::write(&file, "region = \"eu-west-3\"\naccount_id = \"123456789012\"\nfuture_key = 1\n").unwrap();
    let data = dir.path().join("data");
    let mut o = Options::new(&data);
    o.args = vec!["--config".into(), file.display().to_string()];
    let j = start_with(o);
    let p = j.call("CreateUserPool", json!({"PoolName": "p"})).unwrap();
    assert!(p["UserPool"]["Id"].as_str().unwrap().starts_with("eu-west-3_"), "file sets the region");
    assert!(p["UserPool"]["Arn"].as_str().unwrap().contains(":123456789012:userpool/"));
    drop(j);
    let mut o = Options::new(&data);
    o.args = vec!["--config".into(), file.display().to_string()];
    o.env = vec![("JANUS_REGION", "ap-south-1".into())];
    let j = start_with(o);
    let p = j.call("CreateUserPool", json!({"PoolName": "p"})).unwrap();
    assert!(p["UserPool"]["Id"].as_str().unwrap().starts_with("ap-south-1_"), "environment beats file");
    drop(j);
    let mut o = Options::new(&data);
    o.args = vec!["--config".into(), file.display().to_string(), "--region".into(), "sa-east-1".into()];
    o.env = vec![("JANUS_REGION", "ap-south-1".into())];
    let j = start_with(o);
    let p = j.call("CreateUserPool", json!({"PoolName": "p"})).unwrap();
    assert!(p["UserPool"]["Id"].as_str().unwrap().starts_with("sa-east-1_"), "flag beats environment");
}

#[test]
fn generated_credentials_are_printed_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = Options::new(dir.path());
    o.credentials = false;
    let j = start_with(o);
    assert!(j.stdout_head.contains("aws configure set aws_access_key_id AKIA"), "{}", j.stdout_head);
    assert!(j.stdout_head.contains("export AWS_SECRET_ACCESS_KEY="));
    let stored: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(support::data_file(dir.path(), "admin-credentials.json")).unwrap(),
    )
    .unwrap();
    let (id, secret) = (stored["access_key_id"].as_str().unwrap(), stored["secret_access_key"].as_str().unwrap());
    let (status, _, _) = j.raw(Some("ListUserPools"), br#"{"MaxResults":5}"#, Some((id, secret))).unwrap();
    assert_eq!(status, 200);
    drop(j);
    let mut o = Options::new(dir.path());
    o.credentials = false;
    let j = start_with(o);
    assert!(!j.stdout_head.contains(secret), "the secret is printed only on first start");
    let (status, _, _) = j.raw(Some("ListUserPools"), br#"{"MaxResults":5}"#, Some((id, secret))).unwrap();
    assert_eq!(status, 200, "the stored pair keeps working");
}

#[test]
fn administrator_calls_need_a_valid_signature() {
    let dir = tempfile::tempdir().unwrap();
    let j = start(dir.path());
    let body = br#"{"MaxResults":5}"#;
    let cases = [
        (None, "MissingAuthenticationTokenException"),
        (Some(("AKIANOBODYNOBODYNOBO", SECRET)), "UnrecognizedClientException"),
        (Some((KEY_ID, "wrong-secret")), "InvalidSignatureException"),
    ];
    for (sign, code) in cases {
        let (status, headers, v) = j.raw(Some("ListUserPools"), body, sign).unwrap();
        assert_eq!((status, v["__type"].as_str().unwrap()), (400, code));
        assert!(headers.contains_key("x-amzn-requestid"));
    }
}

#[test]
fn bad_input_gets_cognito_errors_never_a_500() {
    let dir = tempfile::tempdir().unwrap();
    let j = start(dir.path());
    let signed = Some((KEY_ID, SECRET));
    let huge = vec![b'a'; 10 * 1024 * 1024];
    let cases: Vec<(Option<&str>, Vec<u8>, &str)> = vec![
        (Some("ListUserPools"), b"{not json".to_vec(), "SerializationException"),
        (Some("ListUserPools"), b"[1,2]".to_vec(), "SerializationException"),
        (Some("NoSuchOperation"), b"{}".to_vec(), "UnknownOperationException"),
        (None, b"{}".to_vec(), "UnknownOperationException"),
        (Some("ListUserPools"), b"{}".to_vec(), "InvalidParameterException"),
        (Some("ListUserPools"), br#"{"MaxResults":"five"}"#.to_vec(), "SerializationException"),
        (
            Some("DescribeUserPool"),
            format!(r#"{{"UserPoolId":"{}"}}"#, "x".repeat(100)).into_bytes(),
            "InvalidParameterException",
        ),
        (Some("DescribeUserPool"), br#"{"UserPoolId":"us-east-1_nothere"}"#.to_vec(), "ResourceNotFoundException"),
        (Some("ListUserPools"), huge, "InvalidParameterException"),
    ];
    for (target, body, code) in cases {
        match j.raw(target, &body, signed) {
            Ok((status, headers, v)) => {
                assert_eq!(status, 400, "{target:?} {v}");
                assert_eq!(v["__type"].as_str(), Some(code), "{target:?} {v}");
                assert!(v["message"].is_string());
                assert!(headers.contains_key("x-amzn-requestid"));
            }
            // The server may close the connection while a 10 MB body is still being sent.
            Err(e) => assert!(body.len() > 1024 * 1024, "{target:?}: {e}"),
        }
    }
    assert!(j.call("ListUserPools", json!({"MaxResults": 5})).is_ok(), "still serving");
}
