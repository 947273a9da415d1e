//! Challenge forms, generic over whatever challenge the sign-in state machine returns. Each
//! posted field named `r.<KEY>` becomes challenge response `<KEY>`; [`form_for`] says which
//! fields a challenge needs: NEW_PASSWORD_REQUIRED (a new password and any required
//! attributes), SELECT_MFA_TYPE (a choice), the MFA code challenges (SOFTWARE_TOKEN_MFA,
//! SMS_MFA, EMAIL_OTP, SMS_OTP: one code field), MFA_SETUP (an authenticator app is
//! associated through the challenge's session, its key shown as a QR code, as text and as an
//! `otpauth://` link, and
//! the first code verifies it before the challenge is answered), and any other (one answer
//! field). The user name and, for a client with a secret, the SECRET_HASH are added here.

use axum::body::Body;
use axum::extract::{RawPathParams, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::collections::BTreeMap;

use janus_core::auth::client::secret_hash;
use janus_core::auth::Outcome;
use janus_core::oauth::OAuthError;
use janus_core::placement::Access;
use janus_core::Services;
use janus_types::Error;

use super::html::{self, hidden, Field};
use super::login::{field, finish, read_form, resume, Flow};
use crate::oauth::site::{blocking, St};

struct ChallengeForm {
    title: &'static str,
    intro: String,
    fields: Vec<(String, String, &'static str, &'static str)>,
    choices: Vec<String>,
}

fn code_form(title: &'static str, intro: &str, key: &str) -> ChallengeForm {
    ChallengeForm {
        title,
        intro: intro.into(),
        fields: vec![(format!("r.{key}"), "Code".into(), "text", "one-time-code")],
        choices: vec![],
    }
}

fn json_list(params: &BTreeMap<String, String>, name: &str) -> Vec<String> {
    params
        .get(name)
        .and_then(|v| serde_json::from_str::<Vec<Value>>(v).ok())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn form_for(name: &str, params: &BTreeMap<String, String>) -> ChallengeForm {
    let dest = params.get("CODE_DELIVERY_DESTINATION").map(|d| format!(" We sent it to {d}.")).unwrap_or_default();
    match name {
        "NEW_PASSWORD_REQUIRED" => {
            let mut fields = vec![("r.NEW_PASSWORD".to_owned(), "New password".to_owned(), "password", "new-password")];
            for attr in json_list(params, "requiredAttributes") {
                let label = attr.trim_start_matches("userAttributes.").replace('_', " ");
                fields.push((format!("r.{attr}"), label, "text", "on"));
            }
            ChallengeForm {
                title: "Change your password",
                intro: "Your password is temporary. Choose a new one to continue.".into(),
                fields,
                choices: vec![],
            }
        }
        "SOFTWARE_TOKEN_MFA" => {
            code_form("Enter your code", "Enter the code from your authenticator app.", "SOFTWARE_TOKEN_MFA_CODE")
        }
        "SMS_MFA" => {
            code_form("Enter your code", &format!("Enter the code we sent by text message.{dest}"), "SMS_MFA_CODE")
        }
        "SMS_OTP" => {
            code_form("Enter your code", &format!("Enter the code we sent by text message.{dest}"), "SMS_OTP_CODE")
        }
        "EMAIL_OTP" => {
            code_form("Enter your code", &format!("Enter the code we sent by email.{dest}"), "EMAIL_OTP_CODE")
        }
        "MFA_SETUP" => ChallengeForm {
            title: "Set up an authenticator app",
            intro: format!(
                "This account needs a second step at sign-in. Add this key to an authenticator app, then enter \
                 the code it shows. Key: {}",
                grouped(params.get(SETUP_KEY).map(String::as_str).unwrap_or_default())
            ),
            fields: vec![("r.SETUP_CODE".into(), "Code".into(), "text", "one-time-code")],
            choices: vec![],
        },
        "SELECT_MFA_TYPE" => ChallengeForm {
            title: "Choose how to verify",
            intro: "Choose a way to confirm it is you.".into(),
            fields: vec![],
            choices: json_list(params, "MFAS_CAN_CHOOSE"),
        },
        _ => code_form("One more step", "Answer to continue.", "ANSWER"),
    }
}

/// The form parameter that carries an MFA_SETUP page's key (the user is shown it anyway).
const SETUP_KEY: &str = "SECRET_CODE";

/// MFA_SETUP: associate a software token through `session`, then show its key and a code field.
pub(super) fn setup(s: &Services, flow: &Flow, session: &str, mut params: BTreeMap<String, String>) -> Response {
    // Enrolling a factor writes the user: not in a secondary region.
    let associated = s
        .check_access(&flow.ctx.pool, "AssociateSoftwareToken", Access::UserWrite)
        .and_then(|()| s.associate_software_token(None, Some(session)));
    match associated {
        Ok(a) => {
            let uri = format!(
                "otpauth://totp/{}:{}?secret={}&issuer={}",
                enc(&flow.ctx.pool.name),
                enc(params.get("USERNAME").map(String::as_str).unwrap_or_default()),
                a.secret_code,
                enc(&flow.ctx.pool.name)
            );
            params.insert(SETUP_KEY.into(), a.secret_code);
            params.insert("OTPAUTH_URI".into(), uri);
            render(flow, "MFA_SETUP", a.session.as_deref().unwrap_or_default(), &params, None)
        }
        Err(e) if e.is_internal() => super::error_page(&OAuthError::Server(e)),
        Err(e) => super::error_page(&OAuthError::InvalidRequest(super::login::user_message(&e))),
    }
}

/// The posted MFA_SETUP code: verify the software token, then answer the challenge.
fn finish_setup(
    s: &Services,
    flow: &Flow,
    session: &str,
    mut responses: BTreeMap<String, String>,
) -> Result<Outcome, Error> {
    let code = responses.remove("SETUP_CODE").unwrap_or_default();
    s.check_access(&flow.ctx.pool, "VerifySoftwareToken", Access::UserWrite)?;
    let verified = s.verify_software_token(None, Some(session), &code, None)?;
    let session = verified.session.unwrap_or_default();
    s.answer_challenge(&flow.ctx, "MFA_SETUP", Some(&session), &responses)
}

/// The `otpauth://` URI as a QR code an authenticator app scans: an SVG in a data URL (the
/// pages' CSP allows `data:` images and nothing else).
fn qr_image(uri: &str) -> String {
    use base64::Engine;
    let Ok(code) = qrcode::QrCode::new(uri.as_bytes()) else { return String::new() };
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build();
    format!(
        "<p><img alt=\"QR code of the key, for an authenticator app\" width=\"200\" height=\"200\" \
         src=\"data:image/svg+xml;base64,{}\"></p>",
        base64::engine::general_purpose::STANDARD.encode(svg)
    )
}

/// A key in groups of four, as authenticator apps show and accept it (and so it wraps).
fn grouped(key: &str) -> String {
    key.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c)).collect::<Vec<_>>().join(" ")
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

fn choice_label(c: &str) -> &str {
    match c {
        "SOFTWARE_TOKEN_MFA" => "Authenticator app",
        "SMS_MFA" => "Text message",
        "EMAIL_OTP" => "Email",
        other => other,
    }
}

/// The form of challenge `name`.
pub(super) fn render(
    flow: &Flow,
    name: &str,
    session: &str,
    params: &BTreeMap<String, String>,
    error: Option<&str>,
) -> Response {
    let f = form_for(name, params);
    let username =
        params.get("USER_ID_FOR_SRP").or_else(|| params.get("USERNAME")).map(String::as_str).unwrap_or_default();
    let list: Vec<Field> = f
        .fields
        .iter()
        .map(|(n, l, kind, ac)| Field { name: n, label: l, kind, autocomplete: ac, value: "", hint: None })
        .collect();
    let mut body = match params.get("OTPAUTH_URI") {
        Some(uri) => format!("{}<p><a href=\"{}\">Open in an authenticator app</a></p>", qr_image(uri), html::esc(uri)),
        None => String::new(),
    };
    body += &format!(
        "<p>{}</p><form method=\"post\" action=\"{}/login/challenge\" novalidate>",
        html::esc(&f.intro),
        html::esc(&flow.site.base)
    );
    body += &flow.hidden();
    body += &hidden("challenge", name);
    body += &hidden("session", session);
    body += &hidden("r.USERNAME", username);
    // The parameters the form needs again if it is shown once more after an error.
    body += &hidden("params", &serde_json::to_string(params).unwrap_or_default());
    body += &html::fields(&list, error.is_some());
    if !f.choices.is_empty() {
        body += "<fieldset><legend>Method</legend>";
        for (i, c) in f.choices.iter().enumerate() {
            body += &format!(
                "<div class=\"choice\"><input type=\"radio\" id=\"c{i}\" name=\"r.ANSWER\" value=\"{}\"{}><label for=\"c{i}\">{}</label></div>",
                html::esc(c),
                if i == 0 { " checked autofocus" } else { "" },
                html::esc(choice_label(c))
            );
        }
        body += "</fieldset>";
    }
    body += "<button type=\"submit\">Continue</button></form>";
    super::html(StatusCode::OK, html::page(&flow.frame(f.title, error, None), &body))
}

pub async fn submit(State(st): State<St>, params: RawPathParams, headers: HeaderMap, body: Body) -> Response {
    let site = match crate::oauth::endpoints::site_of(&st, &params, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = read_form(body).await;
    let cookie = super::csrf_cookie(&st, &headers);
    let services = st.services.clone();
    let result = blocking(move || {
        let flow = match resume(&services, site, &form, cookie.as_deref()) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let name = field(&form, "challenge").unwrap_or_default().to_owned();
        let session = field(&form, "session").unwrap_or_default().to_owned();
        let shown: BTreeMap<String, String> =
            field(&form, "params").and_then(|p| serde_json::from_str(p).ok()).unwrap_or_default();
        let mut responses: BTreeMap<String, String> = form
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("r.").map(|k| (k.to_owned(), v.trim().to_owned())))
            .filter(|(k, _)| k != "SECRET_HASH")
            .collect();
        if let (Some(secret), Some(user)) = (&flow.ctx.client.secret, responses.get("USERNAME")) {
            let hash = secret_hash(secret, user, flow.ctx.client.id.as_str());
            responses.insert("SECRET_HASH".into(), hash);
        }
        if responses.iter().any(|(k, v)| k != "USERNAME" && v.is_empty()) {
            return render(&flow, &name, &session, &shown, Some("Fill in every field."));
        }
        let step = if name == "MFA_SETUP" {
            finish_setup(&services, &flow, &session, responses)
        } else {
            services.answer_challenge(&flow.ctx, &name, Some(&session), &responses)
        };
        finish(&services, &flow, step, |msg| render(&flow, &name, &session, &shown, Some(msg)))
    })
    .await;
    result.unwrap_or_else(|r| r)
}
