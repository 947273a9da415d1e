//! Messages in the AWS Encryption SDK format, as Cognito encrypts the codes it sends its custom
//! sender triggers: message format version 1, algorithm suite 0x0378
//! (AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384, signed, not key-committing — which is why
//! the handlers Cognito documents decrypt with `REQUIRE_ENCRYPT_ALLOW_DECRYPT`), framed content
//! (4,096-byte frames), one encrypted data key from the caller's keyring (for Cognito: AWS KMS,
//! provider id `aws-kms`, provider info the key's ARN).
//!
//! Only encryption is here, with the layout of the AWS Encryption SDK specification
//! (data-format/message-header.md, message-body.md, message-footer.md): the real SDKs (Node
//! `@aws-crypto/client-node`, Python `aws-encryption-sdk`) are the decrypters, and the
//! conformance tests decrypt with both. The ECDSA key pair and its signature take their
//! randomness from aws-lc-rs (it does not take an injected source); the message id is the
//! caller's.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::hkdf::{Salt, HKDF_SHA384};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P384_SHA384_ASN1_SIGNING};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::collections::BTreeMap;

/// The algorithm suite's id.
const SUITE: u16 = 0x0378;
/// Plaintext bytes per frame (the SDKs' default).
const FRAME: usize = 4096;
const IV_LEN: usize = 12;
/// The encryption-context key a signed message's verification key travels under.
pub const PUBLIC_KEY: &str = "aws-crypto-public-key";

/// A data key and its copy encrypted by a keyring.
pub struct DataKey {
    /// The 256-bit key the message is encrypted under.
    pub plaintext: [u8; 32],
    /// The keyring's name (`aws-kms`).
    pub provider_id: String,
    /// Which of its keys wrapped it (for KMS: the key ARN).
    pub provider_info: String,
    /// The wrapped key.
    pub ciphertext: Vec<u8>,
}

/// Why a message could not be made.
#[derive(Debug)]
pub enum Error<E> {
    /// The keyring failed.
    Keyring(E),
    /// A field does not fit the format (a length over 65,535 bytes) or a primitive failed.
    Format(&'static str),
}

/// Encrypt `plaintext` with encryption context `context`: `data_key` is asked for a data key
/// with the message's whole context (the caller's plus the signing key), which a KMS keyring
/// binds to the wrapped key. The message bytes.
pub fn encrypt<E>(
    plaintext: &[u8],
    context: &BTreeMap<String, String>,
    message_id: [u8; 16],
    data_key: impl FnOnce(&BTreeMap<String, String>) -> Result<DataKey, E>,
) -> Result<Vec<u8>, Error<E>> {
    let signer =
        EcdsaKeyPair::generate(&ECDSA_P384_SHA384_ASN1_SIGNING).map_err(|_| Error::Format("P-384 key generation"))?;
    let mut context = context.clone();
    context.insert(PUBLIC_KEY.into(), B64.encode(compressed(signer.public_key().as_ref())?));
    let key = data_key(&context).map_err(Error::Keyring)?;
    let mut out = unsigned(plaintext, &context, message_id, &key)?;
    let signature = signer.sign(&SystemRandom::new(), &out).map_err(|_| Error::Format("ECDSA signature"))?;
    put_bytes(&mut out, signature.as_ref())?;
    Ok(out)
}

/// Header, header authentication and body: everything the footer's signature covers.
fn unsigned<E>(
    plaintext: &[u8],
    context: &BTreeMap<String, String>,
    message_id: [u8; 16],
    key: &DataKey,
) -> Result<Vec<u8>, Error<E>> {
    let cipher = derived_key(&key.plaintext, &message_id)?;
    let mut out = header(context, &message_id, key)?;
    let zero_iv = [0u8; IV_LEN];
    let tag = seal(&cipher, zero_iv, &out, &mut [])?;
    out.extend_from_slice(&zero_iv);
    out.extend_from_slice(&tag);
    body(&mut out, &cipher, &message_id, plaintext)?;
    Ok(out)
}

/// The SEC 1 compressed form of an uncompressed point (`04 ‖ X ‖ Y`).
fn compressed<E>(point: &[u8]) -> Result<Vec<u8>, Error<E>> {
    let Some((4, rest)) = point.split_first() else { return Err(Error::Format("public key encoding")) };
    let (x, y) = rest.split_at(rest.len() / 2);
    let mut out = vec![2 + (y.last().copied().unwrap_or(0) & 1)];
    out.extend_from_slice(x);
    Ok(out)
}

/// HKDF-SHA384 of the data key, no salt, info = suite id ‖ message id.
fn derived_key<E>(data_key: &[u8; 32], message_id: &[u8; 16]) -> Result<LessSafeKey, Error<E>> {
    let mut info = SUITE.to_be_bytes().to_vec();
    info.extend_from_slice(message_id);
    let prk = Salt::new(HKDF_SHA384, &[]).extract(data_key);
    let info = [info.as_slice()];
    let okm = prk.expand(&info, &AES_256_GCM).map_err(|_| Error::Format("HKDF"))?;
    Ok(LessSafeKey::new(UnboundKey::from(okm)))
}

/// AES-256-GCM of `data` in place; its tag.
fn seal<E>(key: &LessSafeKey, iv: [u8; IV_LEN], aad: &[u8], data: &mut [u8]) -> Result<[u8; 16], Error<E>> {
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(iv), Aad::from(aad), data)
        .map_err(|_| Error::Format("AES-GCM"))?;
    tag.as_ref().try_into().map_err(|_| Error::Format("AES-GCM tag"))
}

fn put_bytes<E>(out: &mut Vec<u8>, b: &[u8]) -> Result<(), Error<E>> {
    let len = u16::try_from(b.len()).map_err(|_| Error::Format("a field longer than 65,535 bytes"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b);
    Ok(())
}

/// The encryption context's serialization: count, then key/value pairs in key order (empty
/// when the context is).
fn context_bytes<E>(context: &BTreeMap<String, String>) -> Result<Vec<u8>, Error<E>> {
    let mut out = Vec::new();
    if context.is_empty() {
        return Ok(out);
    }
    let count = u16::try_from(context.len()).map_err(|_| Error::Format("too many context entries"))?;
    out.extend_from_slice(&count.to_be_bytes());
    for (k, v) in context {
        put_bytes(&mut out, k.as_bytes())?;
        put_bytes(&mut out, v.as_bytes())?;
    }
    Ok(out)
}

/// The version-1 header body (what the header authentication tag covers).
fn header<E>(context: &BTreeMap<String, String>, message_id: &[u8; 16], key: &DataKey) -> Result<Vec<u8>, Error<E>> {
    let mut out = vec![0x01, 0x80];
    out.extend_from_slice(&SUITE.to_be_bytes());
    out.extend_from_slice(message_id);
    put_bytes(&mut out, &context_bytes(context)?)?;
    out.extend_from_slice(&1u16.to_be_bytes());
    put_bytes(&mut out, key.provider_id.as_bytes())?;
    put_bytes(&mut out, key.provider_info.as_bytes())?;
    put_bytes(&mut out, &key.ciphertext)?;
    out.push(0x02); // framed content
    out.extend_from_slice(&[0; 4]); // reserved
    out.push(IV_LEN as u8);
    out.extend_from_slice(&(FRAME as u32).to_be_bytes());
    Ok(out)
}

/// Frames of `FRAME` bytes, then the final frame (which may be empty); each frame's IV is its
/// sequence number, its AAD the message id, the frame kind, the number and the length.
fn body<E>(out: &mut Vec<u8>, key: &LessSafeKey, message_id: &[u8; 16], plaintext: &[u8]) -> Result<(), Error<E>> {
    let full = plaintext.len() / FRAME;
    for seq in 1..=full + 1 {
        let last = seq == full + 1;
        let chunk = &plaintext[(seq - 1) * FRAME..if last { plaintext.len() } else { seq * FRAME }];
        let seq = u32::try_from(seq).map_err(|_| Error::Format("too many frames"))?;
        let mut iv = [0u8; IV_LEN];
        iv[8..].copy_from_slice(&seq.to_be_bytes());
        let kind: &[u8] = if last { b"AWSKMSEncryptionClient Final Frame" } else { b"AWSKMSEncryptionClient Frame" };
        let mut aad = message_id.to_vec();
        aad.extend_from_slice(kind);
        aad.extend_from_slice(&seq.to_be_bytes());
        aad.extend_from_slice(&(chunk.len() as u64).to_be_bytes());
        let mut data = chunk.to_vec();
        let tag = seal(key, iv, &aad, &mut data)?;
        if last {
            out.extend_from_slice(&u32::MAX.to_be_bytes());
        }
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&iv);
        if last {
            out.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
        }
        out.extend_from_slice(&data);
        out.extend_from_slice(&tag);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
