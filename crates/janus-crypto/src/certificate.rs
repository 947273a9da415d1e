//! A pool's self-signed X.509 signing certificate (GetSigningCertificate): the pool's RSA
//! signing key, named `CN=<pool id>`, valid ten years from the key's first day. Everything in
//! it derives from the key (the serial from its id, the dates from its creation, and
//! PKCS#1 v1.5 signatures are deterministic), so every region holding the pool's keys
//! answers the same certificate, and a new one follows each key rotation.

use std::str::FromStr;
use std::time::Duration;

use sha2::{Digest, Sha256};
use x509_cert::der::asn1::{BitString, Null, UtcTime};
use x509_cert::der::{Any, Decode, Encode};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use janus_types::Error;

use crate::jwt::SigningKey;

/// sha256WithRSAEncryption (RFC 4055).
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const TEN_YEARS_S: u64 = 10 * 365 * 86_400 + 2 * 86_400;

fn bad(e: impl std::fmt::Display) -> Error {
    Error::internal(std::io::Error::other(format!("signing certificate: {e}")))
}

/// The DER certificate of `key` for pool `pool`, valid from `since_ms` for ten years.
pub fn self_signed(key: &SigningKey, pool: &str, since_ms: i64) -> Result<Vec<u8>, Error> {
    let algorithm = AlgorithmIdentifierOwned { oid: SHA256_WITH_RSA, parameters: Some(Any::from(Null)) };
    let name = Name::from_str(&format!("CN={pool},OU=Janus")).map_err(bad)?;
    let start = Duration::from_secs(u64::try_from(since_ms / 1000).unwrap_or(0));
    let time = |d: Duration| UtcTime::from_unix_duration(d).map(Time::UtcTime).map_err(bad);
    let validity = Validity { not_before: time(start)?, not_after: time(start + Duration::from_secs(TEN_YEARS_S))? };
    let mut serial = Sha256::digest(key.kid().as_bytes())[..16].to_vec();
    serial[0] &= 0x7f; // positive
    serial[0] |= 0x40; // and of full length
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&serial).map_err(bad)?,
        signature: algorithm.clone(),
        issuer: name.clone(),
        validity,
        subject: name,
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(&key.public_key_info_der()?).map_err(bad)?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: None,
    };
    let signature = key.sign_bytes(&tbs.to_der().map_err(bad)?)?;
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&signature).map_err(bad)?,
    };
    cert.to_der().map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRandom;

    #[test]
    fn the_certificate_is_deterministic_and_names_the_pool() {
        let key =
            SigningKey::from_pkcs8("k1", &crate::jwt::generate_pkcs8(&SeededRandom::new(3), 2048).unwrap()).unwrap();
        let a = self_signed(&key, "us-east-1_abc", 1_765_000_000_000).unwrap();
        assert_eq!(a, self_signed(&key, "us-east-1_abc", 1_765_000_000_000).unwrap());
        let cert = Certificate::from_der(&a).unwrap();
        assert_eq!(cert.tbs_certificate.subject.to_string(), "CN=us-east-1_abc,OU=Janus");
        let v = cert.tbs_certificate.validity;
        assert_eq!(v.not_before.to_unix_duration().as_secs(), 1_765_000_000);
        assert!(v.not_after.to_unix_duration().as_secs() >= 1_765_000_000 + 10 * 365 * 86_400);
    }
}
