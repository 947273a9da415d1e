//! Lambda triggers: the functions a pool's `LambdaConfig` names, called at Cognito's points
//! with Cognito's events, their answers applied as Cognito applies them. Triggers are
//! regional (the replication reference): each region calls the functions of its own
//! `LambdaConfig`, so a secondary calls functions in its own region.
//!
//! This module resolves a trigger to its function, wraps a request in Cognito's event
//! envelope, calls it through the [`invoke::Invoker`], checks the answer's shape, turns
//! failures into Cognito's errors, and counts calls for `/metrics`. Each trigger's request and
//! the use of its response have a module (`signup`, `auth`, `tokens`, `messages`, `migration`).
//! Events are never logged: they hold attributes, and some hold passwords or codes.

pub mod auth;
pub mod invoke;
pub mod messages;
pub mod migration;
pub mod probe;
pub mod senders;
pub mod signup;
pub mod stats;
pub mod tokens;

use serde_json::{json, Map, Value};
use std::time::Instant;

use janus_types::{Error, Pool, Result};

use crate::Services;
use invoke::{Failure, FunctionArn};

/// A trigger, named as `LambdaConfig` names it (and as Cognito's error messages do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Trigger {
    PreSignUp,
    PostConfirmation,
    PreAuthentication,
    PostAuthentication,
    PreTokenGeneration,
    CustomMessage,
    UserMigration,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallengeResponse,
    CustomEmailSender,
    CustomSmsSender,
}

impl Trigger {
    /// Its `LambdaConfig` member.
    pub fn name(self) -> &'static str {
        match self {
            Trigger::PreSignUp => "PreSignUp",
            Trigger::PostConfirmation => "PostConfirmation",
            Trigger::PreAuthentication => "PreAuthentication",
            Trigger::PostAuthentication => "PostAuthentication",
            Trigger::PreTokenGeneration => "PreTokenGeneration",
            Trigger::CustomMessage => "CustomMessage",
            Trigger::UserMigration => "UserMigration",
            Trigger::DefineAuthChallenge => "DefineAuthChallenge",
            Trigger::CreateAuthChallenge => "CreateAuthChallenge",
            Trigger::VerifyAuthChallengeResponse => "VerifyAuthChallengeResponse",
            Trigger::CustomEmailSender => "CustomEmailSender",
            Trigger::CustomSmsSender => "CustomSMSSender",
        }
    }
}

/// The `LambdaConfig` members Janus invokes (the others are refused by `unsupported`).
pub const INVOKED: &[&str] = &[
    "PreSignUp",
    "PostConfirmation",
    "PreAuthentication",
    "PostAuthentication",
    "PreTokenGeneration",
    "PreTokenGenerationConfig",
    "CustomMessage",
    "UserMigration",
    "DefineAuthChallenge",
    "CreateAuthChallenge",
    "VerifyAuthChallengeResponse",
    "CustomEmailSender",
    "CustomSMSSender",
    "KMSKeyID",
];

/// The members whose value is `{LambdaVersion, LambdaArn}` rather than an ARN.
pub const VERSIONED: &[&str] = &["PreTokenGenerationConfig", "CustomEmailSender", "CustomSMSSender"];

/// The event version a pre token generation function asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    /// `V1_0`: ID-token claims and groups.
    V1,
    /// `V2_0`: also access-token claims and scopes.
    V2,
    /// `V3_0`: V2, and machine-to-machine (client_credentials) tokens too.
    V3,
}

/// A trigger's function as this region has it configured.
pub struct Configured {
    /// The function.
    pub function: FunctionArn,
    /// For PreTokenGeneration, the event version; V1 otherwise.
    pub version: TokenVersion,
}

/// One event to send: the envelope's variable parts.
pub struct Event<'a> {
    /// `triggerSource`.
    pub source: &'static str,
    /// `userName`.
    pub user_name: &'a str,
    /// The app client, for `callerContext.clientId`.
    pub client_id: Option<&'a str>,
    /// `request`.
    pub request: Value,
    /// `response`, as Cognito presets it.
    pub response: Value,
}

fn lambda_config<'a>(s: &Services, pool: &'a Pool) -> Option<&'a Map<String, Value>> {
    crate::regional::setting(pool, &s.region, "LambdaConfig").and_then(Value::as_object)
}

impl Services {
    /// The function `trigger` calls in this region, if one is configured.
    pub fn trigger_function(&self, pool: &Pool, trigger: Trigger) -> Option<Configured> {
        let config = lambda_config(self, pool)?;
        let arn = |v: Option<&Value>| v.and_then(Value::as_str).and_then(FunctionArn::parse);
        if trigger == Trigger::PreTokenGeneration {
            if let Some(c) = config.get("PreTokenGenerationConfig").filter(|c| c.is_object()) {
                let version = match c.get("LambdaVersion").and_then(Value::as_str) {
                    Some("V2_0") => TokenVersion::V2,
                    Some("V3_0") => TokenVersion::V3,
                    _ => TokenVersion::V1,
                };
                return arn(c.get("LambdaArn")).map(|function| Configured { function, version });
            }
        }
        let member = config.get(trigger.name());
        let member = if VERSIONED.contains(&trigger.name()) { member.and_then(|m| m.get("LambdaArn")) } else { member };
        arn(member).map(|function| Configured { function, version: TokenVersion::V1 })
    }

    /// The parts every event shares, around `event.request` (without `response`).
    pub(crate) fn envelope(&self, pool: &Pool, version: &str, event: &Event<'_>) -> Value {
        json!({
            "version": version,
            "triggerSource": event.source,
            "region": self.region.as_str(),
            "userPoolId": pool.id.as_str(),
            "userName": event.user_name,
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown",
                "clientId": event.client_id.unwrap_or("CLIENT_ID_NOT_APPLICABLE")},
            "request": event.request,
        })
    }

    /// Call `trigger` with `event` when this region configures it: its `response` object
    /// (`None`: no function is configured). Failures are Cognito's errors.
    pub fn run_trigger(&self, pool: &Pool, trigger: Trigger, event: Event<'_>) -> Result<Option<Map<String, Value>>> {
        let Some(c) = self.trigger_function(pool, trigger) else { return Ok(None) };
        let version = match c.version {
            TokenVersion::V1 => "1",
            TokenVersion::V2 => "2",
            TokenVersion::V3 => "3",
        };
        let mut body = self.envelope(pool, version, &event);
        body["response"] = event.response;
        let started = Instant::now();
        let answer = self.invoker.invoke(&c.function, body.to_string().as_bytes());
        let result = match answer {
            Ok(bytes) => response_of(&bytes).ok_or_else(unrecognizable),
            Err(Failure::Unreadable) => Err(unrecognizable()),
            Err(Failure::Function(msg)) => {
                Err(Error::UserLambdaValidationException(format!("{} failed with error {msg}.", trigger.name())))
            }
            Err(Failure::Call(cause)) => Err(Error::UnexpectedLambdaException(format!(
                "{} invocation failed due to error {cause}.",
                trigger.name()
            ))),
        };
        let elapsed = started.elapsed();
        self.trigger_stats.record(trigger, elapsed, result.is_ok());
        match &result {
            Ok(_) => tracing::debug!(pool = %pool.id, trigger = trigger.name(), source = event.source,
                function = %c.function.name, ms = elapsed.as_millis() as u64, "trigger answered"),
            Err(e) => tracing::warn!(pool = %pool.id, trigger = trigger.name(), source = event.source,
                function = %c.function.name, ms = elapsed.as_millis() as u64, error = e.code(), "trigger failed"),
        }
        result.map(Some)
    }
}

fn unrecognizable() -> Error {
    Error::InvalidLambdaResponseException("Unrecognizable lambda output".into())
}

/// The `response` of a function's answer (the event it was sent, returned): an object, or
/// null / absent (nothing changed); anything else is not an answer.
fn response_of(bytes: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Object(mut m) => match m.remove("response") {
            Some(Value::Object(r)) => Some(r),
            None | Some(Value::Null) => Some(Map::new()),
            Some(_) => None,
        },
        _ => None,
    }
}

/// A response member that must be a boolean when present.
pub fn flag(r: &Map<String, Value>, name: &str) -> Result<bool> {
    match r.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(unrecognizable()),
    }
}

/// `m` as a string map, or null when empty (Cognito sends absent maps as null).
pub(crate) fn or_null(m: &std::collections::BTreeMap<String, String>) -> Value {
    if m.is_empty() {
        Value::Null
    } else {
        string_map(m)
    }
}

/// `request` with `clientMetadata` when the caller sent some (it is optional in the events).
pub fn with_metadata(mut request: Value, m: &std::collections::BTreeMap<String, String>) -> Value {
    if !m.is_empty() {
        request["clientMetadata"] = string_map(m);
    }
    request
}

/// `m` as the string map Cognito sends (`userAttributes`, `clientMetadata`).
pub(crate) fn string_map<'a>(m: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Object(m.into_iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_the_event_with_its_response() {
        assert_eq!(response_of(br#"{"response":{"a":true}}"#).unwrap()["a"], true);
        assert!(response_of(br#"{"response":null}"#).unwrap().is_empty());
        assert!(response_of(br#"{"version":"1"}"#).unwrap().is_empty());
        for bad in [&b"null"[..], b"[]", b"\"x\"", br#"{"response":[1]}"#, b"{"] {
            assert!(response_of(bad).is_none(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn flags_are_booleans() {
        let r: Map<String, Value> = serde_json::from_str(r#"{"a":true,"b":"true"}"#).unwrap();
        assert!(flag(&r, "a").unwrap());
        assert!(!flag(&r, "missing").unwrap());
        assert_eq!(flag(&r, "b").unwrap_err().code(), "InvalidLambdaResponseException");
    }
}
