//! Start a real `janus serve` on port 0 with a temporary data directory, and call it with
//! SigV4-signed Cognito requests.

use axum::http::{HeaderMap, HeaderValue};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use janus_http::sigv4::{self, AdminCredentials};

pub const KEY_ID: &str = "AKIATESTTESTTESTTEST";
pub const SECRET: &str = "test/secret/key/that/is/forty/chars/long";

/// A running janus process.
pub struct Janus {
    pub child: Child,
    pub endpoint: String,
    pub stdout_head: String,
    agent: ureq::Agent,
}

pub struct Options<'a> {
    pub data_dir: &'a Path,
    pub env: Vec<(&'a str, String)>,
    pub args: Vec<String>,
    pub credentials: bool,
    pub listen: String,
}

impl<'a> Options<'a> {
    pub fn new(data_dir: &'a Path) -> Self {
        Self { data_dir, env: vec![], args: vec![], credentials: true, listen: "127.0.0.1:0".into() }
    }
}

pub fn start(dir: &Path) -> Janus {
    start_with(Options::new(dir))
}

pub fn start_with(o: Options<'_>) -> Janus {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_janus"));
    cmd.args(["serve", "--listen", &o.listen, "--data-dir"])
        .arg(o.data_dir)
        .args(&o.args)
        .env_remove("JANUS_ADMIN_ACCESS_KEY_ID")
        .env_remove("JANUS_ADMIN_SECRET_ACCESS_KEY")
        .env_remove("JANUS_REGION")
        .env("JANUS_LOG", "warn")
        // Tests of replication itself use pools with the shared AWS owned key; the key
        // tests (keys.rs) turn this back on.
        .env("JANUS_REPLICA_REQUIRES_CMK", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if o.credentials {
        cmd.env("JANUS_ADMIN_ACCESS_KEY_ID", KEY_ID).env("JANUS_ADMIN_SECRET_ACCESS_KEY", SECRET);
    }
    for (k, v) in o.env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("janus starts");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout piped"));
    let mut head = String::new();
    let endpoint = loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("read stdout") == 0 {
            panic!("janus exited before listening; stdout: {head}");
        }
        head.push_str(&line);
        if let Some(rest) = line.strip_prefix("janus listening on ") {
            break rest.split_whitespace().next().expect("endpoint").to_owned();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let j = Janus { child, endpoint, stdout_head: head, agent };
    j.wait_healthy();
    j
}

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Janus {
    fn wait_healthy(&self) {
        for _ in 0..100 {
            if let Ok(r) = self.agent.get(format!("{}/health", self.endpoint)).call() {
                if r.status() == 200 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("janus never became healthy");
    }

    /// Send a raw request; returns (status, headers, body).
    pub fn raw(
        &self,
        target: Option<&str>,
        body: &[u8],
        sign_with: Option<(&str, &str)>,
    ) -> Result<(u16, HeaderMap, Value), ureq::Error> {
        let host = self.endpoint.trim_start_matches("http://").to_owned();
        let amz_date = sigv4::format_amz_date(now_ms());
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_str(&host).unwrap());
        headers.insert("x-amz-date", HeaderValue::from_str(&amz_date).unwrap());
        headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.1"));
        if let Some(t) = target {
            headers.insert(
                "x-amz-target",
                HeaderValue::from_str(&format!("AWSCognitoIdentityProviderService.{t}")).unwrap(),
            );
        }
        if let Some((id, secret)) = sign_with {
            let creds = AdminCredentials { access_key_id: id.into(), secret_access_key: secret.into() };
            let req = sigv4::Request { method: "POST", path: "/", query: "", headers: &headers, body };
            let auth = sigv4::sign(&creds, &req, &amz_date, "eu-central-1");
            headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        }
        let mut req = self.agent.post(format!("{}/", self.endpoint));
        for (k, v) in &headers {
            if k != "host" {
                req = req.header(k.as_str(), v.to_str().unwrap());
            }
        }
        let mut resp = req.send(body)?;
        let status = resp.status().as_u16();
        let mut out = HeaderMap::new();
        for (k, v) in resp.headers() {
            out.insert(k.clone(), v.clone());
        }
        let text = resp.body_mut().read_to_string()?;
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, out, value))
    }

    /// A signed Cognito call; `Ok(body)` on 200, `Err((status, body))` otherwise.
    pub fn call(&self, op: &str, input: Value) -> Result<Value, (u16, Value)> {
        let body = serde_json::to_vec(&input).unwrap();
        let (status, _, v) =
            self.raw(Some(op), &body, Some((KEY_ID, SECRET))).map_err(|e| (0, Value::String(e.to_string())))?;
        if status == 200 {
            Ok(v)
        } else {
            Err((status, v))
        }
    }

    /// GET `path` with `headers`; returns (status, JSON body).
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut req = self.agent.get(format!("{}{path}", self.endpoint));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut resp = req.call().expect("GET answered");
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// SIGTERM and wait; returns whether it exited successfully.
    pub fn terminate(mut self) -> bool {
        Command::new("kill").args(["-TERM", &self.pid()]).status().expect("kill runs");
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }
}

impl Drop for Janus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn data_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// A port free on loopback right now (for a server that must know its peer's port up front).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Poll `f` every 25 ms until it holds; fail the test after `limit`.
pub fn wait_within(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !f() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// [`wait_within`] 30 seconds.
pub fn wait_until(what: &str, f: impl FnMut() -> bool) {
    wait_within(what, Duration::from_secs(30), f)
}
