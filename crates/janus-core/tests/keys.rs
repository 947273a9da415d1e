//! Envelope encryption inside the services (issue 5): a ciphertext swapped between two users'
//! rows (or two clients') fails to decrypt loudly instead of yielding the other's value; a
//! store written before encryption still opens and signs users in; rotating a CMK re-wraps
//! the data key and everything still opens. Each runs on both store backends (the testkit).

use serde_json::{json, Map};
use std::collections::BTreeMap;

use janus_core::auth::Initiate;
use janus_core::pools::CreatePool;
use janus_core::users::create::CreateUser;
use janus_core::vault::KeySettings;
use janus_core::Services;
use janus_testkit::{backends, World, WorldBuilder};
use janus_types::{ClientId, Entity, PoolId, UserKey};

/// A region whose secrets are sealed under the built-in keyring.
fn keyed(backend: janus_testkit::Backend) -> World {
    WorldBuilder::new(backend).keyring().build()
}

fn pool_with_users(s: &Services) -> (PoolId, ClientId) {
    let pool = s.create_pool(serde_json::from_value::<CreatePool>(json!({"PoolName": "p"})).unwrap()).unwrap();
    let mut cfg = Map::new();
    cfg.insert("ExplicitAuthFlows".into(), json!(["ALLOW_USER_PASSWORD_AUTH"]));
    let client = s.create_client(&pool.id, "c".into(), true, None, cfg.clone()).unwrap();
    s.create_client(&pool.id, "d".into(), true, None, cfg).unwrap();
    for name in ["alice", "bob"] {
        let input = CreateUser {
            validation_data: Vec::new(),
            client_metadata: Default::default(),
            user_pool_id: pool.id.clone(),
            username: name.into(),
            user_attributes: vec![],
            temporary_password: None,
            force_alias_creation: false,
            message_action: Some("SUPPRESS".into()),
            desired_delivery_mediums: vec![],
        };
        s.admin_create_user(input).unwrap();
        s.admin_set_password(&pool.id, name, &format!("Pass-{name}-1234!"), true).unwrap();
    }
    (pool.id, client.id)
}

fn sign_in(s: &Services, client: &ClientId, name: &str) -> Result<(), String> {
    let params = BTreeMap::from([
        ("USERNAME".to_owned(), name.to_owned()),
        ("PASSWORD".to_owned(), format!("Pass-{name}-1234!")),
    ]);
    let secret = s.store.read().unwrap().client_by_id(client).unwrap().unwrap().1.secret.unwrap();
    let mut params = params;
    params.insert("SECRET_HASH".into(), secret_hash(&secret, name, client.as_str()));
    let input = Initiate {
        session: None,
        client_metadata: Default::default(),
        auth_flow: "USER_PASSWORD_AUTH".into(),
        auth_parameters: params,
        client_id: client.clone(),
        user_pool_id: None,
    };
    s.initiate_auth(input, false).map(|_| ()).map_err(|e| format!("{}: {e:?}", e.code()))
}

fn secret_hash(secret: &str, user: &str, client: &str) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{user}{client}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[test]
fn a_password_hash_swapped_between_two_users_fails_loudly() {
    for backend in backends() {
        let w = keyed(backend);
        let s = &w.s;
        let (pool, client) = pool_with_users(s);
        sign_in(s, &client, "alice").unwrap();
        let raw = s.raw_store();
        let (alice, bob) = {
            let r = raw.read().unwrap();
            let get = |n: &str| r.user(&pool, &UserKey::of(n, true)).unwrap().unwrap();
            (get("alice"), get("bob"))
        };
        assert!(alice.password.as_ref().unwrap().phc.starts_with("jenc1:"), "stored encrypted");
        let mut swapped = alice.clone();
        swapped.password.as_mut().unwrap().phc = bob.password.clone().unwrap().phc;
        let mut tx = raw.write(0).unwrap();
        tx.restore(&pool, &Entity::User(swapped)).unwrap();
        tx.commit().unwrap();
        let err = s.store.read().unwrap().user(&pool, &UserKey::of("alice", true)).expect_err("decryption fails");
        let chain = format!("{err:?}");
        assert!(err.is_internal(), "{chain}");
        assert!(chain.contains("user:alice/phc") && chain.contains("does not authenticate"), "{chain}");
        let refused = sign_in(s, &client, "alice").unwrap_err();
        assert!(refused.contains("does not authenticate"), "{refused}");
        sign_in(s, &client, "bob").unwrap();
    }
}

#[test]
fn a_client_secret_swapped_between_two_clients_fails_loudly() {
    for backend in backends() {
        let w = keyed(backend);
        let s = &w.s;
        let (pool, _) = pool_with_users(s);
        let raw = s.raw_store();
        let clients = raw.read().unwrap().clients(&pool, None, 10).unwrap();
        let (mut a, b) = (clients[0].clone(), clients[1].clone());
        a.secret = b.secret.clone();
        let mut tx = raw.write(0).unwrap();
        tx.restore(&pool, &Entity::Client(a.clone())).unwrap();
        tx.commit().unwrap();
        let err = s.store.read().unwrap().client(&pool, &a.id).expect_err("decryption fails");
        assert!(format!("{err:?}").contains(&format!("client:{}/secret", a.id.as_str())), "{err:?}");
    }
}

#[test]
fn a_store_written_before_encryption_still_opens_and_rotation_rewraps() {
    for backend in backends() {
        let w = WorldBuilder::new(backend).build();
        let (pool, client) = pool_with_users(&w.s);
        let s = w.with_keyring();
        sign_in(&s, &client, "alice").unwrap();
        assert!(s.raw_store().read().unwrap().keys(&pool).unwrap().unwrap().dek.is_none());
        // A new pool in the same store is encrypted; rotating its key re-wraps its data key.
        let (pool2, client2) = pool_with_users(&s);
        let before = s.raw_store().read().unwrap().keys(&pool2).unwrap().unwrap().dek.unwrap();
        let default_key = s.vault().unwrap().provider().default_key().unwrap();
        let (info, n) = s.rotate_key(&default_key).unwrap();
        assert_eq!((info.current_version, n), (2, 1));
        let after = s.raw_store().read().unwrap().keys(&pool2).unwrap().unwrap().dek.unwrap();
        assert_eq!(before.dek_id, after.dek_id);
        assert_ne!(before.wrapped, after.wrapped);
        sign_in(&s, &client2, "bob").unwrap();
        sign_in(&s, &client, "bob").unwrap();
        // The start-up migration encrypts the old pool in place; it still signs in.
        assert_eq!(s.encrypt_legacy_pools().unwrap(), 1);
        let raw = s.raw_store().read().unwrap().user(&pool, &UserKey::of("alice", true)).unwrap().unwrap();
        assert!(raw.password.unwrap().phc.starts_with("jenc1:"));
        let secret = s.raw_store().read().unwrap().client(&pool, &client).unwrap().unwrap().secret.unwrap();
        assert!(secret.starts_with("jenc1:"));
        sign_in(&s, &client, "alice").unwrap();
        assert_eq!(s.encrypt_legacy_pools().unwrap(), 0);
    }
}

#[test]
fn a_new_signing_key_is_published_first_and_the_old_one_until_tokens_expire() {
    for backend in backends() {
        let w = keyed(backend);
        let (s, clock) = (&w.s, w.clock.clone());
        let (pool, _) = pool_with_users(s);
        let kids = |s: &Services| -> Vec<String> {
            s.jwks(&pool).unwrap()["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect()
        };
        let signer = |s: &Services| {
            s.pool_keys(&*s.store.read().unwrap(), &pool).unwrap().signer(s.now_ms()).unwrap().kid().to_owned()
        };
        let old = signer(s);
        let r = s.rotate_signing_key(&pool).unwrap();
        assert_eq!(kids(s), vec![old.clone(), r.kid.clone()], "published at once");
        assert_eq!(signer(s), old, "but not signing before the activation delay");
        clock.advance(KeySettings::default().signing_activation_ms);
        assert_eq!(signer(s), r.kid);
        // The old key stays published until the longest token validity (1 h here) has passed
        // after the switch; the next rotation after that drops it.
        clock.advance(3_600_000 - 1000);
        let r2 = s.rotate_signing_key(&pool).unwrap();
        assert!(kids(s).contains(&old));
        clock.advance(2000);
        let r3 = s.rotate_signing_key(&pool).unwrap();
        assert_eq!(kids(s), vec![r.kid, r2.kid, r3.kid]);
    }
}
