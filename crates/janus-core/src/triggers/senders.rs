//! CustomEmailSender and CustomSMSSender: a pool that names a sender function for a medium has
//! every message of that medium delivered by the function instead of Janus's outbox (and
//! CustomMessage is not asked for its text: the function writes its own). As in Cognito:
//!
//! - the code (or an invitation's temporary password, HTML-escaped) travels encrypted: an AWS
//!   Encryption SDK message (`janus_crypto::esdk`) under a data key from KMS GenerateDataKey
//!   on the pool's `KMSKeyID`, with encryption context `userpool-id`, base64 in
//!   `request.code` — the function decrypts it with the Encryption SDK and `kms:Decrypt`;
//! - the function is invoked asynchronously (invocation type `Event`): the caller is answered
//!   once Lambda has accepted the call, whatever the function does later, and nothing is
//!   expected back;
//! - `request.type` is `customEmailSenderRequestV1` / `customSMSSenderRequestV1`, and
//!   `clientMetadata` is sent for sign-up, password reset and sign-in codes only.
//!
//! KMS is reached through the [`DataKeys`] seam; [`KmsDataKeys`] calls the key's own region
//! (`https://kms.<region>.amazonaws.com`, or the configured endpoint), signed with the trigger
//! credentials.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use janus_crypto::esdk;
use janus_crypto::keys::aws_credentials::CredentialSource;
use janus_crypto::keys::kms_api::{GeneratedKey, KmsClient};
use janus_crypto::keys::{KeyArn, KeyError, KeyErrorKind};
use janus_types::{Clock, Error, Pool, Result, User};

use super::invoke::FunctionArn;
use super::signup::event_attributes;
use super::{lambda_config, string_map, Event, Trigger};
use crate::Services;

/// Where GenerateDataKey is sent.
pub trait DataKeys: Send + Sync {
    /// A data key under `key` (a KMS key ARN) bound to `context`.
    fn generate(&self, key: &str, context: &BTreeMap<String, String>) -> std::result::Result<GeneratedKey, KeyError>;
}

/// GenerateDataKey through KMS in the key's region.
pub struct KmsDataKeys {
    endpoint: Option<String>,
    credentials: Arc<dyn CredentialSource>,
    clock: Arc<dyn Clock>,
    clients: Mutex<HashMap<String, Arc<KmsClient>>>,
}

impl KmsDataKeys {
    /// KMS at `endpoint` for every region (none: AWS's own endpoint of the key's region),
    /// signed with `credentials`' (unsigned when they give none).
    pub fn new(endpoint: Option<String>, credentials: Arc<dyn CredentialSource>, clock: Arc<dyn Clock>) -> Self {
        Self { endpoint, credentials, clock, clients: Mutex::default() }
    }

    fn client(&self, region: &str) -> std::result::Result<Arc<KmsClient>, KeyError> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(region) {
            return Ok(c.clone());
        }
        let url = self.endpoint.clone().unwrap_or_else(|| format!("https://kms.{region}.amazonaws.com"));
        let c = Arc::new(KmsClient::new(&url, region, self.credentials.clone(), self.clock.clone())?);
        clients.insert(region.to_owned(), c.clone());
        Ok(c)
    }
}

impl DataKeys for KmsDataKeys {
    fn generate(&self, key: &str, context: &BTreeMap<String, String>) -> std::result::Result<GeneratedKey, KeyError> {
        let arn = KeyArn::parse(key)?;
        self.client(&arn.region)?.generate_data_key(key, context)
    }
}

/// Who asked for the message: the app client and its `ClientMetadata`, when there are.
#[derive(Clone, Copy, Default)]
pub struct Caller<'a> {
    /// The app client.
    pub client_id: Option<&'a str>,
    /// `ClientMetadata` of the request.
    pub metadata: Option<&'a BTreeMap<String, String>>,
}

/// CustomMessage's `triggerSource` suffixes, the senders' sources for them, and whether
/// Cognito passes the request's `clientMetadata` with them.
const SOURCES: [(&str, &str, &str, bool); 7] = [
    ("SignUp", "CustomEmailSender_SignUp", "CustomSMSSender_SignUp", true),
    ("ResendCode", "CustomEmailSender_ResendCode", "CustomSMSSender_ResendCode", false),
    ("ForgotPassword", "CustomEmailSender_ForgotPassword", "CustomSMSSender_ForgotPassword", true),
    ("UpdateUserAttribute", "CustomEmailSender_UpdateUserAttribute", "CustomSMSSender_UpdateUserAttribute", false),
    ("VerifyUserAttribute", "CustomEmailSender_VerifyUserAttribute", "CustomSMSSender_VerifyUserAttribute", false),
    ("AdminCreateUser", "CustomEmailSender_AdminCreateUser", "CustomSMSSender_AdminCreateUser", false),
    ("Authentication", "CustomEmailSender_Authentication", "CustomSMSSender_Authentication", true),
];

/// The sender's `triggerSource` for CustomMessage's `source`, and whether it carries metadata.
fn sender_source(trigger: Trigger, source: &str) -> Option<(&'static str, bool)> {
    let suffix = source.strip_prefix("CustomMessage_")?;
    let (_, email, sms, metadata) = SOURCES.iter().find(|(s, ..)| *s == suffix)?;
    Some((if trigger == Trigger::CustomEmailSender { email } else { sms }, *metadata))
}

/// A temporary password as Cognito hands it to a sender: reserved HTML characters escaped.
fn escaped(temp: &str) -> String {
    temp.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn failed(trigger: Trigger, cause: &str) -> Error {
    Error::UnexpectedLambdaException(format!("{} invocation failed due to error {cause}.", trigger.name()))
}

/// A message sealed for its sender function, ready to hand over (made before a write
/// commits, so a key KMS refuses leaves nothing half-done).
pub struct Sealed {
    trigger: Trigger,
    function: FunctionArn,
    source: &'static str,
    pool: String,
    event: Value,
    started: Instant,
}

impl Services {
    /// The sender's event for a message, its code encrypted, when this region configures a
    /// sender for `medium` (`what` is CustomMessage's `triggerSource` and the medium).
    pub fn seal_for_sender(
        &self,
        pool: &Pool,
        user: &User,
        (source, medium): (&str, &str),
        code: &str,
        caller: Caller<'_>,
    ) -> Result<Option<Sealed>> {
        let trigger = if medium == "EMAIL" { Trigger::CustomEmailSender } else { Trigger::CustomSmsSender };
        let Some(c) = self.trigger_function(pool, trigger) else { return Ok(None) };
        let Some((source, with_metadata)) = sender_source(trigger, source) else { return Ok(None) };
        let started = Instant::now();
        let sealed = match self.sealed_code(pool, trigger, source, code) {
            Ok(sealed) => sealed,
            Err(e) => {
                self.trigger_stats.record(trigger, started.elapsed(), false);
                return Err(e);
            }
        };
        let metadata = caller.metadata.filter(|m| with_metadata && !m.is_empty());
        let kind = if trigger == Trigger::CustomEmailSender {
            "customEmailSenderRequestV1"
        } else {
            "customSMSSenderRequestV1"
        };
        let request = json!({"type": kind, "code": sealed, "clientMetadata": metadata.map_or(Value::Null, string_map),
            "userAttributes": event_attributes(user)});
        let event =
            Event { source, user_name: &user.username, client_id: caller.client_id, request, response: Value::Null };
        let event = self.envelope(pool, "1", &event);
        Ok(Some(Sealed { trigger, function: c.function, source, pool: pool.id.to_string(), event, started }))
    }

    /// Invoke the sender (asynchronously: Ok once Lambda accepted the call).
    pub fn hand_over(&self, s: Sealed) -> Result<()> {
        let result = self.invoker.invoke_event(&s.function, s.event.to_string().as_bytes()).map_err(|f| match f {
            super::invoke::Failure::Call(cause) => failed(s.trigger, &cause),
            _ => failed(s.trigger, "ServiceException"),
        });
        let (elapsed, trigger, source) = (s.started.elapsed(), s.trigger.name(), s.source);
        self.trigger_stats.record(s.trigger, elapsed, result.is_ok());
        let (pool, function, ms) = (&s.pool, &s.function.name, elapsed.as_millis() as u64);
        match &result {
            Ok(()) => tracing::debug!(pool, trigger, source, function, ms, "sender accepted a message"),
            Err(e) => tracing::warn!(pool, trigger, source, function, ms, error = e.code(), "sender call failed"),
        }
        result
    }

    /// `code` as the sender receives it: base64 of an Encryption SDK message under `KMSKeyID`.
    fn sealed_code(&self, pool: &Pool, trigger: Trigger, source: &str, code: &str) -> Result<String> {
        let key = lambda_config(self, pool)
            .and_then(|c| c.get("KMSKeyID"))
            .and_then(Value::as_str)
            .ok_or_else(|| failed(trigger, "KMSKeyID is not configured"))?;
        let plaintext = if source.ends_with("_AdminCreateUser") { escaped(code) } else { code.to_owned() };
        let context = BTreeMap::from([("userpool-id".to_owned(), pool.id.to_string())]);
        let mut message_id = [0u8; 16];
        self.rng.fill(&mut message_id);
        let sealed = esdk::encrypt(plaintext.as_bytes(), &context, message_id, |context| {
            let k = self.data_keys.generate(key, context)?;
            Ok::<_, KeyError>(esdk::DataKey {
                plaintext: k.plaintext,
                provider_id: "aws-kms".into(),
                provider_info: k.key_id,
                ciphertext: k.ciphertext,
            })
        });
        let (cause, detail) = match sealed {
            Ok(bytes) => return Ok(B64.encode(bytes)),
            Err(esdk::Error::Keyring(k)) => {
                let cause = match k.kind {
                    KeyErrorKind::NotFound => "KMSNotFoundException",
                    KeyErrorKind::Disabled => "KMSDisabledException",
                    KeyErrorKind::Denied => "KMSAccessDeniedException",
                    KeyErrorKind::Invalid => "KMSInvalidKeyException",
                    _ => "KMSServiceException",
                };
                (cause, k.to_string())
            }
            Err(esdk::Error::Format(f)) => ("KMSServiceException", f.to_owned()),
        };
        tracing::warn!(pool = %pool.id, trigger = trigger.name(), error = %detail, "a sender's code could not be encrypted");
        Err(failed(trigger, cause))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_source_has_its_sender_source() {
        for s in [
            "SignUp",
            "ResendCode",
            "ForgotPassword",
            "UpdateUserAttribute",
            "VerifyUserAttribute",
            "AdminCreateUser",
            "Authentication",
        ] {
            let m = format!("CustomMessage_{s}");
            assert_eq!(sender_source(Trigger::CustomEmailSender, &m).unwrap().0, format!("CustomEmailSender_{s}"));
            assert_eq!(sender_source(Trigger::CustomSmsSender, &m).unwrap().0, format!("CustomSMSSender_{s}"));
        }
        assert_eq!(sender_source(Trigger::CustomEmailSender, "PreSignUp_SignUp"), None);
    }

    #[test]
    fn temporary_passwords_are_html_escaped() {
        assert_eq!(escaped("a<b>&c"), "a&lt;b&gt;&amp;c");
    }
}
