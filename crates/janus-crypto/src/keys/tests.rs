//! The keyring end to end: sealed file, default key, policy and state checks, rotation, and
//! carrying a multi-region key to another region as a sealed bundle.

use std::sync::Arc;

use janus_types::ManualClock;

use super::keyring::{Keyring, KeyringOptions, Unlock};
use super::{KeyAdmin, KeyErrorKind, KeyPolicy, KeyProvider};
use crate::SeededRandom;

fn ring(dir: &std::path::Path, region: &str, seed: u64) -> Keyring {
    let opts = KeyringOptions {
        backing: None,
        path: dir.join(format!("{region}.keyring.json")),
        unlock: Unlock::KeyFile(dir.join(format!("{region}.key"))),
        region: region.into(),
        account: "123456789012".into(),
        shared_secret: None,
    };
    Keyring::open(opts, Arc::new(SeededRandom::new(seed)), Arc::new(ManualClock::at(1))).unwrap()
}

#[test]
fn the_keyring_file_is_sealed_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let k = ring(dir.path(), "us-east-1", 1);
    let info = k.create(true, "pools", KeyPolicy::default()).unwrap();
    assert!(info.arn.starts_with("arn:aws:kms:us-east-1:123456789012:key/mrk-"), "{}", info.arn);
    let dk = k.generate_data_key(&info.arn, "us-east-1_A").unwrap();
    drop(k);
    let text = std::fs::read_to_string(dir.path().join("us-east-1.keyring.json")).unwrap();
    assert!(!text.contains(&info.key_id), "key ids are inside the sealed part");
    let k = ring(dir.path(), "us-east-1", 2);
    assert_eq!(k.unwrap_data_key(&info.arn, "us-east-1_A", &dk.wrapped).unwrap(), dk.plaintext);
    let opts = KeyringOptions {
        backing: None,
        path: dir.path().join("us-east-1.keyring.json"),
        unlock: Unlock::Passphrase("wrong".into()),
        region: "us-east-1".into(),
        account: "123456789012".into(),
        shared_secret: None,
    };
    let err = Keyring::open(opts, Arc::new(SeededRandom::new(3)), Arc::new(ManualClock::at(1))).err().unwrap();
    assert!(err.message.contains("does not open"), "{err}");
}

#[test]
fn disabled_keys_and_policies_refuse_use() {
    let dir = tempfile::tempdir().unwrap();
    let k = ring(dir.path(), "us-east-1", 1);
    let policy = KeyPolicy { pools: vec!["us-east-1_ok*".into()], regions: vec!["*".into()] };
    let info = k.create(false, "", policy).unwrap();
    let err = k.generate_data_key(&info.arn, "us-east-1_other").unwrap_err();
    assert_eq!(err.kind, KeyErrorKind::Denied);
    assert!(err.message.contains("us-east-1_other") && err.message.contains(&info.arn), "{err}");
    let dk = k.generate_data_key(&info.arn, "us-east-1_ok1").unwrap();
    k.set_enabled(&info.arn, false).unwrap();
    let err = k.unwrap_data_key(&info.arn, "us-east-1_ok1", &dk.wrapped).unwrap_err();
    assert_eq!(err.kind, KeyErrorKind::Disabled);
    assert!(err.message.contains("disabled") && err.message.contains("us-east-1"), "{err}");
    k.set_enabled(&info.arn, true).unwrap();
    k.rotate(&info.arn).unwrap();
    assert_eq!(k.unwrap_data_key(&info.arn, "us-east-1_ok1", &dk.wrapped).unwrap(), dk.plaintext);
}

#[test]
fn a_multi_region_key_travels_only_as_a_sealed_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let east = ring(dir.path(), "us-east-1", 1);
    let west = ring(dir.path(), "us-west-2", 2);
    let single = east.create(false, "", KeyPolicy::default()).unwrap();
    let transport = west.transport_public_key().unwrap();
    let err = east.export_replica(&single.arn, "us-west-2", &transport).unwrap_err();
    assert_eq!(err.kind, KeyErrorKind::NotMultiRegion);
    let err = west.describe(&single.arn).unwrap_err();
    assert!(err.message.contains("single-region") && err.message.contains("us-west-2"), "{err}");
    let mrk = east.create(true, "", KeyPolicy::default()).unwrap();
    let err = west.describe(&mrk.arn).unwrap_err();
    assert_eq!(err.kind, KeyErrorKind::NotFound);
    let dk = east.generate_data_key(&mrk.arn, "us-east-1_P").unwrap();
    let bundle = east.export_replica(&mrk.arn, "us-west-2", &transport).unwrap();
    assert!(!bundle.contains("root"), "no key material in the clear");
    let third = ring(dir.path(), "eu-west-1", 3);
    assert!(third.import_replica(&bundle).is_err(), "a bundle opens only in its target region");
    let imported = west.import_replica(&bundle).unwrap();
    assert_eq!(imported.key_id, mrk.key_id);
    assert!(imported.arn.contains(":us-west-2:"));
    assert_eq!(west.unwrap_data_key(&mrk.arn, "us-east-1_P", &dk.wrapped).unwrap(), dk.plaintext);
    east.rotate(&mrk.arn).unwrap();
    let rewrapped = east.wrap_data_key(&mrk.arn, "us-east-1_P", &dk.plaintext).unwrap();
    assert_eq!(west.unwrap_data_key(&mrk.arn, "us-east-1_P", &rewrapped).unwrap(), dk.plaintext);
}

#[test]
fn setting_a_replication_secret_later_keeps_the_old_default_key() {
    let dir = tempfile::tempdir().unwrap();
    let k = ring(dir.path(), "us-east-1", 1);
    let old = k.default_key().unwrap();
    let dk = k.generate_data_key(&old, "us-east-1_P").unwrap();
    drop(k);
    let opts = |secret: &str| KeyringOptions {
        backing: None,
        path: dir.path().join("us-east-1.keyring.json"),
        unlock: Unlock::KeyFile(dir.path().join("us-east-1.key")),
        region: "us-east-1".into(),
        account: "123456789012".into(),
        shared_secret: Some(secret.into()),
    };
    let k = Keyring::open(opts("s3cret"), Arc::new(SeededRandom::new(2)), Arc::new(ManualClock::at(1))).unwrap();
    let shared = k.default_key().unwrap();
    assert_ne!(old, shared);
    assert_eq!(k.unwrap_data_key(&old, "us-east-1_P", &dk.wrapped).unwrap(), dk.plaintext);
    let opts_west = KeyringOptions { region: "us-west-2".into(), path: dir.path().join("w.json"), ..opts("s3cret") };
    let west = Keyring::open(opts_west, Arc::new(SeededRandom::new(3)), Arc::new(ManualClock::at(1))).unwrap();
    let shared_dk = k.generate_data_key(&shared, "us-east-1_Q").unwrap();
    assert_eq!(west.unwrap_data_key(&shared, "us-east-1_Q", &shared_dk.wrapped).unwrap(), shared_dk.plaintext);
}
