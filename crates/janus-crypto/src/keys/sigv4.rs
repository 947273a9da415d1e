//! AWS Signature Version 4 for the requests Janus sends AWS: KMS's JSON 1.1 calls (`POST /`
//! with `content-type`, `host`, `x-amz-date` and `x-amz-target` signed) and Lambda's Invoke. The time comes from the
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

/// One request to sign: who signs, for which region and service, what is sent where.
pub struct Signed<'a> {
    /// The signer's credentials.
    pub creds: &'a Credentials,
    /// Region of the credential scope.
    pub region: &'a str,
    /// Service of the credential scope (`lambda`, `kms`).
    pub service: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// The path as sent (already percent-encoded; signed encoded once more, as every
    /// service but S3 expects).
    pub path: &'a str,
    /// The query as sent (already encoded and in canonical order), without `?`.
    pub query: &'a str,
    /// The `host` header.
    pub host: &'a str,
    /// Temporary credentials' session token (`x-amz-security-token`, signed).
    pub session_token: Option<&'a str>,
}

impl Signed<'_> {
    /// `x-amz-date`, the session token when there is one, and `authorization` for a request
    /// carrying `headers` (lower-case names; all signed, with `host`) and `body`.
    pub fn headers(&self, headers: &[(&str, &str)], body: &[u8], now_ms: i64) -> Vec<(&'static str, String)> {
        let date = amz_date(now_ms);
        let day = &date[..8];
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        all.extend([("host", self.host), ("x-amz-date", date.as_str())]);
        if let Some(t) = self.session_token {
            all.push(("x-amz-security-token", t));
        }
        all.sort_unstable();
        let signed = all.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(";");
        let listed: String = all.iter().map(|(k, v)| format!("{k}:{}\n", v.trim())).collect();
        let canonical = format!(
            "{}\n{}\n{}\n{listed}\n{signed}\n{}",
            self.method,
            canonical_uri(self.path),
            self.query,
            hex::encode(Sha256::digest(body))
        );
        let scope = format!("{day}/{}/{}/aws4_request", self.region, self.service);
        let to_sign =
            format!("AWS4-HMAC-SHA256\n{date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
        let key = derive_key(&self.creds.secret_access_key, day, self.region, self.service);
        let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
        let mut out = vec![("x-amz-date", date.clone())];
        if let Some(t) = self.session_token {
            out.push(("x-amz-security-token", t.to_owned()));
        }
        out.push((
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
                self.creds.access_key_id
            ),
        ));
        out
    }
}

/// A path's canonical form: every byte but the unreserved ones and `/` percent-encoded.
fn canonical_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_format_like_aws() {
        assert_eq!(super::amz_date(0), "19700101T000000Z");
        assert_eq!(super::amz_date(1_440_938_160_000), "20150830T123600Z");
        assert_eq!(super::amz_date(951_782_400_000), "20000229T000000Z");
    }

    /// The KMS request's signature, computed step by step as the SigV4 documentation lays it
    /// out, is what the general signer produces.
    #[test]
    fn the_kms_signature_is_the_documented_computation() {
        use sha2::{Digest, Sha256};
        let creds = super::Credentials { access_key_id: "AKID".into(), secret_access_key: "secret".into() };
        let (body, target, now) = (br#"{"KeyId":"k"}"#, "TrentService.Decrypt", 1_440_938_160_000);
        let canonical = format!(
            "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:kms.local\nx-amz-date:20150830T123600Z\n\
             x-amz-target:{target}\n\ncontent-type;host;x-amz-date;x-amz-target\n{}",
            hex::encode(Sha256::digest(body))
        );
        let scope = "20150830/eu-west-1/kms/aws4_request";
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let key = super::derive_key("secret", "20150830", "eu-west-1", "kms");
        let expected = hex::encode(super::hmac(&key, to_sign.as_bytes()));
        let signed = super::Signed {
            creds: &creds,
            region: "eu-west-1",
            service: "kms",
            method: "POST",
            path: "/",
            query: "",
            host: "kms.local",
            session_token: None,
        };
        let sent = [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target)];
        let headers = signed.headers(&sent, body, now);
        let auth = &headers.iter().find(|(k, _)| *k == "authorization").unwrap().1;
        assert!(auth.ends_with(&format!("Signature={expected}")), "{auth}");
    }

    #[test]
    fn a_path_is_encoded_once_more_for_its_canonical_form() {
        assert_eq!(
            super::canonical_uri("/2015-03-31/functions/a%3Ab/invocations"),
            "/2015-03-31/functions/a%253Ab/invocations"
        );
    }

    /// The signature changes with every signed part.
    #[test]
    fn signatures_cover_method_path_headers_and_body() {
        let creds = super::Credentials { access_key_id: "AKID".into(), secret_access_key: "s".into() };
        let base = super::Signed {
            creds: &creds,
            region: "us-east-1",
            service: "lambda",
            method: "POST",
            path: "/2015-03-31/functions/f/invocations",
            query: "",
            host: "h",
            session_token: None,
        };
        let sig = |s: &super::Signed<'_>, body: &[u8]| s.headers(&[("content-type", "application/json")], body, 0);
        let a = sig(&base, b"{}");
        assert_ne!(a, sig(&base, b"{ }"));
        assert_ne!(a, sig(&super::Signed { path: "/x", ..base }, b"{}"));
        assert_ne!(a, sig(&super::Signed { query: "Qualifier=live", ..base }, b"{}"));
        let with_token = sig(&super::Signed { session_token: Some("t"), ..base }, b"{}");
        assert!(with_token.iter().any(|(k, v)| *k == "x-amz-security-token" && v == "t"));
        assert!(with_token
            .last()
            .unwrap()
            .1
            .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"));
    }
}
