//! CUSTOM_AUTH: sign-in decided by the pool's three challenge functions. DefineAuthChallenge
//! reads the challenges so far and says what comes next (a challenge, tokens, or failure);
//! CreateAuthChallenge makes a CUSTOM_CHALLENGE (public parameters to the client, private ones
//! kept); VerifyAuthChallengeResponse judges the client's ANSWER against the private ones.
//! A client may start with its password (`SRP_A` with `CHALLENGE_NAME: SRP_A`, as
//! amazon-cognito-identity-js and Amplify's CUSTOM_WITH_SRP do): Define then sees
//! `SRP_A` and may ask for PASSWORD_VERIFIER, after which it sees that step too.
//! The state between steps — the history and the private parameters (which hold the expected
//! answer) — travels sealed in the Session, never readable by the client, and each Session is
//! answered once (its id recorded like an authorization code's, across regions), so an answer
//! cannot be retried against the same challenge, and answering one challenge never spends
//! another.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

use janus_types::{Error, Result, User, UserKey};

use super::sealed::{self, Session};
use super::{lockout, param, Ctx, Outcome};
use crate::triggers::signup::event_attributes;
use crate::triggers::{flag, with_metadata, Event, Trigger};
use crate::users;
use crate::Services;

const CHALLENGE: &str = "CUSTOM_CHALLENGE";

/// One challenge answered, as DefineAuthChallenge's `request.session` lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeResult {
    /// The challenge.
    pub challenge_name: String,
    /// Whether it was answered correctly.
    pub challenge_result: bool,
    /// What CreateAuthChallenge attached to it.
    pub challenge_metadata: Option<String>,
}

/// What a CUSTOM_CHALLENGE session carries.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct CustomState {
    /// The challenges answered so far.
    pub history: Vec<ChallengeResult>,
    /// CreateAuthChallenge's `privateChallengeParameters`.
    pub private: Map<String, Value>,
    /// CreateAuthChallenge's `challengeMetadata`.
    pub metadata: Option<String>,
    /// This challenge's id: each is answered once (recorded like an authorization code).
    #[serde(default)]
    pub id: String,
    /// The name signed in as, when the pool has no such user and the app client hides that
    /// (the challenge runs anyway, `userNotFound: true`, and ends in a wrong-password answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
}

/// Whom a custom sign-in is for.
#[derive(Clone, Copy)]
enum Who<'a> {
    User(&'a User),
    /// No such user; the app client hides that.
    Unknown(&'a str),
}

impl Who<'_> {
    fn name(&self) -> &str {
        match self {
            Who::User(u) => &u.username,
            Who::Unknown(n) => n,
        }
    }

    /// `userAttributes`, `userNotFound` and the rest of a request.
    fn request(&self, mut rest: Value) -> Value {
        rest["userAttributes"] = match self {
            Who::User(u) => event_attributes(u),
            Who::Unknown(_) => json!({}),
        };
        rest["userNotFound"] = json!(matches!(self, Who::Unknown(_)));
        rest
    }
}

fn step(name: &str, result: bool) -> ChallengeResult {
    ChallengeResult { challenge_name: name.into(), challenge_result: result, challenge_metadata: None }
}

fn unrecognizable() -> Error {
    Error::InvalidLambdaResponseException("Unrecognizable lambda output".into())
}

fn invalid_session() -> Error {
    Error::NotAuthorizedException("Invalid session for the user.".into())
}

fn string_params(v: Option<&Value>) -> Result<Map<String, Value>> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Ok(m.clone()),
        Some(_) => Err(unrecognizable()),
    }
}

impl Services {
    /// InitiateAuth CUSTOM_AUTH; `srp_a`: the client starts with a password step (SRP_A).
    pub fn custom_start(&self, ctx: &Ctx, username: &str, srp_a: Option<&str>) -> Result<Outcome> {
        let triggers =
            [Trigger::DefineAuthChallenge, Trigger::CreateAuthChallenge, Trigger::VerifyAuthChallengeResponse];
        if triggers.iter().any(|t| self.trigger_function(&ctx.pool, *t).is_none()) {
            return Err(Error::invalid("Custom auth lambda trigger is not configured for the user pool."));
        }
        let found = users::find(&*self.store.read()?, &ctx.pool, username)?;
        let hide = super::password::prevents_existence_errors(ctx);
        self.pre_authentication(ctx, username, found.as_ref())?;
        let who = match &found {
            // Hiding existence, a disabled or locked user is run like an unknown name (its
            // state would otherwise show), and never signs in.
            Some(user) if hide && self.custom_usable(user).is_err() => Who::Unknown(username),
            Some(user) => {
                self.custom_usable(user)?;
                Who::User(user)
            }
            None if hide => Who::Unknown(username),
            None => return Err(Error::user_not_found()),
        };
        match srp_a {
            Some(a) => {
                self.srp.check_a(a)?;
                self.custom_decide(ctx, who, vec![step("SRP_A", true)], Some(a))
            }
            None => self.custom_decide(ctx, who, Vec::new(), None),
        }
    }

    /// The password step of a CUSTOM_AUTH sign-in passed: back to DefineAuthChallenge.
    pub(crate) fn custom_after_password(&self, ctx: &Ctx, user: &User) -> Result<Outcome> {
        let history = vec![step("SRP_A", true), step("PASSWORD_VERIFIER", true)];
        self.custom_decide(ctx, Who::User(user), history, None)
    }

    /// RespondToAuthChallenge CUSTOM_CHALLENGE.
    pub fn custom_answer(&self, ctx: &Ctx, session: Option<&str>, r: &BTreeMap<String, String>) -> Result<Outcome> {
        let s = session.and_then(|t| sealed::open_session(&ctx.keys, t)).ok_or_else(invalid_session)?;
        if s.challenge != CHALLENGE || s.pool != ctx.pool.id || s.client != ctx.client.id {
            return Err(invalid_session());
        }
        if s.exp_ms < self.now_ms() {
            return Err(Error::NotAuthorizedException("Invalid session for the user, session is expired.".into()));
        }
        let state = s.custom.clone().ok_or_else(invalid_session)?;
        let user = match &state.unknown {
            Some(_) => None,
            None => Some(self.store.read()?.user(&ctx.pool.id, &s.user)?.ok_or_else(invalid_session)?),
        };
        let who = match (&user, &state.unknown) {
            (Some(u), _) => Who::User(u),
            (None, Some(name)) => Who::Unknown(name),
            (None, None) => return Err(invalid_session()),
        };
        if state.id.is_empty() {
            return Err(invalid_session());
        }
        // Each challenge is answered once, by its own id: answering one never spends another
        // (a stranger's sign-in for the same name cannot cancel the user's).
        let fresh = match who {
            Who::User(u) => {
                if let Err(e) = self.custom_usable(u) {
                    let hide = super::password::prevents_existence_errors(ctx);
                    return Err(if hide { Error::bad_credentials() } else { e });
                }
                match self.redeem_code_once(&ctx.pool, &u.key, &format!("custom:{}", state.id), s.exp_ms) {
                    Ok(()) => true,
                    Err(e) if e.is_internal() => return Err(e),
                    Err(_) => false,
                }
            }
            Who::Unknown(_) => self.decoys.use_once(&ctx.pool.id, &s.user, &state.id),
        };
        if !fresh {
            return Err(invalid_session());
        }
        let answer = param(r, "ANSWER")?;
        let event = Event {
            source: "VerifyAuthChallengeResponse_Authentication",
            user_name: who.name(),
            client_id: Some(ctx.client.id.as_str()),
            request: with_metadata(
                who.request(json!({"privateChallengeParameters": state.private, "challengeAnswer": answer})),
                &ctx.metadata,
            ),
            response: json!({"answerCorrect": null}),
        };
        let verdict = self.run_trigger(&ctx.pool, Trigger::VerifyAuthChallengeResponse, event)?.unwrap_or_default();
        let correct = flag(&verdict, "answerCorrect")?;
        let mut history = state.history;
        history.push(ChallengeResult {
            challenge_name: CHALLENGE.into(),
            challenge_result: correct,
            challenge_metadata: state.metadata,
        });
        self.custom_decide(ctx, who, history, None)
    }

    fn custom_usable(&self, user: &User) -> Result<()> {
        if !user.enabled {
            return Err(Error::NotAuthorizedException("User is disabled.".into()));
        }
        lockout::check(user, self.now_ms())
    }

    /// Ask DefineAuthChallenge what follows `history`, and do it; right after SRP_A
    /// (`srp_a` set) it may ask for the password (PASSWORD_VERIFIER).
    fn custom_decide(
        &self,
        ctx: &Ctx,
        who: Who<'_>,
        history: Vec<ChallengeResult>,
        srp_a: Option<&str>,
    ) -> Result<Outcome> {
        let event = Event {
            source: "DefineAuthChallenge_Authentication",
            user_name: who.name(),
            client_id: Some(ctx.client.id.as_str()),
            request: with_metadata(who.request(json!({"session": history})), &ctx.metadata),
            response: json!({"challengeName": null, "issueTokens": null, "failAuthentication": null}),
        };
        let decision = self.run_trigger(&ctx.pool, Trigger::DefineAuthChallenge, event)?.unwrap_or_default();
        let fail = flag(&decision, "failAuthentication")?;
        let issue = flag(&decision, "issueTokens")?;
        let user = match who {
            Who::User(u) => Some(u),
            Who::Unknown(_) => None,
        };
        if fail || (issue && user.is_none()) {
            // Whatever the function decides, a name without an account never signs in.
            if let Some(u) = user {
                self.record_failure(&ctx.pool.id, u)?;
            }
            return Err(Error::bad_credentials());
        }
        if let (true, Some(u)) = (issue, user) {
            // The user's state decides what is left, as after a password: a new password,
            // then the pool's MFA — a custom sign-in never skips the second factor.
            return self.after_authentication(ctx, u);
        }
        match (decision.get("challengeName").and_then(Value::as_str), srp_a) {
            (Some(CHALLENGE), _) => self.custom_challenge(ctx, who, history),
            // An unknown name gets the decoy handshake its password can never pass.
            (Some("PASSWORD_VERIFIER"), Some(a)) => self.srp_begin(ctx, who.name(), a, true),
            (Some(other), _) => Err(Error::InvalidLambdaResponseException(format!(
                "DefineAuthChallenge chose {other}: Janus's custom authentication runs CUSTOM_CHALLENGE steps, \
                 and PASSWORD_VERIFIER right after SRP_A."
            ))),
            (None, _) => Err(unrecognizable()),
        }
    }

    fn custom_challenge(&self, ctx: &Ctx, who: Who<'_>, history: Vec<ChallengeResult>) -> Result<Outcome> {
        let event = Event {
            source: "CreateAuthChallenge_Authentication",
            user_name: who.name(),
            client_id: Some(ctx.client.id.as_str()),
            request: with_metadata(who.request(json!({"challengeName": CHALLENGE, "session": history})), &ctx.metadata),
            response: json!({"publicChallengeParameters": null, "privateChallengeParameters": null,
                             "challengeMetadata": null}),
        };
        let made = self.run_trigger(&ctx.pool, Trigger::CreateAuthChallenge, event)?.unwrap_or_default();
        let public = string_params(made.get("publicChallengeParameters"))?;
        let private = string_params(made.get("privateChallengeParameters"))?;
        let metadata = match made.get("challengeMetadata") {
            None | Some(Value::Null) => None,
            Some(Value::String(m)) => Some(m.clone()),
            Some(_) => return Err(unrecognizable()),
        };
        let (key, unknown) = match who {
            Who::User(u) => (u.key.clone(), None),
            Who::Unknown(n) => (UserKey::of(n, ctx.pool.config.case_sensitive()), Some(n.to_owned())),
        };
        let now = self.now_ms();
        let mut s = Session::new(CHALLENGE, ctx, &key, now, sealed::session_validity_ms(&ctx.client));
        let id = janus_crypto::random::uuid_v4(&*self.rng);
        s.custom = Some(CustomState { history, private, metadata, id, unknown });
        let session = sealed::seal_session(&ctx.keys, &s, &*self.rng)?;
        let mut parameters: BTreeMap<String, String> =
            public.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned())).collect();
        parameters.insert("USERNAME".into(), who.name().to_owned());
        Ok(Outcome::Challenge { name: CHALLENGE.into(), session: Some(session), parameters })
    }
}
