//! `janus serve`: open the store, build the services, bind, print where it listens, and
//! serve until Ctrl-C or SIGTERM, then finish in-flight requests and exit.

use anyhow::Context;
use std::sync::Arc;

use janus_core::outbox::smtp::SmtpOutbox;
use janus_core::outbox::webhook::SmsWebhook;
use janus_core::outbox::{FileOutbox, Outbox};
use janus_core::{Parts, Services};
use janus_crypto::{OsRandom, PasswordHasher};
use janus_http::AppState;
use janus_repl::{Peers, Replicator};
use janus_types::{RegionName, SystemClock};

use crate::config::Config;
use crate::credentials;

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("JANUS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,janus::request=warn"));
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// How long in-flight requests may take to finish after SIGTERM.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// How often the import runner looks for user import jobs with work.
const IMPORT_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// Run a region until told to stop.
pub fn run(config: Config) -> anyhow::Result<()> {
    init_logging(&config.log_format);
    // Blocking threads run store transactions and password hashes; 64 bounds the memory a
    // burst can take (hashing is further limited to one per CPU inside the hasher).
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(64).build()?;
    let result = runtime.block_on(serve(config));
    // Blocking tasks still running (a long poll's last slice) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

async fn serve(config: Config) -> anyhow::Result<()> {
    janus_store::sqlite::private_dir(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let _lock = lock_data_dir(&config)?;
    let location = config.store.clone();
    let store = tokio::task::spawn_blocking(move || location.open()).await?.context("opening the store")?;
    if config.store.is_shared() {
        tracing::info!(store = %config.store.describe(), "store open");
    }
    let tls = match &config.tls {
        Some((cert, key)) => {
            Some(Arc::new(janus_http::tls::Tls::load(cert, key).context("loading the TLS certificate")?))
        }
        None => None,
    };
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let endpoint = format!("{}://{addr}", if tls.is_some() { "https" } else { "http" });
    let admin = credentials::resolve(&config.data_dir, &config.region, &endpoint)?;
    let mut services = Services::new(Parts {
        store,
        clock: Arc::new(SystemClock),
        rng: Arc::new(OsRandom),
        hasher: PasswordHasher::new(config.hash),
        region: RegionName::parse(&config.region).map_err(|e| anyhow::anyhow!("{e}"))?,
        account: config.account_id.clone(),
        outbox: outbox(&config)?,
        issuer_base: config.issuer_url.clone().unwrap_or_else(|| endpoint.clone()),
        rsa_bits: janus_core::RSA_BITS,
    });
    if config.triggers.endpoint.is_some() || !config.triggers.functions.is_empty() {
        tracing::info!(endpoint = ?config.triggers.endpoint, functions = config.triggers.functions.len(),
            "triggers call the Lambda Invoke API there");
    }
    let invoker = janus_core::triggers::invoke::LambdaInvoker::new(config.triggers.clone(), Arc::new(SystemClock));
    services = services.with_invoker(Arc::new(invoker));
    let t = &config.triggers;
    let data_keys = janus_core::triggers::senders::KmsDataKeys::new(
        t.kms_endpoint.clone(),
        t.credentials.clone(),
        Arc::new(SystemClock),
    );
    services = services.with_data_keys(Arc::new(data_keys));
    match config.keys.provider.as_str() {
        "none" => {
            tracing::warn!("key provider none: pools' secrets are stored unencrypted (development and benchmarks only)")
        }
        "aws-kms" => services = services.with_keys(aws_kms(&config)?, key_settings(&config)),
        _ => {
            let ring = keyring(&config, &services.store)?;
            services = services.with_keys(ring, key_settings(&config))
        }
    }
    let migrating = services.clone();
    let migrated = tokio::task::spawn_blocking(move || migrating.encrypt_legacy_pools()).await??;
    if migrated > 0 {
        tracing::info!(pools = migrated, "encrypted pools stored before encryption at rest");
    }
    let store = services.store.clone();
    let peers = Peers {
        advertise: config.advertise_url.clone().unwrap_or_else(|| endpoint.clone()),
        urls: config.peers.clone(),
        secret: config.replication_secret.clone(),
        spool: config.data_dir.clone(),
    };
    services.quotas = config.quotas;
    let replicator = Replicator::new(services, peers);
    replicator.configure_failover(config.failover.clone());
    let starting = replicator.clone();
    tokio::task::spawn_blocking(move || starting.start_all()).await??;
    replicator.start_fencing(std::time::Duration::from_secs(2));
    let every =
        (config.retention.max_age / 10).clamp(std::time::Duration::from_secs(1), std::time::Duration::from_secs(60));
    replicator.start_retention(config.retention, every);
    replicator.start_lease();
    replicator.start_watcher();
    let imports = janus_core::imports::runner::Runner::start(replicator.services.clone(), IMPORT_POLL);
    let mut state = AppState::new(replicator.clone(), admin)?;
    state.oauth.domain_base = config.domain_base.clone();
    state.limits = config.limits;
    state.metrics_token = config.metrics_token.clone();
    let app = janus_http::router(Arc::new(state));
    println!("janus listening on {endpoint} (region {}, store {})", config.region, config.store.describe());
    tracing::info!(%addr, region = %config.region, "serving");
    let stopping = replicator.clone();
    let shutdown = async move {
        shutdown_signal().await;
        stopping.stop();
    };
    if let Some(tls) = &tls {
        reload_on_sighup(tls.clone());
    }
    janus_http::server::serve(listener, tls, app, config.limits.max_connections, shutdown, SHUTDOWN_GRACE).await;
    tokio::task::spawn_blocking(move || imports.stop()).await?; // after the batch under way
    tokio::task::spawn_blocking(move || store.shutdown()).await?.context("checkpointing the store")?;
    tracing::info!("stopped");
    Ok(())
}

/// The region's keyring, opened (or created with its default key) at start-up: in the
/// store when the region's nodes share one (PostgreSQL), else in its file.
fn keyring(
    config: &Config,
    store: &Arc<dyn janus_store::Store>,
) -> anyhow::Result<Arc<dyn janus_crypto::keys::KeyProvider>> {
    use janus_crypto::keys::keyring::{Keyring, KeyringOptions};
    let backing = config.store.is_shared().then(|| {
        Arc::new(crate::keyring_store::StoreBacking::new(store.clone(), &config.store.describe()))
            as Arc<dyn janus_crypto::keys::keyring_backing::KeyringBacking>
    });
    let opts = KeyringOptions {
        backing,
        path: config.keys.keyring.clone(),
        unlock: config.keys.unlock.clone(),
        region: config.region.clone(),
        account: config.account_id.clone(),
        shared_secret: config.replication_secret.clone(),
    };
    let ring = Keyring::open(opts, Arc::new(OsRandom), Arc::new(SystemClock))
        .map_err(|e| anyhow::anyhow!("opening the keyring: {e}"))?;
    tracing::info!(keyring = %ring.location(), "keyring open");
    Ok(Arc::new(ring))
}

/// The AWS KMS provider, when `[keys] provider = "aws-kms"`.
fn aws_kms(config: &Config) -> anyhow::Result<Arc<dyn janus_crypto::keys::KeyProvider>> {
    use janus_crypto::keys::aws_kms::{AwsKms, AwsKmsOptions};
    let k = config.keys.kms.clone().context("aws-kms settings")?;
    let opts = AwsKmsOptions {
        endpoint: k.endpoint.clone(),
        region: k.region.unwrap_or_else(|| config.region.clone()),
        default_key: k.default_key,
        credentials: janus_crypto::keys::sigv4::Credentials {
            access_key_id: k.credentials.0,
            secret_access_key: k.credentials.1,
        },
        cache_ms: k.cache_secs as i64 * 1000,
    };
    let kms = AwsKms::new(opts, Arc::new(SystemClock)).map_err(|e| anyhow::anyhow!("the AWS KMS provider: {e}"))?;
    tracing::info!(endpoint = %k.endpoint, "keys in AWS KMS");
    Ok(Arc::new(kms))
}

fn key_settings(config: &Config) -> janus_core::vault::KeySettings {
    janus_core::vault::KeySettings {
        replica_requires_cmk: config.keys.replica_requires_cmk,
        signing_activation_ms: config.keys.signing_key_activation_secs as i64 * 1000,
    }
}

/// The message sender: SMS to the webhook and email over SMTP when configured, everything
/// else to the development outbox file.
fn outbox(config: &Config) -> anyhow::Result<Arc<dyn Outbox>> {
    let file = FileOutbox::new(config.data_dir.join("outbox.jsonl"));
    let mail: Arc<dyn Outbox> = match &config.smtp {
        Some(s) => {
            tracing::info!(host = %s.host, port = s.port, security = %s.security, "sending email over SMTP");
            Arc::new(SmtpOutbox::new(s, file)?)
        }
        None => Arc::new(file),
    };
    Ok(match &config.sms_webhook {
        Some(w) => {
            tracing::info!(url = %w.url, "sending SMS to the webhook");
            Arc::new(SmsWebhook::new(w.clone(), mail))
        }
        None => mail,
    })
}

/// Hold an exclusive lock on the data directory so two processes never share one store.
fn lock_data_dir(config: &Config) -> anyhow::Result<std::fs::File> {
    let path = config.data_dir.join("janus.lock");
    let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
    f.try_lock().map_err(|_| anyhow::anyhow!("{} is in use by another janus process", config.data_dir.display()))?;
    Ok(f)
}

/// `janus witness`: the tie-breaker of automatic failover, until Ctrl-C or SIGTERM.
pub fn witness(listen: std::net::SocketAddr) -> anyhow::Result<()> {
    init_logging("text");
    let secret = std::env::var("JANUS_REPLICATION_SECRET").ok().filter(|s| !s.is_empty());
    let secret = secret.context("the witness needs JANUS_REPLICATION_SECRET, the regions' shared secret")?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
        println!("janus witness listening on http://{}", listener.local_addr()?);
        janus_http::server::serve(
            listener,
            None,
            janus_http::witness_router(secret),
            janus_http::limits::Limits::default().max_connections,
            shutdown_signal(),
            SHUTDOWN_GRACE,
        )
        .await;
        Ok(())
    })
}

/// SIGHUP reads the TLS certificate and key again (a renewed certificate, without a restart).
fn reload_on_sighup(tls: Arc<janus_http::tls::Tls>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
        while hup.recv().await.is_some() {
            match tls.reload() {
                Ok(()) => tracing::info!("TLS certificate reloaded"),
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "TLS certificate not reloaded; serving the one before")
                }
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
