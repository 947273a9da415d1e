//! The MFA step of a sign-in, after the password (or SRP, or NEW_PASSWORD_REQUIRED): which
//! challenge comes next ([`Services::mfa_challenge`]), and the answers to SOFTWARE_TOKEN_MFA,
//! SMS_MFA, EMAIL_OTP, SELECT_MFA_TYPE and MFA_SETUP. Everything a step needs travels in the
//! sealed Session (the user, its expiry, the digest of an emailed or texted code, the secret
//! being set up), so any region holding the pool's keys continues the sign-in.
//!
//! Which challenge: with MFA OFF, none. Otherwise the factors the pool offers and the user
//! enabled and can receive are usable: the preferred one if usable, else the only one, else
//! SELECT_MFA_TYPE. With none usable, OPTIONAL signs in and ON asks for MFA_SETUP (a software
//! token), or sends a code to the phone or email the user has when the pool offers no token.
//! Wrong codes count toward the lockout; the failure count is cleared only when the whole
//! sign-in succeeds, so a correct password cannot reset the count between guesses.

use serde_json::Value;
use std::collections::BTreeMap;

use janus_crypto::{random, totp};
use janus_types::{Error, MfaFactor, Result, User};

use super::sealed::{self, Session};
use super::{client, lockout, param, Ctx, Outcome};
use crate::codes;
use crate::delivery::Letter;
use crate::mfa::deliverable;
use crate::mfa::token::{expired_session, invalid_session};
use crate::security::CodeKind;
use crate::triggers::senders::Caller;
use crate::Services;

const SELECT: &str = "SELECT_MFA_TYPE";
const SETUP: &str = "MFA_SETUP";

fn usable(ctx: &Ctx, user: &User) -> Vec<MfaFactor> {
    MfaFactor::ALL
        .into_iter()
        .filter(|f| ctx.pool.mfa.offers(*f) && user.mfa.has(*f) && deliverable(user, *f))
        .collect()
}

fn json_list(factors: &[MfaFactor]) -> String {
    Value::from(factors.iter().map(|f| f.as_str()).collect::<Vec<_>>()).to_string()
}

fn replayed() -> Error {
    Error::ExpiredCodeException("Your software token has already been used once.".into())
}

/// The text of an MFA message: the pool's template with `{####}` replaced, or the default.
fn message(template: Option<&str>, code: &str) -> String {
    template.unwrap_or("Your authentication code is {####}.").replace("{####}", code)
}

impl Services {
    /// The MFA challenge `user` must answer before getting tokens, if any.
    pub fn mfa_challenge(&self, ctx: &Ctx, user: &User) -> Result<Option<Outcome>> {
        let mode = ctx.pool.config.mfa_configuration.as_str();
        if mode != "ON" && mode != "OPTIONAL" {
            return Ok(None);
        }
        let factors = usable(ctx, user);
        let pick = user.mfa.preferred.filter(|p| factors.contains(p)).or(match factors[..] {
            [only] => Some(only),
            _ => None,
        });
        if let Some(f) = pick {
            return self.factor_challenge(ctx, user, f).map(Some);
        }
        if !factors.is_empty() {
            let choose = |s, p: &mut BTreeMap<String, String>| {
                p.insert("MFAS_CAN_CHOOSE".into(), json_list(&factors));
                Ok(s)
            };
            return self.challenge(ctx, user, SELECT, choose).map(Some);
        }
        if mode == "OPTIONAL" {
            return Ok(None);
        }
        if ctx.pool.mfa.software_token {
            let setup = |s, p: &mut BTreeMap<String, String>| {
                p.insert("MFAS_CAN_SETUP".into(), json_list(&[MfaFactor::SoftwareToken]));
                Ok(s)
            };
            return self.challenge(ctx, user, SETUP, setup).map(Some);
        }
        match [MfaFactor::Sms, MfaFactor::Email].into_iter().find(|f| ctx.pool.mfa.offers(*f) && deliverable(user, *f))
        {
            Some(f) => self.factor_challenge(ctx, user, f).map(Some),
            None => Err(Error::NotAuthorizedException(
                "MFA is required, and the user has no phone number or email address to receive a code.".into(),
            )),
        }
    }

    /// A challenge named `name`, its Session and parameters shaped by `f`.
    fn challenge(
        &self,
        ctx: &Ctx,
        user: &User,
        name: &str,
        f: impl FnOnce(Session, &mut BTreeMap<String, String>) -> Result<Session>,
    ) -> Result<Outcome> {
        let s = Session::new(name, ctx, &user.key, self.now_ms(), sealed::session_validity_ms(&ctx.client));
        let mut parameters = BTreeMap::from([("USER_ID_FOR_SRP".to_owned(), user.username.clone())]);
        let s = f(s, &mut parameters)?;
        let session = Some(sealed::seal_session(&ctx.keys, &s, &*self.rng)?);
        Ok(Outcome::Challenge { name: name.into(), session, parameters })
    }

    /// The challenge of one factor; for SMS and email, the code goes out now.
    fn factor_challenge(&self, ctx: &Ctx, user: &User, factor: MfaFactor) -> Result<Outcome> {
        self.code_challenge(ctx, user, factor, factor.as_str(), false)
    }

    /// The challenge `name` of `factor`; `first`: as USER_AUTH's first factor (EMAIL_OTP,
    /// SMS_OTP), not as MFA.
    pub(crate) fn code_challenge(
        &self,
        ctx: &Ctx,
        user: &User,
        factor: MfaFactor,
        name: &str,
        first: bool,
    ) -> Result<Outcome> {
        self.challenge(ctx, user, name, |mut s, p| {
            s.first = first;
            if factor == MfaFactor::SoftwareToken {
                if let Some(name) = user.mfa.software_token.as_ref().and_then(|t| t.friendly_name.clone()) {
                    p.insert("FRIENDLY_DEVICE_NAME".into(), name);
                }
                return Ok(s);
            }
            let attribute = if factor == MfaFactor::Sms { "phone_number" } else { "email" };
            let d = codes::destination(user, Some(attribute), false)
                .ok_or_else(|| Error::invalid(format!("The user has no {attribute}.")))?;
            let code = random::string_from(&*self.rng, b"0123456789", 6);
            s.code = Some(self.code_digest(&ctx.pool, user, &format!("mfa:{}", s.issued_ms), &code)?);
            self.send_mfa_code(ctx, user, factor, &d, &code)?;
            p.insert("CODE_DELIVERY_DELIVERY_MEDIUM".into(), d.medium.into());
            p.insert("CODE_DELIVERY_DESTINATION".into(), d.destination);
            Ok(s)
        })
    }

    fn send_mfa_code(&self, ctx: &Ctx, user: &User, f: MfaFactor, d: &codes::Delivery, code: &str) -> Result<()> {
        let (config, member) = match f {
            MfaFactor::Sms => (&ctx.pool.mfa.sms, "SmsAuthenticationMessage"),
            _ => (&ctx.pool.mfa.email, "Message"),
        };
        let template = config.as_ref().and_then(|c| c.get(member)).and_then(Value::as_str);
        let subject = config.as_ref().and_then(|c| c.get("Subject")).and_then(Value::as_str);
        let default = crate::messages::Text {
            subject: (f == MfaFactor::Email).then(|| subject.unwrap_or("Your sign-in code").to_owned()),
            body: message(template, code),
        };
        let source = "CustomMessage_Authentication";
        let caller = Caller { client_id: Some(ctx.client.id.as_str()), metadata: Some(&ctx.metadata) };
        let (medium, attribute) = (d.medium, d.attribute);
        let letter = Letter { source, medium, attribute, kind: "mfa", code, default, caller, sealed: None };
        self.deliver(&ctx.pool, user, letter)
    }

    /// Open the Session of challenge `name` for this pool and app client.
    pub fn open_challenge(&self, ctx: &Ctx, session: Option<&str>, name: &str) -> Result<Session> {
        let s = sealed::open_session(&ctx.keys, session.ok_or_else(invalid_session)?)
            .filter(|s| s.challenge == name && s.pool == ctx.pool.id && s.client == ctx.client.id)
            .ok_or_else(invalid_session)?;
        if s.exp_ms < self.now_ms() {
            return Err(expired_session());
        }
        Ok(s)
    }

    /// Answer SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP, SELECT_MFA_TYPE or MFA_SETUP.
    pub fn respond_mfa(
        &self,
        ctx: &Ctx,
        name: &str,
        session: Option<&str>,
        r: &BTreeMap<String, String>,
    ) -> Result<Outcome> {
        let s = self.open_challenge(ctx, session, name)?;
        let user = self.store.read()?.user(&ctx.pool.id, &s.user)?.ok_or_else(invalid_session)?;
        if !user.enabled {
            return Err(Error::NotAuthorizedException("User is disabled.".into()));
        }
        let username = r.get("USERNAME").map_or(user.username.as_str(), String::as_str);
        client::check_secret_hash(&ctx.client, &[username, &user.username], r.get("SECRET_HASH"))?;
        lockout::check(&user, self.now_ms())?;
        match name {
            SELECT => {
                let answer = param(r, "ANSWER")?;
                let f = MfaFactor::parse(answer)
                    .filter(|f| usable(ctx, &user).contains(f))
                    .ok_or_else(|| Error::invalid(format!("Invalid value for ANSWER: {answer}")))?;
                self.factor_challenge(ctx, &user, f)
            }
            SETUP if s.verified => self.finish_sign_in(ctx, &user),
            SETUP => Err(Error::invalid(
                "Set up a software token with AssociateSoftwareToken and VerifySoftwareToken first.",
            )),
            "SOFTWARE_TOKEN_MFA" => self.answer_totp(ctx, &user, param(r, "SOFTWARE_TOKEN_MFA_CODE")?),
            "SMS_MFA" => self.answer_otp(ctx, &user, &s, param(r, "SMS_MFA_CODE")?),
            "SMS_OTP" => self.answer_otp(ctx, &user, &s, param(r, "SMS_OTP_CODE")?),
            _ => self.answer_otp(ctx, &user, &s, param(r, "EMAIL_OTP_CODE")?),
        }
    }

    fn answer_totp(&self, ctx: &Ctx, user: &User, code: &str) -> Result<Outcome> {
        let secret = self.totp_secret(ctx, user)?;
        let last = self.used_mark(&ctx.pool, user, crate::security::CodeKind::Totp)?;
        match totp::check(&secret, code, self.now_ms(), last) {
            totp::Check::Mismatch => {
                self.record_failure(&ctx.pool.id, user)?;
                Err(Error::CodeMismatchException("Invalid code received for user".into()))
            }
            totp::Check::Replayed => Err(replayed()),
            totp::Check::Accepted(step) => {
                if !self.use_code(&ctx.pool, user, CodeKind::Totp, step)? {
                    return Err(replayed());
                }
                self.finish_sign_in(ctx, user)
            }
        }
    }

    fn answer_otp(&self, ctx: &Ctx, user: &User, s: &Session, code: &str) -> Result<Outcome> {
        let expected = s.code.as_deref().ok_or_else(invalid_session)?;
        let digest = self.code_digest(&ctx.pool, user, &format!("mfa:{}", s.issued_ms), code)?;
        if !janus_crypto::same_secret(digest.as_bytes(), expected.as_bytes()) {
            self.record_failure(&ctx.pool.id, user)?;
            return Err(Error::CodeMismatchException("Invalid code or auth state for the user.".into()));
        }
        if s.issued_ms <= self.used_mark(&ctx.pool, user, CodeKind::Otp)?
            || !self.use_code(&ctx.pool, user, CodeKind::Otp, s.issued_ms)?
        {
            return Err(invalid_session());
        }
        if s.first {
            let factor = if s.challenge == "EMAIL_OTP" { MfaFactor::Email } else { MfaFactor::Sms };
            let user = self.proven_by_code(ctx, user, factor)?;
            return self.finish_sign_in(ctx, &user);
        }
        self.finish_sign_in(ctx, user)
    }

    /// Every step passed: clear the failure count and issue tokens.
    pub fn finish_sign_in(&self, ctx: &Ctx, user: &User) -> Result<Outcome> {
        self.record_success(&ctx.pool.id, user)?;
        self.post_authentication(ctx, user)?;
        let auth_time = self.now_ms() / 1000;
        if ctx.hosted {
            // The hosted pages go on to an authorization code, not tokens.
            return Ok(Outcome::Authenticated { user: Box::new(user.clone()), auth_time });
        }
        // The device the tokens are bound to: the one proven, else a confirmed one the sign-in
        // presented (and answered MFA for), else a new one to confirm.
        let known = match ctx.device.verified() {
            Some(k) => Some(k.to_owned()),
            None => self.presented_device(ctx, user)?.map(|d| d.key),
        };
        let new_device = if known.is_none() { self.new_device(&ctx.pool, user) } else { None };
        let device_key = known.or_else(|| new_device.as_ref().map(|d| d.key.clone()));
        let grant = super::tokens::Grant { source: ctx.source, device_key, ..Default::default() };
        let mut tokens = self.issue_granted(ctx, user, auth_time, None, true, &grant)?;
        tokens.new_device = new_device;
        Ok(Outcome::Tokens(tokens))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_use_the_pool_template() {
        assert_eq!(super::message(Some("Code: {####}!"), "123456"), "Code: 123456!");
        assert_eq!(super::message(None, "000111"), "Your authentication code is 000111.");
    }
}
