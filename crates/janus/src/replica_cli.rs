//! `janus replica status|promote`: the failover operations from the command line. They call
//! a running region's `JanusAdmin.*` operations over the same JSON protocol and SigV4 as the
//! Cognito API, with the administrator credentials from the environment or the data directory.

use serde_json::{json, Value};
use std::path::PathBuf;

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

fn call(t: &Target, op: &str) -> anyhow::Result<Value> {
    let creds = crate::client::credentials(&t.data_dir)?;
    let c = crate::client::Client::new(&t.endpoint, Some(creds), std::time::Duration::from_secs(60));
    Ok(c.admin(&format!("JanusAdmin.{op}"), &json!({"UserPoolId": t.pool}))?)
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
