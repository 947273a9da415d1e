//! Time-dependent sign-in behaviour, with an injected clock instead of sleeping: lockout
//! triggers after five failures and expires; one-time codes expire; temporary passwords
//! expire; refresh tokens expire; a global sign-out revokes earlier tokens but not later ones.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

use janus_core::auth::{Initiate, Outcome};
use janus_core::pools::CreatePool;
use janus_core::signup::{CodeInput, SignUp};
use janus_core::users::create::CreateUser;
use janus_testkit::{backends, Backend};
use janus_types::{ClientId, PoolId};

/// The test world with a pool whose app client allows password sign-in and refresh.
struct World {
    kit: janus_testkit::World,
    pool: PoolId,
    client: ClientId,
}

impl std::ops::Deref for World {
    type Target = janus_testkit::World;
    fn deref(&self) -> &Self::Target {
        &self.kit
    }
}

fn world(backend: Backend) -> World {
    let kit = janus_testkit::World::new(backend);
    let s = &kit.s;
    let pool = s
        .create_pool(
            serde_json::from_value::<CreatePool>(json!({"PoolName": "p", "AutoVerifiedAttributes": ["email"]}))
                .unwrap(),
        )
        .unwrap();
    let mut cfg = Map::new();
    cfg.insert("ExplicitAuthFlows".into(), json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]));
    let client = s.create_client(&pool.id, "c".into(), false, None, cfg).unwrap();
    World { kit, pool: pool.id, client: client.id }
}

impl World {
    fn user(&self, name: &str, password: &str) {
        self.s
            .admin_create_user(CreateUser {
                validation_data: Vec::new(),
                client_metadata: Default::default(),
                user_pool_id: self.pool.clone(),
                username: name.into(),
                user_attributes: vec![],
                temporary_password: None,
                force_alias_creation: false,
                message_action: Some("SUPPRESS".into()),
                desired_delivery_mediums: vec![],
            })
            .unwrap();
        self.s.admin_set_password(&self.pool, name, password, true).unwrap();
    }

    fn sign_in(&self, name: &str, password: &str) -> Result<Outcome, String> {
        let params =
            BTreeMap::from([("USERNAME".to_owned(), name.to_owned()), ("PASSWORD".to_owned(), password.to_owned())]);
        let input = Initiate {
            session: None,
            client_metadata: Default::default(),
            auth_flow: "USER_PASSWORD_AUTH".into(),
            auth_parameters: params,
            client_id: self.client.clone(),
            user_pool_id: None,
        };
        self.s.initiate_auth(input, false).map_err(|e| format!("{}: {e}", e.code()))
    }

    fn last_code(&self) -> String {
        let body = self.outbox.last().unwrap().body;
        body.rsplit(' ').next().unwrap().to_owned()
    }
}

#[test]
fn lockout_triggers_after_five_failures_and_expires() {
    for backend in backends() {
        let w = world(backend);
        w.user("alice", "Right-Passw0rd!");
        for _ in 0..5 {
            assert_eq!(
                w.sign_in("alice", "wrong").unwrap_err(),
                "NotAuthorizedException: Incorrect username or password."
            );
        }
        let locked = w.sign_in("alice", "Right-Passw0rd!").unwrap_err();
        assert_eq!(locked, "NotAuthorizedException: Password attempts exceeded", "locked even with the right password");
        w.clock.advance(1_001);
        assert!(w.sign_in("alice", "Right-Passw0rd!").is_ok(), "the 1 s lock expired");
        // The count was cleared by the success: five more failures are needed to lock again.
        for _ in 0..4 {
            w.sign_in("alice", "wrong").unwrap_err();
        }
        assert!(w.sign_in("alice", "Right-Passw0rd!").is_ok());
        // A growing lock: the 6th counted failure locks for 2 s, the 7th for 4 s. Attempts made
        // while locked are refused without being checked, so they do not count.
        for _ in 0..5 {
            w.sign_in("alice", "wrong").unwrap_err();
        }
        w.clock.advance(1_001);
        w.sign_in("alice", "wrong").unwrap_err();
        assert!(w.sign_in("alice", "wrong").unwrap_err().contains("Password attempts exceeded"));
        w.clock.advance(2_001);
        w.sign_in("alice", "wrong").unwrap_err();
        w.clock.advance(3_000);
        assert!(w.sign_in("alice", "Right-Passw0rd!").unwrap_err().contains("Password attempts exceeded"));
        w.clock.advance(1_001);
        assert!(w.sign_in("alice", "Right-Passw0rd!").is_ok());
    }
}

#[test]
fn codes_expire_are_single_use_and_limited() {
    for backend in backends() {
        let w = world(backend);
        let signup = |name: &str| {
            w.s.sign_up(SignUp {
                validation_data: Vec::new(),
                client_metadata: Default::default(),
                client_id: w.client.clone(),
                secret_hash: None,
                username: name.into(),
                password: Some("Right-Passw0rd!".into()),
                user_attributes: serde_json::from_value(
                    json!([{"Name": "email", "Value": format!("{name}@example.com")}]),
                )
                .unwrap(),
            })
            .unwrap()
        };
        let confirm = |name: &str, code: &str| {
            w.s.confirm_sign_up(CodeInput {
                client_metadata: Default::default(),
                client_id: w.client.clone(),
                secret_hash: None,
                username: name.into(),
                confirmation_code: Some(code.into()),
                password: None,
                session: None,
            })
            .map(drop)
            .map_err(|e| e.code())
        };
        let done = signup("bob");
        assert_eq!(done.delivery.unwrap().destination, "b***@e***");
        let code = w.last_code();
        w.clock.advance(24 * 3600 * 1000 + 1);
        assert_eq!(confirm("bob", &code), Err("ExpiredCodeException"));

        signup("carol");
        let code = w.last_code();
        for _ in 0..5 {
            assert_eq!(confirm("carol", "000000x"), Err("CodeMismatchException"));
        }
        assert_eq!(confirm("carol", &code), Err("LimitExceededException"), "five wrong guesses use the code up");

        signup("dave");
        let code = w.last_code();
        assert_eq!(confirm("dave", &code), Ok(()));
        assert_eq!(confirm("dave", &code), Err("NotAuthorizedException"), "confirmed once");
        let u = w.s.admin_get_user(&w.pool, "dave").unwrap();
        assert_eq!(u.attributes.get("email_verified").map(String::as_str), Some("true"));
    }
}

/// Issue 13: each resend used to bring five fresh guesses, so a six-digit code fell to
/// 10^6 / 5 resends. An attacker who resends and guesses as fast as the limits allow gets at
/// most five codes and five guesses in any window, whatever they interleave.
#[test]
fn resends_do_not_buy_guesses_in_any_window() {
    for backend in backends() {
        use janus_core::codes::{MAX_SENDS, MAX_WRONG, WINDOW_MS};
        let w = world(backend);
        let input = |code: Option<&str>| CodeInput {
            client_metadata: Default::default(),
            client_id: w.client.clone(),
            secret_hash: None,
            username: "gina".into(),
            confirmation_code: code.map(str::to_owned),
            password: None,
            session: None,
        };
        w.s.sign_up(SignUp {
            validation_data: Vec::new(),
            client_metadata: Default::default(),
            client_id: w.client.clone(),
            secret_hash: None,
            username: "gina".into(),
            password: Some("Right-Passw0rd!".into()),
            user_attributes: serde_json::from_value(json!([{"Name": "email", "Value": "gina@example.com"}])).unwrap(),
        })
        .unwrap();
        let mut sent_in_window = 1; // SignUp sent the first code
        let mut wrong_in_window = 0;
        let mut window_start = janus_types::Clock::now_ms(&*w.clock);
        for step in 0..4_000 {
            // Every 3 s: a resend, then two guesses (a whole window holds 1,200 such rounds).
            w.clock.advance(3_000);
            if janus_types::Clock::now_ms(&*w.clock) >= window_start + WINDOW_MS {
                (sent_in_window, wrong_in_window, window_start) = (0, 0, janus_types::Clock::now_ms(&*w.clock));
            }
            match w.s.resend_confirmation_code(input(None)) {
                Ok(_) => sent_in_window += 1,
                Err(e) => assert_eq!(e.code(), "LimitExceededException", "step {step}"),
            }
            for _ in 0..2 {
                match w.s.confirm_sign_up(input(Some("000000x"))).map_err(|e| e.code()) {
                    Err("CodeMismatchException") => wrong_in_window += 1,
                    Err("LimitExceededException") => {}
                    other => panic!("step {step}: {other:?}"),
                }
            }
            assert!(sent_in_window <= MAX_SENDS + 1, "step {step}: {sent_in_window} codes in one window");
            assert!(wrong_in_window <= MAX_WRONG, "step {step}: {wrong_in_window} guesses in one window");
        }
        // The real code still works once a window allows guesses again.
        w.clock.advance(WINDOW_MS);
        w.s.resend_confirmation_code(input(None)).unwrap();
        let code = w.last_code();
        assert!(w.s.confirm_sign_up(input(Some(&code))).is_ok());
    }
}

#[test]
fn temporary_passwords_expire() {
    for backend in backends() {
        let w = world(backend);
        w.s.admin_create_user(CreateUser {
            validation_data: Vec::new(),
            client_metadata: Default::default(),
            user_pool_id: w.pool.clone(),
            username: "erin".into(),
            user_attributes: vec![],
            temporary_password: Some("Temp-Passw0rd!".into()),
            force_alias_creation: false,
            message_action: Some("SUPPRESS".into()),
            desired_delivery_mediums: vec![],
        })
        .unwrap();
        assert!(matches!(w.sign_in("erin", "Temp-Passw0rd!"), Ok(Outcome::Challenge { .. })));
        w.clock.advance(7 * 86_400_000 + 1);
        assert!(w.sign_in("erin", "Temp-Passw0rd!").unwrap_err().contains("Temporary password has expired"));
    }
}

fn tokens(o: Outcome) -> janus_core::auth::Tokens {
    match o {
        Outcome::Tokens(t) => t,
        other => panic!("expected tokens, got {other:?}"),
    }
}

#[test]
fn refresh_tokens_expire_and_sign_out_revokes_only_earlier_tokens() {
    for backend in backends() {
        let w = world(backend);
        w.user("frank", "Right-Passw0rd!");
        let t = tokens(w.sign_in("frank", "Right-Passw0rd!").unwrap());
        let refresh = t.refresh.clone().unwrap();
        let ctx = w.s.auth_ctx(&w.client, None, false).unwrap();
        let again = w.s.refresh(&ctx, &refresh, Some(None), false).unwrap();
        assert!(again.refresh.is_none(), "no new refresh token without rotation");
        let claims: Value = {
            use base64::Engine;
            let p = again.id.split('.').nth(1).unwrap();
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
        };
        assert_eq!(claims["auth_time"], json!(1_800_000_000), "auth_time survives refresh");

        w.clock.advance(1); // time moves between issue and sign-out (tokens carry ms)
        w.s.global_sign_out(&t.access).unwrap();
        assert!(w.s.get_user(&t.access).is_err(), "access token revoked");
        assert!(w.s.refresh(&ctx, &refresh, Some(None), false).is_err(), "refresh token revoked");
        let fresh = tokens(w.sign_in("frank", "Right-Passw0rd!").unwrap());
        assert!(w.s.get_user(&fresh.access).is_ok(), "a sign-in right after sign-out works");

        w.clock.advance(30 * 86_400_000 + 2000);
        let e = w.s.refresh(&ctx, fresh.refresh.as_ref().unwrap(), Some(None), false).unwrap_err();
        assert_eq!(e.to_string(), "Refresh Token has expired");
    }
}
