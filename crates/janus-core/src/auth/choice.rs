//! Choice-based sign-in, AuthFlow USER_AUTH (app clients with ALLOW_USER_AUTH): the user
//! picks a first factor among those the pool allows (`Policies.SignInPolicy.
//! AllowedFirstAuthFactors`, `["PASSWORD"]` by default) and the user can use — PASSWORD and
//! PASSWORD_SRP with a password, EMAIL_OTP with an email address, SMS_OTP with a phone number.
//! `PREFERRED_CHALLENGE` goes straight to that factor when it is available; otherwise
//! SELECT_CHALLENGE lists what is (`AvailableChallenges`) and the answer picks one. As on
//! Cognito, a one-time code replaces MFA, so users who set up MFA (and every user of a pool
//! with MFA ON) are offered the password factors only; the code of EMAIL_OTP / SMS_OTP is
//! single-use across regions like an MFA code, counts toward the lockout when wrong, and
//! proves the address it went to (which it marks verified).

use std::collections::BTreeMap;

use janus_types::{Entity, Error, MfaFactor, Pool, Result, User, UserKey, UserStatus};

use super::sealed::{self, Session};
use super::{lockout, param, password, Ctx, Outcome};
use crate::users;
use crate::Services;

/// The challenge that lists the first factors.
pub const SELECT: &str = "SELECT_CHALLENGE";
/// The Session ConfirmSignUp hands back: USER_AUTH with it signs the new user in, once.
pub const SIGNED_UP: &str = "SIGN_UP_CONFIRMED";
/// The parameter that carries SELECT_CHALLENGE's list; the API lifts it to the response's
/// top-level `AvailableChallenges`.
pub const AVAILABLE: &str = "AvailableChallenges";

/// The first factors `pool` allows (`AllowedFirstAuthFactors`; PASSWORD by default).
pub fn allowed_first_factors(pool: &Pool) -> Vec<String> {
    let listed = pool.config.other.get("Policies").and_then(|p| p.get("SignInPolicy"));
    let listed = listed.and_then(|s| s.get("AllowedFirstAuthFactors")).and_then(|f| f.as_array());
    match listed {
        Some(f) => f.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        None => vec!["PASSWORD".into()],
    }
}

fn mfa_set_up(user: &User) -> bool {
    !user.mfa.enabled.is_empty() || user.mfa.software_token.is_some()
}

/// The first factors `user` may pick now, in Cognito's order.
pub fn available(ctx: &Ctx, user: &User) -> Vec<&'static str> {
    let allowed = allowed_first_factors(&ctx.pool);
    let allows = |f: &str| allowed.iter().any(|a| a == f);
    let mut out = Vec::new();
    if let Some(c) = user.password.as_ref().filter(|_| allows("PASSWORD")) {
        out.push("PASSWORD");
        if c.srp_verifier.is_some() {
            out.push("PASSWORD_SRP");
        }
    }
    let codes_allowed = ctx.pool.config.mfa_configuration != "ON" && !mfa_set_up(user);
    if codes_allowed && allows("EMAIL_OTP") && user.attributes.contains_key("email") {
        out.push("EMAIL_OTP");
    }
    if codes_allowed && allows("SMS_OTP") && user.attributes.contains_key("phone_number") {
        out.push("SMS_OTP");
    }
    out
}

/// GetUserAuthFactors' `ConfiguredUserAuthFactors`: the first factors `user` has what it
/// takes for, among those the pool allows.
pub fn configured(pool: &Pool, user: &User) -> Vec<&'static str> {
    let allowed = allowed_first_factors(pool);
    let allows = |f: &str| allowed.iter().any(|a| a == f);
    let mut out = Vec::new();
    if user.password.is_some() {
        out.push("PASSWORD");
    }
    if allows("EMAIL_OTP") && user.attributes.contains_key("email") {
        out.push("EMAIL_OTP");
    }
    if allows("SMS_OTP") && user.attributes.contains_key("phone_number") {
        out.push("SMS_OTP");
    }
    out
}

fn not_available(name: &str) -> Error {
    Error::invalid(format!("The challenge {name} is not available for this user."))
}

impl Services {
    /// GetUserAuthFactors: the user of an access token and its configured factors.
    pub fn user_auth_factors(&self, token: &str) -> Result<(User, Vec<&'static str>)> {
        let (pool, user, _) = self.authenticate(token)?;
        let factors = configured(&pool, &user);
        Ok((user, factors))
    }

    /// AdminGetUserAuthFactors.
    pub fn admin_user_auth_factors(
        &self,
        pool: &janus_types::PoolId,
        username: &str,
    ) -> Result<(User, Vec<&'static str>)> {
        let r = self.store.read()?;
        let pool = users::pool_of(&*r, pool)?;
        let user = users::get(&*r, &pool, username)?;
        let factors = configured(&pool, &user);
        Ok((user, factors))
    }

    /// The Session of challenge `name` for `user` (SignUp's, ConfirmSignUp's).
    pub(crate) fn session_for(&self, ctx: &Ctx, user: &UserKey, name: &str) -> Result<String> {
        let s = Session::new(name, ctx, user, self.now_ms(), sealed::session_validity_ms(&ctx.client));
        sealed::seal_session(&ctx.keys, &s, &*self.rng)
    }

    /// USER_AUTH with ConfirmSignUp's Session: the user just confirmed signs in without a
    /// factor, once, while the session lasts.
    fn sign_in_after_sign_up(&self, ctx: &Ctx, username: &str, session: &str) -> Result<Outcome> {
        let s = self.open_challenge(ctx, Some(session), SIGNED_UP)?;
        let user = users::find(&*self.store.read()?, &ctx.pool, username)?
            .filter(|u| u.key == s.user && u.status == UserStatus::Confirmed)
            .ok_or_else(crate::mfa::token::invalid_session)?;
        if !self.use_code(&ctx.pool, &user, crate::security::CodeKind::Otp, s.issued_ms)? {
            return Err(crate::mfa::token::invalid_session());
        }
        self.usable(ctx, username, &user)?;
        self.finish_sign_in(ctx, &user)
    }

    /// InitiateAuth with USER_AUTH (`session`: ConfirmSignUp's, for a passwordless sign-up).
    pub(crate) fn user_auth_start(
        &self,
        ctx: &Ctx,
        p: &BTreeMap<String, String>,
        session: Option<&str>,
    ) -> Result<Outcome> {
        let username = param(p, "USERNAME")?;
        if let Some(s) = session {
            return self.sign_in_after_sign_up(ctx, username, s);
        }
        let preferred = p.get("PREFERRED_CHALLENGE").map(String::as_str);
        let user = users::find(&*self.store.read()?, &ctx.pool, username)?;
        let Some(user) = user else {
            // Without the user, only the password factors can be offered (and they fail as the
            // password flows fail for an unknown user).
            return match preferred {
                Some("PASSWORD") => self.password_sign_in(ctx, username, param(p, "PASSWORD")?),
                Some("PASSWORD_SRP") => self.srp_start(ctx, username, param(p, "SRP_A")?),
                _ if password::prevents_existence_errors(ctx) => {
                    self.select(ctx, &UserKey::of(username, true), vec!["PASSWORD", "PASSWORD_SRP"])
                }
                _ => Err(password::unknown_user(ctx)),
            };
        };
        let choices = available(ctx, &user);
        match preferred.filter(|p| choices.contains(p)) {
            Some("PASSWORD") => self.password_sign_in(ctx, username, param(p, "PASSWORD")?),
            Some("PASSWORD_SRP") => self.srp_start(ctx, username, param(p, "SRP_A")?),
            Some(code) => self.first_factor_code(ctx, username, &user, code),
            None => {
                self.usable(ctx, username, &user)?;
                self.select(ctx, &user.key, choices)
            }
        }
    }

    /// The hosted sign-in's "send me a code": EMAIL_OTP or SMS_OTP as the first factor of
    /// `username`, when the pool allows it and the user can receive it.
    pub fn code_sign_in(&self, ctx: &Ctx, username: &str, factor: &str) -> Result<Outcome> {
        let user =
            users::find(&*self.store.read()?, &ctx.pool, username)?.ok_or_else(|| password::unknown_user(ctx))?;
        if !available(ctx, &user).contains(&factor) {
            return Err(Error::invalid("A sign-in code cannot be sent to this account: sign in with the password."));
        }
        self.first_factor_code(ctx, username, &user, factor)
    }

    /// PreAuthentication, then the state checks a sign-in of `user` starts with.
    fn usable(&self, ctx: &Ctx, username: &str, user: &User) -> Result<()> {
        self.pre_authentication(ctx, username, Some(user))?;
        if !user.enabled {
            return Err(Error::NotAuthorizedException("User is disabled.".into()));
        }
        lockout::check(user, self.now_ms())
    }

    fn select(&self, ctx: &Ctx, user: &UserKey, choices: Vec<&'static str>) -> Result<Outcome> {
        let s = Session::new(SELECT, ctx, user, self.now_ms(), sealed::session_validity_ms(&ctx.client));
        let session = Some(sealed::seal_session(&ctx.keys, &s, &*self.rng)?);
        let list = serde_json::to_string(&choices).map_err(Error::internal)?;
        Ok(Outcome::Challenge { name: SELECT.into(), session, parameters: BTreeMap::from([(AVAILABLE.into(), list)]) })
    }

    /// EMAIL_OTP or SMS_OTP as the first factor: the code goes out now.
    fn first_factor_code(&self, ctx: &Ctx, username: &str, user: &User, name: &str) -> Result<Outcome> {
        self.usable(ctx, username, user)?;
        let factor = if name == "EMAIL_OTP" { MfaFactor::Email } else { MfaFactor::Sms };
        self.code_challenge(ctx, user, factor, name, true)
    }

    /// RespondToAuthChallenge to SELECT_CHALLENGE (`ANSWER`, with `PASSWORD` or `SRP_A` for
    /// the password factors), or by the factor's own name (PASSWORD, PASSWORD_SRP) with the
    /// SELECT_CHALLENGE session.
    pub(crate) fn select_answer(
        &self,
        ctx: &Ctx,
        name: &str,
        session: Option<&str>,
        r: &BTreeMap<String, String>,
    ) -> Result<Outcome> {
        let s = self.open_challenge(ctx, session, SELECT)?;
        let answer = if name == SELECT { param(r, "ANSWER")? } else { name };
        let user = self.store.read()?.user(&ctx.pool.id, &s.user)?;
        let Some(user) = user else {
            return Err(Error::bad_credentials()); // the unknown user of a hidden-existence client
        };
        let username = user.username.clone();
        super::client::check_secret_hash(&ctx.client, &[&username], r.get("SECRET_HASH"))?;
        if !available(ctx, &user).contains(&answer) {
            return Err(not_available(answer));
        }
        match answer {
            "PASSWORD" => self.password_sign_in(ctx, &username, param(r, "PASSWORD")?),
            "PASSWORD_SRP" => self.srp_start(ctx, &username, param(r, "SRP_A")?),
            code => {
                if !user.enabled {
                    return Err(Error::NotAuthorizedException("User is disabled.".into()));
                }
                lockout::check(&user, self.now_ms())?;
                let factor = if code == "EMAIL_OTP" { MfaFactor::Email } else { MfaFactor::Sms };
                self.code_challenge(ctx, &user, factor, code, true)
            }
        }
    }

    /// A first-factor code was right: the address it went to is proven (verified), and an
    /// unconfirmed user is confirmed by it. Returns the user as stored.
    pub(crate) fn proven_by_code(&self, ctx: &Ctx, user: &User, factor: MfaFactor) -> Result<User> {
        let attr = if factor == MfaFactor::Email { "email_verified" } else { "phone_number_verified" };
        let confirmed = user.status != UserStatus::Unconfirmed;
        if (user.attributes.get(attr).map(String::as_str) == Some("true") && confirmed) || !self.is_primary(&ctx.pool) {
            return Ok(user.clone());
        }
        let mut tx = self.store.write(self.now_ms())?;
        let Some(mut u) = tx.user(&ctx.pool.id, &user.key)? else { return Ok(user.clone()) };
        u.attributes.insert(attr.into(), "true".into());
        if u.status == UserStatus::Unconfirmed {
            u.status = UserStatus::Confirmed;
        }
        u.modified_ms = self.now_ms();
        tx.put(&ctx.pool.id, Entity::User(u.clone()))?;
        tx.commit()?;
        Ok(u)
    }
}
