//! CustomMessage: a function writes the text of a code message (or an invitation) before it
//! is sent. The event carries `codeParameter: "{####}"` (and, for AdminCreateUser,
//! `usernameParameter: "{username}"`); the function answers `smsMessage`, or `emailMessage`
//! and `emailSubject`, holding those placeholders, and Janus fills them. A message without
//! its placeholders is not used (the code would not reach the user): the pool's own text is
//! sent instead, as Cognito does for invitations.

use serde_json::{json, Map, Value};

use janus_types::{Error, Pool, Result, User};

use super::signup::event_attributes;
use super::{with_metadata, Event, Trigger};
use crate::messages::Text;
use crate::Services;

const CODE: &str = "{####}";
const USERNAME: &str = "{username}";

/// One message about to be sent.
pub struct Outgoing<'a> {
    /// `CustomMessage_SignUp`, `_ResendCode`, `_ForgotPassword`, `_UpdateUserAttribute`,
    /// `_VerifyUserAttribute`, `_AdminCreateUser` or `_Authentication`.
    pub source: &'static str,
    /// `EMAIL` or `SMS`.
    pub medium: &'a str,
    /// The code (or temporary password) the text must carry.
    pub code: &'a str,
    /// The text the pool's templates give (already filled).
    pub default: Text,
    /// The app client and `ClientMetadata` of the request that sends it.
    pub caller: super::senders::Caller<'a>,
}

fn text_member(r: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match r.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::InvalidLambdaResponseException("Unrecognizable lambda output".into())),
    }
}

impl Services {
    /// The text to send: the function's when CustomMessage is configured and answers a usable
    /// one, else `m.default`.
    pub fn custom_message(&self, pool: &Pool, user: &User, m: Outgoing<'_>) -> Result<Text> {
        if self.trigger_function(pool, Trigger::CustomMessage).is_none() {
            return Ok(m.default);
        }
        let invitation = m.source == "CustomMessage_AdminCreateUser";
        let event = Event {
            source: m.source,
            user_name: &user.username,
            client_id: m.caller.client_id,
            request: with_metadata(
                json!({
                    "userAttributes": event_attributes(user),
                    "codeParameter": CODE,
                    "linkParameter": "{##Click Here##}",
                    "usernameParameter": if invitation { json!(USERNAME) } else { Value::Null },
                }),
                m.caller.metadata.unwrap_or(&Default::default()),
            ),
            response: json!({"smsMessage": null, "emailMessage": null, "emailSubject": null}),
        };
        let Some(r) = self.run_trigger(pool, Trigger::CustomMessage, event)? else { return Ok(m.default) };
        let (body, subject) = if m.medium == "EMAIL" {
            (text_member(&r, "emailMessage")?, text_member(&r, "emailSubject")?)
        } else {
            (text_member(&r, "smsMessage")?, None)
        };
        let usable = |b: &String| b.contains(CODE) && (!invitation || b.contains(USERNAME));
        let Some(body) = body.filter(usable) else { return Ok(m.default) };
        // The user name first, so a user name holding "{####}" never receives the code.
        let filled = body.replace(USERNAME, "\u{0}").replace(CODE, m.code).replace('\u{0}', &user.username);
        Ok(Text { subject: subject.or(m.default.subject), body: filled })
    }
}
