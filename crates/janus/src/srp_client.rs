//! USER_SRP_AUTH from the client side, as the AWS SDKs do it (for `janus drill`): send `A`,
//! answer the PASSWORD_VERIFIER challenge with the claim signature.

use base64::Engine as _;
use serde_json::{json, Value};

use janus_crypto::srp::{client, Group};

use crate::client::Client;

/// Sign `user` in with SRP through `c`; the AuthenticationResult.
pub fn sign_in(c: &Client, pool: &str, client_id: &str, user: &str, password: &str) -> Result<Value, String> {
    let g = Group::new();
    let mut a_bytes = [0u8; 32];
    getrandom(&mut a_bytes)?;
    let (a_hex, a) = client::ephemeral(&g, &a_bytes);
    let start = json!({"ClientId": client_id, "AuthFlow": "USER_SRP_AUTH",
        "AuthParameters": {"USERNAME": user, "SRP_A": a_hex}});
    let challenge = c.public("InitiateAuth", &start).map_err(|e| e.to_string())?;
    let p = &challenge["ChallengeParameters"];
    let field = |k: &str| p[k].as_str().map(str::to_owned).ok_or_else(|| format!("challenge without {k}"));
    let (b, salt, block, user_id) =
        (field("SRP_B")?, field("SALT")?, field("SECRET_BLOCK")?, field("USER_ID_FOR_SRP")?);
    let block_raw = base64::engine::general_purpose::STANDARD.decode(&block).map_err(|e| e.to_string())?;
    let pool_name = pool.split_once('_').map_or(pool, |(_, name)| name);
    let timestamp = timestamp();
    let sig = client::signature(&g, &a, &a_hex, &b, &salt, pool_name, &user_id, password, &block_raw, &timestamp)
        .map_err(|e| e.to_string())?;
    let answer = json!({"ClientId": client_id, "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeResponses": {"USERNAME": user_id, "PASSWORD_CLAIM_SECRET_BLOCK": block, "TIMESTAMP": timestamp,
            "PASSWORD_CLAIM_SIGNATURE": base64::engine::general_purpose::STANDARD.encode(sig)}});
    let done = c.public("RespondToAuthChallenge", &answer).map_err(|e| e.to_string())?;
    Ok(done["AuthenticationResult"].clone())
}

fn getrandom(buf: &mut [u8]) -> Result<(), String> {
    use janus_types::Random as _;
    janus_crypto::OsRandom.fill(buf);
    Ok(())
}

/// The SDKs' timestamp, e.g. `Sat Nov 21 19:58:00 UTC 2026`.
fn timestamp() -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let amz = janus_http::sigv4::format_amz_date(secs * 1000); // YYYYMMDDTHHMMSSZ
    let (y, m, d) = (&amz[0..4], amz[4..6].parse::<usize>().unwrap_or(1), amz[6..8].parse::<u32>().unwrap_or(1));
    let weekday = DAYS[(secs.div_euclid(86_400).rem_euclid(7)) as usize];
    format!("{weekday} {} {d} {}:{}:{} UTC {y}", MONTHS[m - 1], &amz[9..11], &amz[11..13], &amz[13..15])
}
