//! Key ARNs, parsed once: `arn:aws:kms:<region>:<account>:key/<uuid>` for a single-region key
//! and `arn:aws:kms:<region>:<account>:key/mrk-<32 hex>` for a multi-region key. A
//! multi-region key has the same key id in every region; only the region part of its ARN
//! differs, so lookups of such a key go by key id.

use super::{KeyError, KeyErrorKind};

/// A parsed key ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyArn {
    /// The region part.
    pub region: String,
    /// The account part.
    pub account: String,
    /// `mrk-…` or a UUID.
    pub key_id: String,
}

impl KeyArn {
    /// Parse an ARN.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let bad = || {
            KeyError::new(
                KeyErrorKind::Invalid,
                format!("{s} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"),
            )
        };
        let rest = s.strip_prefix("arn:aws:kms:").ok_or_else(bad)?;
        let mut parts = rest.splitn(3, ':');
        let (region, account, resource) =
            (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
        let key_id = resource.strip_prefix("key/").ok_or_else(bad)?;
        let ok_id = key_id.len() >= 8 && key_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        // A region names a host (`kms.<region>.amazonaws.com`): letters, digits and dashes only,
        // so an ARN cannot point a request anywhere else.
        let ok_region = region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if region.is_empty()
            || !ok_region
            || account.is_empty()
            || !account.bytes().all(|b| b.is_ascii_digit())
            || !ok_id
        {
            return Err(bad());
        }
        Ok(Self { region: region.into(), account: account.into(), key_id: key_id.into() })
    }

    /// The ARN of key `key_id` in `region`.
    pub fn new(region: &str, account: &str, key_id: &str) -> Self {
        Self { region: region.into(), account: account.into(), key_id: key_id.into() }
    }

    /// True for a multi-region key (`mrk-` id).
    pub fn multi_region(&self) -> bool {
        self.key_id.starts_with("mrk-")
    }

    /// The same key's ARN as seen from `region`.
    pub fn in_region(&self, region: &str) -> Self {
        Self { region: region.into(), ..self.clone() }
    }
}

/// The key id of a key ARN, or `s` itself when it is a bare key id (the same for every
/// region's copy of a multi-region key).
pub fn key_id_of(s: &str) -> &str {
    s.rsplit_once("key/").map_or(s, |(_, id)| id)
}

/// True when the ARN (or bare id) names a multi-region key.
pub fn is_multi_region(s: &str) -> bool {
    key_id_of(s).starts_with("mrk-")
}

impl std::fmt::Display for KeyArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "arn:aws:kms:{}:{}:key/{}", self.region, self.account, self.key_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_parse_and_print_back() {
        let s = "arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef";
        let a = KeyArn::parse(s).unwrap();
        assert!(a.multi_region());
        assert_eq!(a.to_string(), s);
        assert_eq!(a.in_region("us-east-1").region, "us-east-1");
        assert!(KeyArn::parse("arn:aws:kms:r:12:alias/x").is_err());
        for host in ["169.254.169.254/x?", "evil.example#", "a@b", "EU-WEST-1"] {
            assert!(KeyArn::parse(&format!("arn:aws:kms:{host}:12:key/1234abcd")).is_err(), "{host}");
        }
        assert!(!KeyArn::parse("arn:aws:kms:r:12:key/1234abcd-12ab-34cd-56ef-1234567890ab").unwrap().multi_region());
    }
}
