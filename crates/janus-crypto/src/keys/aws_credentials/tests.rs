//! The chain's steps against files in a temporary directory and a loopback HTTP server that
//! answers as the container endpoint, IMDSv2 and STS answer.

use super::*;
use janus_types::ManualClock;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};

const T0: i64 = 1_796_000_000_000; // 2026-11-30

/// A server answering `answer(method, path, headers, body)` (status, body) until dropped with
/// the test; `hits` counts requests.
fn serve(answer: impl Fn(&str, &str, &str, &str) -> (u16, String) + Send + 'static) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let mut parts = line.split_whitespace();
            let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
            let (mut headers, mut len) = (String::new(), 0);
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                headers.push_str(&h.to_ascii_lowercase());
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let (status, text) = answer(&method, &path, &headers, &String::from_utf8_lossy(&body));
            let mut s = stream;
            let _ =
                write!(s, "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}", text.len());
        }
    });
    (url, hits)
}

fn env(vars: &[(&str, &str)], home: Option<PathBuf>) -> ChainEnv {
    ChainEnv {
        vars: vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        prefix: "JANUS_LAMBDA_".into(),
        home,
    }
}

fn chain(e: ChainEnv) -> (Chain, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(T0));
    (Chain::new(e, clock.clone()), clock)
}

fn key_of(c: &Chain) -> Option<String> {
    c.current().map(|r| r.creds.access_key_id)
}

#[test]
fn environment_keys_come_first_janus_own_before_aws() {
    let both = [
        ("JANUS_LAMBDA_ACCESS_KEY_ID", "J"),
        ("JANUS_LAMBDA_SECRET_ACCESS_KEY", "js"),
        ("AWS_ACCESS_KEY_ID", "A"),
        ("AWS_SECRET_ACCESS_KEY", "as"),
        ("AWS_SESSION_TOKEN", "tok"),
    ];
    assert_eq!(key_of(&chain(env(&both, None)).0).as_deref(), Some("J"));
    let r = chain(env(&both[2..], None)).0.current().unwrap();
    assert_eq!((r.creds.access_key_id.as_str(), r.session_token.as_deref()), ("A", Some("tok")));
}

#[test]
fn profiles_come_from_the_credentials_file_then_the_config_file() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        "[default]\naws_access_key_id = D\naws_secret_access_key = ds\n\n[work]\n# a comment\naws_access_key_id=W\naws_secret_access_key=ws\naws_session_token=wt\n",
    )
    .unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile ops]\naws_access_key_id = O\naws_secret_access_key = os\n",
    )
    .unwrap();
    let at = |vars: &[(&str, &str)]| key_of(&chain(env(vars, Some(home.path().to_owned()))).0);
    assert_eq!(at(&[]).as_deref(), Some("D"));
    assert_eq!(at(&[("AWS_PROFILE", "work")]).as_deref(), Some("W"));
    assert_eq!(at(&[("AWS_PROFILE", "ops")]).as_deref(), Some("O"));
    assert_eq!(at(&[("AWS_PROFILE", "ops"), ("AWS_EC2_METADATA_DISABLED", "true")]).as_deref(), Some("O"));
    assert_eq!(at(&[("AWS_PROFILE", "none"), ("AWS_EC2_METADATA_DISABLED", "true")]), None);
}

fn creds_json(id: &str, expires: &str) -> String {
    format!(r#"{{"AccessKeyId":"{id}","SecretAccessKey":"s","Token":"t-{id}","Expiration":"{expires}"}}"#)
}

#[test]
fn the_container_endpoint_is_asked_with_its_token_and_again_before_expiry() {
    let issued = Arc::new(AtomicUsize::new(0));
    let n = issued.clone();
    let (url, hits) = serve(move |_, path, headers, _| {
        assert_eq!(path, "/creds");
        assert!(headers.contains("authorization: secret-token"), "{headers}");
        let i = n.fetch_add(1, Ordering::SeqCst);
        (200, creds_json(&format!("C{i}"), "2026-11-30T10:00:00Z"))
    });
    let full = format!("{url}/creds");
    let (c, clock) = chain(env(
        &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full), ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "secret-token")],
        None,
    ));
    let r = c.current().unwrap();
    assert_eq!((r.creds.access_key_id.as_str(), r.session_token.as_deref()), ("C0", Some("t-C0")));
    assert_eq!(key_of(&c).as_deref(), Some("C0"), "kept while valid");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let expires = parse_time("2026-11-30T10:00:00Z").unwrap();
    clock.advance(expires - T0 - REFRESH_BEFORE_MS + 1);
    assert_eq!(key_of(&c).as_deref(), Some("C1"), "fetched again five minutes before expiry");
}

#[test]
fn imds_v2_gives_the_instance_roles_credentials() {
    let (url, _) = serve(|method, path, headers, _| match (method, path) {
        ("PUT", "/latest/api/token") => {
            assert!(headers.contains("x-aws-ec2-metadata-token-ttl-seconds: 21600"));
            (200, "imds-token".into())
        }
        ("GET", p) if headers.contains("x-aws-ec2-metadata-token: imds-token") => match p {
            "/latest/meta-data/iam/security-credentials/" => (200, "janus-role\n".into()),
            "/latest/meta-data/iam/security-credentials/janus-role" => (200, creds_json("I", "2026-11-30T12:00:00Z")),
            _ => (404, String::new()),
        },
        _ => (401, String::new()),
    });
    let (c, _) = chain(env(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &url)], None));
    assert_eq!(key_of(&c).as_deref(), Some("I"));
}

#[test]
fn a_web_identity_is_exchanged_at_sts() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "eyJ.web.identity\n").unwrap();
    let (url, _) = serve(|method, _, _, body| {
        assert_eq!(method, "POST");
        assert!(
            body.contains("Action=AssumeRoleWithWebIdentity") && body.contains("WebIdentityToken=eyJ.web.identity"),
            "{body}"
        );
        assert!(body.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fjanus"), "{body}");
        (
            200,
            "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>\
               <AccessKeyId>W</AccessKeyId><SecretAccessKey>ws</SecretAccessKey><SessionToken>wt</SessionToken>\
               <Expiration>2026-11-30T12:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult>\
               </AssumeRoleWithWebIdentityResponse>"
                .into(),
        )
    });
    let (c, _) = chain(env(
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/janus"),
            ("AWS_ENDPOINT_URL_STS", &url),
        ],
        None,
    ));
    let r = c.current().unwrap();
    assert_eq!((r.creds.access_key_id.as_str(), r.session_token.as_deref()), ("W", Some("wt")));
}

#[test]
fn with_nothing_to_find_calls_go_unsigned_and_the_network_is_not_asked_again_for_a_minute() {
    let (url, hits) = serve(|_, _, _, _| (404, String::new()));
    let (c, clock) = chain(env(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &url)], None));
    assert!(c.current().is_none());
    let asked = hits.load(Ordering::SeqCst);
    assert!(asked >= 1);
    assert!(c.current().is_none());
    assert_eq!(hits.load(Ordering::SeqCst), asked, "quiet for a minute");
    clock.advance(RETRY_AFTER_MS);
    assert!(c.current().is_none());
    assert!(hits.load(Ordering::SeqCst) > asked);
    assert!(chain(env(&[("AWS_EC2_METADATA_DISABLED", "true")], None)).0.current().is_none());
}

#[test]
fn times_parse_as_utc() {
    assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_time("2026-12-07T14:00:00Z"), Some(1_796_652_000_000));
    assert_eq!(parse_time("2024-02-29T23:59:59.123Z"), Some(1_709_251_199_000));
    assert_eq!(parse_time("soon"), None);
}

#[test]
fn a_failed_refresh_keeps_the_old_credentials_until_they_expire() {
    let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let on = up.clone();
    let (url, _) = serve(move |_, _, _, _| {
        if on.load(Ordering::SeqCst) {
            (200, creds_json("C", "2026-11-30T10:00:00Z"))
        } else {
            (500, String::new())
        }
    });
    let (c, clock) = chain(env(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &url)], None));
    assert_eq!(key_of(&c).as_deref(), Some("C"));
    up.store(false, Ordering::SeqCst);
    let expires = parse_time("2026-11-30T10:00:00Z").unwrap();
    clock.advance(expires - T0 - 60_000);
    assert_eq!(key_of(&c).as_deref(), Some("C"), "still valid for a minute: kept");
    clock.advance(60_000);
    assert_eq!(key_of(&c), None, "expired and not renewed: unsigned");
}

#[test]
fn a_configured_step_that_fails_ends_the_chain() {
    // The web identity is configured but STS refuses: the instance role is not used instead.
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "t").unwrap();
    let (sts, _) = serve(|_, _, _, _| (403, "<Error/>".into()));
    let (imds, imds_hits) = serve(|_, _, _, _| (200, "x".into()));
    let (c, _) = chain(env(
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/janus"),
            ("AWS_ENDPOINT_URL_STS", &sts),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds),
        ],
        None,
    ));
    assert!(c.current().is_none());
    assert_eq!(imds_hits.load(Ordering::SeqCst), 0);
}

#[test]
fn credentials_without_an_expiry_are_fetched_again_after_fifteen_minutes_and_the_env_is_captured_by_name() {
    let n = Arc::new(AtomicUsize::new(0));
    let m = n.clone();
    let (url, _) = serve(move |_, _, _, _| {
        let i = m.fetch_add(1, Ordering::SeqCst);
        (200, format!(r#"{{"AccessKeyId":"U{i}","SecretAccessKey":"s"}}"#))
    });
    let (c, clock) = chain(env(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &url)], None));
    assert_eq!(key_of(&c).as_deref(), Some("U0"));
    clock.advance(UNDATED_MS - REFRESH_BEFORE_MS + 1);
    assert_eq!(key_of(&c).as_deref(), Some("U1"));
    let captured = ChainEnv::capture("JANUS_LAMBDA_", None, |n| {
        ["AWS_PROFILE", "JANUS_LAMBDA_ACCESS_KEY_ID", "DATABASE_PASSWORD"]
            .contains(&n)
            .then(|| "s3cr3t-value".to_owned())
    });
    assert_eq!(captured.vars.keys().collect::<Vec<_>>(), ["AWS_PROFILE", "JANUS_LAMBDA_ACCESS_KEY_ID"]);
    assert!(!format!("{captured:?}").contains("s3cr3t"), "values are never printed");
}
