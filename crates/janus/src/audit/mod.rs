//! `janus audit --pool <id>`: the readiness checklist for running a pool in two regions,
//! read from both regions' administrator APIs. Each line is PASS, FAIL, WARN or INFO with the
//! action to take; the exit code is non-zero when any line is FAIL. docs/failover.md lists
//! the checks.

use serde::Serialize;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::client::{credentials, Client};

mod triggers;

/// `janus audit` options.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// The pool.
    #[arg(long)]
    pool: String,
    /// The primary region's URL.
    #[arg(long)]
    primary: String,
    /// The secondary region's URL.
    #[arg(long)]
    secondary: String,
    /// Replication lag (changes) above which the replica check fails.
    #[arg(long, default_value_t = 1000)]
    max_lag_changes: u64,
    /// Clock skew between the regions (ms) above which the clock check fails.
    #[arg(long, default_value_t = 1000)]
    max_skew_ms: i64,
    /// Print the checklist as JSON.
    #[arg(long)]
    json: bool,
    /// Also send each region's trigger functions the same test event and compare their
    /// answers (the event's user is `janus-audit-probe`; handlers with side effects see it).
    #[arg(long)]
    probe_triggers: bool,
    /// Where to find admin-credentials.json when JANUS_ADMIN_* are unset.
    #[arg(long, default_value = "./janus-data")]
    data_dir: PathBuf,
}

#[derive(Debug, Serialize)]
struct Check {
    check: &'static str,
    result: &'static str,
    detail: String,
    action: String,
}

fn check(check: &'static str, result: &'static str, detail: impl Into<String>, action: impl Into<String>) -> Check {
    Check { check, result, detail: detail.into(), action: action.into() }
}

/// Run the audit; `Ok(true)` when nothing FAILed.
pub fn run(a: AuditArgs) -> anyhow::Result<bool> {
    let creds = credentials(&a.data_dir)?;
    let p = Client::new(&a.primary, Some(creds.clone()), Duration::from_secs(10));
    let s = Client::new(&a.secondary, Some(creds), Duration::from_secs(10));
    let pool = json!({"UserPoolId": a.pool});
    let dp = p.admin("DescribeUserPool", &pool)?["UserPool"].clone();
    let ds = s.admin("DescribeUserPool", &pool).map(|v| v["UserPool"].clone()).unwrap_or(Value::Null);
    let mut checks = vec![
        tier(&dp),
        key(&p, &s, &dp),
        issuer(&p, &s, &a.pool),
        replica(&p, &s, &a),
        domain(&p, &a.pool, &dp),
        clients(&p, &s, &a.pool),
        regional(&dp, &ds),
        triggers::triggers(&dp, &ds),
        clock(&p, &s, a.max_skew_ms),
        failover(&s),
    ];
    if a.probe_triggers {
        checks.push(triggers::probes(&p, &s, &a.pool));
    }
    let passed = checks.iter().all(|c| c.result != "FAIL");
    if a.json {
        println!("{}", serde_json::to_string_pretty(&json!({"passed": passed, "checks": checks}))?);
    } else {
        for c in &checks {
            println!("{:<5} {:<22} {}", c.result, c.check, c.detail);
            if !c.action.is_empty() {
                println!("{:<28} → {}", "", c.action);
            }
        }
    }
    Ok(passed)
}

fn tier(d: &Value) -> Check {
    let tier = d["UserPoolTier"].as_str().unwrap_or("ESSENTIALS");
    if tier == "LITE" {
        check(
            "tier",
            "FAIL",
            "the pool is LITE; replication needs ESSENTIALS or PLUS",
            "UpdateUserPool UserPoolTier=ESSENTIALS",
        )
    } else {
        check("tier", "PASS", tier, "")
    }
}

fn key(p: &Client, s: &Client, d: &Value) -> Check {
    let k = &d["KeyConfiguration"];
    let (kind, arn) = (k["KeyType"].as_str().unwrap_or("AWS_OWNED_KEY"), k["KmsKeyArn"].as_str().unwrap_or(""));
    if kind != "CUSTOMER_MANAGED_KEY" {
        return check(
            "customer-managed key",
            "FAIL",
            format!("KeyType {kind}"),
            "use a multi-region customer-managed key (KeyConfiguration CUSTOMER_MANAGED_KEY, KmsKeyArn …:key/mrk-…)",
        );
    }
    if !arn.contains(":key/mrk-") {
        return check(
            "customer-managed key",
            "FAIL",
            format!("{arn} is not a multi-region key"),
            "replicate a multi-region key (mrk-…) to both regions and use it",
        );
    }
    for (side, c) in [("primary", p), ("secondary", s)] {
        match c.admin("JanusAdmin.DescribeKey", &json!({"KeyId": arn})) {
            Ok(v) if v["KeyMetadata"]["Enabled"] == true => {}
            Ok(_) => {
                return check(
                    "customer-managed key",
                    "FAIL",
                    format!("{arn} is disabled in the {side} region"),
                    "janus keys enable",
                )
            }
            Err(e) => {
                return check(
                    "customer-managed key",
                    "FAIL",
                    format!("{arn} is not usable in the {side} region: {e}"),
                    "janus keys replicate the key to that region and import it there",
                )
            }
        }
    }
    check("customer-managed key", "PASS", format!("{arn} is multi-region and enabled in both regions"), "")
}

fn issuer(p: &Client, s: &Client, pool: &str) -> Check {
    let path = format!("/{pool}/.well-known/openid-configuration");
    let (ip, is) = (p.get(&path).1["issuer"].clone(), s.get(&path).1["issuer"].clone());
    let (kp, ks) =
        (p.get(&format!("/{pool}/.well-known/jwks.json")).1, s.get(&format!("/{pool}/.well-known/jwks.json")).1);
    match (ip.as_str(), is.as_str()) {
        (Some(a), Some(b)) if a == b && kp == ks => {
            check("issuer and keys", "PASS", format!("both regions issue as {a} with the same JWKS"), "")
        }
        (Some(a), Some(b)) if a == b => check(
            "issuer and keys",
            "FAIL",
            "the regions publish different JWKS",
            "wait for replication, or check the replica",
        ),
        (Some(a), Some(b)) => check(
            "issuer and keys",
            "FAIL",
            format!("the primary issues as {a}, the secondary as {b}"),
            "UpdateUserPool IssuerConfiguration {\"Type\": \"UPDATED\"} in the primary (every region then issues as it), or the same issuer_url in both regions",
        ),
        _ => check(
            "issuer and keys",
            "FAIL",
            "a region does not serve the pool's discovery document",
            "check that both regions hold the pool",
        ),
    }
}

fn replica(p: &Client, s: &Client, a: &AuditArgs) -> Check {
    let d = match p.admin("JanusAdmin.DescribeReplication", &json!({"UserPoolId": a.pool})) {
        Ok(d) => d,
        Err(e) => return check("replica", "FAIL", e.to_string(), "check the primary"),
    };
    let here = s.admin("JanusAdmin.DescribeReadiness", &json!({})).ok();
    let region = here.as_ref().and_then(|h| h["Region"].as_str()).unwrap_or("");
    let Some(r) = d["Replicas"].as_array().and_then(|rs| rs.iter().find(|r| r["Region"] == region)) else {
        return check(
            "replica",
            "FAIL",
            format!("no replica of the pool in {region}"),
            "CreateUserPoolReplica in the primary",
        );
    };
    let (status, lag) = (r["Status"].as_str().unwrap_or(""), r["LagChanges"].as_u64());
    match (status, lag) {
        ("ACTIVE", Some(l)) if l <= a.max_lag_changes => check(
            "replica",
            "PASS",
            format!(
                "ACTIVE in {region}, {l} changes behind, last report {:.1} s ago",
                r["LastReportAgeSeconds"].as_f64().unwrap_or(0.0)
            ),
            "",
        ),
        ("ACTIVE", Some(l)) => {
            check("replica", "FAIL", format!("{l} changes behind"), "check the link between the regions")
        }
        ("ACTIVE", None) => check(
            "replica",
            "FAIL",
            "ACTIVE but its lag is unknown (it never reported)",
            "check the link between the regions",
        ),
        (other, _) => check(
            "replica",
            "FAIL",
            format!("the replica in {region} is {other}"),
            "UpdateUserPoolReplica Status=ACTIVE once it is INACTIVE",
        ),
    }
}

fn domain(p: &Client, pool: &str, d: &Value) -> Check {
    match (d["Domain"].as_str(), d["CustomDomain"].as_str()) {
        (_, Some(custom)) => custom_domain(p, pool, custom),
        (Some(prefix), None) => check(
            "domain failover",
            "WARN",
            format!("prefix domain {prefix} only"),
            "add a custom domain with Routing.Failover so the hostname moves with the primary",
        ),
        (None, None) => {
            check("domain failover", "WARN", "no domain", "put a front door before both regions (docs/failover.md)")
        }
    }
}

/// A custom domain must say where it fails over to: the region that holds the replica.
fn custom_domain(p: &Client, pool: &str, custom: &str) -> Check {
    let routing = p
        .admin("DescribeUserPoolDomain", &json!({"Domain": custom}))
        .map(|v| v["DomainDescription"]["Routing"]["Failover"]["SecondaryRegion"].as_str().map(str::to_owned));
    let replica = p.admin("ListUserPoolReplicas", &json!({"UserPoolId": pool})).ok().and_then(|v| {
        v["UserPoolReplicas"].as_array()?.iter().find(|r| r["Role"] == "SECONDARY")?["RegionName"]
            .as_str()
            .map(str::to_owned)
    });
    let set_it = format!(
        "UpdateUserPoolDomain Domain={custom} Routing={{Failover: {{SecondaryRegion: {}}}}}, and route the name \
         with failover (deploy/haproxy/janus.cfg, or Route 53 failover records: docs/failover.md)",
        replica.as_deref().unwrap_or("<the replica's region>")
    );
    match (routing, replica) {
        (Err(e), _) => {
            check("domain failover", "FAIL", format!("DescribeUserPoolDomain {custom}: {e}"), "check the primary")
        }
        (Ok(None), _) => {
            check("domain failover", "FAIL", format!("custom domain {custom} has no Routing.Failover"), set_it)
        }
        (Ok(Some(to)), Some(replica)) if to == replica => check(
            "domain failover",
            "PASS",
            format!("custom domain {custom} fails over to {to}, where the replica is"),
            "",
        ),
        (Ok(Some(to)), replica) => check(
            "domain failover",
            "FAIL",
            format!(
                "custom domain {custom} fails over to {to}, but the replica is in {}",
                replica.as_deref().unwrap_or("no region")
            ),
            set_it,
        ),
    }
}

fn client_urls(c: &Client, pool: &str) -> Result<Vec<(String, Value, Value)>, String> {
    let list =
        c.admin("ListUserPoolClients", &json!({"UserPoolId": pool, "MaxResults": 60})).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for item in list["UserPoolClients"].as_array().into_iter().flatten() {
        let id = item["ClientId"].as_str().unwrap_or_default();
        let d = c
            .admin("DescribeUserPoolClient", &json!({"UserPoolId": pool, "ClientId": id}))
            .map_err(|e| e.to_string())?;
        let uc = &d["UserPoolClient"];
        out.push((id.to_owned(), uc["CallbackURLs"].clone(), uc["LogoutURLs"].clone()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn clients(p: &Client, s: &Client, pool: &str) -> Check {
    match (client_urls(p, pool), client_urls(s, pool)) {
        (Ok(a), Ok(b)) if a == b => check(
            "app client URLs",
            "PASS",
            format!("{} app clients, same callback and logout URLs in both", a.len()),
            "",
        ),
        (Ok(a), Ok(b)) => {
            let differ: Vec<String> = a.iter().filter(|x| !b.contains(x)).map(|x| x.0.clone()).collect();
            check(
                "app client URLs",
                "FAIL",
                format!("app clients differ between the regions: {}", differ.join(", ")),
                "wait for replication to catch up, or check the replica",
            )
        }
        (Err(e), _) | (_, Err(e)) => check("app client URLs", "FAIL", e, "check both regions"),
    }
}

fn regional(p: &Value, s: &Value) -> Check {
    if s.is_null() {
        return check("regional settings", "FAIL", "the secondary does not describe the pool", "check the replica");
    }
    let sender = |d: &Value| d["EmailConfiguration"].clone();
    if sender(p) == sender(s) {
        let account = p["EmailConfiguration"]["EmailSendingAccount"].as_str().unwrap_or("COGNITO_DEFAULT");
        if account == "COGNITO_DEFAULT" {
            return check("regional settings", "INFO", "both regions use the default message sender", "");
        }
        return check(
            "regional settings",
            "FAIL",
            "the secondary uses the primary's own message sender",
            "in the secondary, UpdateUserPool with its own EmailConfiguration / SmsConfiguration",
        );
    }
    check("regional settings", "PASS", "each region has its own message sender", "")
}

fn clock(p: &Client, s: &Client, max_skew_ms: i64) -> Check {
    let now_ms =
        || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let offset = |c: &Client| -> Option<(i64, i64)> {
        let (sent, t) = (now_ms(), Instant::now());
        let v = c.admin("JanusAdmin.DescribeReadiness", &json!({})).ok()?;
        let rtt = t.elapsed().as_millis() as i64;
        Some((v["ClockMs"].as_i64()? - (sent + rtt / 2), rtt))
    };
    match (offset(p), offset(s)) {
        (Some((a, ra)), Some((b, rb))) => {
            let skew = (a - b).abs();
            let detail = format!("{skew} ms between the regions (± {} ms)", (ra + rb) / 2);
            if skew > max_skew_ms {
                check("clock skew", "FAIL", detail, "synchronise both regions' clocks (NTP)")
            } else {
                check("clock skew", "PASS", detail, "")
            }
        }
        _ => check("clock skew", "FAIL", "a region did not answer", "check both regions"),
    }
}

fn failover(s: &Client) -> Check {
    let Ok(d) = s.admin("JanusAdmin.DescribeReadiness", &json!({})) else {
        return check("automatic failover", "FAIL", "the secondary did not answer", "check the secondary");
    };
    let f = &d["Failover"];
    match (f["Auto"].as_bool().unwrap_or(false), f["Witness"].as_bool().unwrap_or(false)) {
        (true, true) => check("automatic failover", "PASS", format!("on, every {} ms × {}, with a witness",
            f["IntervalMs"], f["Failures"]), ""),
        (true, false) => check("automatic failover", "WARN", "on, without a witness",
            "run `janus witness` in a third place and set witness_url in both regions, so a partition cannot make two primaries"),
        (false, _) => check("automatic failover", "INFO", "off (as on AWS): failover is `janus replica promote`",
            "set [failover] auto = true in the secondary to promote automatically"),
    }
}
