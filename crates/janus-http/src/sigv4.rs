//! AWS Signature Version 4 verification for administrator calls. Any region in the
//! credential scope is accepted (after a DNS failover, clients keep signing for their old
//! region); the service must be `cognito-idp` and the signature time within 15 minutes.
//! Written by hand because the AWS crates only sign and would pull in the whole SDK runtime;
//! the algorithm is small and the real SDKs (boto3, the AWS CLI) test it end to end.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use janus_types::Error;

/// The administrator's access key pair (the secret is never printed by `Debug`).
pub type AdminCredentials = janus_crypto::keys::sigv4::Credentials;

pub use janus_crypto::keys::sigv4::amz_date as format_amz_date;
use janus_crypto::keys::sigv4::{derive_key, hmac};

/// The parts of a request a signature covers.
pub struct Request<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path, as sent.
    pub path: &'a str,
    /// Query string, as sent (without `?`).
    pub query: &'a str,
    /// Headers.
    pub headers: &'a HeaderMap,
    /// Body bytes.
    pub body: &'a [u8],
}

struct Authorization<'a> {
    access_key_id: &'a str,
    scope: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

const SKEW_MS: i64 = 15 * 60 * 1000;

fn invalid_signature() -> Error {
    Error::InvalidSignatureException(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
            .into(),
    )
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let credential = credential?;
    let (access_key_id, scope) = credential.split_once('/')?;
    let mut parts = scope.split('/');
    let (date, region, service, terminator) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if terminator != "aws4_request" || parts.next().is_some() {
        return None;
    }
    Some(Authorization {
        access_key_id,
        scope,
        date,
        region,
        service,
        signed_headers: signed?.split(';').collect(),
        signature: signature?,
    })
}

/// Verify the request's SigV4 signature against `creds` at time `now_ms`.
pub fn verify(creds: &AdminCredentials, req: &Request<'_>, now_ms: i64) -> Result<(), Error> {
    let header = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::MissingAuthenticationTokenException("Missing Authentication Token".into()))?;
    let auth = parse_authorization(header).ok_or_else(|| {
        Error::IncompleteSignatureException(
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.".into(),
        )
    })?;
    if auth.access_key_id != creds.access_key_id {
        return Err(Error::UnrecognizedClientException(
            "The security token included in the request is invalid.".into(),
        ));
    }
    if auth.service != "cognito-idp" {
        return Err(Error::InvalidSignatureException(
            "Credential should be scoped to correct service: 'cognito-idp'.".into(),
        ));
    }
    check_signed_headers(req.headers, &auth.signed_headers)?;
    let amz_date = header_value(req.headers, "x-amz-date").ok_or_else(invalid_signature)?;
    let signed_at = parse_amz_date(amz_date).ok_or_else(invalid_signature)?;
    if amz_date.get(..8) != Some(auth.date) {
        return Err(Error::InvalidSignatureException(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..8]
        )));
    }
    if (now_ms - signed_at).abs() > SKEW_MS {
        return Err(Error::InvalidSignatureException(format!(
            "Signature expired: {amz_date} is now earlier or later than the allowed 15 minutes."
        )));
    }
    let canonical = canonical_request(req, &auth.signed_headers);
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}", auth.scope, hex::encode(Sha256::digest(canonical.as_bytes())));
    let key = signing_key(&creds.secret_access_key, auth.date, auth.region);
    let expected = hex::decode(auth.signature).map_err(|_| invalid_signature())?;
    if janus_crypto::same_secret(&hmac(&key, string_to_sign.as_bytes()), &expected) {
        Ok(())
    } else {
        Err(invalid_signature())
    }
}

/// What AWS requires a signature to cover: `host`, `x-amz-date`, and every `x-amz-*` header
/// sent — above all `x-amz-target`, or a signature for one operation could be replayed as
/// another (issue 13: a signed DescribeUserPool was replayed as DeleteUserPool).
fn check_signed_headers(headers: &HeaderMap, signed: &[&str]) -> Result<(), Error> {
    let is_signed = |name: &str| signed.iter().any(|s| s.eq_ignore_ascii_case(name));
    if !is_signed("host") {
        return Err(Error::InvalidSignatureException(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    let unsigned = headers.keys().map(|k| k.as_str()).find(|k| k.starts_with("x-amz-") && !is_signed(k));
    if let Some(name) = unsigned {
        return Err(Error::InvalidSignatureException(format!(
            "The header '{name}' is sent but is not in the SignedHeaders of the AWS Authorization."
        )));
    }
    Ok(())
}

/// Sign a request (used by Janus's own tools and tests): returns the `Authorization` value.
pub fn sign(creds: &AdminCredentials, req: &Request<'_>, amz_date: &str, region: &str) -> String {
    let date = &amz_date[..8.min(amz_date.len())];
    let mut signed: Vec<String> = req.headers.keys().map(|k| k.as_str().to_ascii_lowercase()).collect();
    signed.sort();
    signed.dedup();
    let signed_refs: Vec<&str> = signed.iter().map(String::as_str).collect();
    let canonical = canonical_request(req, &signed_refs);
    let scope = format!("{date}/{region}/cognito-idp/aws4_request");
    let sts = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
    let key = signing_key(&creds.secret_access_key, date, region);
    let sig = hex::encode(hmac(&key, sts.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
        creds.access_key_id,
        signed.join(";")
    )
}

fn header_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn canonical_request(req: &Request<'_>, signed_headers: &[&str]) -> String {
    let mut out = format!("{}\n{}\n{}\n", req.method, canonical_path(req.path), canonical_query(req.query));
    for name in signed_headers {
        let values: Vec<String> = req
            .headers
            .get_all(*name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        out.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    out.push_str(&format!("\n{}\n{}", signed_headers.join(";"), hex::encode(Sha256::digest(req.body))));
    out
}

fn canonical_path(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(&str, &str)> =
        query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

fn signing_key(secret: &str, date: &str, region: &str) -> Vec<u8> {
    derive_key(secret, date, region, "cognito-idp")
}

/// `20261121T144327Z` → ms since the epoch.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some((days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss) * 1000)
}

// Howard Hinnant's days-from-civil algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn creds() -> AdminCredentials {
        AdminCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        }
    }

    #[test]
    fn dates_round_trip() {
        let ms = parse_amz_date("20261121T144327Z").unwrap();
        assert_eq!(format_amz_date(ms), "20261121T144327Z");
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert!(parse_amz_date("2026-11-21").is_none());
    }

    #[test]
    fn aws_documented_signing_key() {
        // The worked example in AWS's SigV4 documentation ("Derive a signing key").
        let k = derive_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam");
        assert_eq!(hex::encode(k), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
    }

    #[test]
    fn signed_requests_verify_in_any_region_and_tampering_fails() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:9229"));
        headers.insert("x-amz-date", HeaderValue::from_static("20261121T144327Z"));
        let body = br#"{"MaxResults":1}"#;
        let req = Request { method: "POST", path: "/", query: "", headers: &headers, body };
        let now = parse_amz_date("20261121T144500Z").unwrap();
        for region in ["us-east-1", "eu-west-3"] {
            let auth = sign(&creds(), &req, "20261121T144327Z", region);
            let mut h = headers.clone();
            h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
            let ok = Request { headers: &h, ..req };
            verify(&creds(), &ok, now).unwrap();
            let tampered = Request { body: br#"{"MaxResults":2}"#, ..ok };
            assert_eq!(verify(&creds(), &tampered, now).unwrap_err().code(), "InvalidSignatureException");
            let late = now + 16 * 60 * 1000;
            assert_eq!(verify(&creds(), &ok, late).unwrap_err().code(), "InvalidSignatureException");
            let other = AdminCredentials { access_key_id: "AKIAOTHER".into(), ..creds() };
            assert_eq!(verify(&other, &ok, now).unwrap_err().code(), "UnrecognizedClientException");
        }
    }

    /// Issue 13: a signature that leaves out `host` or an `x-amz-*` header sent with the
    /// request (the target above all) is refused, as is a scope date that is not a date.
    #[test]
    fn signatures_must_cover_host_and_every_amz_header() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:9229"));
        headers.insert("x-amz-date", HeaderValue::from_static("20261121T144327Z"));
        let now = parse_amz_date("20261121T144500Z").unwrap();
        let body = br#"{"UserPoolId":"us-east-1_a"}"#;
        // Signed over host and x-amz-date only, then sent with a target it never covered.
        let auth = sign(
            &creds(),
            &Request { method: "POST", path: "/", query: "", headers: &headers, body },
            "20261121T144327Z",
            "us-east-1",
        );
        let mut h = headers.clone();
        h.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        let base = Request { method: "POST", path: "/", query: "", headers: &h, body };
        verify(&creds(), &base, now).unwrap();
        let mut replayed = h.clone();
        replayed.insert("x-amz-target", HeaderValue::from_static("AWSCognitoIdentityProviderService.DeleteUserPool"));
        let e = verify(&creds(), &Request { headers: &replayed, ..base }, now).unwrap_err();
        assert_eq!(e.code(), "InvalidSignatureException");
        assert!(e.to_string().contains("x-amz-target"), "{e}");

        let mut no_host = HeaderMap::new();
        no_host.insert("x-amz-date", HeaderValue::from_static("20261121T144327Z"));
        let auth = sign(&creds(), &Request { headers: &no_host, ..base }, "20261121T144327Z", "us-east-1");
        no_host.insert("host", HeaderValue::from_static("127.0.0.1:9229"));
        no_host.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        let e = verify(&creds(), &Request { headers: &no_host, ..base }, now).unwrap_err();
        assert!(e.to_string().contains("'Host'"), "{e}");

        let bad_date = auth_with_scope_date(&h, "");
        let e = verify(&creds(), &Request { headers: &bad_date, ..base }, now).unwrap_err();
        assert_eq!(e.code(), "InvalidSignatureException", "{e}");
        assert!(e.to_string().contains("Date in Credential scope does not match"), "{e}");
    }

    fn auth_with_scope_date(h: &HeaderMap, date: &str) -> HeaderMap {
        let auth = h["authorization"].to_str().unwrap().replace("/20261121/", &format!("/{date}/"));
        let mut out = h.clone();
        out.insert("authorization", HeaderValue::from_str(&auth).unwrap());
        out
    }
}
