//! A reader of the format, written from the specification, checks what the writer makes: the
//! header's fields and tag, every frame, and the footer's signature under the key the context
//! carries. (The real SDKs decrypt Janus's messages in conformance/test_triggers.py.)

use super::*;
use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P384_SHA384_ASN1};

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u16(&mut self) -> usize {
        u16::from_be_bytes(self.take(2).try_into().unwrap()) as usize
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    fn field(&mut self) -> &'a [u8] {
        let n = self.u16();
        self.take(n)
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

/// Decrypt `msg` with the data key: (context, provider info, wrapped key, plaintext).
fn open(msg: &[u8], data_key: &[u8; 32]) -> (BTreeMap<String, String>, String, Vec<u8>, Vec<u8>) {
    let mut r = Reader(msg);
    assert_eq!(r.take(4), [0x01, 0x80, 0x03, 0x78], "version 1, customer data, suite 0x0378");
    let id: [u8; 16] = r.take(16).try_into().unwrap();
    let mut aad = Reader(r.field());
    let mut context = BTreeMap::new();
    if !aad.0.is_empty() {
        for _ in 0..aad.u16() {
            context.insert(text(aad.field()), text(aad.field()));
        }
    }
    assert!(aad.0.is_empty());
    assert_eq!(r.u16(), 1, "one data key");
    assert_eq!(r.field(), b"aws-kms");
    let (info, wrapped) = (text(r.field()), r.field().to_vec());
    assert_eq!((r.u8(), r.u32(), r.u8(), r.u32()), (2, 0, 12, 4096), "framed, reserved, IV length, frame length");
    let header_len = msg.len() - r.0.len();
    let key = derived_key::<()>(data_key, &id).unwrap();
    let (iv, tag) = (r.take(12), r.take(16));
    assert_eq!(iv, [0; 12]);
    let mut in_out = tag.to_vec();
    key.open_in_place(Nonce::assume_unique_for_key([0; 12]), Aad::from(&msg[..header_len]), &mut in_out)
        .expect("header tag");
    let mut plaintext = Vec::new();
    for seq in 1u32.. {
        let last = r.0[..4] == [0xff; 4];
        if last {
            r.take(4);
        }
        assert_eq!(r.u32(), seq);
        let iv: [u8; 12] = r.take(12).try_into().unwrap();
        assert_eq!(iv[8..], seq.to_be_bytes());
        let len = if last { r.u32() as usize } else { 4096 };
        let mut data = r.take(len + 16).to_vec();
        let kind: &[u8] = if last { b"AWSKMSEncryptionClient Final Frame" } else { b"AWSKMSEncryptionClient Frame" };
        let aad = [&id[..], kind, &seq.to_be_bytes(), &(len as u64).to_be_bytes()].concat();
        plaintext
            .extend_from_slice(key.open_in_place(Nonce::assume_unique_for_key(iv), Aad::from(aad), &mut data).unwrap());
        if last {
            break;
        }
    }
    let signed = msg.len() - r.0.len();
    let signature = r.field();
    assert!(r.0.is_empty(), "nothing after the footer");
    let public = B64.decode(&context[PUBLIC_KEY]).unwrap();
    assert_eq!(public.len(), 49, "a compressed P-384 point");
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, &public).verify(&msg[..signed], signature).expect("signature");
    (context, info, wrapped, plaintext)
}

fn seal_with(plaintext: &[u8], key: [u8; 32]) -> (Vec<u8>, BTreeMap<String, String>) {
    let context = BTreeMap::from([("userpool-id".to_owned(), "us-east-1_abc".to_owned())]);
    let mut asked = BTreeMap::new();
    let msg = encrypt::<()>(plaintext, &context, [7; 16], |c| {
        asked = c.clone();
        Ok(DataKey {
            plaintext: key,
            provider_id: "aws-kms".into(),
            provider_info: "arn:aws:kms:us-east-1:123456789012:key/k".into(),
            ciphertext: vec![9; 184],
        })
    })
    .unwrap();
    (msg, asked)
}

#[test]
fn a_code_is_one_final_frame_signed_under_the_key_in_its_context() {
    let (msg, asked) = seal_with(b"123456", [3; 32]);
    let (context, info, wrapped, plaintext) = open(&msg, &[3; 32]);
    assert_eq!(plaintext, b"123456");
    assert_eq!(context, asked, "the keyring is asked with the message's whole context");
    assert_eq!(context["userpool-id"], "us-east-1_abc");
    assert_eq!((info.as_str(), wrapped), ("arn:aws:kms:us-east-1:123456789012:key/k", vec![9; 184]));
    assert!(B64.encode(&msg).starts_with("AYADe"), "as Cognito's codes begin");
}

#[test]
fn long_plaintexts_span_frames_and_an_exact_multiple_ends_with_an_empty_frame() {
    for len in [0, 4095, 4096, 9000] {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let (msg, _) = seal_with(&data, [5; 32]);
        assert_eq!(open(&msg, &[5; 32]).3, data, "{len} bytes");
    }
}

#[test]
fn a_tampered_message_does_not_verify() {
    let (mut msg, _) = seal_with(b"123456", [3; 32]);
    let n = msg.len();
    msg[n - 30] ^= 1;
    let opened = std::panic::catch_unwind(|| open(&msg, &[3; 32]));
    assert!(opened.is_err());
}

#[test]
fn a_keyring_failure_is_the_callers_error() {
    let r = encrypt(b"1", &BTreeMap::new(), [0; 16], |_| Err("KMS is down"));
    assert!(matches!(r, Err(Error::Keyring("KMS is down"))));
}
