//! What both benchmark binaries (`loadgen`, `replag`) need on the wire: a SigV4-signed
//! Cognito POST (service `cognito-idp`, headers content-type, host, x-amz-date,
//! x-amz-target), the calendar arithmetic for its date, and reading an HTTP/1.1 response head.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// HMAC-SHA256.
pub fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31) (Howard Hinnant's civil-from-days).
pub fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// `YYYYMMDDTHHMMSSZ` for now.
pub fn amz_date_now() -> String {
    let secs = now_secs();
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil(days);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Who signs, and for which host and region.
pub struct Credentials {
    pub host: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

impl Credentials {
    /// The administrator's key pair from JANUS_ADMIN_ACCESS_KEY_ID / _SECRET_ACCESS_KEY.
    pub fn from_env(host: &str, region: &str) -> Result<Self, String> {
        let env = |n: &str| std::env::var(n).map_err(|_| format!("{n} is not set"));
        Ok(Self {
            host: host.to_string(),
            access_key_id: env("JANUS_ADMIN_ACCESS_KEY_ID")?,
            secret_access_key: env("JANUS_ADMIN_SECRET_ACCESS_KEY")?,
            region: region.to_string(),
        })
    }

    /// The full signed `POST /` for X-Amz-Target `target` (e.g.
    /// `AWSCognitoIdentityProviderService.AdminGetUser` or `JanusAdmin.DescribeReplication`).
    pub fn signed_request(&self, target: &str, body: &str) -> Vec<u8> {
        let amz_date = amz_date_now();
        let date = &amz_date[..8];
        let signed_headers = "content-type;host;x-amz-date;x-amz-target";
        let canonical = format!(
            "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:{}\nx-amz-date:{amz_date}\nx-amz-target:{target}\n\n{signed_headers}\n{}",
            self.host,
            hex::encode(Sha256::digest(body.as_bytes()))
        );
        let scope = format!("{date}/{}/cognito-idp/aws4_request", self.region);
        let string_to_sign =
            format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
        let mut key = hmac(format!("AWS4{}", self.secret_access_key).as_bytes(), date.as_bytes());
        for part in [self.region.as_bytes(), b"cognito-idp", b"aws4_request"] {
            key = hmac(&key, part);
        }
        let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
        format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: {target}\r\n\
             X-Amz-Date: {amz_date}\r\nAuthorization: AWS4-HMAC-SHA256 Credential={}/{scope}, \
             SignedHeaders={signed_headers}, Signature={signature}\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            self.access_key_id,
            body.len()
        )
        .into_bytes()
    }
}

/// Where `needle` first occurs in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Status, Content-Length and whether the server will close, from a response head.
pub fn parse_head(head: &[u8]) -> Result<(u16, usize, bool), String> {
    let text = std::str::from_utf8(head).map_err(|_| "response head is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let (mut length, mut close) = (None, false);
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        match k.as_str() {
            "content-length" => length = v.parse().ok(),
            "connection" => close = v.eq_ignore_ascii_case("close"),
            "transfer-encoding" => return Err(format!("unsupported Transfer-Encoding {v}")),
            _ => {}
        }
    }
    Ok((status, length.ok_or("response without Content-Length")?, close))
}
