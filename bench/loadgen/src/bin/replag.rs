//! Replication measurements for bench/replication.sh: lag under a steady write rate, the
//! initial copy of a loaded pool, and a TCP proxy that adds a fixed one-way delay.
//!
//! Plain blocking std networking and threads (no runtime): every measurement here is a few
//! thousand requests a second at most, and a dedicated thread per role keeps the timing of
//! one role (the watcher) independent of the others (the writers).
//!
//! Commands (flags are `--name value`; SigV4 credentials come from JANUS_ADMIN_ACCESS_KEY_ID
//! and JANUS_ADMIN_SECRET_ACCESS_KEY, the replication secret from JANUS_REPLICATION_SECRET):
//!
//! * `call --endpoint URL --target T --body JSON [--region R]` makes one SigV4-signed call
//!   (`T` is e.g. `AWSCognitoIdentityProviderService.CreateUserPool` or
//!   `JanusAdmin.DescribeReplication`) and prints the response body; exit 1 on a non-200.
//! * `load --endpoint URL --pool ID --count N [--clients 64] [--start 0] [--prefix u]`
//!   creates users `{prefix}{start}` .. as fast as N clients can (AdminCreateUser, one email
//!   attribute, MessageAction SUPPRESS), and prints `LOAD ok=.. err=.. secs=.. ops_s=..`.
//! * `lag --primary URL --replica URL --pool ID --rate R --duration S [--warmup S]
//!   [--clients 32] [--prefix lag] [--out FILE]` measures replication lag. Writers issue
//!   AdminCreateUser on the primary on an open-loop schedule (write i is due at t0 + i/R,
//!   whatever happened to earlier ones) and record when each was acknowledged. A watcher
//!   thread long-polls the *replica's* change log (GET /replication/v1/pools/{pool}/changes on
//!   the replica, which wakes on the replica's own commits) and records when each user's
//!   change arrived there. lag = visible on the replica − acknowledged by the primary, per
//!   write; writes due in the first `--warmup` seconds are left out. Also reported: the lag
//!   from the primary's commit stamp (`at_ms` in the change, ms resolution, same clock: both
//!   regions run on this machine). Prints one `LAG key=value ...` line; `--out` writes one
//!   CSV row per write.
//! * `copy --endpoint URL --pool ID --region R --users N [--pids A,B] [--poll-ms 20]` calls
//!   CreateUserPoolReplica, then polls ListUserPoolReplicas until the replica is INACTIVE
//!   (caught up, ready to activate), sampling VmRSS of the given pids meanwhile. Prints
//!   `COPY users=N secs=.. users_s=.. peak_rss_mib=A,B hwm_mib=A,B`.
//! * `proxy --listen ADDR --upstream ADDR --delay-ms D`: forwards TCP connections, holding
//!   every chunk of bytes D ms (in each direction) before passing it on. Runs until killed.

#[path = "../wire.rs"]
mod wire;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

type Res<T> = Result<T, String>;

// ---- arguments -----------------------------------------------------------------------------

struct Args(HashMap<String, String>);

impl Args {
    fn parse(args: &[String]) -> Res<Self> {
        let mut m = HashMap::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let name = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument {a:?}"))?;
            let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            m.insert(name.to_string(), v.clone());
        }
        Ok(Self(m))
    }
    fn str(&self, n: &str) -> Res<String> {
        self.0.get(n).cloned().ok_or_else(|| format!("--{n} is required"))
    }
    fn str_or(&self, n: &str, d: &str) -> String {
        self.0.get(n).cloned().unwrap_or_else(|| d.to_string())
    }
    fn num<T: std::str::FromStr>(&self, n: &str, d: T) -> Res<T> {
        match self.0.get(n) {
            None => Ok(d),
            Some(v) => v.parse().map_err(|_| format!("--{n}: bad number {v:?}")),
        }
    }
}

fn env(n: &str) -> Res<String> {
    std::env::var(n).map_err(|_| format!("{n} is not set"))
}

// ---- HTTP/1.1 over a blocking keep-alive connection ----------------------------------------

/// `http://HOST:PORT[/...]` → (address, `HOST:PORT`).
fn parse_url(url: &str) -> Res<(SocketAddr, String)> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url}: only http:// URLs"))?;
    let host = rest.split('/').next().unwrap_or_default().to_string();
    let addr = host
        .to_socket_addrs()
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: no address"))?;
    Ok((addr, host))
}

struct Http {
    addr: SocketAddr,
    host: String,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Http {
    fn new(url: &str) -> Res<Self> {
        let (addr, host) = parse_url(url)?;
        Ok(Self { addr, host, stream: None, buf: Vec::new() })
    }

    /// Send a complete request; return status and body. One retry on a stale keep-alive.
    fn exchange(&mut self, request: &[u8]) -> Res<(u16, Vec<u8>)> {
        let reused = self.stream.is_some();
        match self.exchange_once(request) {
            Err(_) if reused => {
                self.stream = None;
                self.exchange_once(request)
            }
            r => r,
        }
        .inspect_err(|_| self.stream = None)
    }

    fn exchange_once(&mut self, request: &[u8]) -> Res<(u16, Vec<u8>)> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr).map_err(|e| format!("connect {}: {e}", self.addr))?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            self.stream = Some(s);
        }
        let s = self.stream.as_mut().expect("connected");
        s.write_all(request).map_err(|e| format!("write: {e}"))?;
        self.buf.clear();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if let Some(end) = wire::find(&self.buf, b"\r\n\r\n") {
                let (status, len, close) = wire::parse_head(&self.buf[..end])?;
                if self.buf.len() >= end + 4 + len {
                    let body = self.buf[end + 4..end + 4 + len].to_vec();
                    if close {
                        self.stream = None;
                    }
                    return Ok((status, body));
                }
            }
            let n = s.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("connection closed by the server".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Res<(u16, Vec<u8>)> {
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        self.exchange(req.as_bytes())
    }
}

fn wall_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

/// A signed Cognito/JanusAdmin client on one keep-alive connection.
struct Client {
    http: Http,
    signer: wire::Credentials,
}

impl Client {
    fn new(endpoint: &str, region: &str) -> Res<Self> {
        let http = Http::new(endpoint)?;
        let signer = wire::Credentials::from_env(&http.host, region)?;
        Ok(Self { http, signer })
    }
    fn call(&mut self, target: &str, body: &str) -> Res<(u16, String)> {
        let target = if target.contains('.') {
            target.to_string()
        } else {
            format!("AWSCognitoIdentityProviderService.{target}")
        };
        let req = self.signer.signed_request(&target, body);
        let (status, body) = self.http.exchange(&req)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
    fn ok(&mut self, target: &str, body: &str) -> Res<Value> {
        let (status, text) = self.call(target, body)?;
        if status != 200 {
            return Err(format!("{target}: HTTP {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("{target}: {e}: {text}"))
    }
}

fn create_body(pool: &str, name: &str) -> String {
    format!(
        r#"{{"UserPoolId":"{pool}","Username":"{name}","MessageAction":"SUPPRESS","UserAttributes":[{{"Name":"email","Value":"{name}@example.com"}}]}}"#
    )
}

// ---- statistics ----------------------------------------------------------------------------

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(name: &str, v: &mut [f64]) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    let mean = if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
    format!(
        "{name}_min={:.2} {name}_p50={:.2} {name}_p90={:.2} {name}_p99={:.2} {name}_p999={:.2} {name}_max={:.2} {name}_mean={:.2}",
        v.first().copied().unwrap_or(f64::NAN),
        pct(v, 50.0),
        pct(v, 90.0),
        pct(v, 99.0),
        pct(v, 99.9),
        v.last().copied().unwrap_or(f64::NAN),
        mean
    )
}

// ---- call ----------------------------------------------------------------------------------

fn cmd_call(a: &Args) -> Res<()> {
    let mut c = Client::new(&a.str("endpoint")?, &a.str_or("region", "us-east-1"))?;
    let (status, text) = c.call(&a.str("target")?, &a.str_or("body", "{}"))?;
    println!("{text}");
    if status != 200 {
        return Err(format!("HTTP {status}"));
    }
    Ok(())
}

// ---- load ----------------------------------------------------------------------------------

fn cmd_load(a: &Args) -> Res<()> {
    let endpoint = a.str("endpoint")?;
    let pool = a.str("pool")?;
    let count: u64 = a.num("count", 0)?;
    let clients: usize = a.num("clients", 64)?;
    let start: u64 = a.num("start", 0)?;
    let prefix = a.str_or("prefix", "u");
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(Mutex::new(HashMap::<String, u64>::new()));
    let t0 = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (endpoint, pool, prefix, next, errors) =
                (endpoint.clone(), pool.clone(), prefix.clone(), next.clone(), errors.clone());
            std::thread::spawn(move || -> Res<u64> {
                let mut c = Client::new(&endpoint, "us-east-1")?;
                let mut ok = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return Ok(ok);
                    }
                    match c.call("AdminCreateUser", &create_body(&pool, &format!("{prefix}{}", start + i))) {
                        Ok((200, _)) => ok += 1,
                        Ok((s, t)) => {
                            *errors.lock().unwrap().entry(format!("{s} {}", &t[..t.len().min(200)])).or_default() += 1
                        }
                        Err(e) => *errors.lock().unwrap().entry(e).or_default() += 1,
                    }
                }
            })
        })
        .collect();
    let mut ok = 0;
    for t in threads {
        ok += t.join().map_err(|_| "a load thread panicked")??;
    }
    let secs = t0.elapsed().as_secs_f64();
    let errors = errors.lock().unwrap();
    println!("LOAD ok={ok} err={} secs={secs:.2} ops_s={:.0}", errors.values().sum::<u64>(), ok as f64 / secs);
    for (e, n) in errors.iter() {
        println!("ERROR count={n} {e}");
    }
    Ok(())
}

// ---- lag -----------------------------------------------------------------------------------

struct Write1 {
    due: Duration,
    sent: Duration,
    acked: Duration,
    status: u16,
}

struct Seen {
    at: Duration,
    wall_us: i64,
    commit_ms: i64,
}

/// The username in a change's entity state (`{"User": {"username": ..}}` or flat).
fn username_of(state: &Value) -> Option<&str> {
    if let Some(u) = state.get("username").and_then(Value::as_str) {
        return Some(u);
    }
    state.as_object()?.values().find_map(|v| v.get("username").and_then(Value::as_str))
}

fn replica_head(http: &mut Http, pool: &str, secret: &str) -> Res<u64> {
    let (status, body) =
        http.get(&format!("/replication/v1/pools/{pool}/head"), &[("x-janus-replication-secret", secret)])?;
    let v: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("head: HTTP {status}: {v}"));
    }
    v["seq"].as_u64().ok_or_else(|| format!("head without seq: {v}"))
}

fn cmd_lag(a: &Args) -> Res<()> {
    let primary = a.str("primary")?;
    let replica = a.str("replica")?;
    let pool = a.str("pool")?;
    let secret = env("JANUS_REPLICATION_SECRET")?;
    let rate: f64 = a.num("rate", 200.0)?;
    let duration: f64 = a.num("duration", 20.0)?;
    let warmup: f64 = a.num("warmup", 2.0)?;
    let clients: usize = a.num("clients", 32)?;
    let prefix = a.str_or("prefix", "lag");
    let total = (rate * duration).round() as u64;

    // The watcher: long-polls the replica's own change log from its current head.
    let mut http = Http::new(&replica)?;
    let mut after = replica_head(&mut http, &pool, &secret)?;
    let epoch = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(HashMap::<String, Seen>::new()));
    let polls = Arc::new(AtomicU64::new(0));
    let watcher = {
        let (stop, seen, pool, secret, polls) =
            (stop.clone(), seen.clone(), pool.clone(), secret.clone(), polls.clone());
        std::thread::spawn(move || -> Res<()> {
            while !stop.load(Ordering::Relaxed) {
                let path = format!("/replication/v1/pools/{pool}/changes?after={after}&wait_ms=1000");
                let (status, body) = http.get(&path, &[("x-janus-replication-secret", &secret)])?;
                let at = epoch.elapsed();
                let wall = wall_us();
                polls.fetch_add(1, Ordering::Relaxed);
                if status != 200 {
                    return Err(format!("replica changes: HTTP {status}: {}", String::from_utf8_lossy(&body)));
                }
                let v: Value = serde_json::from_slice(&body).map_err(|e| format!("replica changes: {e}"))?;
                let mut s = seen.lock().unwrap();
                for c in v["changes"].as_array().into_iter().flatten() {
                    after = after.max(c["seq"].as_u64().unwrap_or(0));
                    if let Some(u) = c.get("state").and_then(username_of) {
                        s.entry(u.to_string()).or_insert(Seen {
                            at,
                            wall_us: wall,
                            commit_ms: c["at_ms"].as_i64().unwrap_or(0),
                        });
                    }
                }
            }
            Ok(())
        })
    };

    // The writers: open loop, write i due at t0 + i / rate.
    std::thread::sleep(Duration::from_millis(200));
    let t0 = epoch.elapsed() + Duration::from_millis(50);
    let next = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..clients)
        .map(|_| {
            let (primary, pool, prefix, next) = (primary.clone(), pool.clone(), prefix.clone(), next.clone());
            std::thread::spawn(move || -> Res<Vec<(u64, Write1)>> {
                let mut c = Client::new(&primary, "us-east-1")?;
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return Ok(out);
                    }
                    let due = t0 + Duration::from_secs_f64(i as f64 / rate);
                    let now = epoch.elapsed();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    let sent = epoch.elapsed();
                    let status = match c.call("AdminCreateUser", &create_body(&pool, &format!("{prefix}{i}"))) {
                        Ok((s, _)) => s,
                        Err(_) => 0,
                    };
                    out.push((i, Write1 { due, sent, acked: epoch.elapsed(), status }));
                }
            })
        })
        .collect();
    let mut writes: Vec<(u64, Write1)> = Vec::with_capacity(total as usize);
    for w in writers {
        writes.extend(w.join().map_err(|_| "a writer panicked")??);
    }
    let write_end = epoch.elapsed();
    writes.sort_by_key(|(i, _)| *i);
    let ok: Vec<&(u64, Write1)> = writes.iter().filter(|(_, w)| w.status == 200).collect();

    // Wait (up to 60 s) until every acknowledged write has reached the replica.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let missing = {
            let s = seen.lock().unwrap();
            ok.iter().filter(|(i, _)| !s.contains_key(&format!("{prefix}{i}"))).count()
        };
        if missing == 0 || Instant::now() > deadline || watcher.is_finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let watch_result = watcher.join().map_err(|_| "the watcher panicked")?;

    let seen = seen.lock().unwrap();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (mut lag, mut lag_commit, mut ack_lat, mut send_late) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut per_second: Vec<f64> = Vec::new();
    let mut unseen = 0;
    let mut csv = String::from("i,due_ms,sent_ms,acked_ms,visible_ms,status,commit_at_ms,visible_wall_us\n");
    for (i, w) in &writes {
        let s = seen.get(&format!("{prefix}{i}"));
        csv.push_str(&format!(
            "{i},{:.3},{:.3},{:.3},{},{},{},{}\n",
            ms(w.due),
            ms(w.sent),
            ms(w.acked),
            s.map_or(String::new(), |s| format!("{:.3}", ms(s.at))),
            w.status,
            s.map_or(String::new(), |s| s.commit_ms.to_string()),
            s.map_or(String::new(), |s| s.wall_us.to_string())
        ));
        if w.status != 200 || ms(w.due - t0) < warmup * 1000.0 {
            continue;
        }
        let Some(s) = s else {
            unseen += 1;
            continue;
        };
        let l = ms(s.at) - ms(w.acked);
        lag.push(l);
        lag_commit.push((s.wall_us as f64 / 1000.0) - s.commit_ms as f64);
        ack_lat.push(ms(w.acked - w.sent));
        send_late.push(ms(w.sent.saturating_sub(w.due)));
        let sec = ((w.due - t0).as_secs_f64()) as usize;
        if per_second.len() <= sec {
            per_second.resize(sec + 1, f64::NAN);
        }
        if per_second[sec].is_nan() || per_second[sec] < l {
            per_second[sec] = l;
        }
    }
    if let Ok(path) = a.str("out") {
        std::fs::write(&path, csv).map_err(|e| format!("{path}: {e}"))?;
    }
    let measured = lag.len();
    let achieved = ok.len() as f64 / ms(write_end - t0) * 1000.0;
    let negative = lag.iter().filter(|l| **l < 0.0).count();
    println!(
        "LAG rate={rate} duration_s={duration} warmup_s={warmup} clients={clients} writes={} ok={} errors={} achieved_rate={achieved:.0} measured={measured} unseen={unseen} negative={negative} polls={} {} {} {} {} per_second_max_ms={}",
        writes.len(),
        ok.len(),
        writes.len() - ok.len(),
        polls.load(Ordering::Relaxed),
        summary("lag", &mut lag),
        summary("commitlag", &mut lag_commit),
        summary("ack", &mut ack_lat),
        summary("sendlate", &mut send_late),
        per_second.iter().map(|v| format!("{v:.0}")).collect::<Vec<_>>().join(",")
    );
    watch_result
}

// ---- copy ----------------------------------------------------------------------------------

fn rss_kib(pid: &str, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

fn cmd_copy(a: &Args) -> Res<()> {
    let endpoint = a.str("endpoint")?;
    let pool = a.str("pool")?;
    let region = a.str("region")?;
    let users: u64 = a.num("users", 0)?;
    let poll = Duration::from_millis(a.num("poll-ms", 20)?);
    let pids: Vec<String> = a.str_or("pids", "").split(',').filter(|s| !s.is_empty()).map(String::from).collect();
    let mut peak = vec![0u64; pids.len()];
    let mut c = Client::new(&endpoint, "us-east-1")?;
    let t0 = Instant::now();
    let created =
        c.ok("CreateUserPoolReplica", &serde_json::json!({"UserPoolId": pool, "RegionName": region}).to_string())?;
    let create_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let first = created["UserPoolReplica"]["Status"].as_str().unwrap_or("?").to_string();
    let mut last_status = first.clone();
    let mut polls = 0u64;
    loop {
        for (k, pid) in pids.iter().enumerate() {
            peak[k] = peak[k].max(rss_kib(pid, "VmRSS:").unwrap_or(0));
        }
        let list = c.ok("ListUserPoolReplicas", &serde_json::json!({"UserPoolId": pool}).to_string())?;
        polls += 1;
        let status = list["UserPoolReplicas"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["RegionName"].as_str() == Some(region.as_str()))
            .and_then(|r| r["Status"].as_str())
            .unwrap_or("?")
            .to_string();
        if status != last_status {
            eprintln!("  {:.2} s: replica {status}", t0.elapsed().as_secs_f64());
            last_status = status.clone();
        }
        if status == "INACTIVE" || status == "ACTIVE" {
            break;
        }
        if t0.elapsed() > Duration::from_secs(a.num("timeout", 300)?) {
            return Err(format!("replica still {status} after {:?}", t0.elapsed()));
        }
        std::thread::sleep(poll);
    }
    let secs = t0.elapsed().as_secs_f64();
    let hwm: Vec<String> = pids
        .iter()
        .map(|p| rss_kib(p, "VmHWM:").map_or("NA".into(), |k| format!("{:.0}", k as f64 / 1024.0)))
        .collect();
    let peak: Vec<String> = peak.iter().map(|k| format!("{:.0}", *k as f64 / 1024.0)).collect();
    println!(
        "COPY users={users} first_status={first} create_call_ms={create_ms:.1} secs={secs:.2} users_s={:.0} polls={polls} peak_rss_mib={} hwm_mib={}",
        users as f64 / secs,
        peak.join(","),
        hwm.join(",")
    );
    Ok(())
}

// ---- proxy ---------------------------------------------------------------------------------

/// Copy `from` → `to`, each chunk held `delay` after it was read.
fn delayed_pipe(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
        // EOF travels with the same delay as the data before it.
        let _ = tx.send((Instant::now() + delay, Vec::new()));
    });
    for (due, bytes) in rx {
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        if bytes.is_empty() {
            break;
        }
        if to.write_all(&bytes).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = reader.join();
}

fn cmd_proxy(a: &Args) -> Res<()> {
    let listen = TcpListener::bind(a.str("listen")?).map_err(|e| e.to_string())?;
    let upstream: SocketAddr = a.str("upstream")?.parse().map_err(|e| format!("--upstream: {e}"))?;
    let delay = Duration::from_millis(a.num("delay-ms", 35)?);
    for conn in listen.incoming() {
        let Ok(down) = conn else { continue };
        std::thread::spawn(move || {
            // A real link would also delay the handshake: one round trip before the first byte.
            std::thread::sleep(delay * 2);
            let Ok(up) = TcpStream::connect(upstream) else {
                return;
            };
            let _ = down.set_nodelay(true);
            let _ = up.set_nodelay(true);
            let (Ok(down2), Ok(up2)) = (down.try_clone(), up.try_clone()) else {
                return;
            };
            let t = std::thread::spawn(move || delayed_pipe(down2, up2, delay));
            delayed_pipe(up, down, delay);
            let _ = t.join();
        });
    }
    Ok(())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let Some(cmd) = argv.get(1) else {
        eprintln!("usage: replag call|load|lag|copy|proxy --flag value ...");
        return ExitCode::from(2);
    };
    let result = Args::parse(&argv[2..]).and_then(|a| match cmd.as_str() {
        "call" => cmd_call(&a),
        "load" => cmd_load(&a),
        "lag" => cmd_lag(&a),
        "copy" => cmd_copy(&a),
        "proxy" => cmd_proxy(&a),
        other => Err(format!("unknown command {other}")),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replag {cmd}: {e}");
            ExitCode::FAILURE
        }
    }
}
