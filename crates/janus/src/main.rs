//! The `janus` binary: parses the command line, loads configuration, wires the layers
//! together and runs the chosen command.
#![forbid(unsafe_code)]

mod audit;
mod client;
mod config;
mod credentials;
mod drill;
mod hosted_client;
mod keyring_store;
mod keys_cli;
mod keys_config;
mod replica_cli;
mod serve;
mod srp_client;
mod store_copy;
mod store_url;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Janus: a self-hosted identity provider that speaks the Amazon Cognito user pools API.
#[derive(Parser)]
#[command(name = "janus", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a region: serve the Cognito API on --listen with the store in --data-dir.
    Serve(config::Flags),
    /// Replication of a pool: status, and promotion of this region to primary.
    #[command(subcommand)]
    Replica(replica_cli::ReplicaCommand),
    /// Customer-managed keys: create, list, describe, disable, enable, rotate, policy,
    /// replicate a multi-region key to another region, import it there.
    #[command(subcommand)]
    Keys(keys_cli::KeysCommand),
    /// A failover game day against a live two-region deployment: RTO, RPO, and what still works.
    Drill(drill::DrillArgs),
    /// The readiness checklist of a pool in two regions (exit code 1 on any FAIL).
    Audit(audit::AuditArgs),
    /// Run the witness that breaks ties for automatic failover (a third region's tiny process).
    Witness {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9239")]
        listen: std::net::SocketAddr,
    },
    /// Bring the store's schema up to this binary's version (for operators who migrate
    /// before deploying; `serve` migrates too, once, whichever node starts first).
    Migrate {
        /// The store: postgres://user@host/db or sqlite:DIR [env: JANUS_STORE_URL]
        #[arg(long, env = "JANUS_STORE_URL")]
        store: String,
    },
    /// The store itself: copy a stopped region onto another store, verified.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Check a configuration file: unknown keys and bad values are errors.
    ConfigCheck {
        /// The TOML file to check.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Copy every pool (rows as stored, head and retained log) and the region's subscriptions
    /// from one store into an empty one, then compare both pool by pool. Stop the region first.
    Copy {
        /// The source: sqlite:DIR or postgres://user@host/db
        #[arg(long)]
        from: String,
        /// The destination (empty): sqlite:DIR or postgres://user@host/db
        #[arg(long)]
        to: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(flags) => config::Config::load(&flags).and_then(serve::run),
        Command::Store(StoreCommand::Copy { from, to }) => {
            let here = std::path::Path::new(".");
            store_url::StoreUrl::parse(Some(&from), here)
                .and_then(|f| Ok((f, store_url::StoreUrl::parse(Some(&to), here)?)))
                .and_then(|(f, t)| store_copy::copy(&f, &t))
        }
        Command::Migrate { store } => {
            store_url::StoreUrl::parse(Some(&store), std::path::Path::new(".")).and_then(|s| store_url::migrate(&s))
        }
        Command::ConfigCheck { file } => config::check_file(&file),
        Command::Witness { listen } => serve::witness(listen),
        Command::Audit(args) => match audit::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(e) => Err(e),
        },
        Command::Drill(args) => match drill::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(e) => Err(e),
        },
        Command::Replica(cmd) => replica_cli::run(cmd),
        Command::Keys(cmd) => keys_cli::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("janus: {e:#}");
            ExitCode::FAILURE
        }
    }
}
