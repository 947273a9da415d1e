//! `floor`: the raw cost of the cryptography each hot call cannot avoid, measured on one
//! thread with Janus's own code (janus-crypto), for bench/hot.sh's "ratio to floor":
//!
//! * `verify_us`: one RS256 verification (`jwt::verify` of a Cognito-shaped access token:
//!   what GetUser must do before it reads anything);
//! * `sign_us`: one RS256 signature (`SigningKey::sign`); a refresh signs two tokens;
//! * `srp_us`: the server's SRP math of one USER_SRP_AUTH sign-in (`Group::start` and
//!   `Group::verify_claim`, with the client's proof computed beforehand, outside the clock);
//! * `sigv4_us`: the HMAC-SHA256 chain and canonical-request hash of one SigV4 check.
//!
//! Prints `FLOOR verify_us=V sign_us=S srp_us=R sigv4_us=H` (medians of `--rounds` rounds of
//! `--secs` each).

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use janus_crypto::jwt::{self, generate_pkcs8, SigningKey};
use janus_crypto::srp::{client as srp_client, Group};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{Args, Res};

/// Median µs per call of `f`, over `rounds` rounds of `secs` seconds.
fn per_call_us(rounds: usize, secs: f64, mut f: impl FnMut() -> Res<()>) -> Res<f64> {
    let mut medians = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let (start, mut n) = (Instant::now(), 0u64);
        while start.elapsed() < Duration::from_secs_f64(secs) {
            f()?;
            n += 1;
        }
        medians.push(start.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    medians.sort_by(f64::total_cmp);
    Ok(medians[medians.len() / 2])
}

fn err(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub fn floor(args: &Args) -> Res<()> {
    let rounds: usize = args.num("rounds")?.unwrap_or(3);
    let secs: f64 = args.num("secs")?.unwrap_or(1.0);
    let rng = janus_crypto::OsRandom;
    let der = generate_pkcs8(&rng, 2048).map_err(err)?;
    let key = SigningKey::from_pkcs8("bench", &der).map_err(err)?;
    let claims = json!({
        "sub": "4kq2b0dl1qoh8nbsq4hb1u2ai9", "token_use": "access", "scope": "aws.cognito.signin.user.admin",
        "auth_time": 1_800_000_000, "iss": "http://127.0.0.1:19240/us-east-1_AbCdEfGhI", "exp": 1_800_003_600,
        "iat": 1_800_000_000, "version": 2, "jti": "0192b7a4-1f2e-7c3d-8e4f-5a6b7c8d9e0f",
        "client_id": "4kq2b0dl1qoh8nbsq4hb1u2ai9", "username": "u1", "origin_jti": "0192b7a4-1f2e-7c3d-8e4f-5a6b7c8d9e10",
    });
    let token = key.sign(&claims, &rng).map_err(err)?;
    let public = [key.public()];
    let verify_us = per_call_us(rounds, secs, || jwt::verify(&token, &public).map(drop).map_err(err))?;
    let sign_us = per_call_us(rounds, secs, || key.sign(&claims, &rng).map(drop).map_err(err))?;

    let group = Group::new();
    let (pool, user, password) = ("AbCdEfGhI", "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "Bench-Passw0rd!");
    let verifier = group.verifier(pool, user, password, &rng).map_err(err)?;
    let (a_hex, a) = srp_client::ephemeral(&group, &[7u8; 32]);
    let (block, timestamp) = (b"sealed-secret-block".as_slice(), "Mon Dec 7 01:00:00 UTC 2026");
    // The client's proof for each server ephemeral, made before the clock runs.
    let handshakes = (0..8)
        .map(|_| -> Res<_> {
            let eph = group.start(&verifier, &rng).map_err(err)?;
            let claim = srp_client::signature(
                &group,
                &a,
                &a_hex,
                &eph.big_b,
                &verifier.salt,
                pool,
                user,
                password,
                block,
                timestamp,
            )
            .map_err(err)?;
            Ok((eph, claim))
        })
        .collect::<Res<Vec<_>>>()?;
    let mut i = 0;
    let srp_us = per_call_us(rounds, secs, || {
        group.start(&verifier, &rng).map_err(err)?;
        let (eph, claim) = &handshakes[i % handshakes.len()];
        i += 1;
        let ok = group.verify_claim(&verifier, eph, &a_hex, pool, user, block, timestamp, claim).map_err(err)?;
        ok.then_some(()).ok_or_else(|| "the SRP proof did not verify".to_string())
    })?;

    let canonical = "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:127.0.0.1:19229\nx-amz-date:20261207T010000Z\n\
                     x-amz-target:AWSCognitoIdentityProviderService.AdminGetUser\n\ncontent-type;host;x-amz-date;x-amz-target\n\
                     0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let sigv4_us = per_call_us(rounds, secs, || {
        let hashed = hex::encode(Sha256::digest(canonical.as_bytes()));
        let to_sign =
            format!("AWS4-HMAC-SHA256\n20261207T010000Z\n20261207/us-east-1/cognito-idp/aws4_request\n{hashed}");
        let mut k = hmac(b"AWS4BenchBenchBenchBenchBenchBenchBenchBench", b"20261207");
        for part in [b"us-east-1".as_slice(), b"cognito-idp", b"aws4_request"] {
            k = hmac(&k, part);
        }
        std::hint::black_box(hmac(&k, to_sign.as_bytes()));
        Ok(())
    })?;
    println!("FLOOR verify_us={verify_us:.1} sign_us={sign_us:.1} srp_us={srp_us:.1} sigv4_us={sigv4_us:.2}");
    Ok(())
}
