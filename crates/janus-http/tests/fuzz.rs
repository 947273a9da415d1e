//! Fuzzing on stable Rust (issue 13): proptest drives generated requests through the whole
//! HTTP application in process — a real store, real keys, the real router — and every answer
//! must be a clean refusal or a success, never a 500 or a panic, and never carry a secret.
//!
//! - `cognito_requests`: inputs generated from botocore's model (`model/cognito-idp.json`),
//!   every operation, members well-typed or mistyped, missing or extra, with values drawn from
//!   the world's real ids, ListUsers filter fragments, JWT-like tokens, SRP hex and junk —
//!   which reaches the JSON decoder, model validation, the ListUsers filter parser, the JWT
//!   parser and every handler;
//! - `signatures`: mangled SigV4 `Authorization` and date headers;
//! - `pages_and_oauth`: the hosted pages' forms, cookies and queries, and the OAuth endpoints;
//! - `replication`: the replication endpoints with the secret, and change records (the wire
//!   format) applied to a replica's store.
//!
//! CI runs proptest's default 256 cases per target. A longer run:
//! `PROPTEST_CASES=20000 cargo test --release -p janus-http --test fuzz` (docs/security.md).

use axum::body::Body;
use axum::http::{HeaderValue, Request};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::sync::{Arc, OnceLock};

use janus_core::pools::CreatePool;
use janus_http::{AdminCredentials, AppState};
use janus_repl::{Peers, Replicator};
use janus_testkit::{Backend, WorldBuilder};
use janus_types::Clock;

const SECRET: &str = "fuzz-replication-secret";
const ADMIN_SECRET: &str = "fuzz/Secret+Key0123456789abcdefghijklmn";

struct World {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
    admin: AdminCredentials,
    pool: String,
    client: String,
    client_secret: String,
    model: Value,
    ops: Vec<(String, bool)>,
    /// The services' world (its store, and the clock requests are signed by).
    base: janus_testkit::World,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let base = WorldBuilder::new(Backend::Sqlite).build();
        let services = base.node(1);
        let pool =
            services.create_pool(serde_json::from_value::<CreatePool>(json!({"PoolName": "fuzz"})).unwrap()).unwrap();
        let mut cfg = Map::new();
        cfg.insert("ExplicitAuthFlows".into(), json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]));
        cfg.insert("AllowedOAuthFlowsUserPoolClient".into(), json!(true));
        cfg.insert("AllowedOAuthFlows".into(), json!(["code"]));
        cfg.insert("AllowedOAuthScopes".into(), json!(["openid", "email"]));
        cfg.insert("CallbackURLs".into(), json!(["https://app.example.com/cb"]));
        cfg.insert("SupportedIdentityProviders".into(), json!(["COGNITO"]));
        let client = services.create_client(&pool.id, "c".into(), true, None, cfg).unwrap();
        let peers = Peers {
            advertise: "http://127.0.0.1:9".into(),
            urls: Default::default(),
            secret: Some(SECRET.into()),
            spool: base.store.dir().to_owned(),
        };
        let admin = AdminCredentials { access_key_id: "AKIAFUZZ".into(), secret_access_key: ADMIN_SECRET.into() };
        let state = AppState::new(Replicator::new(services, peers), admin.clone()).unwrap();
        let model_path = concat!(env!("CARGO_MANIFEST_DIR"), "/model/cognito-idp.json");
        let model: Value = serde_json::from_str(&std::fs::read_to_string(model_path).unwrap()).unwrap();
        // The operations Janus implements (the others answer UnknownOperationException at
        // once), but the two that would delete the world's pool and client.
        let mut ops: Vec<(String, bool)> = janus_http::ops::table()
            .values()
            .filter(|o| {
                model["operations"].get(o.name).is_some()
                    && !["DeleteUserPool", "DeleteUserPoolClient"].contains(&o.name)
            })
            .map(|o| (o.name.to_owned(), o.auth == janus_http::ops::Auth::Admin))
            .collect();
        ops.sort();
        World {
            rt: tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
            router: janus_http::router(Arc::new(state)),
            admin,
            pool: pool.id.to_string(),
            client: client.id.to_string(),
            client_secret: client.secret.clone().unwrap_or_default(),
            model,
            ops,
            base,
        }
    })
}

/// A small deterministic generator (splitmix64): proptest picks the seed and shrinks it.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn junk(g: &mut Gen, w: &World) -> String {
    let pieces = [
        "",
        " ",
        "a",
        "alice",
        "us-east-1_nothere",
        "\u{0}",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "email ^= \"a\"",
        "username = \"alice\"",
        "sub=\"",
        "status = \"Enabled\"",
        "name \"",
        "\"\"",
        "=",
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjkyMjkvdXMtZWFzdC0xX25vdGhlcmUifQ.c2ln",
        "a.b.c",
        "ff",
        "00",
        "%00",
        "\u{202e}",
        "😀",
        "null",
        "{}",
        "[]",
        "-1",
        "1e309",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "javascript:alert(1)",
        "https://app.example.com/cb",
    ];
    let mut s = String::new();
    for _ in 0..=g.below(3) {
        match g.below(6) {
            0 => s.push_str(&w.pool),
            1 => s.push_str(&w.client),
            2 => s.push_str(&"x".repeat(g.below(3000) as usize)),
            _ => s.push_str(g.pick::<&str>(&pieces)),
        }
    }
    s
}

/// A value for `shape` of the model: usually well-typed, sometimes not.
fn value(g: &mut Gen, w: &World, shape_name: &str, member: &str, depth: u32) -> Value {
    let shape = &w.model["shapes"][shape_name];
    if depth > 6 || g.chance(4) {
        return match g.below(5) {
            0 => Value::Null,
            1 => json!(g.next() as i64),
            2 => json!([junk(g, w)]),
            3 => json!({"x": junk(g, w)}),
            _ => json!(junk(g, w)),
        };
    }
    let bound = |key: &str, default: u64| shape[key].as_f64().map_or(default, |v| v as u64);
    match shape["type"].as_str().unwrap_or("string") {
        "structure" => {
            let mut out = Map::new();
            let required: Vec<&str> =
                shape["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            for (name, m) in shape["members"].as_object().into_iter().flatten() {
                let keep = if required.contains(&name.as_str()) { g.chance(92) } else { g.chance(45) };
                if keep {
                    let v = value(g, w, m["shape"].as_str().unwrap_or_default(), name, depth + 1);
                    out.insert(name.clone(), v);
                }
            }
            if g.chance(5) {
                out.insert(junk(g, w), json!(junk(g, w)));
            }
            Value::Object(out)
        }
        "list" => {
            let n = g.below(bound("max", 3).min(4) + 2);
            let item = shape["member"]["shape"].as_str().unwrap_or_default().to_owned();
            Value::Array((0..n).map(|_| value(g, w, &item, member, depth + 1)).collect())
        }
        "map" => {
            let item = shape["value"]["shape"].as_str().unwrap_or_default().to_owned();
            let n = g.below(4);
            Value::Object((0..n).map(|_| (junk(g, w), value(g, w, &item, member, depth + 1))).collect())
        }
        "integer" | "long" => match g.below(4) {
            0 => json!(i64::MAX),
            1 => json!(-1),
            _ => json!(g.below(bound("max", 100) + 3)),
        },
        "boolean" => json!(g.chance(50)),
        "timestamp" => json!(g.below(2_000_000_000)),
        _ => {
            if let Some(options) = shape["enum"].as_array().filter(|_| g.chance(80)) {
                return g.pick(options).clone();
            }
            match member {
                "UserPoolId" if g.chance(85) => json!(w.pool),
                "ClientId" if g.chance(85) => json!(w.client),
                "Username" | "USERNAME" if g.chance(60) => json!("alice"),
                _ => json!(junk(g, w)),
            }
        }
    }
}

fn call(w: &World, req: Request<Body>) -> (u16, String) {
    use tower::ServiceExt;
    w.rt.block_on(async {
        let resp = w.router.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let body = axum::body::to_bytes(resp.into_body(), 4 << 20).await.unwrap_or_default();
        (status, String::from_utf8_lossy(&body).into_owned())
    })
}

/// The checks every answer passes.
fn clean(w: &World, what: &str, status: u16, body: &str) -> Result<(), TestCaseError> {
    prop_assert!(status < 500 || status == 503, "{what}: {status} {body}");
    // (A success may carry a secret to whom it belongs: DescribeUserPoolClient's ClientSecret.)
    let refusal = status >= 400;
    prop_assert!(
        !refusal || !body.contains(ADMIN_SECRET) && !body.contains(&w.client_secret),
        "{what}: a secret in {body}"
    );
    Ok(())
}

fn cognito_request(w: &World, op: &str, body: Vec<u8>, sign: bool) -> Request<Body> {
    let now_ms = w.base.clock.now_ms();
    let amz_date = janus_http::sigv4::format_amz_date(now_ms);
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:9229"));
    headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.1"));
    headers.insert("x-amz-date", HeaderValue::from_str(&amz_date).unwrap());
    let target = format!("AWSCognitoIdentityProviderService.{op}");
    headers.insert("x-amz-target", HeaderValue::from_str(&target).unwrap());
    if sign {
        let signed =
            janus_http::sigv4::Request { method: "POST", path: "/", query: "", headers: &headers, body: &body };
        let auth = janus_http::sigv4::sign(&w.admin, &signed, &amz_date, "us-west-2");
        headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
    }
    let mut req = Request::post("/").body(Body::from(body)).unwrap();
    *req.headers_mut() = headers;
    req
}

proptest! {
    #[test]
    fn cognito_requests(op in 0usize..1000, seed in any::<u64>(), unsigned in prop::bool::weighted(0.1), garble in 0u8..20) {
        let w = world();
        let (op, admin) = &w.ops[op % w.ops.len()];
        let sign = *admin && !unsigned;
        let mut g = Gen(seed);
        let input_shape = w.model["operations"][op]["input"]["shape"].as_str().unwrap_or_default().to_owned();
        let input = value(&mut g, w, &input_shape, "", 0);
        let mut body = serde_json::to_vec(&input).unwrap();
        if garble == 0 && !body.is_empty() {
            let at = g.below(body.len() as u64) as usize;
            body.truncate(at); // a cut-off body
        }
        let (status, text) = call(w, cognito_request(w, op, body, sign));
        clean(w, op, status, &text)?;
        if status == 400 {
            let v: Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{op}: {e}: {text}")))?;
            prop_assert!(v["__type"].is_string() && v["message"].is_string(), "{op}: {text}");
        }
    }

    #[test]
    fn signatures(auth in "\\PC{0,300}", date in "[0-9TZ]{0,20}", seed in any::<u64>()) {
        let w = world();
        let mut g = Gen(seed);
        let mut req = cognito_request(w, "ListUserPools", br#"{"MaxResults":1}"#.to_vec(), true);
        let real = req.headers()["authorization"].to_str().unwrap().to_owned();
        let mangled = match g.below(4) {
            0 => auth.clone(),
            1 => real.replacen("SignedHeaders=", &format!("SignedHeaders={auth};"), 1),
            2 => real.replace("Credential=", &format!("Credential={auth}")),
            _ => format!("AWS4-HMAC-SHA256 {auth}"),
        };
        if let Ok(v) = HeaderValue::from_str(&mangled) {
            req.headers_mut().insert("authorization", v);
        }
        if g.chance(50) {
            if let Ok(v) = HeaderValue::from_str(&date) {
                req.headers_mut().insert("x-amz-date", v);
            }
        }
        let (status, text) = call(w, req);
        clean(w, "signature", status, &text)?;
        prop_assert!(status == 200 || status == 400, "{status} {text}");
    }

    #[test]
    fn pages_and_oauth(path in 0usize..12, post in any::<bool>(), seed in any::<u64>()) {
        let w = world();
        let mut g = Gen(seed);
        let paths = ["/login", "/login/challenge", "/signup", "/confirm", "/forgotPassword", "/confirmForgotPassword",
            "/oauth2/authorize", "/oauth2/token", "/oauth2/userInfo", "/oauth2/revoke", "/logout", "/.well-known/jwks.json"];
        let keys = ["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
            "code_challenge_method", "nonce", "username", "password", "csrf", "request", "session", "code",
            "grant_type", "refresh_token", "code_verifier", "token", "email", "SETUP_CODE", "challenge", "logout_uri"];
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        for _ in 0..g.below(8) {
            let k = g.pick(&keys).to_string();
            let v = if g.chance(30) { w.client.clone() } else { junk(&mut g, w) };
            pairs.append_pair(&k, &v);
        }
        let encoded = pairs.finish();
        let uri = if post {
            format!("/oauth/{}{}", w.pool, paths[path])
        } else {
            format!("/oauth/{}{}?{encoded}", w.pool, paths[path])
        };
        let mut req = if post {
            Request::post(uri).header("content-type", "application/x-www-form-urlencoded").body(Body::from(encoded)).unwrap()
        } else {
            Request::get(uri).body(Body::empty()).unwrap()
        };
        let cookie = format!("janus-csrf={}; __Host-janus-csrf={}", junk(&mut g, w), junk(&mut g, w));
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            req.headers_mut().insert("cookie", v);
        }
        let auth = match g.below(3) {
            0 => format!("Bearer {}", junk(&mut g, w)),
            1 => format!("Basic {}", junk(&mut g, w)),
            _ => String::new(),
        };
        if let Ok(v) = HeaderValue::from_str(&auth) {
            req.headers_mut().insert("authorization", v);
        }
        let (status, text) = call(w, req);
        clean(w, paths[path], status, &text)?;
    }

    #[test]
    fn replication(endpoint in 0usize..10, seed in any::<u64>(), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let w = world();
        let mut g = Gen(seed);
        // `host` and `demote` are sent only junk: a well-formed one would start a puller
        // toward the made-up URL (their logic has its own tests).
        let endpoints = ["status", "unhost", "key-check", "replica-status", "security", "regional", "host", "demote",
            "changes?after=0&wait_ms=0", "digest"];
        let pool = if g.chance(70) { w.pool.clone() } else { junk(&mut g, w).chars().filter(char::is_ascii_alphanumeric).collect() };
        let body = match g.below(3) {
            0 if endpoint < 6 => serde_json::to_vec(&json!({"v": 1, "region": junk(&mut g, w), "source": junk(&mut g, w),
                "status": junk(&mut g, w), "kind": g.pick(&["sign_in_failed", "revoked", "code_redeemed"]),
                "user": junk(&mut g, w), "applied": g.next() as i64, "settings": {}})).unwrap(),
            _ => bytes,
        };
        let path = format!("/replication/v1/pools/{pool}/{}", endpoints[endpoint]);
        let builder = if endpoint >= 8 { Request::get(path) } else { Request::post(path) };
        let req = builder.header("x-janus-replication-secret", SECRET).body(Body::from(body)).unwrap();
        let (status, text) = call(w, req);
        // (The change feed carries what the store holds: another region holds the secret.)
        prop_assert!(status < 500, "{}: {status} {text}", endpoints[endpoint]);
    }

    #[test]
    fn change_records(seed in any::<u64>()) {
        // The wire format of replication: records decoded and applied to a replica's store.
        let w = world();
        let mut g = Gen(seed);
        let mut record = json!({"v": 1, "pool": "us-east-1_replica", "seq": 1, "epoch": 1, "at_ms": 0,
            "key": {"kind": "user", "key": "alice"}, "state": null});
        let fields = ["v", "pool", "seq", "epoch", "at_ms", "key", "state"];
        for _ in 0..=g.below(3) {
            let f = *g.pick(&fields);
            record[f] = match g.below(5) {
                0 => json!(g.next()),
                1 => json!(junk(&mut g, w)),
                2 => json!({"kind": g.pick(&["pool", "client", "user", "group", "membership", "keys", "domain"]), "id": junk(&mut g, w),
                    "key": junk(&mut g, w), "name": junk(&mut g, w)}),
                3 => Value::Null,
                _ => json!({"user": {"username": junk(&mut g, w)}}),
            };
        }
        if let Ok(change) = serde_json::from_value::<janus_types::Change>(record) {
            let replica = janus_testkit::TestStore::new(Backend::Sqlite);
            let pool = change.pool.clone();
            let outcome = janus_repl::applier::apply_batch(&*replica.store, &pool, &[change], 0, |_| Ok(()));
            prop_assert!(!matches!(&outcome, Err(e) if e.to_string().contains("panicked")), "{outcome:?}");
        }
    }
}

/// The world answers a well-formed signed request (the fuzz targets' requests are signed by
/// the world's clock, so they reach the handlers rather than stopping at SigV4).
#[test]
fn a_well_formed_signed_request_is_answered() {
    let w = world();
    let body = serde_json::to_vec(&json!({"UserPoolId": w.pool})).unwrap();
    let (status, text) = call(w, cognito_request(w, "ListUsers", body, true));
    assert_eq!(status, 200, "{text}");
}
