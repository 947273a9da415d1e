//! Opaque pagination tokens: the last key of the previous page, base64url-encoded with a
//! version prefix so the format can change without misreading old tokens.

use janus_types::{Error, Result};

const PREFIX: &str = "v1.";

/// Encode the last key of a page.
pub fn token(last_key: &str) -> String {
    let mut s = String::from(PREFIX);
    for b in last_key.as_bytes() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Decode a token from a previous page.
pub fn key(token: &str) -> Result<String> {
    let bad = || Error::invalid("Invalid pagination token.");
    let hex = token.strip_prefix(PREFIX).ok_or_else(bad)?;
    if hex.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    String::from_utf8(bytes.ok_or_else(bad)?).map_err(|_| bad())
}

/// Split `items` (fetched with one extra) into a page and the next token.
pub fn split<T>(mut items: Vec<T>, limit: usize, key_of: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if items.len() > limit {
        items.truncate(limit);
        let next = items.last().map(|i| token(&key_of(i)));
        (items, next)
    } else {
        (items, None)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_round_trip() {
        let t = super::token("alice@example.com/ü");
        assert_eq!(super::key(&t).unwrap(), "alice@example.com/ü");
        assert!(super::key("garbage").is_err());
        assert!(super::key("v1.zz").is_err());
    }
}
