//! Cognito's SRP-6a variant (`USER_SRP_AUTH`), server side, exactly as
//! ../shared/reference/cognito-srp.md describes it: 3072-bit group, g = 2, SHA-256, `padHex`,
//! and the "Caldera Derived Key" HKDF step. Verifiers are computed when a password is set;
//! the handshake state travels in the (sealed) SECRET_BLOCK, so any region holding the pool's
//! keys can finish it. Big-number arithmetic is `rsa`'s `BigUint` (num-bigint-dig).

use hmac::{Hmac, Mac};
use rsa::BigUint;
use sha2::{Digest, Sha256};

use janus_types::{Error, Random};

type HmacSha256 = Hmac<Sha256>;

const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD",
    "3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F2411",
    "7C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529",
    "077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2B",
    "CBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8A",
    "EA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64",
    "521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
);

/// The group's constants, computed once.
pub struct Group {
    n: BigUint,
    g: BigUint,
    k: BigUint,
}

impl Default for Group {
    fn default() -> Self {
        Self::new()
    }
}

/// `padHex`: lowercase hex, even length, with a leading `00` when the top bit would be set.
pub fn pad_hex(n: &BigUint) -> String {
    let h = n.to_str_radix(16);
    if h.len() % 2 == 1 {
        format!("0{h}")
    } else if matches!(h.as_bytes()[0], b'8'..=b'f') {
        format!("00{h}")
    } else {
        h
    }
}

fn hex_hash(hex_text: &str) -> Result<String, Error> {
    let bytes = hex::decode(hex_text).map_err(|_| Error::invalid("Invalid SRP value."))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

fn int(hex_text: &str) -> Result<BigUint, Error> {
    BigUint::parse_bytes(hex_text.as_bytes(), 16).ok_or_else(|| Error::invalid("Invalid SRP value."))
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, Error> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(Error::internal)?;
    for p in parts {
        mac.update(p);
    }
    Ok(mac.finalize().into_bytes().to_vec())
}

/// A stored verifier: salt and `v`, both as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    /// The salt `s` (hex of 16 random bytes).
    pub salt: String,
    /// `v = g^x mod N` (hex).
    pub verifier: String,
}

/// The server's half of a handshake, kept (sealed) until the client answers.
#[derive(Debug, Clone)]
pub struct ServerEphemeral {
    /// Secret `b` (hex).
    pub b: String,
    /// Public `B` (minimal hex), sent as SRP_B.
    pub big_b: String,
}

impl Group {
    /// The 3072-bit group with g = 2.
    pub fn new() -> Self {
        let n = BigUint::parse_bytes(N_HEX.as_bytes(), 16).expect("N is valid hex");
        let g = BigUint::from(2u32);
        let k_hex = hex_hash(&format!("{}{}", pad_hex(&n), pad_hex(&g))).expect("hex of N and g");
        let k = BigUint::parse_bytes(k_hex.as_bytes(), 16).expect("hash is hex");
        Self { n, g, k }
    }

    /// The multiplier `k`.
    pub fn k(&self) -> &BigUint {
        &self.k
    }

    fn x(&self, pool_name: &str, user_id: &str, password: &str, salt: &BigUint) -> Result<BigUint, Error> {
        let inner = hex::encode(Sha256::digest(format!("{pool_name}{user_id}:{password}").as_bytes()));
        int(&hex_hash(&format!("{}{inner}", pad_hex(salt)))?)
    }

    /// The verifier for a password set for `user_id` (USER_ID_FOR_SRP) in pool `pool_name`.
    pub fn verifier(
        &self,
        pool_name: &str,
        user_id: &str,
        password: &str,
        rng: &dyn Random,
    ) -> Result<Verifier, Error> {
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        let s = BigUint::from_bytes_be(&salt);
        let v = self.g.modpow(&self.x(pool_name, user_id, password, &s)?, &self.n);
        Ok(Verifier { salt: s.to_str_radix(16), verifier: v.to_str_radix(16) })
    }

    /// Start a handshake for a user with verifier `v`.
    pub fn start(&self, v: &Verifier, rng: &dyn Random) -> Result<ServerEphemeral, Error> {
        let v = int(&v.verifier)?;
        loop {
            let mut b = [0u8; 32];
            rng.fill(&mut b);
            let b = BigUint::from_bytes_be(&b);
            let big_b = (&self.k * &v + self.g.modpow(&b, &self.n)) % &self.n;
            if big_b != BigUint::from(0u32) {
                return Ok(ServerEphemeral { b: b.to_str_radix(16), big_b: big_b.to_str_radix(16) });
            }
        }
    }

    /// Reject a client `A` with `A mod N = 0`.
    pub fn check_a(&self, a_hex: &str) -> Result<(), Error> {
        if int(a_hex)? % &self.n == BigUint::from(0u32) {
            return Err(Error::NotAuthorizedException("Invalid SRP_A.".into()));
        }
        Ok(())
    }

    /// Check the client's PASSWORD_CLAIM_SIGNATURE; `false` means a wrong password.
    #[allow(clippy::too_many_arguments)]
    pub fn verify_claim(
        &self,
        v: &Verifier,
        eph: &ServerEphemeral,
        a_hex: &str,
        pool_name: &str,
        user_id: &str,
        secret_block: &[u8],
        timestamp: &str,
        claim: &[u8],
    ) -> Result<bool, Error> {
        let (a, big_b, b, v) = (int(a_hex)?, int(&eph.big_b)?, int(&eph.b)?, int(&v.verifier)?);
        let zero = BigUint::from(0u32);
        if &a % &self.n == zero {
            return Ok(false);
        }
        let u = int(&hex_hash(&format!("{}{}", pad_hex(&a), pad_hex(&big_b)))?)?;
        if u == zero {
            return Ok(false);
        }
        let s = (a * v.modpow(&u, &self.n)).modpow(&b, &self.n);
        let unhex = |n: &BigUint| hex::decode(pad_hex(n)).map_err(Error::internal);
        let prk = hmac(&unhex(&u)?, &[&unhex(&s)?])?;
        let key = &hmac(&prk, &[b"Caldera Derived Key", &[1u8]])?[..16];
        let mut mac = HmacSha256::new_from_slice(key).map_err(Error::internal)?;
        for part in [pool_name.as_bytes(), user_id.as_bytes(), secret_block, timestamp.as_bytes()] {
            mac.update(part);
        }
        Ok(mac.verify_slice(claim).is_ok())
    }
}

/// The client side of the handshake, as pycognito and amazon-cognito-identity-js compute it.
/// Used by tests and by Janus's own tools; the server never runs it.
pub mod client {
    use super::*;

    /// Compute `(A hex, a)` from 32 random bytes.
    pub fn ephemeral(g: &Group, a_bytes: &[u8; 32]) -> (String, BigUint) {
        let a = BigUint::from_bytes_be(a_bytes);
        (g.g.modpow(&a, &g.n).to_str_radix(16), a)
    }

    /// The PASSWORD_CLAIM_SIGNATURE for the challenge parameters the server sent.
    #[allow(clippy::too_many_arguments)]
    pub fn signature(
        g: &Group,
        a: &BigUint,
        a_hex: &str,
        b_hex: &str,
        salt_hex: &str,
        pool_name: &str,
        user_id: &str,
        password: &str,
        secret_block: &[u8],
        timestamp: &str,
    ) -> Result<Vec<u8>, Error> {
        let (big_a, big_b, salt) = (int(a_hex)?, int(b_hex)?, int(salt_hex)?);
        let u = int(&hex_hash(&format!("{}{}", pad_hex(&big_a), pad_hex(&big_b)))?)?;
        let x = g.x(pool_name, user_id, password, &salt)?;
        let gx = g.g.modpow(&x, &g.n);
        let kgx = (&g.k * gx) % &g.n;
        let base = (&big_b + &g.n - kgx) % &g.n;
        let s = base.modpow(&(a + &u * &x), &g.n);
        let unhex = |n: &BigUint| hex::decode(pad_hex(n)).map_err(Error::internal);
        let prk = hmac(&unhex(&u)?, &[&unhex(&s)?])?;
        let key = &hmac(&prk, &[b"Caldera Derived Key", &[1u8]])?[..16];
        hmac(key, &[pool_name.as_bytes(), user_id.as_bytes(), secret_block, timestamp.as_bytes()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRandom;

    #[test]
    fn k_matches_cognito() {
        assert_eq!(
            Group::new().k().to_str_radix(16),
            "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
        );
    }

    #[test]
    fn pad_hex_follows_the_reference() {
        assert_eq!(pad_hex(&BigUint::from(0xfu32)), "0f");
        assert_eq!(pad_hex(&BigUint::from(0x7fu32)), "7f");
        assert_eq!(pad_hex(&BigUint::from(0x80u32)), "0080");
        assert_eq!(pad_hex(&BigUint::from(0x1234u32)), "1234");
    }

    #[test]
    fn a_full_handshake_with_a_fixed_vector() {
        let g = Group::new();
        let rng = SeededRandom::new(42);
        let (pool, user, pw) = ("AbC123xyz", "a1b2c3d4-user", "Pässwörd-1 ✓");
        let v = g.verifier(pool, user, pw, &rng).unwrap();
        let eph = g.start(&v, &rng).unwrap();
        let (a_hex, a) = client::ephemeral(&g, &[7u8; 32]);
        g.check_a(&a_hex).unwrap();
        let block = b"sealed-handshake-state";
        let ts = "Sat Nov 21 13:34:13 UTC 2026";
        let sig = client::signature(&g, &a, &a_hex, &eph.big_b, &v.salt, pool, user, pw, block, ts).unwrap();
        assert!(g.verify_claim(&v, &eph, &a_hex, pool, user, block, ts, &sig).unwrap());
        let wrong = client::signature(&g, &a, &a_hex, &eph.big_b, &v.salt, pool, user, "wrong", block, ts).unwrap();
        assert!(!g.verify_claim(&v, &eph, &a_hex, pool, user, block, ts, &wrong).unwrap());
        // The same seed always yields the same verifier: a fixed vector.
        let again = g.verifier(pool, user, pw, &SeededRandom::new(42)).unwrap();
        assert_eq!(again, v);
    }

    #[test]
    fn a_zero_a_is_rejected() {
        let g = Group::new();
        assert!(g.check_a("0").is_err());
        assert!(g.check_a(&g.n.to_str_radix(16)).is_err());
    }
}
