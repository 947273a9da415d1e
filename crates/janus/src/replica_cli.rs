//! `janus replica status|promote`: the failover operations from the command line. They call
//! a running region's `JanusAdmin.*` operations over the same JSON protocol and SigV4 as the
//! Cognito API, with the administrator credentials from the environment or the data directory.

use anyhow::Context;
use axum::http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use std::path::PathBuf;

use janus_http::sigv4::{self, AdminCredentials};

/// `janus replica …`.
#[derive(clap::Subcommand)]
pub enum ReplicaCommand {
    /// Show a pool's role, epoch, seq and each replica's lag as this region sees them; with
    /// --watch (on a replica), a progress bar of the initial copy until it is applied.
    Status {
        #[command(flatten)]
        target: Target,
        /// Follow the initial copy with a progress bar.
        #[arg(long)]
        watch: bool,
    },
    /// Make this region the pool's primary (failover, or failback in the other direction).
    Promote(Target),
}

/// Which region and pool.
#[derive(clap::Args)]
pub struct Target {
    /// The pool id.
    #[arg(long)]
    pool: String,
    /// The region's URL [default: http://127.0.0.1:9229]
    #[arg(long, default_value = "http://127.0.0.1:9229")]
    endpoint: String,
    /// Where to find admin-credentials.json when JANUS_ADMIN_* are unset.
    #[arg(long, default_value = "./janus-data")]
    data_dir: PathBuf,
}

fn credentials(t: &Target) -> anyhow::Result<AdminCredentials> {
    let id = std::env::var("JANUS_ADMIN_ACCESS_KEY_ID").ok().filter(|v| !v.is_empty());
    let secret = std::env::var("JANUS_ADMIN_SECRET_ACCESS_KEY").ok().filter(|v| !v.is_empty());
    if let (Some(access_key_id), Some(secret_access_key)) = (id, secret) {
        return Ok(AdminCredentials { access_key_id, secret_access_key });
    }
    let path = t.data_dir.join("admin-credentials.json");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?)?;
    Ok(AdminCredentials {
        access_key_id: v["access_key_id"].as_str().unwrap_or_default().to_owned(),
        secret_access_key: v["secret_access_key"].as_str().unwrap_or_default().to_owned(),
    })
}

fn call(t: &Target, op: &str) -> anyhow::Result<Value> {
    let creds = credentials(t)?;
    let body = serde_json::to_vec(&json!({"UserPoolId": t.pool}))?;
    let host = t.endpoint.trim_start_matches("http://").trim_start_matches("https://").trim_end_matches('/').to_owned();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
    let amz_date = sigv4::format_amz_date(now);
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_str(&host)?);
    headers.insert("x-amz-date", HeaderValue::from_str(&amz_date)?);
    headers.insert("x-amz-target", HeaderValue::from_str(&format!("JanusAdmin.{op}"))?);
    headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.1"));
    let req = sigv4::Request { method: "POST", path: "/", query: "", headers: &headers, body: &body };
    let auth = sigv4::sign(&creds, &req, &amz_date, "us-east-1");
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = agent
        .post(format!("{}/", t.endpoint.trim_end_matches('/')))
        .header("x-amz-date", &amz_date)
        .header("x-amz-target", &format!("JanusAdmin.{op}"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("authorization", &auth)
        .send(&body[..])
        .with_context(|| format!("calling {}", t.endpoint))?;
    let status = resp.status();
    let v: Value = serde_json::from_str(&resp.body_mut().read_to_string()?)?;
    anyhow::ensure!(
        status.is_success(),
        "{}: {}",
        v["__type"].as_str().unwrap_or("error"),
        v["message"].as_str().unwrap_or("")
    );
    Ok(v)
}

/// Draw the initial copy's progress until it is applied, then print the status.
fn watch(t: &Target) -> anyhow::Result<()> {
    use std::io::Write;
    loop {
        let v = call(t, "DescribeReplication").or_else(|e| {
            // The pool appears on the replica only once the copy is applied.
            if e.to_string().starts_with("ResourceNotFoundException") {
                Ok(Value::Null)
            } else {
                Err(e)
            }
        })?;
        let copy = &v["InitialCopy"];
        let (received, total) = (copy["Received"].as_u64().unwrap_or(0), copy["Total"].as_u64().unwrap_or(0));
        let filled = (received * 40).checked_div(total).unwrap_or(0) as usize;
        eprint!("\r[{}{}] {received}/{total} entities", "#".repeat(filled), " ".repeat(40 - filled));
        std::io::stderr().flush()?;
        if copy["Applied"] == true {
            eprintln!(" — applied");
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// Run a `janus replica` command.
pub fn run(cmd: ReplicaCommand) -> anyhow::Result<()> {
    let (t, op) = match &cmd {
        ReplicaCommand::Status { target, watch: true } => return watch(target),
        ReplicaCommand::Status { target, .. } => (target, "DescribeReplication"),
        ReplicaCommand::Promote(t) => (t, "PromoteUserPool"),
    };
    let v = call(t, op)?;
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}
