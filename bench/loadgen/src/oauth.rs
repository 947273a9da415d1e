//! The OAuth benchmark's pieces (bench/oauth.sh): token-endpoint requests (form bodies,
//! client_secret_basic) for the `oauth-cc` and `oauth-refresh` loads, and `rs256`, the raw
//! RS256 signing rate of `janus_crypto::jwt` on T threads with a Cognito-shaped claim set —
//! the ceiling for tokens/s, since each client_credentials token is one signature.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use janus_crypto::jwt::{generate_pkcs8, SigningKey};
use serde_json::json;

use crate::{Args, Res};

/// A POST of `body` (application/x-www-form-urlencoded) to `path`, with HTTP Basic
/// credentials when given.
pub fn form_request(host: &str, path: &str, body: &str, basic: Option<(&str, &str)>) -> Vec<u8> {
    let auth = basic.map_or(String::new(), |(id, secret)| {
        format!("Authorization: Basic {}\r\n", B64.encode(format!("{id}:{secret}")))
    });
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n{auth}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Percent-encode a form value (RFC 3986 unreserved characters stay).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `rs256 --threads T --duration S`: prints `RS256 threads=T secs=S signatures=N signatures_s=R
/// cpu_s=C` (C: this process's CPU seconds while signing, so signatures per CPU second can be
/// compared with a server's tokens per CPU second on a machine others share).
pub fn rs256_rate(args: &Args) -> Res<()> {
    let threads: usize = args.num("threads")?.unwrap_or(2);
    let duration: f64 = args.num("duration")?.unwrap_or(3.0);
    let rng = janus_crypto::OsRandom;
    let der = generate_pkcs8(&rng, 2048).map_err(|e| format!("key: {e:?}"))?;
    let key = Arc::new(SigningKey::from_pkcs8("bench", &der).map_err(|e| format!("key: {e:?}"))?);
    let claims = json!({
        "sub": "4kq2b0dl1qoh8nbsq4hb1u2ai9", "token_use": "access", "scope": "https://api.example.com/read",
        "auth_time": 1_800_000_000, "iss": "http://127.0.0.1:19240/us-east-1_AbCdEfGhI", "exp": 1_800_003_600,
        "iat": 1_800_000_000, "version": 2, "jti": "0192b7a4-1f2e-7c3d-8e4f-5a6b7c8d9e0f",
        "client_id": "4kq2b0dl1qoh8nbsq4hb1u2ai9",
    });
    let cpu0 = crate::procstat::cpu_seconds("self");
    let deadline = Instant::now() + Duration::from_secs_f64(duration);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (key, claims) = (key.clone(), claims.clone());
            std::thread::spawn(move || -> Res<u64> {
                let rng = janus_crypto::OsRandom;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    key.sign(&claims, &rng).map_err(|e| format!("sign: {e:?}"))?;
                    n += 1;
                }
                Ok(n)
            })
        })
        .collect();
    let mut total = 0;
    for w in workers {
        total += w.join().map_err(|_| "a signing thread panicked".to_string())??;
    }
    let cpu = cpu0.zip(crate::procstat::cpu_seconds("self")).map_or(f64::NAN, |(a, b)| b - a);
    println!(
        "RS256 threads={threads} secs={duration} signatures={total} signatures_s={:.1} cpu_s={cpu:.2}",
        total as f64 / duration
    );
    Ok(())
}
