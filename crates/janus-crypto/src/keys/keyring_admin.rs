//! The keyring's management side (`janus keys`): create, list, enable/disable, rotate,
//! restrict keys, and carry a multi-region key to another region as a sealed bundle. Every
//! change goes through `Keyring::update`, which re-seals the file and bumps the generation.

use super::keyring::Keyring;
use super::material::KeyRecord;
use super::transport::{self, Bundle};
use super::{KeyAdmin, KeyArn, KeyError, KeyErrorKind, KeyInfo, KeyPolicy};

impl KeyAdmin for Keyring {
    fn create(&self, multi_region: bool, description: &str, policy: KeyPolicy) -> Result<KeyInfo, KeyError> {
        let key_id = if multi_region {
            let mut b = [0u8; 16];
            self.rng.fill(&mut b);
            format!("mrk-{}", hex::encode(b))
        } else {
            crate::random::uuid_v4(&*self.rng)
        };
        let r = KeyRecord::generate(key_id, multi_region, description, policy, &*self.rng, self.clock.now_ms());
        let info = r.info(self.arn_of(&r));
        self.update(|d| {
            d.keys.push(r);
            Ok(())
        })?;
        Ok(info)
    }

    fn list(&self) -> Result<Vec<KeyInfo>, KeyError> {
        Ok(self.read().keys.iter().map(|r| r.info(self.arn_of(r))).collect())
    }

    fn set_enabled(&self, key: &str, enabled: bool) -> Result<KeyInfo, KeyError> {
        self.change(key, |r| {
            r.enabled = enabled;
            Ok(())
        })
    }

    fn rotate(&self, key: &str) -> Result<KeyInfo, KeyError> {
        self.change(key, |r| {
            r.current_version += 1;
            Ok(())
        })
    }

    fn set_policy(&self, key: &str, policy: KeyPolicy) -> Result<KeyInfo, KeyError> {
        self.change(key, |r| {
            if r.aws_owned {
                return Err(KeyError::new(
                    KeyErrorKind::Invalid,
                    format!("key {} is the default (AWS owned) key; its policy is fixed", r.key_id),
                ));
            }
            r.policy = policy;
            Ok(())
        })
    }

    fn transport_public_key(&self) -> Result<String, KeyError> {
        transport::public_of(&self.transport_private()?)
    }

    fn export_replica(&self, key: &str, target_region: &str, transport_key: &str) -> Result<String, KeyError> {
        let r = self.record(key)?;
        if !r.multi_region {
            return Err(KeyError::new(
                KeyErrorKind::NotMultiRegion,
                format!(
                    "key {} is a single-region key; only multi-region (mrk-) keys can be replicated to {target_region}",
                    self.arn_of(&r)
                ),
            ));
        }
        let secret = serde_json::to_vec(&r).map_err(|e| KeyError::new(KeyErrorKind::Unavailable, e.to_string()))?;
        let bundle = transport::seal(transport_key, &r.key_id, &self.region, target_region, &secret, &*self.rng)?;
        serde_json::to_string_pretty(&bundle).map_err(|e| KeyError::new(KeyErrorKind::Unavailable, e.to_string()))
    }

    fn import_replica(&self, bundle: &str) -> Result<KeyInfo, KeyError> {
        let b: Bundle = serde_json::from_str(bundle)
            .map_err(|e| KeyError::new(KeyErrorKind::Invalid, format!("not a key bundle: {e}")))?;
        let secret = transport::open(&b, &self.transport_private()?, &self.region)?;
        let r: KeyRecord = serde_json::from_slice(&secret)
            .map_err(|e| KeyError::new(KeyErrorKind::Invalid, format!("the bundle's key record: {e}")))?;
        if !r.multi_region || r.key_id != b.key_id {
            return Err(KeyError::new(
                KeyErrorKind::Invalid,
                format!("the bundle of {} does not hold that multi-region key", b.key_id),
            ));
        }
        let info = r.info(self.arn_of(&r));
        self.update(|d| {
            d.keys.retain(|k| k.key_id != r.key_id);
            d.keys.push(r);
            Ok(())
        })?;
        Ok(info)
    }
}

impl Keyring {
    fn change(&self, key: &str, f: impl FnOnce(&mut KeyRecord) -> Result<(), KeyError>) -> Result<KeyInfo, KeyError> {
        let region = self.region.clone();
        let account = self.account.clone();
        self.update(|d| {
            let i = self.index(d, key)?;
            f(&mut d.keys[i])?;
            Ok(d.keys[i].info(KeyArn::new(&region, &account, &d.keys[i].key_id).to_string()))
        })
    }
}
