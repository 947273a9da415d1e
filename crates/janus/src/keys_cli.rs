//! `janus keys …`: manage a running region's customer-managed keys over its `JanusAdmin.*`
//! operations (SigV4, administrator credentials from the environment or the data directory).
//! Replicating a multi-region key writes a bundle sealed to the target region's transport key
//! to a file (mode 0600) that `janus keys import` loads there; nothing printed or written is
//! key material in the clear.

use anyhow::Context;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Which region to talk to.
#[derive(clap::Args)]
pub struct Region {
    /// The region's URL.
    #[arg(long, default_value = "http://127.0.0.1:9229")]
    endpoint: String,
    /// Where to find admin-credentials.json when JANUS_ADMIN_* are unset.
    #[arg(long, default_value = "./janus-data")]
    data_dir: PathBuf,
}

/// A key policy given on the command line.
#[derive(clap::Args)]
pub struct PolicyArgs {
    /// A pool allowed to use the key: an id, or a prefix ending in * (repeatable) [default: *]
    #[arg(long = "allow-pool")]
    pools: Vec<String>,
    /// A region allowed to use the key (repeatable) [default: *]
    #[arg(long = "allow-region")]
    regions: Vec<String>,
}

impl PolicyArgs {
    fn json(&self) -> Value {
        let or_all = |v: &Vec<String>| if v.is_empty() { vec!["*".to_owned()] } else { v.clone() };
        json!({"Pools": or_all(&self.pools), "Regions": or_all(&self.regions)})
    }
}

/// `janus keys …`.
#[derive(clap::Subcommand)]
pub enum KeysCommand {
    /// Create a key (single-region unless --multi-region).
    Create {
        #[command(flatten)]
        region: Region,
        /// Make a multi-region key (mrk-…) that can be replicated to other regions.
        #[arg(long)]
        multi_region: bool,
        /// Free text.
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// List the region's keys.
    List(Region),
    /// Describe a key (ARN or key id).
    Describe {
        #[command(flatten)]
        region: Region,
        key: String,
    },
    /// Disable a key: its pools refuse sign-in until it is enabled again.
    Disable {
        #[command(flatten)]
        region: Region,
        key: String,
    },
    /// Enable a key.
    Enable {
        #[command(flatten)]
        region: Region,
        key: String,
    },
    /// Start a new key version and re-wrap the data keys of the pools using it.
    Rotate {
        #[command(flatten)]
        region: Region,
        key: String,
    },
    /// Publish a new JWT signing key for a pool; it signs after the activation delay.
    RotateSigning {
        #[command(flatten)]
        region: Region,
        /// The pool id.
        #[arg(long)]
        pool: String,
    },
    /// Add a new sealing key (refresh tokens, sessions) to a pool; older ones keep opening.
    RotateSealing {
        #[command(flatten)]
        region: Region,
        /// The pool id.
        #[arg(long)]
        pool: String,
    },
    /// Replace a key's policy.
    Policy {
        #[command(flatten)]
        region: Region,
        key: String,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Print this region's transport public key (give it to `janus keys replicate`).
    TransportKey(Region),
    /// Seal a multi-region key for another region into a bundle file.
    Replicate {
        #[command(flatten)]
        region: Region,
        key: String,
        /// The target region's name.
        #[arg(long)]
        to_region: String,
        /// The target's transport public key, or @FILE holding it.
        #[arg(long, conflicts_with = "target_endpoint")]
        transport_key: Option<String>,
        /// Fetch the transport key from the target region at this URL (same credentials).
        #[arg(long)]
        target_endpoint: Option<String>,
        /// Where to write the bundle.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a bundle sealed for this region.
    Import {
        #[command(flatten)]
        region: Region,
        bundle: PathBuf,
    },
    /// Mark the attributes of a pool stored encrypted (e.g. email phone_number).
    Sensitive {
        #[command(flatten)]
        region: Region,
        /// The pool id.
        #[arg(long)]
        pool: String,
        attributes: Vec<String>,
    },
}

fn call(r: &Region, op: &str, input: Value) -> anyhow::Result<Value> {
    call_at(&r.endpoint, r, op, input)
}

fn call_at(endpoint: &str, r: &Region, op: &str, input: Value) -> anyhow::Result<Value> {
    let creds = crate::client::credentials(&r.data_dir)?;
    let c = crate::client::Client::new(endpoint, Some(creds), std::time::Duration::from_secs(120));
    Ok(c.admin(&format!("JanusAdmin.{op}"), &input)?)
}

fn write_private(path: &PathBuf, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

fn replicate(
    r: &Region,
    key: &str,
    to: &str,
    transport: Option<&str>,
    target: Option<&str>,
    out: &PathBuf,
) -> anyhow::Result<Value> {
    let public = match (transport, target) {
        (Some(t), _) => match t.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?.trim().to_owned(),
            None => t.to_owned(),
        },
        (None, Some(url)) => call_at(url, r, "GetTransportKey", json!({}))?["TransportPublicKey"]
            .as_str()
            .context("the target did not return a transport key")?
            .to_owned(),
        (None, None) => anyhow::bail!("give --transport-key or --target-endpoint"),
    };
    let input = json!({"KeyId": key, "ReplicaRegion": to, "TransportPublicKey": public});
    let bundle = call(r, "ExportKeyReplica", input)?;
    write_private(out, bundle["Bundle"].as_str().context("no bundle in the answer")?)?;
    Ok(json!({"KeyId": key, "ReplicaRegion": to, "Bundle": out.display().to_string()}))
}

/// Run a `janus keys` command.
pub fn run(cmd: KeysCommand) -> anyhow::Result<()> {
    let v = match &cmd {
        KeysCommand::Create { region, multi_region, description, policy } => call(
            region,
            "CreateKey",
            json!({"MultiRegion": multi_region, "Description": description, "Policy": policy.json()}),
        )?,
        KeysCommand::List(r) => call(r, "ListKeys", json!({}))?,
        KeysCommand::Describe { region, key } => call(region, "DescribeKey", json!({"KeyId": key}))?,
        KeysCommand::Disable { region, key } => call(region, "DisableKey", json!({"KeyId": key}))?,
        KeysCommand::Enable { region, key } => call(region, "EnableKey", json!({"KeyId": key}))?,
        KeysCommand::Rotate { region, key } => call(region, "RotateKey", json!({"KeyId": key}))?,
        KeysCommand::Policy { region, key, policy } => {
            call(region, "PutKeyPolicy", json!({"KeyId": key, "Policy": policy.json()}))?
        }
        KeysCommand::RotateSigning { region, pool } => call(region, "RotateSigningKey", json!({"UserPoolId": pool}))?,
        KeysCommand::RotateSealing { region, pool } => call(region, "RotateSealingKey", json!({"UserPoolId": pool}))?,
        KeysCommand::TransportKey(r) => call(r, "GetTransportKey", json!({}))?,
        KeysCommand::Replicate { region, key, to_region, transport_key, target_endpoint, out } => {
            replicate(region, key, to_region, transport_key.as_deref(), target_endpoint.as_deref(), out)?
        }
        KeysCommand::Import { region, bundle } => {
            let text = std::fs::read_to_string(bundle).with_context(|| format!("reading {}", bundle.display()))?;
            call(region, "ImportKeyReplica", json!({"Bundle": text}))?
        }
        KeysCommand::Sensitive { region, pool, attributes } => {
            call(region, "SetSensitiveAttributes", json!({"UserPoolId": pool, "Attributes": attributes}))?
        }
    };
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}
