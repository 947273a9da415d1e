//! Where the credentials that sign Janus's calls to AWS (Lambda's Invoke, KMS for the custom
//! senders) come from: the AWS SDKs' standard chain, in their order —
//!
//! 1. access keys in the environment (Janus's own variables first, then `AWS_ACCESS_KEY_ID`,
//!    `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`);
//! 2. the shared files' profile (`AWS_PROFILE`, else `default`) with static keys:
//!    `~/.aws/credentials` (`AWS_SHARED_CREDENTIALS_FILE`), then `~/.aws/config` (`AWS_CONFIG_FILE`);
//! 3. a web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, as EKS sets them):
//!    STS `AssumeRoleWithWebIdentity`;
//! 4. the container endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI`, with
//!    `AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]`), as ECS and EKS Pod Identity set it;
//! 5. the EC2 instance's role through IMDSv2 (unless `AWS_EC2_METADATA_DISABLED=true`).
//!
//! The environment is read once, by the caller, into [`ChainEnv`] (no globals). Temporary
//! credentials are fetched again five minutes before they expire (fifteen minutes after they
//! were fetched when they name no expiry; a profile's files are read again every five
//! minutes); while one thread fetches, the others keep signing with what they have, and a
//! failed refresh keeps the old credentials until they really expire. Steps 3–5 are asked only
//! when the earlier ones give nothing; a step whose variables are set and that fails ends the
//! chain (as in the SDKs: it never falls through to another principal); when nothing was found
//! the chain rests five minutes (IMDS off EC2 would otherwise cost a timeout per call, and the
//! files a read per call).
//! Role chaining (`role_arn` / `source_profile`), SSO and `credential_process` are not read.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use janus_types::Clock;

use super::sigv4::Credentials;

/// Credentials to sign with, and the session token of temporary ones.
#[derive(Clone)]
pub struct Resolved {
    /// Access key id and secret.
    pub creds: Credentials,
    /// `x-amz-security-token`, for temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("creds", &self.creds)
            .field("temporary", &self.session_token.is_some())
            .finish()
    }
}

/// Gives the credentials to sign a request with.
pub trait CredentialSource: Send + Sync {
    /// Now's credentials; `None`: send the request unsigned.
    fn current(&self) -> Option<Resolved>;
}

/// The same credentials (or none) every time.
pub struct Fixed(pub Option<Resolved>);

impl CredentialSource for Fixed {
    fn current(&self) -> Option<Resolved> {
        self.0.clone()
    }
}

/// The variables the chain reads, for [`ChainEnv::capture`].
pub const VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_REGION",
    "AWS_ENDPOINT_URL_STS",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
];

/// The variables and files the chain reads, captured at start-up.
#[derive(Clone, Default)]
pub struct ChainEnv {
    /// The chain's variables that were set (secrets among them: never printed).
    pub vars: BTreeMap<String, String>,
    /// Janus's own access key variables, asked before `AWS_*` (`JANUS_LAMBDA_ACCESS_KEY_ID` …).
    pub prefix: String,
    /// The home directory (for `~/.aws/`).
    pub home: Option<PathBuf>,
}

impl std::fmt::Debug for ChainEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set: Vec<&String> = self.vars.keys().collect();
        f.debug_struct("ChainEnv").field("set", &set).field("prefix", &self.prefix).finish()
    }
}

impl ChainEnv {
    /// [`VARIABLES`] and Janus's `<prefix>ACCESS_KEY_ID`, `_SECRET_ACCESS_KEY`,
    /// `_SESSION_TOKEN`, as `get` gives them.
    pub fn capture(prefix: &str, home: Option<PathBuf>, get: impl Fn(&str) -> Option<String>) -> Self {
        let own = ["ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN"].map(|n| format!("{prefix}{n}"));
        let names = VARIABLES.iter().map(|n| (*n).to_owned()).chain(own);
        let vars = names.filter_map(|n| get(&n).map(|v| (n, v))).collect();
        Self { vars, prefix: prefix.to_owned(), home }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn path(&self, var: &str, default: &str) -> Option<PathBuf> {
        self.var(var).map(PathBuf::from).or_else(|| self.home.as_ref().map(|h| h.join(default)))
    }
}

/// A step's credentials and when they expire (ms; `None`: never said), or why it failed.
type Step = Result<Option<(Resolved, Option<i64>)>, String>;

/// Credentials in use.
#[derive(Clone)]
struct Kept {
    resolved: Resolved,
    /// When they stop working (ms), if ever.
    expires: Option<i64>,
    /// When to fetch again (ms), if ever.
    refresh: Option<i64>,
}

/// The standard chain.
pub struct Chain {
    env: ChainEnv,
    clock: Arc<dyn Clock>,
    agent: ureq::Agent,
    kept: Mutex<Option<Kept>>,
    /// Held by the one thread fetching (never while `kept` is locked).
    fetching: Mutex<()>,
    /// Until when (ms) the chain rests after it found nothing or a step failed.
    quiet_until: Mutex<i64>,
}

const REFRESH_BEFORE_MS: i64 = 5 * 60 * 1000;
/// How long temporary credentials that name no expiry are used.
const UNDATED_MS: i64 = 15 * 60 * 1000;
/// How long a profile's keys are used before its files are read again.
const PROFILE_MS: i64 = 5 * 60 * 1000;
const RETRY_AFTER_MS: i64 = 5 * 60 * 1000;
const ECS_HOST: &str = "http://169.254.170.2";
const IMDS: &str = "http://169.254.169.254";

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Chain {
    /// The chain over `env`; `clock` times the temporary credentials.
    pub fn new(env: ChainEnv, clock: Arc<dyn Clock>) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(1)))
            .timeout_global(Some(Duration::from_secs(3)))
            .http_status_as_error(false)
            .build()
            .into();
        let (kept, fetching, quiet_until) = (Mutex::default(), Mutex::default(), Mutex::new(i64::MIN));
        Self { env, clock, agent, kept, fetching, quiet_until }
    }

    /// Steps 1 and 2, which need no network.
    fn local(&self, now: i64) -> Option<Kept> {
        let env = from_env(&self.env, &self.env.prefix).or_else(|| from_env(&self.env, "AWS_"));
        if let Some(resolved) = env {
            return Some(Kept { resolved, expires: None, refresh: None });
        }
        from_profile(&self.env).map(|resolved| Kept { resolved, expires: None, refresh: Some(now + PROFILE_MS) })
    }

    /// Run the chain: `None` when it found nothing or a configured step failed.
    fn resolve(&self, now: i64) -> Option<Kept> {
        // After a search that found nothing, not even the files are read again for a while.
        if now < *lock(&self.quiet_until) {
            return None;
        }
        if let Some(k) = self.local(now) {
            return Some(k);
        }
        let steps: [&dyn Fn() -> Step; 3] = [&|| self.web_identity(), &|| self.container(), &|| self.imds()];
        for step in steps {
            match step() {
                Ok(Some((resolved, expires))) => {
                    let expires = expires.unwrap_or(now + UNDATED_MS);
                    let refresh = Some(expires - REFRESH_BEFORE_MS);
                    return Some(Kept { resolved, expires: Some(expires), refresh });
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "AWS credentials could not be fetched");
                    break;
                }
            }
        }
        *lock(&self.quiet_until) = now + RETRY_AFTER_MS;
        None
    }

    fn web_identity(&self) -> Step {
        let (Some(file), Some(role)) = (self.env.var("AWS_WEB_IDENTITY_TOKEN_FILE"), self.env.var("AWS_ROLE_ARN"))
        else {
            return Ok(None);
        };
        let token = std::fs::read_to_string(file).map_err(|e| format!("web identity token {file}: {e}"))?;
        let session = self.env.var("AWS_ROLE_SESSION_NAME").unwrap_or("janus");
        let base = match (self.env.var("AWS_ENDPOINT_URL_STS"), self.env.var("AWS_REGION")) {
            (Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, Some(region)) => format!("https://sts.{region}.amazonaws.com"),
            (None, None) => "https://sts.amazonaws.com".to_owned(),
        };
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", role),
            ("RoleSessionName", session),
            ("WebIdentityToken", token.trim()),
        ];
        let mut resp =
            self.agent.post(format!("{base}/")).send_form(form).map_err(|e| format!("STS at {base}: {e}"))?;
        let status = resp.status();
        let body = resp.body_mut().read_to_string().map_err(|e| format!("STS at {base}: {e}"))?;
        if !status.is_success() {
            return Err(format!("STS at {base} refused AssumeRoleWithWebIdentity for {role} (HTTP {status})"));
        }
        let tag = |t: &str| xml_text(&body, t).map(str::to_owned);
        let creds = match (tag("AccessKeyId"), tag("SecretAccessKey")) {
            (Some(access_key_id), Some(secret_access_key)) => Credentials { access_key_id, secret_access_key },
            _ => return Err(format!("STS at {base} answered no credentials")),
        };
        let expires = tag("Expiration").as_deref().and_then(parse_time);
        Ok(Some((Resolved { creds, session_token: tag("SessionToken") }, expires)))
    }

    fn container(&self) -> Step {
        let url = match (
            self.env.var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
            self.env.var("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        ) {
            (Some(rel), _) => format!("{ECS_HOST}{rel}"),
            (None, Some(full)) => full.to_owned(),
            (None, None) => return Ok(None),
        };
        let token = match (
            self.env.var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
            self.env.var("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
        ) {
            (Some(file), _) => {
                Some(std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?.trim().to_owned())
            }
            (None, t) => t.map(str::to_owned),
        };
        let mut req = self.agent.get(&url);
        if let Some(t) = &token {
            req = req.header("authorization", t);
        }
        let mut resp = req.call().map_err(|e| format!("container credentials at {url}: {e}"))?;
        let body = resp.body_mut().read_to_string().map_err(|e| format!("container credentials at {url}: {e}"))?;
        json_credentials(&body).map(Some).ok_or_else(|| format!("container credentials at {url}: no credentials"))
    }

    fn imds(&self) -> Step {
        if self.env.var("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        let base = self.env.var("AWS_EC2_METADATA_SERVICE_ENDPOINT").unwrap_or(IMDS).trim_end_matches('/').to_owned();
        let fail = |e: String| format!("instance metadata at {base}: {e}");
        let mut resp = self
            .agent
            .put(format!("{base}/latest/api/token"))
            .header("x-aws-ec2-metadata-token-ttl-seconds", "21600")
            .send_empty()
            .map_err(|e| fail(e.to_string()))?;
        let token = resp.body_mut().read_to_string().map_err(|e| fail(e.to_string()))?;
        let get = |path: &str| -> Result<String, String> {
            let mut r = self
                .agent
                .get(format!("{base}/latest/meta-data/iam/security-credentials/{path}"))
                .header("x-aws-ec2-metadata-token", token.trim())
                .call()
                .map_err(|e| fail(e.to_string()))?;
            if !r.status().is_success() {
                return Err(fail(format!("HTTP {}", r.status())));
            }
            r.body_mut().read_to_string().map_err(|e| fail(e.to_string()))
        };
        let roles = get("")?;
        let Some(role) = roles.lines().map(str::trim).find(|l| !l.is_empty()) else { return Ok(None) };
        json_credentials(&get(role)?).map(Some).ok_or_else(|| fail(format!("no credentials for role {role}")))
    }
}

impl CredentialSource for Chain {
    fn current(&self) -> Option<Resolved> {
        let now = self.clock.now_ms();
        let kept = lock(&self.kept).clone();
        let fresh = |k: &Kept| k.refresh.is_none_or(|r| now < r);
        if let Some(k) = kept.as_ref().filter(|k| fresh(k)) {
            return Some(k.resolved.clone());
        }
        let usable = kept.filter(|k| k.expires.is_none_or(|e| now < e)).map(|k| k.resolved);
        // Time to fetch: one thread does; the others sign with what is still valid, or wait
        // for the first fetch when there is nothing yet.
        let _fetching = match self.fetching.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => match &usable {
                Some(u) => return Some(u.clone()),
                None => lock(&self.fetching),
            },
        };
        if let Some(k) = lock(&self.kept).clone().filter(|k| fresh(k)) {
            return Some(k.resolved); // fetched meanwhile by another thread
        }
        match self.resolve(now) {
            Some(found) => {
                let r = found.resolved.clone();
                *lock(&self.kept) = Some(found);
                Some(r)
            }
            None => usable,
        }
    }
}

fn from_env(env: &ChainEnv, prefix: &str) -> Option<Resolved> {
    let id = env.var(&format!("{prefix}ACCESS_KEY_ID"))?;
    let secret = env.var(&format!("{prefix}SECRET_ACCESS_KEY"))?;
    Some(Resolved {
        creds: Credentials { access_key_id: id.to_owned(), secret_access_key: secret.to_owned() },
        session_token: env.var(&format!("{prefix}SESSION_TOKEN")).map(str::to_owned),
    })
}

/// The profile's static keys: the credentials file's `[name]`, else the config file's
/// `[profile name]` (`[default]` for the default profile).
fn from_profile(env: &ChainEnv) -> Option<Resolved> {
    let name = env.var("AWS_PROFILE").unwrap_or("default");
    let section = if name == "default" { "default".to_owned() } else { format!("profile {name}") };
    let files = [
        (env.path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"), name.to_owned()),
        (env.path("AWS_CONFIG_FILE", ".aws/config"), section),
    ];
    files.into_iter().find_map(|(path, section)| {
        let text = std::fs::read_to_string(path?).ok()?;
        let keys = ini_section(&text, &section);
        let get = |k: &str| keys.get(k).filter(|v| !v.is_empty()).cloned();
        Some(Resolved {
            creds: Credentials {
                access_key_id: get("aws_access_key_id")?,
                secret_access_key: get("aws_secret_access_key")?,
            },
            session_token: get("aws_session_token"),
        })
    })
}

/// `key = value` lines of `[section]` in an INI text.
fn ini_section(text: &str, section: &str) -> BTreeMap<String, String> {
    let mut inside = false;
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == section;
        } else if let (true, Some((k, v))) = (inside, line.split_once('=')) {
            out.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    out
}

/// The container endpoint's and IMDS's answer: `AccessKeyId`, `SecretAccessKey`, `Token`,
/// `Expiration`.
fn json_credentials(body: &str) -> Option<(Resolved, Option<i64>)> {
    let v: Value = serde_json::from_str(body).ok()?;
    let s = |k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let creds = Credentials { access_key_id: s("AccessKeyId")?, secret_access_key: s("SecretAccessKey")? };
    Some((Resolved { creds, session_token: s("Token") }, s("Expiration").as_deref().and_then(parse_time)))
}

/// The text of the first `<tag>…</tag>`.
fn xml_text<'a>(body: &'a str, tag: &str) -> Option<&'a str> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].trim())
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` as Unix ms.
fn parse_time(s: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400) + hh * 3600 + mm * 60 + ss) * 1000)
}

#[cfg(test)]
mod tests;
