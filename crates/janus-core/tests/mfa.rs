//! MFA with an injected clock (issue 6): TOTP sign-in with replay refusal and step tolerance,
//! wrong codes counting toward the lockout, Session expiry, MFA_SETUP, email codes, and the
//! single use of a code across a primary and a secondary (with and without a link between them).

use serde_json::{json, Map};
use std::collections::BTreeMap;
use std::sync::Arc;

use janus_core::auth::{Initiate, Outcome, Respond};
use janus_core::mfa::{FactorSetting, Preferences, SetPoolMfa};
use janus_core::pools::CreatePool;
use janus_core::security::{SecurityEvent, Upstream, Verdict};
use janus_core::users::create::CreateUser;
use janus_core::Services;
use janus_crypto::totp;
use janus_testkit::{backends, Backend, WorldBuilder};
use janus_types::{ClientId, ManualClock, PoolId};

const PASSWORD: &str = "Right-Passw0rd!";
const T0: i64 = 1_800_000_000_000;

type Region = janus_testkit::World;

fn region(backend: Backend, name: &'static str, clock: Arc<ManualClock>) -> Region {
    WorldBuilder::new(backend).region(name).seed(7).clock(clock).build()
}

struct World {
    r: Region,
    pool: PoolId,
    client: ClientId,
}

fn world(backend: Backend, mode: &str, factors: serde_json::Value) -> World {
    let r = region(backend, "us-east-1", Arc::new(ManualClock::at(T0)));
    let pool = r.s.create_pool(serde_json::from_value::<CreatePool>(json!({"PoolName": "p"})).unwrap()).unwrap();
    let mut set = factors;
    set["UserPoolId"] = json!(pool.id);
    set["MfaConfiguration"] = json!(mode);
    r.s.set_pool_mfa(serde_json::from_value::<SetPoolMfa>(set).unwrap()).unwrap();
    let mut cfg = Map::new();
    cfg.insert("ExplicitAuthFlows".into(), json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]));
    let client = r.s.create_client(&pool.id, "c".into(), false, None, cfg).unwrap();
    World { r, pool: pool.id, client: client.id }
}

fn totp_only() -> serde_json::Value {
    json!({"SoftwareTokenMfaConfiguration": {"Enabled": true}})
}

fn tokens(o: Outcome) -> janus_core::auth::Tokens {
    match o {
        Outcome::Tokens(t) => t,
        other => panic!("expected tokens, got {other:?}"),
    }
}

fn challenge(o: Outcome) -> (String, String, BTreeMap<String, String>) {
    match o {
        Outcome::Challenge { name, session, parameters } => (name, session.unwrap(), parameters),
        other => panic!("expected a challenge, got {other:?}"),
    }
}

impl World {
    fn user(&self, name: &str, attrs: serde_json::Value) {
        self.r
            .s
            .admin_create_user(CreateUser {
                validation_data: Vec::new(),
                client_metadata: Default::default(),
                user_pool_id: self.pool.clone(),
                username: name.into(),
                user_attributes: serde_json::from_value(attrs).unwrap(),
                temporary_password: None,
                force_alias_creation: false,
                message_action: Some("SUPPRESS".into()),
                desired_delivery_mediums: vec![],
            })
            .unwrap();
        self.r.s.admin_set_password(&self.pool, name, PASSWORD, true).unwrap();
    }

    fn sign_in_on(&self, s: &Services, name: &str) -> Result<Outcome, String> {
        let params = BTreeMap::from([("USERNAME".into(), name.into()), ("PASSWORD".into(), PASSWORD.into())]);
        let input = Initiate {
            session: None,
            client_metadata: Default::default(),
            auth_flow: "USER_PASSWORD_AUTH".into(),
            auth_parameters: params,
            client_id: self.client.clone(),
            user_pool_id: None,
        };
        s.initiate_auth(input, false).map_err(|e| format!("{}: {e}", e.code()))
    }

    fn sign_in(&self, name: &str) -> Result<Outcome, String> {
        self.sign_in_on(&self.r.s, name)
    }

    fn respond_on(&self, s: &Services, name: &str, session: &str, pairs: &[(&str, &str)]) -> Result<Outcome, String> {
        let input = Respond {
            client_metadata: Default::default(),
            challenge_name: name.into(),
            session: Some(session.into()),
            challenge_responses: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            client_id: self.client.clone(),
            user_pool_id: None,
        };
        s.respond_to_challenge(input, false).map_err(|e| format!("{}: {e}", e.code()))
    }

    fn respond(&self, name: &str, session: &str, pairs: &[(&str, &str)]) -> Result<Outcome, String> {
        self.respond_on(&self.r.s, name, session, pairs)
    }

    /// Enrol a software token: by access token (MFA OPTIONAL), or through MFA_SETUP at
    /// sign-in (MFA ON); returns the secret.
    fn enrol(&self, name: &str) -> Vec<u8> {
        let now = self.r.clock.now_ms();
        let secret = match self.sign_in(name).unwrap() {
            Outcome::Tokens(t) => {
                let a = self.r.s.associate_software_token(Some(&t.access), None).unwrap();
                let secret = totp::base32_decode(&a.secret_code).unwrap();
                let code = totp::code_at(&secret, totp::step_of(now));
                assert!(self
                    .r
                    .s
                    .verify_software_token(Some(&t.access), None, &code, Some("phone"))
                    .unwrap()
                    .session
                    .is_none());
                secret
            }
            Outcome::Challenge { name: c, session, parameters } => {
                assert_eq!(c, "MFA_SETUP");
                assert_eq!(parameters["MFAS_CAN_SETUP"], r#"["SOFTWARE_TOKEN_MFA"]"#);
                let session = session.unwrap();
                let early = self.respond("MFA_SETUP", &session, &[("USERNAME", name)]).unwrap_err();
                assert!(early.starts_with("InvalidParameterException"), "{early}");
                let a = self.r.s.associate_software_token(None, Some(&session)).unwrap();
                let secret = totp::base32_decode(&a.secret_code).unwrap();
                assert_eq!(a.secret_code.len(), 52, "32 bytes in base32");
                let wrong = self.r.s.verify_software_token(None, a.session.as_deref(), "000000", None).unwrap_err();
                assert_eq!(wrong.code(), "EnableSoftwareTokenMFAException");
                let code = totp::code_at(&secret, totp::step_of(now));
                let v = self.r.s.verify_software_token(None, a.session.as_deref(), &code, Some("phone")).unwrap();
                tokens(self.respond("MFA_SETUP", &v.session.unwrap(), &[("USERNAME", name)]).unwrap());
                // The wrong code counted; the completed sign-in cleared it.
                assert_eq!(self.r.s.admin_get_user(&self.pool, name).unwrap().security.failed_sign_ins, 0);
                secret
            }
            Outcome::Authenticated { .. } => unreachable!("API sign-ins end in tokens"),
        };
        self.r.clock.advance(totp::STEP_MS); // the verification used this step's code
        secret
    }

    fn code(&self, secret: &[u8]) -> String {
        totp::code_at(secret, totp::step_of(self.r.clock.now_ms()))
    }
}

use janus_types::Clock;

#[test]
fn totp_sign_in_accepts_a_code_once_and_tolerates_one_step() {
    for backend in backends() {
        let w = world(backend, "OPTIONAL", totp_only());
        w.user("alice", json!([]));
        let secret = w.enrol("alice");
        let u = w.r.s.admin_get_user(&w.pool, "alice").unwrap();
        assert!(!u.mfa.software_token.as_ref().unwrap().sealed.contains(&totp::base32_encode(&secret)));

        let (name, session, params) = challenge(w.sign_in("alice").unwrap());
        assert_eq!(name, "SOFTWARE_TOKEN_MFA");
        assert_eq!(params["USER_ID_FOR_SRP"], "alice");
        let code = w.code(&secret);
        tokens(
            w.respond("SOFTWARE_TOKEN_MFA", &session, &[("USERNAME", "alice"), ("SOFTWARE_TOKEN_MFA_CODE", &code)])
                .unwrap(),
        );

        // The same code again, in a new sign-in: refused as used.
        let (_, session, _) = challenge(w.sign_in("alice").unwrap());
        let again = w.respond("SOFTWARE_TOKEN_MFA", &session, &[("SOFTWARE_TOKEN_MFA_CODE", &code)]).unwrap_err();
        assert_eq!(again, "ExpiredCodeException: Your software token has already been used once.");

        // A minute later, the previous step's code (a slow phone) is accepted: it is after the used one.
        w.r.clock.advance(2 * totp::STEP_MS);
        let now = totp::step_of(w.r.clock.now_ms());
        tokens(
            w.respond("SOFTWARE_TOKEN_MFA", &session, &[("SOFTWARE_TOKEN_MFA_CODE", &totp::code_at(&secret, now - 1))])
                .unwrap(),
        );
        // The next step's code (a fast phone) is accepted too ...
        let (_, session, _) = challenge(w.sign_in("alice").unwrap());
        tokens(
            w.respond("SOFTWARE_TOKEN_MFA", &session, &[("SOFTWARE_TOKEN_MFA_CODE", &totp::code_at(&secret, now + 1))])
                .unwrap(),
        );
        // ... after which the current step's code is older than the last used: refused.
        let (_, session, _) = challenge(w.sign_in("alice").unwrap());
        let e = w.respond("SOFTWARE_TOKEN_MFA", &session, &[("SOFTWARE_TOKEN_MFA_CODE", &totp::code_at(&secret, now))]);
        assert!(e.unwrap_err().starts_with("ExpiredCodeException"));
        // Two steps away is outside the window.
        w.r.clock.advance(3 * totp::STEP_MS);
        let (_, session, _) = challenge(w.sign_in("alice").unwrap());
        let far = totp::code_at(&secret, totp::step_of(w.r.clock.now_ms()) + 2);
        let e = w.respond("SOFTWARE_TOKEN_MFA", &session, &[("SOFTWARE_TOKEN_MFA_CODE", &far)]).unwrap_err();
        assert!(e.starts_with("CodeMismatchException"), "{e}");
    }
}

#[test]
fn wrong_codes_count_toward_the_lockout_and_a_password_does_not_reset_it() {
    for backend in backends() {
        let w = world(backend, "ON", totp_only());
        w.user("bob", json!([]));
        let secret = w.enrol("bob");
        for round in 0..5 {
            // A fresh password sign-in each time: the count must still grow.
            let (_, session, _) = challenge(w.sign_in("bob").unwrap());
            let e = w.respond("SOFTWARE_TOKEN_MFA", &session, &[("SOFTWARE_TOKEN_MFA_CODE", "000000")]);
            if w.code(&secret) != "000000" {
                assert!(e.unwrap_err().starts_with("CodeMismatchException"), "round {round}");
            }
        }
        assert_eq!(w.r.s.admin_get_user(&w.pool, "bob").unwrap().security.failed_sign_ins, 5);
        assert_eq!(w.sign_in("bob").unwrap_err(), "NotAuthorizedException: Password attempts exceeded");
        w.r.clock.advance(1_001);
        let (_, session, _) = challenge(w.sign_in("bob").unwrap());
        tokens(w.respond("SOFTWARE_TOKEN_MFA", &session, &[("SOFTWARE_TOKEN_MFA_CODE", &w.code(&secret))]).unwrap());
        assert_eq!(w.r.s.admin_get_user(&w.pool, "bob").unwrap().security.failed_sign_ins, 0, "cleared by success");
    }
}

#[test]
fn sessions_expire_after_three_minutes_or_the_clients_validity() {
    for backend in backends() {
        let w = world(backend, "ON", totp_only());
        w.user("carol", json!([]));
        let secret = w.enrol("carol");
        let (_, session, _) = challenge(w.sign_in("carol").unwrap());
        w.r.clock.advance(3 * 60_000 + 1);
        let e =
            w.respond("SOFTWARE_TOKEN_MFA", &session, &[("SOFTWARE_TOKEN_MFA_CODE", &w.code(&secret))]).unwrap_err();
        assert_eq!(e, "NotAuthorizedException: Invalid session for the user, session is expired.");
        // A tampered session is refused, and one sealed for another challenge too.
        let (_, session, _) = challenge(w.sign_in("carol").unwrap());
        let mut bad = session.clone().into_bytes();
        let last = bad.len() - 2;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        let e = w.respond("SOFTWARE_TOKEN_MFA", &bad, &[("SOFTWARE_TOKEN_MFA_CODE", &w.code(&secret))]).unwrap_err();
        assert_eq!(e, "NotAuthorizedException: Invalid session for the user.");
        let e = w.respond("SMS_MFA", &session, &[("SMS_MFA_CODE", "123456")]).unwrap_err();
        assert_eq!(e, "NotAuthorizedException: Invalid session for the user.");

        // AuthSessionValidity (minutes) lengthens it.
        let mut cfg = Map::new();
        cfg.insert("ExplicitAuthFlows".into(), json!(["ALLOW_USER_PASSWORD_AUTH"]));
        cfg.insert("AuthSessionValidity".into(), json!(10));
        let long = w.r.s.create_client(&w.pool, "long".into(), false, None, cfg).unwrap();
        let params = BTreeMap::from([("USERNAME".into(), "carol".into()), ("PASSWORD".into(), PASSWORD.into())]);
        let initiate = Initiate {
            session: None,
            client_metadata: Default::default(),
            auth_flow: "USER_PASSWORD_AUTH".into(),
            auth_parameters: params,
            client_id: long.id.clone(),
            user_pool_id: None,
        };
        let (_, session, _) = challenge(w.r.s.initiate_auth(initiate, false).unwrap());
        w.r.clock.advance(9 * 60_000);
        let respond = Respond {
            client_metadata: Default::default(),
            challenge_name: "SOFTWARE_TOKEN_MFA".into(),
            session: Some(session),
            challenge_responses: BTreeMap::from([("SOFTWARE_TOKEN_MFA_CODE".into(), w.code(&secret))]),
            client_id: long.id.clone(),
            user_pool_id: None,
        };
        tokens(w.r.s.respond_to_challenge(respond, false).unwrap());
    }
}

#[test]
fn email_codes_and_the_choice_between_factors() {
    for backend in backends() {
        let both = json!({
            "SoftwareTokenMfaConfiguration": {"Enabled": true},
            "EmailMfaConfiguration": {"Message": "Sign in with {####}", "Subject": "Code"},
        });
        let w = world(backend, "OPTIONAL", both);
        w.user("dave", json!([{"Name": "email", "Value": "dave@example.com"}]));
        let secret = w.enrol("dave");
        let on = Preferences {
            email: Some(FactorSetting { enabled: Some(true), preferred_mfa: None }),
            ..Default::default()
        };
        w.r.s.admin_set_mfa_preference(&w.pool, "dave", &on).unwrap();
        let u = w.r.s.admin_get_user(&w.pool, "dave").unwrap();
        assert_eq!(u.mfa.enabled.len(), 2);

        let (name, session, params) = challenge(w.sign_in("dave").unwrap());
        assert_eq!(name, "SELECT_MFA_TYPE");
        assert_eq!(params["MFAS_CAN_CHOOSE"], r#"["SOFTWARE_TOKEN_MFA","EMAIL_OTP"]"#);
        let e = w.respond("SELECT_MFA_TYPE", &session, &[("ANSWER", "SMS_MFA")]).unwrap_err();
        assert!(e.starts_with("InvalidParameterException"), "{e}");
        let (name, session, params) =
            challenge(w.respond("SELECT_MFA_TYPE", &session, &[("ANSWER", "EMAIL_OTP")]).unwrap());
        assert_eq!(name, "EMAIL_OTP");
        assert_eq!(params["CODE_DELIVERY_DESTINATION"], "d***@e***");
        let sent = w.r.outbox.last().unwrap();
        assert_eq!((sent.kind.as_str(), sent.subject.as_deref()), ("mfa", Some("Code")));
        let code = sent.body.rsplit(' ').next().unwrap().to_owned();
        assert!(sent.body.starts_with("Sign in with "));
        let wrong = w.respond("EMAIL_OTP", &session, &[("EMAIL_OTP_CODE", "x")]).unwrap_err();
        assert!(wrong.starts_with("CodeMismatchException"), "{wrong}");
        tokens(w.respond("EMAIL_OTP", &session, &[("EMAIL_OTP_CODE", &code)]).unwrap());
        let replay = w.respond("EMAIL_OTP", &session, &[("EMAIL_OTP_CODE", &code)]).unwrap_err();
        assert_eq!(replay, "NotAuthorizedException: Invalid session for the user.");

        // Preferring the token skips the choice.
        let prefer = Preferences {
            software_token: Some(FactorSetting { enabled: Some(true), preferred_mfa: Some(true) }),
            ..Default::default()
        };
        w.r.s.admin_set_mfa_preference(&w.pool, "dave", &prefer).unwrap();
        let (name, session, _) = challenge(w.sign_in("dave").unwrap());
        assert_eq!(name, "SOFTWARE_TOKEN_MFA");
        tokens(w.respond("SOFTWARE_TOKEN_MFA", &session, &[("SOFTWARE_TOKEN_MFA_CODE", &w.code(&secret))]).unwrap());
    }
}

/// A secondary region of the world's pool (a copy of the primary's store as of now), linked
/// to the primary by an in-process upstream that can be cut.
struct Link {
    primary: Services,
    up: std::sync::atomic::AtomicBool,
}

impl Upstream for Link {
    fn send(&self, pool: &PoolId, event: &SecurityEvent) -> janus_types::Result<Verdict> {
        if !self.up.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(janus_types::Error::internal(std::io::Error::other("link down")));
        }
        self.primary.apply_security_event(pool, event)
    }
}

fn secondary(w: &World) -> (Region, Arc<Link>) {
    let sec = region(w.r.store.backend, "us-west-2", w.r.clock.clone());
    let r = w.r.s.store.read().unwrap();
    let (seq, epoch) = r.log_head(&w.pool).unwrap();
    let entities = r.entities(&w.pool).unwrap();
    let mut tx = sec.s.store.write(T0).unwrap();
    tx.load_snapshot(&w.pool, seq, epoch, &mut entities.into_iter().map(Ok)).unwrap();
    tx.commit().unwrap();
    let link = Arc::new(Link { primary: w.r.s.clone(), up: true.into() });
    sec.s.set_upstream(link.clone());
    (sec, link)
}

#[test]
fn a_code_is_used_once_across_regions_and_once_per_region_when_they_cannot_talk() {
    for backend in backends() {
        let w = world(backend, "ON", totp_only());
        w.user("erin", json!([]));
        let secret = w.enrol("erin");
        let (sec, link) = secondary(&w);
        let answer = |s: &Services| {
            let (name, session, _) = challenge(w.sign_in_on(s, "erin").unwrap());
            assert_eq!(name, "SOFTWARE_TOKEN_MFA");
            w.respond_on(s, "SOFTWARE_TOKEN_MFA", &session, &[("SOFTWARE_TOKEN_MFA_CODE", &w.code(&secret))])
        };
        // Used on the primary, refused on the secondary (before replication brings the mark: the
        // primary answers the secondary's question).
        tokens(answer(&w.r.s).unwrap());
        assert!(answer(&sec.s).unwrap_err().starts_with("ExpiredCodeException"));
        // Used on the secondary, refused on the primary.
        w.r.clock.advance(totp::STEP_MS);
        tokens(answer(&sec.s).unwrap());
        assert!(answer(&w.r.s).unwrap_err().starts_with("ExpiredCodeException"));
        assert!(answer(&sec.s).unwrap_err().starts_with("ExpiredCodeException"));
        // A wrong code on the secondary counts at the primary.
        let (_, session, _) = challenge(w.sign_in_on(&sec.s, "erin").unwrap());
        let wrong = if w.code(&secret) == "111111" { "222222" } else { "111111" };
        w.respond_on(&sec.s, "SOFTWARE_TOKEN_MFA", &session, &[("SOFTWARE_TOKEN_MFA_CODE", wrong)]).unwrap_err();
        assert_eq!(w.r.s.admin_get_user(&w.pool, "erin").unwrap().security.failed_sign_ins, 1);

        // The link is cut: the secondary still accepts a code only once by itself ...
        link.up.store(false, std::sync::atomic::Ordering::SeqCst);
        w.r.clock.advance(totp::STEP_MS);
        tokens(answer(&sec.s).unwrap());
        assert!(answer(&sec.s).unwrap_err().starts_with("ExpiredCodeException"));
        // ... and the primary, not told, accepts it once too: the documented price of a partition.
        tokens(answer(&w.r.s).unwrap());
        assert!(answer(&w.r.s).unwrap_err().starts_with("ExpiredCodeException"));
    }
}

#[test]
fn a_totp_code_used_through_one_node_is_refused_through_another() {
    for backend in backends() {
        let w = world(backend, "OPTIONAL", totp_only());
        w.user("alice", json!([]));
        let secret = w.enrol("alice");
        let (a, b) = (w.r.node(1), w.r.node(2));
        let code = w.code(&secret);
        let (_, on_a, _) = challenge(w.sign_in_on(&a, "alice").unwrap());
        let (_, on_b, _) = challenge(w.sign_in_on(&b, "alice").unwrap());
        tokens(w.respond_on(&a, "SOFTWARE_TOKEN_MFA", &on_a, &[("SOFTWARE_TOKEN_MFA_CODE", &code)]).unwrap());
        let again = w.respond_on(&b, "SOFTWARE_TOKEN_MFA", &on_b, &[("SOFTWARE_TOKEN_MFA_CODE", &code)]).unwrap_err();
        assert_eq!(again, "ExpiredCodeException: Your software token has already been used once.", "{backend:?}");
    }
}
