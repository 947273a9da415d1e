//! Devices (Cognito's remembered devices): the pool's `DeviceConfiguration`, the device key a
//! sign-in hands out (NewDeviceMetadata), ConfirmDevice registering the device's SRP verifier,
//! and GetDevice, ListDevices, ForgetDevice, UpdateDeviceStatus with their Admin* variants.
//! The sign-in with a device (DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER) is in
//! `auth/device.rs`. A device key is `<region>_<uuid>`; a user's devices share one group
//! key, derived from the pool and the user's `sub`, so it needs no row until ConfirmDevice.
//! Devices are pool data: they replicate, and a device remembered on the primary is
//! remembered on the secondary. A secondary issues no new device keys (it could not store
//! the confirmation).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use janus_crypto::random;
use janus_types::{Device, Entity, EntityKey, Error, Pool, PoolId, Result, User, UserKey};

use crate::users::{self, pool_of};
use crate::{page, Services};

/// A pool's `DeviceConfiguration`, when it tracks devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceConfig {
    /// `ChallengeRequiredOnNewDevice` (acted on by threat protection, which Janus lacks).
    pub challenge_on_new: bool,
    /// `DeviceOnlyRememberedOnUserPrompt`: a confirmed device is remembered only once
    /// UpdateDeviceStatus says so; otherwise it is remembered at once.
    pub only_on_prompt: bool,
}

/// The pool's device tracking, `None` when it has no `DeviceConfiguration`.
pub fn config(pool: &Pool) -> Option<DeviceConfig> {
    let c = pool.config.other.get("DeviceConfiguration").filter(|v| v.is_object())?;
    let flag = |name: &str| c.get(name).and_then(Value::as_bool).unwrap_or(false);
    Some(DeviceConfig {
        challenge_on_new: flag("ChallengeRequiredOnNewDevice"),
        only_on_prompt: flag("DeviceOnlyRememberedOnUserPrompt"),
    })
}

/// The device group key of `user`: public (the "pool name" of the device's SRP
/// handshake), stable, and the same in every region.
pub fn group_key(pool: &PoolId, user: &User) -> String {
    let digest = Sha256::digest(format!("janus-device-group\0{pool}\0{}", user.sub.as_str()).as_bytes());
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let tail: String = digest.iter().take(9).map(|b| alphabet[*b as usize % alphabet.len()] as char).collect();
    format!("-{tail}")
}

/// NewDeviceMetadata of a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    /// `DeviceKey`.
    pub key: String,
    /// `DeviceGroupKey`.
    pub group: String,
}

/// The device ConfirmDevice registers: its SRP verifier as amazon-cognito-identity-js sends it.
#[derive(Debug, Clone)]
pub struct Confirmation {
    /// The device key (from NewDeviceMetadata).
    pub key: String,
    /// `DeviceSecretVerifierConfig.Salt`, base64.
    pub salt: Option<String>,
    /// `DeviceSecretVerifierConfig.PasswordVerifier`, base64.
    pub verifier: Option<String>,
    /// `DeviceName`.
    pub name: Option<String>,
}

fn untracked() -> Error {
    Error::InvalidUserPoolConfigurationException("Device tracking is not enabled for this user pool.".into())
}

fn not_found() -> Error {
    Error::ResourceNotFoundException("Device does not exist.".into())
}

fn hex_of_base64(what: &str, value: Option<&str>) -> Result<String> {
    let bytes = value.and_then(|v| B64.decode(v).ok()).filter(|b| !b.is_empty() && b.len() <= 512);
    let bytes = bytes.ok_or_else(|| Error::invalid(format!("DeviceSecretVerifierConfig.{what} must be base64.")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let trimmed = hex.trim_start_matches('0');
    Ok(if trimmed.is_empty() { "0".into() } else { trimmed.to_owned() })
}

/// Who a device operation acts for: the user of an access token, or a user an
/// administrator names.
pub enum Owner<'a> {
    /// GetDevice, ListDevices, ForgetDevice, UpdateDeviceStatus, ConfirmDevice.
    Token(&'a str),
    /// The Admin* variants.
    Admin(&'a PoolId, &'a str),
}

impl Services {
    /// The device key a sign-in of `user` hands out, when the pool tracks devices and this
    /// region can store the confirmation.
    pub(crate) fn new_device(&self, pool: &Pool, user: &User) -> Option<NewDevice> {
        config(pool)?;
        if !self.is_primary(pool) {
            return None;
        }
        let key = format!("{}_{}", self.region, random::uuid_v4(&*self.rng));
        Some(NewDevice { key, group: group_key(&pool.id, user) })
    }

    fn owner(&self, owner: &Owner<'_>) -> Result<(Pool, User, Option<String>)> {
        match owner {
            Owner::Token(token) => {
                let (pool, user, claims) = self.authenticate(token)?;
                let device = claims["device_key"].as_str().map(str::to_owned);
                Ok((pool, user, device))
            }
            Owner::Admin(pool_id, username) => {
                let r = self.store.read()?;
                let pool = pool_of(&*r, pool_id)?;
                let user = users::get(&*r, &pool, username)?;
                Ok((pool, user, None))
            }
        }
    }

    /// ConfirmDevice: store the device the access token was issued with. Returns
    /// `UserConfirmationNecessary` (the pool remembers devices only when the user says so).
    pub fn confirm_device(&self, token: &str, c: Confirmation) -> Result<bool> {
        let (pool, user, issued) = self.owner(&Owner::Token(token))?;
        let cfg = config(&pool).ok_or_else(untracked)?;
        if issued.as_deref() != Some(c.key.as_str()) {
            return Err(not_found());
        }
        let salt = hex_of_base64("Salt", c.salt.as_deref())?;
        let verifier = hex_of_base64("PasswordVerifier", c.verifier.as_deref())?;
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        if tx.device(&pool.id, &user.key, &c.key)?.is_some() {
            return Err(Error::DeviceKeyExistsException("Device key already exists.".into()));
        }
        let device = Device {
            user: user.key.clone(),
            key: c.key,
            group: group_key(&pool.id, &user),
            salt,
            verifier,
            name: c.name,
            remembered: !cfg.only_on_prompt,
            created_ms: now,
            modified_ms: now,
            last_auth_ms: now,
        };
        tx.put(&pool.id, Entity::Device(device))?;
        tx.commit()?;
        Ok(cfg.only_on_prompt)
    }

    /// GetDevice / AdminGetDevice.
    pub fn get_device(&self, owner: Owner<'_>, key: &str) -> Result<Device> {
        let (pool, user, _) = self.owner(&owner)?;
        self.store.read()?.device(&pool.id, &user.key, key)?.ok_or_else(not_found)
    }

    /// ListDevices / AdminListDevices: a page of the user's devices, ordered by key.
    pub fn list_devices(
        &self,
        owner: Owner<'_>,
        limit: usize,
        token: Option<&str>,
    ) -> Result<(Vec<Device>, Option<String>)> {
        let (pool, user, _) = self.owner(&owner)?;
        let after = token.map(page::key).transpose()?;
        let devices = self.store.read()?.devices(&pool.id, &user.key, after.as_deref(), limit + 1)?;
        Ok(page::split(devices, limit, |d| d.key.clone()))
    }

    /// ForgetDevice / AdminForgetDevice. ForgetDevice without a key forgets the device of
    /// the access token.
    pub fn forget_device(&self, owner: Owner<'_>, key: Option<&str>) -> Result<()> {
        let (pool, user, issued) = self.owner(&owner)?;
        let key = key.map(str::to_owned).or(issued).ok_or_else(|| Error::invalid("Missing DeviceKey."))?;
        let mut tx = self.store.write(self.now_ms())?;
        tx.device(&pool.id, &user.key, &key)?.ok_or_else(not_found)?;
        tx.delete(&pool.id, EntityKey::Device { user: user.key, key })?;
        tx.commit()
    }

    /// UpdateDeviceStatus / AdminUpdateDeviceStatus: `remembered` or `not_remembered`.
    pub fn update_device_status(&self, owner: Owner<'_>, key: &str, status: Option<&str>) -> Result<()> {
        let remembered = match status {
            Some("remembered") => true,
            None | Some("not_remembered") => false,
            Some(other) => return Err(Error::invalid(format!("Invalid device remembered status: {other}"))),
        };
        let (pool, user, _) = self.owner(&owner)?;
        let now = self.now_ms();
        self.modify_device(&pool.id, &user.key, key, |d| {
            d.remembered = remembered;
            d.modified_ms = now;
        })
    }

    /// Change one stored device.
    pub(crate) fn modify_device(
        &self,
        pool: &PoolId,
        user: &UserKey,
        key: &str,
        f: impl FnOnce(&mut Device),
    ) -> Result<()> {
        let mut tx = self.store.write(self.now_ms())?;
        let mut device = tx.device(pool, user, key)?.ok_or_else(not_found)?;
        f(&mut device);
        tx.put(pool, Entity::Device(device))?;
        tx.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_bytes_become_minimal_hex() {
        assert_eq!(hex_of_base64("Salt", Some(&B64.encode([0u8, 0x0a, 0xbc]))).unwrap(), "abc");
        assert!(hex_of_base64("Salt", Some("not base64!")).is_err());
        assert!(hex_of_base64("Salt", None).is_err());
    }
}
