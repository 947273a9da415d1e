//! Load generator for bench/run.sh: N concurrent clients, each with its own keep-alive
//! connection, send SigV4-signed Cognito JSON 1.1 calls to Janus or cognito-local and report
//! throughput and latency percentiles.
//!
//! On a 2-core machine the generator shares the CPU with the server it measures, so it is
//! built to cost little per call: every client is a task on ONE thread (a tokio current-thread
//! runtime; one epoll wait serves many ready connections), a request goes out in a single
//! write, and the HTTP/1.1 exchange is done by hand (Content-Length bodies, which is what both
//! Janus and cognito-local send). It signs with its own few lines of SigV4 rather than
//! janus-http's; the only janus crate it uses is janus-crypto, for the client side of SRP and
//! the raw argon2id rate. The `RESULT` line
//! reports the generator's own CPU time (`client_cpu_s`) and, with `--server-pid`, the
//! server's (`server_cpu_s`, of which `server_sys_s` in the kernel, and its minor page faults
//! `server_minflt`), so a reader can see how the two cores were shared.
//!
//! Commands (flags are `--name value`; credentials come from JANUS_ADMIN_ACCESS_KEY_ID and
//! JANUS_ADMIN_SECRET_ACCESS_KEY, as for the server):
//!
//! * `create-pool --endpoint URL --name NAME` prints the new pool's id.
//! * `run --endpoint URL --op create|get --pool ID --clients N (--duration S | --count N)
//!   [--warmup S] [--prefix u] [--start K] [--keys K] [--server-pid PID]` runs the load and
//!   prints one `RESULT key=value ...` line, plus an `ERROR count=N status body` line per
//!   distinct error. With `--duration`, the calls that end inside the measured window count
//!   (ops_s = those / duration) and CPU times cover the same window; with `--count`, every
//!   call after the warm-up counts. `create` makes users `{prefix}{start+i}` for i = 0, 1, ...
//!   (MessageAction SUPPRESS, one email attribute); `get` reads users picked at random from
//!   `{prefix}{start}` .. `{prefix}{start+keys-1}`.
//! * `wait --url URL [--timeout S]` waits until the URL answers (any HTTP status).
//! * `startup --url URL --runs N [--reset DIR] -- CMD ARGS...` starts CMD N times, timing
//!   exec → first 200 from URL (polled every 0.2 ms), then stops it with SIGTERM and waits for
//!   it to exit; `--reset DIR` removes DIR before each start. Prints
//!   `STARTUP runs=N median_ms=... min_ms=... max_ms=... all_ms=...`.
//!
//! For the sign-in benchmark (bench/signin.sh):
//!
//! * `setup-signin --endpoint URL --name NAME --users N --password PW --tokens-out FILE
//!   [--clients C]` makes a pool, an app client without a secret (ExplicitAuthFlows
//!   ALLOW_USER_PASSWORD_AUTH, ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH) and users `u0` ..
//!   `u{N-1}` (AdminCreateUser with MessageAction SUPPRESS, then AdminSetUserPassword
//!   Permanent), signs each in once with USER_PASSWORD_AUTH and writes `username access-token
//!   refresh-token` lines to FILE. Prints `SETUP pool=ID client=ID users=N secs=S`.
//!   `--lambda-config JSON` gives the pool that LambdaConfig (bench/triggers.sh).
//! * `run --op password|srp|refresh|getuser --client-id ID --pool ID --keys N ...` runs a
//!   sign-in load. These calls are unsigned, as Cognito's public calls are. `password`:
//!   InitiateAuth USER_PASSWORD_AUTH (`--password PW`) as a random user of `{prefix}0` ..
//!   `{prefix}{keys-1}`; `srp`: InitiateAuth USER_SRP_AUTH then RespondToAuthChallenge
//!   PASSWORD_VERIFIER, one sign-in = both round trips plus the client's SRP math (see
//!   `SrpKit`); `refresh`: InitiateAuth REFRESH_TOKEN_AUTH and `getuser`: GetUser, both with
//!   the tokens of a random line of `--tokens FILE`. A 200 counts only if it carries tokens
//!   (or, for GetUser, the user).
//! * `argon2 --threads T --duration S [--warmup-hashes N] [--mode verify|hash]` runs argon2id at
//!   Janus's default parameters (`janus_crypto::PasswordHasher::new(HashParams::default())`)
//!   on T threads and prints `ARGON2 ... hashes_s=R`: the machine's raw rate, the ceiling for
//!   USER_PASSWORD_AUTH. `verify` (the default) is exactly the call a sign-in makes.
//!
//! For the hot-path benchmark (bench/hot.sh), see `floor.rs`:
//!
//! * `floor [--rounds R] [--secs S]` prints `FLOOR verify_us=.. sign_us=.. srp_us=..
//!   sigv4_us=..`: one thread's cost of the cryptography each hot call cannot avoid.
//!
//! For the OAuth benchmark (bench/oauth.sh), see `oauth.rs`:
//!
//! * `run --op oauth-cc --token-path PATH --client-id ID --secret S` posts client_credentials
//!   grants (client_secret_basic) to PATH; `run --op oauth-refresh --token-path PATH
//!   --client-id ID --tokens FILE` posts refresh_token grants with the refresh tokens of FILE.
//!   A 200 counts only if it carries an `access_token`.
//! * `rs256 --threads T --duration S` prints `RS256 ... signatures_s=R`, the raw signing rate.

mod floor;
mod oauth;
mod procstat;
mod signin;
mod startup;
mod wire;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use procstat::{cpu_seconds, minor_faults, proc_counters};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use janus_crypto::srp::{client as srp_client, Group};
use janus_crypto::{HashParams, PasswordHasher};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;

type Res<T> = Result<T, String>;

struct Args {
    flags: HashMap<String, String>,
    rest: Vec<String>,
}

impl Args {
    fn parse(args: &[String]) -> Res<Self> {
        let mut flags = HashMap::new();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "--" {
                return Ok(Self { flags, rest: args[i + 1..].to_vec() });
            }
            let name = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument {a:?}"))?;
            let value = args.get(i + 1).ok_or_else(|| format!("--{name} needs a value"))?;
            flags.insert(name.to_string(), value.clone());
            i += 2;
        }
        Ok(Self { flags, rest: Vec::new() })
    }
    fn str(&self, name: &str) -> Res<String> {
        self.flags.get(name).cloned().ok_or_else(|| format!("--{name} is required"))
    }
    fn str_or(&self, name: &str, default: &str) -> String {
        self.flags.get(name).cloned().unwrap_or_else(|| default.to_string())
    }
    fn num<T: std::str::FromStr>(&self, name: &str) -> Res<Option<T>> {
        match self.flags.get(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| format!("--{name}: bad number {v:?}")),
        }
    }
}

/// `http://HOST:PORT[/path]` → (socket address, `HOST:PORT`, path).
fn parse_url(url: &str) -> Res<(SocketAddr, String, String)> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url}: only http://HOST:PORT URLs"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = if host.contains(':') { host.to_string() } else { format!("{host}:80") };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&host.replace("localhost", "127.0.0.1"))
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: no address"))?;
    Ok((addr, host, path.to_string()))
}

/// What every client needs to sign and address its calls.
struct Target {
    addr: SocketAddr,
    host: String,
    creds: wire::Credentials,
}

impl Target {
    fn new(endpoint: &str, region: &str) -> Res<Self> {
        let (addr, host, _) = parse_url(endpoint)?;
        Ok(Self { addr, creds: wire::Credentials::from_env(&host, region)?, host })
    }

    /// The full HTTP/1.1 request for one call, signed with AWS Signature Version 4.
    fn request(&self, action: &str, body: &str) -> Res<Vec<u8>> {
        Ok(self.creds.signed_request(&format!("AWSCognitoIdentityProviderService.{action}"), body))
    }
}

impl Target {
    /// An unsigned call, as Cognito's public operations (InitiateAuth, GetUser, ...) are sent.
    fn unsigned(&self, action: &str, body: &str) -> Vec<u8> {
        format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.1\r\n\
             X-Amz-Target: AWSCognitoIdentityProviderService.{action}\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        )
        .into_bytes()
    }
}

/// The SRP TIMESTAMP, as amazon-cognito-identity-js writes it: `Sat Nov 21 13:34:13 UTC 2026`.
fn srp_timestamp_now() -> String {
    let secs = wire::now_secs();
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = wire::civil(days);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MO: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{} {} {d} {:02}:{:02}:{:02} UTC {y}",
        WD[days.rem_euclid(7) as usize],
        MO[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// One client's keep-alive connection.
struct Conn {
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Conn {
    async fn connect(addr: SocketAddr) -> Res<TcpStream> {
        let s = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(s)
    }

    /// Send `request`, return the response's status and body.
    async fn exchange(&mut self, addr: SocketAddr, request: &[u8]) -> Res<(u16, String)> {
        let result = self.exchange_inner(addr, request).await;
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    async fn exchange_inner(&mut self, addr: SocketAddr, request: &[u8]) -> Res<(u16, String)> {
        if self.stream.is_none() {
            self.stream = Some(Self::connect(addr).await?);
        }
        let s = self.stream.as_ref().expect("connected above");
        let mut data = request;
        while !data.is_empty() {
            match s.try_write(data) {
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    s.writable().await.map_err(|e| format!("write: {e}"))?
                }
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(end) = wire::find(&self.buf, b"\r\n\r\n") {
                let (status, length, close) = wire::parse_head(&self.buf[..end])?;
                let total = end + 4 + length;
                if self.buf.len() >= total {
                    let body = String::from_utf8_lossy(&self.buf[end + 4..total]).into_owned();
                    if close {
                        self.stream = None;
                    }
                    return Ok((status, body));
                }
            }
            s.readable().await.map_err(|e| format!("read: {e}"))?;
            match s.try_read(&mut chunk) {
                Ok(0) => return Err("connection closed by the server".into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }
}

fn runtime() -> Res<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(2)
        .build()
        .map_err(|e| e.to_string())
}

fn create_pool(args: &Args) -> Res<()> {
    let target = Target::new(&args.str("endpoint")?, &args.str_or("region", "us-east-1"))?;
    let body = serde_json::json!({ "PoolName": args.str_or("name", "bench") }).to_string();
    let request = target.request("CreateUserPool", &body)?;
    let mut conn = Conn { stream: None, buf: Vec::new() };
    let (status, text) = runtime()?.block_on(conn.exchange(target.addr, &request))?;
    if status != 200 {
        return Err(format!("CreateUserPool: {status} {text}"));
    }
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("CreateUserPool: {e}: {text}"))?;
    let id = v["UserPool"]["Id"].as_str().ok_or_else(|| format!("CreateUserPool: no UserPool.Id in {text}"))?;
    println!("{id}");
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Create,
    Get,
    Password,
    Srp,
    Refresh,
    GetUser,
    OauthCc,
    OauthRefresh,
}

impl Op {
    const ALL: [(&'static str, Op); 8] = [
        ("create", Op::Create),
        ("get", Op::Get),
        ("password", Op::Password),
        ("srp", Op::Srp),
        ("refresh", Op::Refresh),
        ("getuser", Op::GetUser),
        ("oauth-cc", Op::OauthCc),
        ("oauth-refresh", Op::OauthRefresh),
    ];
    fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, o)| *o == self).map_or("?", |(n, _)| n)
    }
}

/// Computes PASSWORD_CLAIM_SIGNATURE from (SRP_B, SALT, USER_ID_FOR_SRP, decoded SECRET_BLOCK,
/// TIMESTAMP) for one client ephemeral `a` (captured, with the pool name and password).
type Signer = Arc<dyn Fn(&str, &str, &str, &[u8], &str) -> Res<Vec<u8>> + Send + Sync>;

/// The client side of USER_SRP_AUTH. The SRP math is 3072-bit modular exponentiation, and the
/// client's share (A = g^a, then g^x and S = (B - k g^x)^(a + u x)) costs more CPU than the
/// server's (B = k v + g^b, then S = (A v^u)^b). On this 2-core machine the generator shares
/// the CPU with the server, so: the ephemerals (a, A) do not depend on the server and are made
/// before the clock starts (EPHEMERALS of them, reused round-robin: the server draws a fresh
/// b every time, so each handshake is still distinct); the signature, which needs the
/// server's B, is computed per sign-in, inside the measured time, on tokio's blocking pool
/// (at most 2 threads) so it does not stall the connection loop.
struct SrpKit {
    ephemerals: Vec<(String, Signer)>,
}

const EPHEMERALS: usize = 16;

impl SrpKit {
    fn new(pool_id: &str, password: &str) -> Self {
        let group = Arc::new(Group::new());
        let pool_name = pool_id.rsplit_once('_').map_or("", |(_, s)| s).to_string();
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let ephemerals = (0..EPHEMERALS)
            .map(|i| {
                let bytes: [u8; 32] = Sha256::digest(format!("{seed}/{i}")).into();
                let (a_hex, a) = srp_client::ephemeral(&group, &bytes);
                let (g, pool_name, password, a_hex2) =
                    (group.clone(), pool_name.clone(), password.to_string(), a_hex.clone());
                let signer: Signer = Arc::new(move |b_hex, salt_hex, user_id, block, timestamp| {
                    srp_client::signature(
                        &g, &a, &a_hex2, b_hex, salt_hex, &pool_name, user_id, &password, block, timestamp,
                    )
                    .map_err(|e| format!("SRP signature: {e:?}"))
                });
                (a_hex, signer)
            })
            .collect();
        Self { ephemerals }
    }
}

#[derive(Default)]
struct Outcome {
    latencies_us: Vec<u32>,
    errors: HashMap<String, u64>,
    last_done: Option<Instant>,
}

struct Plan {
    op: Op,
    pool: String,
    client_id: String,
    password: String,
    /// (access token, refresh token) per user, for `refresh` and `getuser`.
    tokens: Vec<(String, String)>,
    srp: Option<SrpKit>,
    prefix: String,
    /// The token endpoint's path and the client secret, for `oauth-cc` and `oauth-refresh`.
    token_path: String,
    secret: String,
    start: u64,
    keys: u64,
    count: Option<u64>,
    t0: Instant,
    measure_from: Instant,
    deadline: Option<Instant>,
}

async fn signed_call(conn: &mut Conn, target: &Target, action: &str, body: &str) -> Res<(u16, String)> {
    let request = target.request(action, body)?;
    conn.exchange(target.addr, &request).await
}

/// A 200 counts only if its body has `needle` (a sign-in can also answer 200 with a challenge).
fn expect_tokens(r: Res<(u16, String)>, needle: &str) -> Res<(u16, String)> {
    match r {
        Ok((200, text)) if !text.contains(needle) => {
            Err(format!("200 without {needle}: {}", text.chars().take(300).collect::<String>()))
        }
        other => other,
    }
}

/// One USER_SRP_AUTH sign-in: InitiateAuth → PASSWORD_VERIFIER → RespondToAuthChallenge.
async fn srp_sign_in(
    conn: &mut Conn,
    target: &Target,
    client_id: &str,
    user: &str,
    a_hex: &str,
    signer: &Signer,
) -> Res<(u16, String)> {
    let body = json!({
        "AuthFlow": "USER_SRP_AUTH", "ClientId": client_id,
        "AuthParameters": { "USERNAME": user, "SRP_A": a_hex },
    })
    .to_string();
    let (status, text) = conn.exchange(target.addr, &target.unsigned("InitiateAuth", &body)).await?;
    if status != 200 {
        return Ok((status, format!("(InitiateAuth) {text}")));
    }
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("InitiateAuth: {e}: {text}"))?;
    if v["ChallengeName"] != "PASSWORD_VERIFIER" {
        return Err(format!("InitiateAuth: no PASSWORD_VERIFIER challenge: {text}"));
    }
    let p = &v["ChallengeParameters"];
    let get = |k: &str| {
        p[k].as_str().map(str::to_string).ok_or_else(|| format!("InitiateAuth: no ChallengeParameters.{k}: {text}"))
    };
    let (salt, b_hex, block_b64, user_id) =
        (get("SALT")?, get("SRP_B")?, get("SECRET_BLOCK")?, get("USER_ID_FOR_SRP")?);
    let block = B64.decode(&block_b64).map_err(|e| format!("SECRET_BLOCK is not base64: {e}"))?;
    let timestamp = srp_timestamp_now();
    let (signer, ts, uid) = (signer.clone(), timestamp.clone(), user_id.clone());
    let signature = tokio::task::spawn_blocking(move || signer(&b_hex, &salt, &uid, &block, &ts))
        .await
        .map_err(|e| format!("SRP signature task: {e}"))??;
    let mut body = json!({
        "ChallengeName": "PASSWORD_VERIFIER", "ClientId": client_id,
        "ChallengeResponses": {
            "USERNAME": user_id, "PASSWORD_CLAIM_SECRET_BLOCK": block_b64, "TIMESTAMP": timestamp,
            "PASSWORD_CLAIM_SIGNATURE": B64.encode(signature),
        },
    });
    if let Some(session) = v.get("Session").filter(|s| s.is_string()) {
        body["Session"] = session.clone();
    }
    let r = conn.exchange(target.addr, &target.unsigned("RespondToAuthChallenge", &body.to_string())).await;
    match expect_tokens(r, "\"AccessToken\"") {
        Ok((200, text)) => Ok((200, text)),
        Ok((status, text)) => Ok((status, format!("(RespondToAuthChallenge) {text}"))),
        Err(e) => Err(format!("(RespondToAuthChallenge) {e}")),
    }
}

async fn client(n: usize, plan: Arc<Plan>, target: Arc<Target>, counter: Arc<AtomicU64>, stream: TcpStream) -> Outcome {
    let mut out = Outcome { latencies_us: Vec::with_capacity(1 << 14), ..Default::default() };
    let mut conn = Conn { stream: Some(stream), buf: Vec::with_capacity(4096) };
    // xorshift64*, seeded per client.
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15 ^ ((n as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
    let mut srp_round = n;
    tokio::time::sleep_until(plan.t0.into()).await;
    let pool = &plan.pool;
    let prefix = &plan.prefix;
    loop {
        let began = Instant::now();
        if plan.deadline.is_some_and(|d| began >= d) {
            break;
        }
        let mut pick = |n: u64| {
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            rng.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
        };
        if plan.op != Op::Create {
            if let Some(c) = plan.count {
                if counter.fetch_add(1, Ordering::Relaxed) >= c {
                    break;
                }
            }
        }
        let result = match plan.op {
            Op::Create => {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                if plan.count.is_some_and(|c| i >= c) {
                    break;
                }
                let name = format!("{prefix}{}", plan.start + i);
                let body = format!(
                    r#"{{"UserPoolId":"{pool}","Username":"{name}","MessageAction":"SUPPRESS","UserAttributes":[{{"Name":"email","Value":"{name}@example.com"}}]}}"#
                );
                signed_call(&mut conn, &target, "AdminCreateUser", &body).await
            }
            Op::Get => {
                let k = pick(plan.keys);
                let body = format!(r#"{{"UserPoolId":"{pool}","Username":"{prefix}{}"}}"#, plan.start + k);
                signed_call(&mut conn, &target, "AdminGetUser", &body).await
            }
            Op::Password => {
                let user = format!("{prefix}{}", plan.start + pick(plan.keys));
                let body = json!({
                    "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": plan.client_id,
                    "AuthParameters": { "USERNAME": user, "PASSWORD": plan.password },
                })
                .to_string();
                let r = conn.exchange(target.addr, &target.unsigned("InitiateAuth", &body)).await;
                expect_tokens(r, "\"AccessToken\"")
            }
            Op::Refresh => {
                let (_, refresh) = &plan.tokens[pick(plan.tokens.len() as u64) as usize];
                let body = json!({
                    "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": plan.client_id,
                    "AuthParameters": { "REFRESH_TOKEN": refresh },
                })
                .to_string();
                let r = conn.exchange(target.addr, &target.unsigned("InitiateAuth", &body)).await;
                expect_tokens(r, "\"AccessToken\"")
            }
            Op::GetUser => {
                let (access, _) = &plan.tokens[pick(plan.tokens.len() as u64) as usize];
                let body = json!({ "AccessToken": access }).to_string();
                let r = conn.exchange(target.addr, &target.unsigned("GetUser", &body)).await;
                expect_tokens(r, "\"Username\"")
            }
            Op::OauthCc => {
                let basic = Some((plan.client_id.as_str(), plan.secret.as_str()));
                let req = oauth::form_request(&target.host, &plan.token_path, "grant_type=client_credentials", basic);
                expect_tokens(conn.exchange(target.addr, &req).await, "\"access_token\"")
            }
            Op::OauthRefresh => {
                let (_, refresh) = &plan.tokens[pick(plan.tokens.len() as u64) as usize];
                let body = format!(
                    "grant_type=refresh_token&client_id={}&refresh_token={}",
                    oauth::enc(&plan.client_id),
                    oauth::enc(refresh)
                );
                let req = oauth::form_request(&target.host, &plan.token_path, &body, None);
                expect_tokens(conn.exchange(target.addr, &req).await, "\"access_token\"")
            }
            Op::Srp => {
                let user = format!("{prefix}{}", plan.start + pick(plan.keys));
                let kit = plan.srp.as_ref().expect("srp plans carry a kit");
                let (a_hex, signer) = &kit.ephemerals[srp_round % kit.ephemerals.len()];
                srp_round += 1;
                srp_sign_in(&mut conn, &target, &plan.client_id, &user, a_hex, signer).await
            }
        };
        let done = Instant::now();
        // Over a duration, a call counts if it ends inside the window [measure_from, deadline]
        // (whenever it began): the completion rate of a steady load, unbiased even when one
        // call takes a sizeable part of the window (sign-ins at 64 clients take over a second).
        // Over a count, every call that began after the warm-up counts.
        let counts = match plan.deadline {
            Some(deadline) => done >= plan.measure_from && done <= deadline,
            None => began >= plan.measure_from,
        };
        if !counts {
            continue;
        }
        out.last_done = Some(done);
        match result {
            Ok((200, _)) => out.latencies_us.push((done - began).as_micros().min(u32::MAX as u128) as u32),
            Ok((status, text)) => {
                let text: String = text.chars().take(300).collect();
                *out.errors.entry(format!("{status} {text}")).or_default() += 1;
            }
            Err(e) => *out.errors.entry(e).or_default() += 1,
        }
    }
    out
}

fn run(args: &Args) -> Res<()> {
    let target = Arc::new(Target::new(&args.str("endpoint")?, &args.str_or("region", "us-east-1"))?);
    let op_name = args.str("op")?;
    let op = Op::ALL
        .iter()
        .find(|(n, _)| *n == op_name)
        .map(|(_, o)| *o)
        .ok_or_else(|| format!("--op: {op_name:?} is not one of create get password srp refresh getuser"))?;
    let clients: usize = args.num("clients")?.unwrap_or(1);
    let duration: Option<f64> = args.num("duration")?;
    let count: Option<u64> = args.num("count")?;
    if duration.is_none() == count.is_none() {
        return Err("give exactly one of --duration and --count".into());
    }
    let warmup: f64 = args.num("warmup")?.unwrap_or(0.0);
    let keys: u64 = args.num("keys")?.unwrap_or(1);
    if matches!(op, Op::Get | Op::Password | Op::Srp) && keys == 0 {
        return Err("--keys must be positive".into());
    }
    let tokens = match op {
        Op::Refresh | Op::GetUser | Op::OauthRefresh => read_tokens(&args.str("tokens")?)?,
        _ => Vec::new(),
    };
    let password = match op {
        Op::Password | Op::Srp => args.str("password")?,
        _ => String::new(),
    };
    let client_id = match op {
        Op::Create | Op::Get => String::new(),
        _ => args.str("client-id")?,
    };
    let pool = args.str("pool")?;
    let srp = (op == Op::Srp).then(|| SrpKit::new(&pool, &password));
    let start: u64 = args.num("start")?.unwrap_or(0);
    let server_pid = args.flags.get("server-pid").cloned();
    let rt = runtime()?;
    let counter = Arc::new(AtomicU64::new(0));

    let (outcomes, measure_from, cpu) = rt.block_on(async {
        // Connect every client before the clock starts.
        let mut streams = Vec::with_capacity(clients);
        for _ in 0..clients {
            streams.push(Conn::connect(target.addr).await?);
        }
        let t0 = Instant::now() + Duration::from_millis(20);
        let measure_from = t0 + Duration::from_secs_f64(warmup);
        let plan = Arc::new(Plan {
            op,
            pool,
            client_id,
            password,
            tokens,
            srp,
            prefix: args.str_or("prefix", "u"),
            token_path: args.str_or("token-path", "/oauth2/token"),
            secret: args.str_or("secret", ""),
            start,
            keys,
            count,
            t0,
            measure_from,
            deadline: duration.map(|d| measure_from + Duration::from_secs_f64(d)),
        });
        let mut handles = Vec::with_capacity(clients);
        for (n, stream) in streams.into_iter().enumerate() {
            handles.push(tokio::spawn(client(n, plan.clone(), target.clone(), counter.clone(), stream)));
        }
        tokio::time::sleep_until(measure_from.into()).await;
        let cpu0 = (cpu_seconds("self"), server_pid.as_deref().and_then(proc_counters));
        // CPU is sampled over the same window the calls are counted in.
        let mut cpu1 = None;
        if let Some(deadline) = plan.deadline {
            tokio::time::sleep_until(deadline.into()).await;
            cpu1 = Some((cpu_seconds("self"), server_pid.as_deref().and_then(proc_counters)));
        }
        let mut outcomes = Vec::with_capacity(clients);
        for h in handles {
            outcomes.push(h.await.map_err(|e| format!("a client failed: {e}"))?);
        }
        let cpu1 = cpu1.unwrap_or_else(|| (cpu_seconds("self"), server_pid.as_deref().and_then(proc_counters)));
        let diff = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| b - a);
        let server = cpu0.1.zip(cpu1.1).map(|(a, b)| (b.0 - a.0, b.1 - a.1, b.2 - a.2));
        Ok::<_, String>((outcomes, measure_from, (diff(cpu0.0, cpu1.0), server)))
    })?;

    let mut latencies = Vec::new();
    let mut errors: HashMap<String, u64> = HashMap::new();
    let mut last_done = measure_from;
    for out in outcomes {
        latencies.extend(out.latencies_us);
        for (k, v) in out.errors {
            *errors.entry(k).or_default() += v;
        }
        if let Some(d) = out.last_done {
            last_done = last_done.max(d);
        }
    }
    // Over a fixed duration the window is the duration (calls still in flight at the deadline
    // finish but do not count); over a count, from the start to the last response.
    let secs = match duration {
        Some(d) => d,
        None => (last_done - measure_from).as_secs_f64(),
    };
    latencies.sort_unstable();
    let pct = |p: usize| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        latencies[(latencies.len() * p / 100).min(latencies.len() - 1)] as f64 / 1000.0
    };
    let err_total: u64 = errors.values().sum();
    let ok = latencies.len() as u64;
    let issued = counter.load(Ordering::Relaxed);
    let next = match (op, count) {
        (Op::Create, Some(c)) => start + issued.min(c),
        (Op::Create, None) => start + issued,
        _ => start,
    };
    let opt = |v: Option<f64>| v.map_or("NA".to_string(), |v| format!("{v:.2}"));
    println!(
        "RESULT op={} clients={clients} ok={ok} err={err_total} secs={secs:.3} ops_s={:.1} p50_ms={:.3} p99_ms={:.3} \
         max_ms={:.3} client_cpu_s={} server_cpu_s={} server_sys_s={} server_minflt={} next={next}",
        op.name(),
        ok as f64 / secs,
        pct(50),
        pct(99),
        latencies.last().map_or(f64::NAN, |v| *v as f64 / 1000.0),
        opt(cpu.0),
        opt(cpu.1.map(|c| c.0)),
        opt(cpu.1.map(|c| c.1)),
        cpu.1.map_or("NA".to_string(), |c| format!("{:.0}", c.2)),
    );
    let mut errors: Vec<_> = errors.into_iter().collect();
    errors.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (text, n) in errors {
        println!("ERROR count={n} {}", text.replace(['\n', '\r'], " "));
    }
    Ok(())
}

/// `username access refresh` lines → (access, refresh).
fn read_tokens(path: &str) -> Res<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let tokens: Vec<_> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            let (_user, access, refresh) = (f.next()?, f.next()?, f.next()?);
            Some((access.to_string(), refresh.to_string()))
        })
        .collect();
    if tokens.is_empty() {
        return Err(format!("{path}: no tokens"));
    }
    Ok(tokens)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        eprintln!("usage: loadgen create-pool|run|wait|startup|setup-signin|argon2|rs256|floor --flag value ... (see the source's header)");
        return ExitCode::from(2);
    };
    let result = Args::parse(rest).and_then(|args| match cmd.as_str() {
        "create-pool" => create_pool(&args),
        "run" => run(&args),
        "wait" => startup::wait(&args),
        "startup" => startup::startup(&args),
        "setup-signin" => signin::setup_signin(&args),
        "argon2" => signin::argon2_rate(&args),
        "rs256" => oauth::rs256_rate(&args),
        "floor" => floor::floor(&args),
        other => Err(format!("unknown command {other:?}")),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}
