//! The texts sent to users, from the pool's templates. Codes (sign-up confirmation, attribute
//! verification, password reset) use `VerificationMessageTemplate` — `EmailMessage`,
//! `EmailSubject`, `SmsMessage` — with `{####}` standing for the code; invitations use
//! `AdminCreateUserConfig.InviteMessageTemplate` — `EmailMessage`, `EmailSubject`,
//! `SMSMessage` — with `{username}` and `{####}` (the temporary password). Without a template
//! the texts are Janus's defaults.
//!
//! Cognito keeps the legacy members `EmailVerificationMessage`, `EmailVerificationSubject` and
//! `SmsVerificationMessage` in step with the template, both ways, and returns both;
//! [`sync_legacy`] does that when a pool's settings are written (the template wins when both
//! are sent and differ).

use serde_json::{Map, Value};

use janus_types::Pool;

/// A message's subject (email only) and text.
pub struct Text {
    /// The subject line, for email.
    pub subject: Option<String>,
    /// The text.
    pub body: String,
}

const LEGACY: [(&str, &str); 3] = [
    ("EmailMessage", "EmailVerificationMessage"),
    ("EmailSubject", "EmailVerificationSubject"),
    ("SmsMessage", "SmsVerificationMessage"),
];

/// Make the template and the legacy members of a pool's settings (`other`) say the same.
pub fn sync_legacy(other: &mut Map<String, Value>) {
    let mut template = match other.remove("VerificationMessageTemplate") {
        Some(Value::Object(t)) => t,
        _ => Map::new(),
    };
    for (member, legacy) in LEGACY {
        match (template.get(member).cloned(), other.get(legacy).cloned()) {
            (Some(t), _) => {
                other.insert(legacy.into(), t);
            }
            (None, Some(l)) => {
                template.insert(member.into(), l);
            }
            (None, None) => {}
        }
    }
    template.entry("DefaultEmailOption").or_insert_with(|| "CONFIRM_WITH_CODE".into());
    other.insert("VerificationMessageTemplate".into(), Value::Object(template));
}

fn member<'a>(template: Option<&'a Value>, name: &str) -> Option<&'a str> {
    template.and_then(|t| t.get(name)).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The pool's sender and reply-to addresses for email in `region` (`EmailConfiguration`, a
/// regional setting: a secondary's own when it set one), if set.
pub fn sender(pool: &Pool, region: &janus_types::RegionName) -> (Option<String>, Option<String>) {
    let c = crate::regional::setting(pool, region, "EmailConfiguration");
    let get = |m: &str| c.and_then(|c| c.get(m)).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    (get("From"), get("ReplyToEmailAddress"))
}

/// A template's text for `medium` (its SMS member is `sms`) and, for email, its subject;
/// `fill` makes the body from the template's text, or the default text from `None`.
fn from_template(template: Option<&Value>, medium: &str, sms: &str, fill: impl FnOnce(Option<&str>) -> String) -> Text {
    let (body, subject) = if medium == "EMAIL" {
        (member(template, "EmailMessage"), member(template, "EmailSubject"))
    } else {
        (member(template, sms), None)
    };
    Text { subject: subject.map(str::to_owned), body: fill(body) }
}

/// A code sent by `medium` (`EMAIL` or `SMS`); `what` names it in the default text
/// ("confirmation", "verification", "password reset").
pub fn code(pool: &Pool, medium: &str, what: &str, code: &str) -> Text {
    let template = pool.config.other.get("VerificationMessageTemplate");
    from_template(template, medium, "SmsMessage", |t| match t {
        Some(t) => t.replace("{####}", code),
        None => format!("Your {what} code is {code}"),
    })
}

/// An invitation with a temporary password.
pub fn invitation(pool: &Pool, medium: &str, username: &str, temp: &str) -> Text {
    let template = pool.config.admin_create_user_config.invite_message_template.as_ref();
    from_template(template, medium, "SMSMessage", |t| match t {
        // The user name first: a user name holding "{####}" must not receive the password
        // in its place, and a password holding "{username}" stays as it is.
        Some(t) => t.replace("{username}", "\u{0}").replace("{####}", temp).replace('\u{0}', username),
        None => format!("Your username is {username} and temporary password is {temp}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_region_sends_with_its_own_email_configuration() {
        let mut pool: Pool = serde_json::from_value(json!({
            "id": "us-east-1_abcdefghi", "name": "p", "arn": "a", "created_ms": 0, "modified_ms": 0,
            "config": {"PasswordPolicy": {"MinimumLength": 8, "RequireUppercase": false, "RequireLowercase": false,
                "RequireNumbers": false, "RequireSymbols": false, "TemporaryPasswordValidityDays": 7},
                "AdminCreateUserConfig": {}, "UserPoolTier": "ESSENTIALS", "MfaConfiguration": "OFF",
                "DeletionProtection": "INACTIVE",
                "EmailConfiguration": {"From": "east@example.com", "ReplyToEmailAddress": "help@example.com"}},
        }))
        .unwrap();
        let (east, west) = (
            janus_types::RegionName::parse("us-east-1").unwrap(),
            janus_types::RegionName::parse("us-west-2").unwrap(),
        );
        assert_eq!(sender(&pool, &west), (Some("east@example.com".into()), Some("help@example.com".into())));
        let own = json!({"settings": {"EmailConfiguration": {"From": "west@example.com"}}});
        pool.replication.regional.insert(west.clone(), serde_json::from_value(own).unwrap());
        assert_eq!(sender(&pool, &west), (Some("west@example.com".into()), None));
        assert_eq!(sender(&pool, &east).0.as_deref(), Some("east@example.com"));
    }

    #[test]
    fn the_template_and_the_legacy_members_follow_each_other() {
        let mut o = json!({"EmailVerificationMessage": "Code: {####}"}).as_object().unwrap().clone();
        sync_legacy(&mut o);
        assert_eq!(o["VerificationMessageTemplate"]["EmailMessage"], "Code: {####}");
        assert_eq!(o["VerificationMessageTemplate"]["DefaultEmailOption"], "CONFIRM_WITH_CODE");
        let mut o =
            json!({"VerificationMessageTemplate": {"SmsMessage": "T {####}"}, "SmsVerificationMessage": "L {####}"})
                .as_object()
                .unwrap()
                .clone();
        sync_legacy(&mut o);
        assert_eq!(o["SmsVerificationMessage"], "T {####}", "the template wins");
    }
}
