//! A small client for a running region, used by the operator commands (`janus replica`,
//! `janus drill`, `janus audit`): the Cognito JSON protocol, SigV4-signed with the
//! administrator's credentials for administrator operations, unsigned for end-user ones.

use anyhow::Context;
use axum::http::{HeaderMap, HeaderValue};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

use janus_http::sigv4::{self, AdminCredentials};

/// A refused call: HTTP status and Cognito's error name and message.
#[derive(Debug, Clone)]
pub struct Refused {
    /// HTTP status (0 when the region could not be reached).
    pub status: u16,
    /// `__type`.
    pub code: String,
    /// `message`.
    pub message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            0 => write!(f, "{}: {}", self.code, self.message),
            s => write!(f, "{} (HTTP {s}): {}", self.code, self.message),
        }
    }
}

impl std::error::Error for Refused {}

/// The administrator's credentials: JANUS_ADMIN_* from the environment, else the region's
/// generated `admin-credentials.json` in `data_dir`.
pub fn credentials(data_dir: &Path) -> anyhow::Result<AdminCredentials> {
    let id = std::env::var("JANUS_ADMIN_ACCESS_KEY_ID").ok().filter(|v| !v.is_empty());
    let secret = std::env::var("JANUS_ADMIN_SECRET_ACCESS_KEY").ok().filter(|v| !v.is_empty());
    if let (Some(access_key_id), Some(secret_access_key)) = (id, secret) {
        return Ok(AdminCredentials { access_key_id, secret_access_key });
    }
    let path = data_dir.join("admin-credentials.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)?;
    Ok(AdminCredentials {
        access_key_id: v["access_key_id"].as_str().unwrap_or_default().to_owned(),
        secret_access_key: v["secret_access_key"].as_str().unwrap_or_default().to_owned(),
    })
}

/// One region (or a front door) as a client sees it.
#[derive(Clone)]
pub struct Client {
    /// Base URL.
    pub endpoint: String,
    creds: Option<AdminCredentials>,
    agent: ureq::Agent,
}

impl Client {
    /// A client for `endpoint`; administrator operations need `creds`.
    pub fn new(endpoint: &str, creds: Option<AdminCredentials>, timeout: Duration) -> Self {
        let agent =
            ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(timeout)).build().into();
        Self { endpoint: endpoint.trim_end_matches('/').to_owned(), creds, agent }
    }

    /// Call `op` (a Cognito operation, or `JanusAdmin.*`): signed when this client has
    /// credentials and `signed` is set.
    pub fn call(&self, op: &str, input: &Value, signed: bool) -> Result<Value, Refused> {
        let target = if op.starts_with("JanusAdmin.") {
            op.to_owned()
        } else {
            format!("AWSCognitoIdentityProviderService.{op}")
        };
        let body = serde_json::to_vec(input).unwrap_or_default();
        let mut req = self
            .agent
            .post(format!("{}/", self.endpoint))
            .header("x-amz-target", &target)
            .header("content-type", "application/x-amz-json-1.1");
        if let (true, Some(creds)) = (signed, &self.creds) {
            let (amz_date, auth) = self.sign(creds, &target, &body).map_err(|e| unreachable_(&e))?;
            req = req.header("x-amz-date", &amz_date).header("authorization", &auth);
        }
        let mut resp = req.send(&body[..]).map_err(|e| unreachable_(&anyhow::Error::from(e)))?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status == 200 {
            return Ok(v);
        }
        Err(Refused {
            status,
            code: v["__type"].as_str().unwrap_or("HTTPError").to_owned(),
            message: v["message"].as_str().map_or_else(|| format!("HTTP {status}"), str::to_owned),
        })
    }

    /// An administrator call.
    pub fn admin(&self, op: &str, input: &Value) -> Result<Value, Refused> {
        self.call(op, input, true)
    }

    /// An end-user (unsigned) call.
    pub fn public(&self, op: &str, input: &Value) -> Result<Value, Refused> {
        self.call(op, input, false)
    }

    /// GET `path`: status and JSON body (`Null` when not JSON); status 0 when unreachable.
    pub fn get(&self, path: &str) -> (u16, Value) {
        match self.agent.get(format!("{}{path}", self.endpoint)).call() {
            Ok(mut r) => {
                let status = r.status().as_u16();
                let text = r.body_mut().read_to_string().unwrap_or_default();
                (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
            }
            Err(_) => (0, Value::Null),
        }
    }

    fn sign(&self, creds: &AdminCredentials, target: &str, body: &[u8]) -> anyhow::Result<(String, String)> {
        let host = self.endpoint.trim_start_matches("http://").trim_start_matches("https://").to_owned();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
        let amz_date = sigv4::format_amz_date(now);
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_str(&host)?);
        headers.insert("x-amz-date", HeaderValue::from_str(&amz_date)?);
        headers.insert("x-amz-target", HeaderValue::from_str(target)?);
        headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.1"));
        let req = sigv4::Request { method: "POST", path: "/", query: "", headers: &headers, body };
        Ok((amz_date.clone(), sigv4::sign(creds, &req, &amz_date, "us-east-1")))
    }
}

fn unreachable_(e: &anyhow::Error) -> Refused {
    Refused { status: 0, code: "Unreachable".into(), message: format!("{e:#}") }
}
