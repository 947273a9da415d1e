//! Self-service pages of the hosted sign-in: sign-up (user name, email, password) and its
//! confirmation code; forgot-password (user name) and the reset (code and new password).
//! They call the same services as SignUp, ConfirmSignUp, ForgotPassword and
//! ConfirmForgotPassword (computing SECRET_HASH for a client with a secret), and end on the
//! sign-in form with a notice. Each posted form is CSRF-checked like the sign-in form.

use axum::body::Body;
use axum::extract::{RawPathParams, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use janus_core::auth::client::secret_hash;
use janus_core::placement::Access;
use janus_core::signup::{CodeInput, SignUp};
use janus_core::users::AttributeInput;
use janus_core::Services;

use super::html::{self, hidden, Field};
use super::login::{field, read_form, resume, show_page, sign_in_with_notice, user_message, Flow};
use crate::oauth::site::{blocking, St};

#[allow(clippy::too_many_arguments)] // one page shape, every part named at the call
fn form_page(
    flow: &Flow,
    title: &str,
    action: &str,
    extra: &str,
    list: &[Field],
    button: &str,
    error: Option<&str>,
    info: Option<&str>,
) -> Response {
    let body = format!(
        "<form method=\"post\" action=\"{}/{action}\" novalidate>{}{extra}{}<button type=\"submit\">{}</button></form>\
         <p class=\"links\"><a href=\"{}\">Back to sign in</a></p>",
        html::esc(&flow.site.base),
        flow.hidden(),
        html::fields(list, error.is_some()),
        html::esc(button),
        html::esc(&flow.link("login")),
    );
    super::html(StatusCode::OK, html::page(&flow.frame(title, error, info), &body))
}

fn hash(flow: &Flow, username: &str) -> Option<String> {
    flow.ctx.client.secret.as_ref().map(|s| secret_hash(s, username, flow.ctx.client.id.as_str()))
}

fn signup_form(flow: &Flow, username: &str, email: &str, error: Option<&str>) -> Response {
    let list = [
        Field {
            name: "username",
            label: "Username",
            kind: "text",
            autocomplete: "username",
            value: username,
            hint: None,
        },
        Field { name: "email", label: "Email", kind: "email", autocomplete: "email", value: email, hint: None },
        Field {
            name: "password",
            label: "Password",
            kind: "password",
            autocomplete: "new-password",
            value: "",
            hint: None,
        },
    ];
    form_page(flow, "Sign up", "signup", "", &list, "Sign up", error, None)
}

fn confirm_form(flow: &Flow, username: &str, error: Option<&str>, info: Option<&str>) -> Response {
    let list = [Field {
        name: "code",
        label: "Confirmation code",
        kind: "text",
        autocomplete: "one-time-code",
        value: "",
        hint: None,
    }];
    form_page(flow, "Confirm your account", "confirm", &hidden("username", username), &list, "Confirm", error, info)
}

fn forgot_form(flow: &Flow, error: Option<&str>) -> Response {
    let list =
        [Field { name: "username", label: "Username", kind: "text", autocomplete: "username", value: "", hint: None }];
    form_page(flow, "Reset your password", "forgotPassword", "", &list, "Send a code", error, None)
}

fn reset_form(flow: &Flow, username: &str, error: Option<&str>, info: Option<&str>) -> Response {
    let list = [
        Field { name: "code", label: "Code", kind: "text", autocomplete: "one-time-code", value: "", hint: None },
        Field {
            name: "password",
            label: "New password",
            kind: "password",
            autocomplete: "new-password",
            value: "",
            hint: None,
        },
    ];
    form_page(
        flow,
        "Choose a new password",
        "confirmForgotPassword",
        &hidden("username", username),
        &list,
        "Reset password",
        error,
        info,
    )
}

async fn post(
    st: St,
    params: RawPathParams,
    headers: HeaderMap,
    body: Body,
    step: fn(&Services, &Flow, &[(String, String)]) -> Response,
) -> Response {
    let site = match crate::oauth::endpoints::site_of(&st, &params, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = read_form(body).await;
    let cookie = super::csrf_cookie(&st, &headers);
    let replicator = st.replicator.clone();
    let result = blocking(move || match resume(&replicator.services, site, &form, cookie.as_deref()) {
        // Every step here writes (sign-up, confirmation, reset): only where the API would.
        Ok(flow) => match crate::dispatch::admit(&replicator, &flow.ctx.pool, "hosted account page", Access::UserWrite)
        {
            Ok(()) => step(&replicator.services, &flow, &form),
            Err(e) => super::error_page(&e.into()),
        },
        Err(r) => r,
    })
    .await;
    result.unwrap_or_else(|r| r)
}

pub async fn signup_show(
    State(st): State<St>,
    params: RawPathParams,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    show_page(st, params, headers, q, |flow| signup_form(flow, "", "", None)).await
}

pub async fn signup_submit(State(st): State<St>, params: RawPathParams, headers: HeaderMap, body: Body) -> Response {
    post(st, params, headers, body, |s, flow, form| {
        let username = field(form, "username").unwrap_or_default().trim().to_owned();
        let email = field(form, "email").unwrap_or_default().trim().to_owned();
        let input = SignUp {
            client_id: flow.ctx.client.id.clone(),
            secret_hash: hash(flow, &username),
            username: username.clone(),
            password: field(form, "password").map(str::to_owned),
            user_attributes: vec![AttributeInput { name: "email".into(), value: Some(email.clone()) }],
            validation_data: Vec::new(),
            client_metadata: Default::default(),
        };
        match s.sign_up(input) {
            Ok(done) if done.user.status == janus_types::UserStatus::Confirmed => {
                sign_in_with_notice(flow, "Your account is ready. Sign in.")
            }
            Ok(done) => {
                let info = done.delivery.map(|d| format!("We sent a code to {}.", d.destination));
                confirm_form(flow, &username, None, info.as_deref())
            }
            Err(e) if e.is_internal() => super::error_page(&e.into()),
            Err(e) => signup_form(flow, &username, &email, Some(&user_message(&e))),
        }
    })
    .await
}

pub async fn confirm_submit(State(st): State<St>, params: RawPathParams, headers: HeaderMap, body: Body) -> Response {
    post(st, params, headers, body, |s, flow, form| {
        let username = field(form, "username").unwrap_or_default().to_owned();
        let input = CodeInput {
            client_id: flow.ctx.client.id.clone(),
            secret_hash: hash(flow, &username),
            username: username.clone(),
            confirmation_code: field(form, "code").map(|c| c.trim().to_owned()),
            password: None,
            client_metadata: Default::default(),
            session: None,
        };
        match s.confirm_sign_up(input) {
            Ok(_) => sign_in_with_notice(flow, "Your account is confirmed. Sign in."),
            Err(e) if e.is_internal() => super::error_page(&e.into()),
            Err(e) => confirm_form(flow, &username, Some(&user_message(&e)), None),
        }
    })
    .await
}

pub async fn forgot_show(
    State(st): State<St>,
    params: RawPathParams,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    show_page(st, params, headers, q, |flow| forgot_form(flow, None)).await
}

pub async fn forgot_submit(State(st): State<St>, params: RawPathParams, headers: HeaderMap, body: Body) -> Response {
    post(st, params, headers, body, |s, flow, form| {
        let username = field(form, "username").unwrap_or_default().trim().to_owned();
        let input = CodeInput {
            client_id: flow.ctx.client.id.clone(),
            secret_hash: hash(flow, &username),
            username: username.clone(),
            confirmation_code: None,
            password: None,
            client_metadata: Default::default(),
            session: None,
        };
        match s.forgot_password(input) {
            Ok(d) => reset_form(flow, &username, None, Some(&format!("We sent a code to {}.", d.destination))),
            Err(e) if e.is_internal() => super::error_page(&e.into()),
            Err(e) => forgot_form(flow, Some(&user_message(&e))),
        }
    })
    .await
}

pub async fn reset_submit(State(st): State<St>, params: RawPathParams, headers: HeaderMap, body: Body) -> Response {
    post(st, params, headers, body, |s, flow, form| {
        let username = field(form, "username").unwrap_or_default().to_owned();
        let input = CodeInput {
            client_id: flow.ctx.client.id.clone(),
            secret_hash: hash(flow, &username),
            username: username.clone(),
            confirmation_code: field(form, "code").map(|c| c.trim().to_owned()),
            password: field(form, "password").map(str::to_owned),
            client_metadata: Default::default(),
            session: None,
        };
        match s.confirm_forgot_password(input) {
            Ok(()) => sign_in_with_notice(flow, "Your password was changed. Sign in with the new one."),
            Err(e) if e.is_internal() => super::error_page(&e.into()),
            Err(e) => reset_form(flow, &username, Some(&user_message(&e)), None),
        }
    })
    .await
}
