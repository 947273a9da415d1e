//! What the dispatcher counts, for `/metrics`: requests by operation and outcome (`ok` or
//! the Cognito error name), request latency histograms by operation, sign-ins by flow and
//! outcome, and lockouts. Labels come only from the operation table, the error enum and a
//! fixed list of flows, so their number is bounded whatever clients send. Each request also
//! leaves one structured log line (target `janus::request`, JSON with `--log-format json`)
//! carrying the same request id as its `x-amzn-RequestId` header.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The sign-in flows and challenges counted by name; anything else is `other`.
const FLOWS: &[&str] = &[
    "USER_PASSWORD_AUTH",
    "ADMIN_USER_PASSWORD_AUTH",
    "ADMIN_NO_SRP_AUTH",
    "USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "PASSWORD_VERIFIER",
    "NEW_PASSWORD_REQUIRED",
    "SOFTWARE_TOKEN_MFA",
    "EMAIL_OTP",
    "SMS_MFA",
    "SELECT_MFA_TYPE",
    "MFA_SETUP",
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Counts {
    requests: BTreeMap<(&'static str, &'static str), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    sign_ins: BTreeMap<(&'static str, &'static str), u64>,
    lockouts: u64,
}

/// The request counters of one process.
#[derive(Default)]
pub struct Telemetry(Mutex<Counts>);

/// The sign-in flow a request names, if it is a sign-in call.
pub fn flow_of(op: &str, input: &Value) -> Option<&'static str> {
    let field = match op {
        "InitiateAuth" | "AdminInitiateAuth" => "AuthFlow",
        "RespondToAuthChallenge" | "AdminRespondToAuthChallenge" => "ChallengeName",
        "GetTokensFromRefreshToken" => return Some("REFRESH_TOKEN"),
        _ => return None,
    };
    let named = input.get(field).and_then(Value::as_str).unwrap_or("");
    Some(FLOWS.iter().copied().find(|f| *f == named).unwrap_or("other"))
}

impl Telemetry {
    /// Count one finished request. `outcome` is `ok` or the error name; a sign-in that
    /// answered with another challenge counts as `challenge`.
    pub fn record(
        &self,
        op: &'static str,
        outcome: &'static str,
        took: Duration,
        flow: Option<(&'static str, bool)>,
        locked: bool,
    ) {
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *c.requests.entry((op, outcome)).or_default() += 1;
        let h = c.latency.entry(op).or_default();
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
        if let Some((flow, challenged)) = flow {
            let result = if outcome == "ok" && challenged { "challenge" } else { outcome };
            *c.sign_ins.entry((flow, result)).or_default() += 1;
        }
        if locked {
            c.lockouts += 1;
        }
    }

    /// The counters in Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(out, "# HELP janus_requests_total Cognito API requests by operation and outcome.");
        let _ = writeln!(out, "# TYPE janus_requests_total counter");
        for ((op, outcome), n) in &c.requests {
            let _ = writeln!(out, "janus_requests_total{{operation=\"{op}\",outcome=\"{outcome}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP janus_request_duration_seconds Cognito API request latency by operation.");
        let _ = writeln!(out, "# TYPE janus_request_duration_seconds histogram");
        for (op, h) in &c.latency {
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(out, "janus_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {n}");
            }
            let _ =
                writeln!(out, "janus_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "janus_request_duration_seconds_sum{{operation=\"{op}\"}} {}", h.sum);
            let _ = writeln!(out, "janus_request_duration_seconds_count{{operation=\"{op}\"}} {}", h.count);
        }
        let _ = writeln!(out, "# HELP janus_sign_ins_total Sign-in steps by flow (or challenge) and outcome.");
        let _ = writeln!(out, "# TYPE janus_sign_ins_total counter");
        for ((flow, outcome), n) in &c.sign_ins {
            let _ = writeln!(out, "janus_sign_ins_total{{flow=\"{flow}\",outcome=\"{outcome}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP janus_lockouts_total Sign-ins refused because the user is locked out.");
        let _ = writeln!(out, "# TYPE janus_lockouts_total counter");
        let _ = writeln!(out, "janus_lockouts_total {}", c.lockouts);
    }
}
