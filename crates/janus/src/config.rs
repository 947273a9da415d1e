//! Configuration: a typed struct filled from defaults, then a TOML file (`--config`), then
//! `JANUS_*` environment variables, then flags — each later source wins. Unknown keys in the
//! file are a warning at start-up (so a rolled-back binary still starts) and an error in
//! `janus config-check`. Every option is documented in docs/configuration.md.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Flags of `janus serve`.
#[derive(clap::Args, Debug, Default)]
pub struct Flags {
    /// Address to listen on [env: JANUS_LISTEN] [default: 127.0.0.1:9229]
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Directory of the embedded store [env: JANUS_DATA_DIR] [default: ./janus-data]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The store: postgres://user@host/db (shared by every node of the region) or sqlite:DIR
    /// [env: JANUS_STORE_URL] [default: the embedded store in --data-dir]
    #[arg(long)]
    pub store: Option<String>,
    /// This region's name [env: JANUS_REGION] [default: us-east-1]
    #[arg(long)]
    pub region: Option<String>,
    /// A TOML configuration file
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Log format: text or json [env: JANUS_LOG_FORMAT] [default: text]
    #[arg(long)]
    pub log_format: Option<String>,
    /// Base URL of token issuers; a pool's issuer is <URL>/<pool id> [env: JANUS_ISSUER_URL]
    /// [default: this server's own URL]
    #[arg(long)]
    pub issuer_url: Option<String>,
    /// Another region: NAME=URL (repeatable) [env: JANUS_PEERS, comma-separated]
    #[arg(long = "peer")]
    pub peers: Vec<String>,
    /// This region's URL as other regions reach it [env: JANUS_ADVERTISE_URL]
    /// [default: this server's own URL]
    #[arg(long)]
    pub advertise_url: Option<String>,
    /// The keyring file [env: JANUS_KEYRING] [default: <data dir>/keyring.json]
    #[arg(long)]
    pub keyring: Option<PathBuf>,
    /// The file whose bytes unlock the keyring [env: JANUS_KEYRING_KEY_FILE]
    /// [default: the keyring's path with extension .key, generated on first start]
    #[arg(long)]
    pub keyring_key_file: Option<PathBuf>,
    /// Serve https with this PEM certificate chain (with --tls-key; SIGHUP reloads both)
    /// [env: JANUS_TLS_CERT]
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert [env: JANUS_TLS_KEY]
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
}

/// The settings a TOML file may hold (all optional; missing ones keep their defaults).
#[derive(Debug, Default, Deserialize)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    region: Option<String>,
    account_id: Option<String>,
    log_format: Option<String>,
    issuer_url: Option<String>,
    password_hash: Option<HashConfig>,
    smtp: Option<SmtpConfig>,
    sms: Option<SmsConfig>,
    peers: Option<std::collections::BTreeMap<String, String>>,
    advertise_url: Option<String>,
    log_retention_secs: Option<u64>,
    log_retention_min_changes: Option<u64>,
    failover: Option<FailoverConfig>,
    keys: Option<crate::keys_config::KeysFile>,
    domain_base: Option<String>,
    limits: Option<LimitsConfig>,
    quotas: Option<QuotasConfig>,
    metrics: Option<MetricsConfig>,
    store: Option<StoreConfig>,
    tls: Option<TlsConfig>,
    triggers: Option<TriggersConfig>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct TriggersConfig {
    lambda_endpoint: Option<String>,
    functions: Option<std::collections::BTreeMap<String, String>>,
    timeout_ms: Option<u64>,
    attempts: Option<u32>,
    kms_endpoint: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct TlsConfig {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct StoreConfig {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct LimitsConfig {
    max_connections: Option<usize>,
    body_budget_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct QuotasConfig {
    user_pools: Option<usize>,
    app_clients: Option<usize>,
    groups: Option<usize>,
    resource_servers: Option<usize>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct MetricsConfig {
    token: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct FailoverConfig {
    auto: Option<bool>,
    interval_ms: Option<u64>,
    failures: Option<u32>,
    min_gap_secs: Option<u64>,
    witness_url: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
struct SmsConfig {
    webhook_url: Option<String>,
    webhook_token: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
struct SmtpConfig {
    host: Option<String>,
    port: Option<u16>,
    security: Option<String>,
    from: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone, Copy)]
struct HashConfig {
    memory_kib: Option<u32>,
    iterations: Option<u32>,
    parallelism: Option<u32>,
}

const KNOWN_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "region",
    "account_id",
    "log_format",
    "issuer_url",
    "password_hash",
    "smtp",
    "sms",
    "peers",
    "advertise_url",
    "log_retention_secs",
    "log_retention_min_changes",
    "failover",
    "domain_base",
    "keys",
    "limits",
    "quotas",
    "metrics",
    "store",
    "tls",
    "triggers",
];

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub store: crate::store_url::StoreUrl,
    pub region: String,
    pub account_id: String,
    pub log_format: String,
    pub issuer_url: Option<String>,
    pub hash: janus_crypto::HashParams,
    pub smtp: Option<janus_core::outbox::smtp::SmtpSettings>,
    /// How triggers' functions are called.
    pub triggers: janus_core::triggers::invoke::LambdaSettings,
    /// Where SMS messages are POSTed (none: they go to the outbox file).
    pub sms_webhook: Option<janus_core::outbox::webhook::WebhookSettings>,
    /// Other regions by name → URL.
    pub peers: std::collections::BTreeMap<String, String>,
    /// This region's URL for the others (defaults to the listening address).
    pub advertise_url: Option<String>,
    /// The replication secret (environment only: `JANUS_REPLICATION_SECRET`).
    pub replication_secret: Option<String>,
    /// How much of each pool's change log is kept.
    pub retention: janus_repl::retention::Retention,
    /// Automatic failover and the witness.
    pub failover: janus_repl::watcher::AutoFailover,
    /// Prefix domains answer at `<prefix>.auth.<region>.<domain_base>`.
    pub domain_base: String,
    /// The keyring and key policy settings.
    pub keys: crate::keys_config::KeysConfig,
    /// Connections and request bodies.
    pub limits: janus_http::limits::Limits,
    /// Pools per region; clients, groups and resource servers per pool.
    pub quotas: janus_core::quotas::Quotas,
    /// The bearer token `/metrics` requires (`[metrics] token` / `JANUS_METRICS_TOKEN`).
    pub metrics_token: Option<String>,
    /// The certificate chain and key files when serving https.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// `--tls-cert` and `--tls-key` (or their variables, or `[tls]`): both or neither.
fn tls(flags: &Flags, file: TlsConfig) -> anyhow::Result<Option<(PathBuf, PathBuf)>> {
    let path = |flag: &Option<PathBuf>, var: &str, file: Option<PathBuf>| {
        flag.clone().or_else(|| env(var).map(PathBuf::from)).or(file)
    };
    let cert = path(&flags.tls_cert, "JANUS_TLS_CERT", file.cert);
    let key = path(&flags.tls_key, "JANUS_TLS_KEY", file.key);
    match (cert, key) {
        (Some(c), Some(k)) => Ok(Some((c, k))),
        (None, None) => Ok(None),
        (Some(_), None) => bail!("--tls-cert needs --tls-key (the certificate's private key)"),
        (None, Some(_)) => bail!("--tls-key needs --tls-cert (the certificate chain it belongs to)"),
    }
}

/// A whole number from `var`, else from the file.
fn count(var: &str, file: Option<usize>) -> anyhow::Result<Option<usize>> {
    match env(var) {
        Some(v) => v.parse().map(Some).map_err(|_| anyhow::anyhow!("{var} must be a whole number, not {v:?}")),
        None => Ok(file),
    }
}

/// `[limits]`, each key overridden by `JANUS_MAX_CONNECTIONS` / `JANUS_BODY_BUDGET_BYTES`.
fn limits(f: LimitsConfig) -> anyhow::Result<janus_http::limits::Limits> {
    let d = janus_http::limits::Limits::default();
    let max_connections = count("JANUS_MAX_CONNECTIONS", f.max_connections)?.unwrap_or(d.max_connections);
    if max_connections == 0 {
        bail!("limits.max_connections must be at least 1");
    }
    let body_budget_bytes = count("JANUS_BODY_BUDGET_BYTES", f.body_budget_bytes)?.unwrap_or(d.body_budget_bytes);
    Ok(janus_http::limits::Limits { max_connections, body_budget_bytes })
}

/// `[quotas]`, each key overridden by `JANUS_QUOTA_<KEY>`.
fn quotas(f: QuotasConfig) -> anyhow::Result<janus_core::quotas::Quotas> {
    let d = janus_core::quotas::Quotas::default();
    Ok(janus_core::quotas::Quotas {
        user_pools: count("JANUS_QUOTA_USER_POOLS", f.user_pools)?.unwrap_or(d.user_pools),
        app_clients: count("JANUS_QUOTA_APP_CLIENTS", f.app_clients)?.unwrap_or(d.app_clients),
        groups: count("JANUS_QUOTA_GROUPS", f.groups)?.unwrap_or(d.groups),
        resource_servers: count("JANUS_QUOTA_RESOURCE_SERVERS", f.resource_servers)?.unwrap_or(d.resource_servers),
    })
}

/// Peers from the file, then `JANUS_PEERS` (`a=url,b=url`), then `--peer a=url` flags.
fn peers(
    file: Option<std::collections::BTreeMap<String, String>>,
    flags: &[String],
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut out = file.unwrap_or_default();
    let from_env = env("JANUS_PEERS").map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>()).unwrap_or_default();
    for item in from_env.iter().chain(flags) {
        let (name, url) = item.split_once('=').with_context(|| format!("peer {item:?} must be NAME=URL"))?;
        janus_types::RegionName::parse(name.trim()).map_err(|e| anyhow::anyhow!("peer {item:?}: {e}"))?;
        out.insert(name.trim().to_owned(), url.trim().to_owned());
    }
    Ok(out)
}

/// `[smtp]` from the file, each key overridden by `JANUS_SMTP_<KEY>`; none without a host.
fn smtp(file: Option<SmtpConfig>) -> anyhow::Result<Option<janus_core::outbox::smtp::SmtpSettings>> {
    let f = file.unwrap_or_default();
    let Some(host) = env("JANUS_SMTP_HOST").or(f.host) else { return Ok(None) };
    let port = match env("JANUS_SMTP_PORT") {
        Some(p) => p.parse().context("JANUS_SMTP_PORT")?,
        None => f.port.unwrap_or(587),
    };
    Ok(Some(janus_core::outbox::smtp::SmtpSettings {
        host,
        port,
        security: env("JANUS_SMTP_SECURITY").or(f.security).unwrap_or_else(|| "starttls".into()),
        from: env("JANUS_SMTP_FROM").or(f.from).unwrap_or_else(|| "no-reply@localhost".into()),
        username: env("JANUS_SMTP_USERNAME").or(f.username),
        password: env("JANUS_SMTP_PASSWORD").or(f.password),
    }))
}

/// Change-log retention from the file, each overridden by `JANUS_LOG_RETENTION_SECS` /
/// `JANUS_LOG_RETENTION_MIN_CHANGES`.
fn retention(secs: Option<u64>, min_changes: Option<u64>) -> anyhow::Result<janus_repl::retention::Retention> {
    let d = janus_repl::retention::Retention::default();
    let number = |var: &str, file: Option<u64>| -> anyhow::Result<Option<u64>> {
        Ok(match env(var) {
            Some(v) => Some(v.parse().with_context(|| format!("{var} must be a whole number"))?),
            None => file,
        })
    };
    Ok(janus_repl::retention::Retention {
        max_age: number("JANUS_LOG_RETENTION_SECS", secs)?.map_or(d.max_age, std::time::Duration::from_secs),
        min_changes: number("JANUS_LOG_RETENTION_MIN_CHANGES", min_changes)?.unwrap_or(d.min_changes),
    })
}

/// `[failover]` from the file, each key overridden by `JANUS_FAILOVER_<KEY>`
/// (`JANUS_WITNESS_URL` for the witness).
fn failover(f: FailoverConfig) -> anyhow::Result<janus_repl::watcher::AutoFailover> {
    let d = janus_repl::watcher::AutoFailover::default();
    let auto = match env("JANUS_FAILOVER_AUTO").as_deref() {
        Some("1" | "true" | "on") => true,
        Some("0" | "false" | "off") => false,
        Some(other) => bail!("JANUS_FAILOVER_AUTO must be true or false, not {other:?}"),
        None => f.auto.unwrap_or(d.enabled),
    };
    let interval =
        number("JANUS_FAILOVER_INTERVAL_MS", f.interval_ms)?.map_or(d.interval, std::time::Duration::from_millis);
    if interval < std::time::Duration::from_millis(100) {
        bail!("the failover interval must be at least 100 ms");
    }
    let failures = number("JANUS_FAILOVER_FAILURES", f.failures)?.unwrap_or(d.failures).max(1);
    let min_gap =
        number("JANUS_FAILOVER_MIN_GAP_SECS", f.min_gap_secs)?.map_or(d.min_gap, std::time::Duration::from_secs);
    let witness = env("JANUS_WITNESS_URL").or(f.witness_url);
    Ok(janus_repl::watcher::AutoFailover { enabled: auto, interval, failures, min_gap, witness })
}

/// `[sms]` from the file, each key overridden by `JANUS_SMS_<KEY>`; none without a URL.
fn sms_webhook(file: Option<SmsConfig>) -> anyhow::Result<Option<janus_core::outbox::webhook::WebhookSettings>> {
    let f = file.unwrap_or_default();
    let Some(url) = env("JANUS_SMS_WEBHOOK_URL").or(f.webhook_url) else { return Ok(None) };
    if !url.starts_with("http://") && !url.starts_with("https://") {
        bail!("sms.webhook_url must be an http:// or https:// URL, not {url:?}");
    }
    let token = env("JANUS_SMS_WEBHOOK_TOKEN").or(f.webhook_token);
    Ok(Some(janus_core::outbox::webhook::WebhookSettings { url, token }))
}

/// `[triggers]` from the file, overridden by `JANUS_LAMBDA_ENDPOINT`, `_TIMEOUT_MS`, `_ATTEMPTS`
/// and `JANUS_SENDER_KMS_ENDPOINT` (where custom senders' codes get their data keys); requests are signed with
/// `JANUS_LAMBDA_ACCESS_KEY_ID` / `_SECRET_ACCESS_KEY` / `_SESSION_TOKEN`, else the AWS SDKs'
/// standard credential chain (`janus_crypto::keys::aws_credentials`), unsigned when it finds none.
fn triggers(file: Option<TriggersConfig>) -> anyhow::Result<janus_core::triggers::invoke::LambdaSettings> {
    let f = file.unwrap_or_default();
    let d = janus_core::triggers::invoke::LambdaSettings::default();
    let url = |what: &str, u: String| -> anyhow::Result<String> {
        if !u.starts_with("http://") && !u.starts_with("https://") {
            bail!("{what} must be an http:// or https:// URL, not {u:?}");
        }
        Ok(u)
    };
    let endpoint =
        env("JANUS_LAMBDA_ENDPOINT").or(f.lambda_endpoint).map(|u| url("triggers.lambda_endpoint", u)).transpose()?;
    let functions = f
        .functions
        .unwrap_or_default()
        .into_iter()
        .map(|(name, u)| Ok((name.clone(), url(&format!("triggers.functions.{name}"), u)?)))
        .collect::<anyhow::Result<_>>()?;
    use janus_crypto::keys::aws_credentials::{Chain, ChainEnv};
    let chain = ChainEnv::capture("JANUS_LAMBDA_", env("HOME").map(PathBuf::from), env);
    let credentials = Arc::new(Chain::new(chain, Arc::new(janus_types::SystemClock)));
    let timeout = number("JANUS_LAMBDA_TIMEOUT_MS", f.timeout_ms)?.map_or(d.timeout, std::time::Duration::from_millis);
    if timeout.is_zero() || timeout > std::time::Duration::from_secs(30) {
        bail!("triggers.timeout_ms must be between 1 and 30000 (Cognito's is 5000)");
    }
    let kms_endpoint =
        env("JANUS_SENDER_KMS_ENDPOINT").or(f.kms_endpoint).map(|u| url("triggers.kms_endpoint", u)).transpose()?;
    let attempts =
        number("JANUS_LAMBDA_ATTEMPTS", f.attempts.map(u64::from))?.map_or(d.attempts, |n| n.clamp(1, 3) as u32);
    Ok(janus_core::triggers::invoke::LambdaSettings {
        endpoint,
        functions,
        credentials,
        timeout,
        attempts,
        kms_endpoint,
    })
}

/// `var` from the environment when set (a whole number), else the file's value.
fn number<T: std::str::FromStr>(var: &str, file: Option<T>) -> anyhow::Result<Option<T>> {
    match env(var) {
        Some(v) => v.parse().map(Some).map_err(|_| anyhow::anyhow!("{var} must be a whole number, not {v:?}")),
        None => Ok(file),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn read_file(path: &Path, strict: bool) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let table: toml::Table = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    for key in table.keys().filter(|k| !KNOWN_KEYS.contains(&k.as_str())) {
        if strict {
            bail!("{}: unknown key {key:?}", path.display());
        }
        eprintln!("janus: warning: {}: unknown key {key:?} ignored", path.display());
    }
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// `janus config-check FILE`.
pub fn check_file(path: &Path) -> anyhow::Result<()> {
    read_file(path, true)?;
    println!("{}: ok", path.display());
    Ok(())
}

impl Config {
    /// Defaults ← file ← environment ← flags.
    pub fn load(flags: &Flags) -> anyhow::Result<Self> {
        let file = match &flags.config {
            Some(p) => read_file(p, false)?,
            None => FileConfig::default(),
        };
        let listen = match (flags.listen, env("JANUS_LISTEN"), file.listen) {
            (Some(l), _, _) => l,
            (None, Some(e), _) => e.parse().context("JANUS_LISTEN")?,
            (None, None, Some(f)) => f,
            _ => SocketAddr::from(([127, 0, 0, 1], 9229)),
        };
        let pick = |flag: Option<String>, var: &str, file: Option<String>, default: &str| {
            flag.or_else(|| env(var)).or(file).unwrap_or_else(|| default.to_owned())
        };
        let data_dir = flags
            .data_dir
            .clone()
            .or_else(|| env("JANUS_DATA_DIR").map(PathBuf::from))
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./janus-data"));
        let store_url = flags.store.clone().or_else(|| env("JANUS_STORE_URL")).or(file.store.and_then(|s| s.url));
        let store = crate::store_url::StoreUrl::parse(store_url.as_deref(), &data_dir)?;
        let region = pick(flags.region.clone(), "JANUS_REGION", file.region, "us-east-1");
        janus_types::RegionName::parse(&region).map_err(|e| anyhow::anyhow!("region: {e}"))?;
        let account_id = pick(None, "JANUS_ACCOUNT_ID", file.account_id, "000000000000");
        let log_format = pick(flags.log_format.clone(), "JANUS_LOG_FORMAT", file.log_format, "text");
        if log_format != "text" && log_format != "json" {
            bail!("log format must be text or json, not {log_format:?}");
        }
        let issuer_url = flags.issuer_url.clone().or_else(|| env("JANUS_ISSUER_URL")).or(file.issuer_url);
        let h = file.password_hash.unwrap_or_default();
        let d = janus_crypto::HashParams::default();
        let hash = janus_crypto::HashParams {
            m_kib: h.memory_kib.unwrap_or(d.m_kib),
            t: h.iterations.unwrap_or(d.t),
            p: h.parallelism.unwrap_or(d.p),
        };
        let smtp = smtp(file.smtp)?;
        let sms_webhook = sms_webhook(file.sms)?;
        let triggers = triggers(file.triggers)?;
        let peers = peers(file.peers, &flags.peers)?;
        let advertise_url = flags.advertise_url.clone().or_else(|| env("JANUS_ADVERTISE_URL")).or(file.advertise_url);
        let replication_secret = env("JANUS_REPLICATION_SECRET");
        let retention = retention(file.log_retention_secs, file.log_retention_min_changes)?;
        let failover = failover(file.failover.unwrap_or_default())?;
        let domain_base = pick(None, "JANUS_DOMAIN_BASE", file.domain_base, "amazoncognito.com").to_ascii_lowercase();
        let limits = limits(file.limits.unwrap_or_default())?;
        let quotas = quotas(file.quotas.unwrap_or_default())?;
        let metrics_token = env("JANUS_METRICS_TOKEN").or(file.metrics.and_then(|m| m.token));
        let keys =
            crate::keys_config::resolve(file.keys, flags.keyring.clone(), flags.keyring_key_file.clone(), &data_dir)?;
        let tls = tls(flags, file.tls.unwrap_or_default())?;
        Ok(Self {
            tls,
            keys,
            listen,
            data_dir,
            store,
            region,
            account_id,
            log_format,
            issuer_url,
            hash,
            smtp,
            sms_webhook,
            triggers,
            peers,
            advertise_url,
            replication_secret,
            retention,
            failover,
            domain_base,
            limits,
            quotas,
            metrics_token,
        })
    }
}
