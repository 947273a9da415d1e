//! A client of the AWS KMS JSON 1.1 API (`POST /` with `X-Amz-Target: TrentService.<op>`,
//! SigV4-signed): what the AWS KMS key provider and the custom sender triggers' code
//! encryption send to KMS (or to anything speaking its API, such as moto's server in the
//! tests). KMS's error types become [`KeyErrorKind`]s; messages name the key, the region and
//! the endpoint, never a secret.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use janus_types::Clock;

use super::aws_credentials::CredentialSource;
use super::sigv4::Signed;
use super::{KeyError, KeyErrorKind};

/// One KMS endpoint and region, and who signs.
pub struct KmsClient {
    endpoint: String,
    host: String,
    region: String,
    credentials: Arc<dyn CredentialSource>,
    agent: ureq::Agent,
    clock: Arc<dyn Clock>,
}

/// A data key from GenerateDataKey.
pub struct GeneratedKey {
    /// The key itself.
    pub plaintext: [u8; 32],
    /// It, encrypted under the KMS key.
    pub ciphertext: Vec<u8>,
    /// The KMS key's ARN, as KMS answered it.
    pub key_id: String,
}

fn err(kind: KeyErrorKind, msg: String) -> KeyError {
    KeyError::new(kind, msg)
}

impl KmsClient {
    /// A client of KMS at `endpoint` (a base URL) in `region`, signing with `credentials`'
    /// (unsigned when they give none); `clock` dates the signatures.
    pub fn new(
        endpoint: &str,
        region: &str,
        credentials: Arc<dyn CredentialSource>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, KeyError> {
        let host = endpoint
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default().to_owned())
            .filter(|h| !h.is_empty())
            .ok_or_else(|| err(KeyErrorKind::Invalid, format!("KMS endpoint {endpoint} is not a URL")))?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        Ok(Self { endpoint, host, region: region.to_owned(), credentials, agent, clock })
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Call `op` about `key` (named in errors) with `body`; KMS's answer.
    pub fn call(&self, op: &str, key: &str, body: Value) -> Result<Value, KeyError> {
        let bytes = serde_json::to_vec(&body).map_err(|e| err(KeyErrorKind::Invalid, e.to_string()))?;
        let target = format!("TrentService.{op}");
        let content = "application/x-amz-json-1.1";
        let mut req = self.agent.post(format!("{}/", self.endpoint)).header("content-type", content);
        req = req.header("x-amz-target", &target);
        if let Some(r) = self.credentials.current() {
            let signed = Signed {
                creds: &r.creds,
                region: &self.region,
                service: "kms",
                method: "POST",
                path: "/",
                query: "",
                host: &self.host,
                session_token: r.session_token.as_deref(),
            };
            let sent = [("content-type", content), ("x-amz-target", target.as_str())];
            for (k, v) in signed.headers(&sent, &bytes, self.clock.now_ms()) {
                req = req.header(k, &v);
            }
        }
        let place = format!("AWS KMS in {} ({})", self.region, self.endpoint);
        let mut resp = req
            .send(&bytes[..])
            .map_err(|e| err(KeyErrorKind::Unavailable, format!("{place}: {op} of key {key}: {e}")))?;
        let status = resp.status();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(v);
        }
        let kind_of = v["__type"].as_str().unwrap_or("").rsplit('#').next().unwrap_or("").to_owned();
        let kind = match kind_of.as_str() {
            "NotFoundException" => KeyErrorKind::NotFound,
            "DisabledException" | "KMSInvalidStateException" => KeyErrorKind::Disabled,
            "AccessDeniedException" => KeyErrorKind::Denied,
            "InvalidCiphertextException" | "IncorrectKeyException" => KeyErrorKind::Integrity,
            "ValidationException" | "InvalidArnException" => KeyErrorKind::Invalid,
            _ => KeyErrorKind::Unavailable,
        };
        let message = v["message"].as_str().or(v["Message"].as_str()).unwrap_or("");
        Err(err(kind, format!("{place}: {op} of key {key} failed: {kind_of} {message} (HTTP {status})")))
    }

    /// GenerateDataKey: a 256-bit data key under `key`, bound to `context`.
    pub fn generate_data_key(&self, key: &str, context: &BTreeMap<String, String>) -> Result<GeneratedKey, KeyError> {
        let mut body = json!({"KeyId": key, "KeySpec": "AES_256"});
        if !context.is_empty() {
            body["EncryptionContext"] = json!(context);
        }
        let v = self.call("GenerateDataKey", key, body)?;
        let plain = B64.decode(v["Plaintext"].as_str().unwrap_or_default()).unwrap_or_default();
        let ciphertext = B64.decode(v["CiphertextBlob"].as_str().unwrap_or_default()).unwrap_or_default();
        let plaintext: [u8; 32] = plain
            .try_into()
            .map_err(|_| err(KeyErrorKind::Unavailable, format!("GenerateDataKey of {key} did not return 256 bits")))?;
        let key_id = v["KeyId"].as_str().unwrap_or(key).to_owned();
        Ok(GeneratedKey { plaintext, ciphertext, key_id })
    }
}
