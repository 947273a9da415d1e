//! AWS Signature Version 4 for the JSON 1.1 requests the AWS KMS provider sends: `POST /` with
//! `content-type`, `host`, `x-amz-date` and `x-amz-target` signed. The time comes from the
//! injected clock (Unix ms), formatted without a date library. The SigV4 primitives here
//! (credentials, HMAC, the signing-key derivation, the date format) are also what janus-http
//! verifies administrator calls with.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Credentials that sign requests.
#[derive(Clone)]
pub struct Credentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// The SigV4 signing key of `secret` for `day` (`YYYYMMDD`), `region` and `service`.
pub fn derive_key(secret: &str, day: &str, region: &str, service: &str) -> Vec<u8> {
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), day.as_bytes());
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    key
}

/// `YYYYMMDDTHHMMSSZ` for Unix milliseconds (proleptic Gregorian, UTC).
pub fn amz_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The headers to add to a signed `POST /` of `body` with `target` to `host`.
pub fn sign(
    creds: &Credentials,
    region: &str,
    service: &str,
    host: &str,
    target: &str,
    body: &[u8],
    now_ms: i64,
) -> Vec<(&'static str, String)> {
    let date = amz_date(now_ms);
    let day = &date[..8];
    let signed = "content-type;host;x-amz-date;x-amz-target";
    let canonical = format!(
        "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:{host}\nx-amz-date:{date}\nx-amz-target:{target}\n\n{signed}\n{}",
        hex::encode(Sha256::digest(body))
    );
    let scope = format!("{day}/{region}/{service}/aws4_request");
    let to_sign = format!("AWS4-HMAC-SHA256\n{date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
    let key = derive_key(&creds.secret_access_key, day, region, service);
    let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
    vec![
        ("content-type", "application/x-amz-json-1.1".to_owned()),
        ("x-amz-date", date.clone()),
        ("x-amz-target", target.to_owned()),
        (
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
                creds.access_key_id
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_format_like_aws() {
        assert_eq!(super::amz_date(0), "19700101T000000Z");
        assert_eq!(super::amz_date(1_440_938_160_000), "20150830T123600Z");
        assert_eq!(super::amz_date(951_782_400_000), "20000229T000000Z");
    }
}
