//! Probing triggers: each trigger this region configures is sent one fixed test event and its
//! answer reported, so `janus audit --probe-triggers` can tell whether two regions' functions
//! answer alike. The event names the user `janus-audit-probe` and carries
//! `clientMetadata: {"janus:probe": "true"}`, so a handler with side effects can recognise it.
//! The custom senders are not probed: they answer nothing (their calls are asynchronous), and
//! a test event would have them deliver a message.

use serde::Serialize;
use serde_json::{json, Map, Value};

use janus_types::Pool;

use super::{Event, TokenVersion, Trigger};
use crate::Services;

/// The user name of probe events.
pub const PROBE_USER: &str = "janus-audit-probe";

const ALL: &[Trigger] = &[
    Trigger::PreSignUp,
    Trigger::PostConfirmation,
    Trigger::PreAuthentication,
    Trigger::PostAuthentication,
    Trigger::PreTokenGeneration,
    Trigger::CustomMessage,
    Trigger::UserMigration,
    Trigger::DefineAuthChallenge,
    Trigger::CreateAuthChallenge,
    Trigger::VerifyAuthChallengeResponse,
];

/// What one trigger answered.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Probe {
    /// The `LambdaConfig` member.
    pub trigger: &'static str,
    /// The function's ARN.
    pub function: String,
    /// Its `response`, when it answered.
    pub response: Option<Map<String, Value>>,
    /// The Cognito error it caused, when it did not.
    pub error: Option<String>,
}

fn probe_event(trigger: Trigger, version: TokenVersion) -> Option<Event<'static>> {
    let attributes = json!({"sub": "00000000-0000-4000-8000-000000000000", "email": "probe@janus.invalid",
                            "email_verified": "true", "cognito:user_status": "CONFIRMED"});
    let metadata = json!({"janus:probe": "true"});
    let (source, request, response) = match trigger {
        Trigger::PreSignUp => (
            "PreSignUp_SignUp",
            json!({"userAttributes": {"email": "probe@janus.invalid"}, "validationData": null, "clientMetadata": metadata}),
            json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false}),
        ),
        Trigger::PostConfirmation => (
            "PostConfirmation_ConfirmSignUp",
            json!({"userAttributes": attributes, "clientMetadata": metadata}),
            json!({}),
        ),
        Trigger::PreAuthentication => (
            "PreAuthentication_Authentication",
            json!({"userAttributes": attributes, "validationData": metadata}),
            json!({}),
        ),
        Trigger::PostAuthentication => (
            "PostAuthentication_Authentication",
            json!({"userAttributes": attributes, "newDeviceUsed": false, "clientMetadata": metadata}),
            json!({}),
        ),
        Trigger::PreTokenGeneration => {
            let mut request = json!({"userAttributes": attributes, "clientMetadata": metadata,
                "groupConfiguration": {"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": null}});
            let preset = if version == TokenVersion::V1 {
                json!({"claimsOverrideDetails": null})
            } else {
                request["scopes"] = json!(["aws.cognito.signin.user.admin"]);
                json!({"claimsAndScopeOverrideDetails": null})
            };
            ("TokenGeneration_Authentication", request, preset)
        }
        Trigger::UserMigration => (
            "UserMigration_ForgotPassword",
            json!({"validationData": null, "clientMetadata": metadata}),
            json!({"userAttributes": null, "finalUserStatus": null, "messageAction": null,
                   "desiredDeliveryMediums": null, "forceAliasCreation": null, "enableSMSMFA": null}),
        ),
        Trigger::DefineAuthChallenge => (
            "DefineAuthChallenge_Authentication",
            json!({"userAttributes": attributes, "session": [], "userNotFound": false, "clientMetadata": metadata}),
            json!({"challengeName": null, "issueTokens": null, "failAuthentication": null}),
        ),
        Trigger::CreateAuthChallenge => (
            "CreateAuthChallenge_Authentication",
            json!({"userAttributes": attributes, "challengeName": "CUSTOM_CHALLENGE", "session": [],
                   "userNotFound": false, "clientMetadata": metadata}),
            json!({"publicChallengeParameters": null, "privateChallengeParameters": null, "challengeMetadata": null}),
        ),
        Trigger::VerifyAuthChallengeResponse => (
            "VerifyAuthChallengeResponse_Authentication",
            json!({"userAttributes": attributes, "privateChallengeParameters": {}, "challengeAnswer": "janus-probe",
                   "userNotFound": false, "clientMetadata": metadata}),
            json!({"answerCorrect": null}),
        ),
        Trigger::CustomMessage => (
            "CustomMessage_SignUp",
            json!({"userAttributes": attributes, "codeParameter": "{####}", "linkParameter": "{##Click Here##}",
                   "usernameParameter": null, "clientMetadata": metadata}),
            json!({"smsMessage": null, "emailMessage": null, "emailSubject": null}),
        ),
        Trigger::CustomEmailSender | Trigger::CustomSmsSender => return None,
    };
    Some(Event { source, user_name: PROBE_USER, client_id: None, request, response })
}

impl Services {
    /// Send every configured trigger its probe event.
    pub fn probe_triggers(&self, pool: &Pool) -> Vec<Probe> {
        ALL.iter()
            .filter_map(|&t| self.trigger_function(pool, t).map(|c| (t, c)))
            .filter_map(|(t, c)| probe_event(t, c.version).map(|e| (t, c, e)))
            .map(|(t, c, event)| {
                let answer = self.run_trigger(pool, t, event);
                let (response, error) = match answer {
                    Ok(r) => (r, None),
                    Err(e) => (None, Some(format!("{}: {e}", e.code()))),
                };
                Probe { trigger: t.name(), function: c.function.arn, response, error }
            })
            .collect()
    }
}
