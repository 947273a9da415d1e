//! The built-in keyring: a region's CMKs in one sealed text — a file (default
//! `<data dir>/keyring.json`) or, when the region's nodes share a database, a row of it
//! ([`KeyringBacking`]) — sealed under a KEK derived from a passphrase or a key file given at
//! start-up (zero setup: a key file generated next to the keyring). Keys live in memory once
//! opened; every change re-seals and replaces the stored text (on a shared backing only if
//! nobody saved in between), and a shared backing is polled so other nodes' changes arrive
//! within [`REFRESH`]. Each region has a default ("AWS owned") key;
//! when regions share a replication secret it is derived from that secret, so it is the same
//! key in every region of the deployment, as AWS's service-owned keys are.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use janus_types::{Clock, Random};

use super::keyring_backing::{FileBacking, KeyringBacking};
use super::keyring_file::{self, Kdf, KeyringData};
use super::material::KeyRecord;
use super::transport;
use super::{DataKey, KeyAdmin, KeyArn, KeyError, KeyErrorKind, KeyInfo, KeyPolicy, KeyProvider};

/// What unlocks the keyring file.
#[derive(Clone)]
pub enum Unlock {
    /// A passphrase (from `JANUS_KEYRING_PASSPHRASE`).
    Passphrase(String),
    /// A file whose bytes are the secret; created with 32 random bytes when missing.
    KeyFile(PathBuf),
}

impl std::fmt::Debug for Unlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unlock::Passphrase(_) => f.write_str("Passphrase(<redacted>)"),
            Unlock::KeyFile(p) => write!(f, "KeyFile({})", p.display()),
        }
    }
}

/// How to open a region's keyring.
#[derive(Debug, Clone)]
pub struct KeyringOptions {
    /// The keyring file (unless `backing` says otherwise).
    pub path: PathBuf,
    /// Where the sealed keyring is kept instead of `path` (the region's shared database).
    pub backing: Option<Arc<dyn KeyringBacking>>,
    /// Its unlock secret.
    pub unlock: Unlock,
    /// This region.
    pub region: String,
    /// The account id in key ARNs.
    pub account: String,
    /// The deployment's replication secret, from which the shared default key derives.
    pub shared_secret: Option<String>,
}

/// How stale a node's copy of a shared keyring may get.
pub const REFRESH: Duration = Duration::from_secs(1);

/// The built-in key provider.
pub struct Keyring {
    backing: Arc<dyn KeyringBacking>,
    /// The stored version the keys in memory came from.
    version: AtomicU64,
    /// When a shared backing's version was last looked at.
    checked: Mutex<Instant>,
    pub(super) region: String,
    pub(super) account: String,
    kdf: Kdf,
    kek: [u8; 32],
    data: RwLock<KeyringData>,
    generation: AtomicU64,
    pub(super) rng: Arc<dyn Random>,
    pub(super) clock: Arc<dyn Clock>,
}

fn not_found(msg: String) -> KeyError {
    KeyError::new(KeyErrorKind::NotFound, msg)
}

fn unlock_secret(unlock: &Unlock, rng: &dyn Random) -> Result<Vec<u8>, KeyError> {
    match unlock {
        Unlock::Passphrase(p) if p.is_empty() => {
            Err(KeyError::new(KeyErrorKind::Invalid, "the keyring passphrase is empty"))
        }
        Unlock::Passphrase(p) => Ok(p.as_bytes().to_vec()),
        Unlock::KeyFile(path) if path.exists() => std::fs::read(path)
            .map_err(|e| KeyError::new(KeyErrorKind::Unavailable, format!("reading key file {}: {e}", path.display()))),
        Unlock::KeyFile(path) => {
            let mut b = [0u8; 32];
            rng.fill(&mut b);
            let text = hex::encode(b);
            keyring_file::write_atomic(path, &text)?;
            Ok(text.into_bytes())
        }
    }
}

/// The default key derived from the deployment's shared secret.
fn shared_default(secret: &str, account: &str, now_ms: i64) -> KeyRecord {
    let derive = |label: &[u8]| -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(label);
        mac.update(account.as_bytes());
        mac.finalize().into_bytes().into()
    };
    let mut id = derive(b"janus-aws-owned-key-id");
    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;
    let h = hex::encode(&id[..16]);
    let key_id = format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]);
    KeyRecord {
        key_id,
        multi_region: false,
        aws_owned: true,
        enabled: true,
        current_version: 1,
        root: B64.encode(derive(b"janus-aws-owned-key-root")),
        policy: KeyPolicy::default(),
        description: "Default key (AWS owned), shared by the regions of this deployment".into(),
        created_ms: now_ms,
    }
}

impl Keyring {
    /// Open the keyring (`opts.backing`, else the file at `opts.path`), creating it with the
    /// region's default key if there is none yet.
    pub fn open(opts: KeyringOptions, rng: Arc<dyn Random>, clock: Arc<dyn Clock>) -> Result<Self, KeyError> {
        let backing = opts.backing.clone().unwrap_or_else(|| Arc::new(FileBacking::new(opts.path.clone())));
        let secret = unlock_secret(&opts.unlock, &*rng)?;
        // Twice at most: when another node creates the keyring at the same moment, its save
        // wins and this one opens what it saved.
        for _ in 0..2 {
            let stored = backing.load()?;
            let (version, kdf, kek, mut data) = match &stored {
                Some((version, text)) => {
                    let kdf = keyring_file::kdf_of(text, &backing.describe())?;
                    let kek = kdf.derive(&secret)?;
                    let data = keyring_file::open(text, &kek, &backing.describe()).map_err(|e| {
                        if backing.shared() && e.kind == KeyErrorKind::Denied {
                            KeyError::new(e.kind, format!("{e}; every node of a region unlocks the one keyring in its database, so give each the same key file (JANUS_KEYRING_KEY_FILE) or passphrase"))
                        } else {
                            e
                        }
                    })?;
                    (*version, kdf, kek, data)
                }
                None => {
                    let data = KeyringData {
                        region: opts.region.clone(),
                        account: opts.account.clone(),
                        keys: vec![],
                        transport: None,
                    };
                    let kdf = Kdf::generate(&*rng);
                    let kek = kdf.derive(&secret)?;
                    (0, kdf, kek, data)
                }
            };
            // A data directory restarted under another region name keeps its keys; their ARNs
            // follow the region it now runs as.
            data.region = opts.region.clone();
            let before = data.clone();
            ensure_default(&mut data, &opts, &*rng, clock.now_ms());
            let ring = Self {
                backing: backing.clone(),
                version: AtomicU64::new(version),
                checked: Mutex::new(Instant::now()),
                region: opts.region.clone(),
                account: opts.account.clone(),
                kdf,
                kek,
                data: RwLock::new(data),
                generation: AtomicU64::new(1),
                rng: rng.clone(),
                clock: clock.clone(),
            };
            if !backing.shared() {
                ring.save(&ring.read())?;
                return Ok(ring);
            }
            let unchanged = stored.is_some() && keyring_file::same(&before, &ring.read());
            if unchanged || ring.save(&ring.read())? {
                return Ok(ring);
            }
        }
        Err(KeyError::new(
            KeyErrorKind::Unavailable,
            format!("{} kept changing while it was opened", backing.describe()),
        ))
    }

    /// Where the keyring is kept.
    pub fn location(&self) -> String {
        self.backing.describe()
    }

    /// The keys in memory, first brought up to date with a shared backing if [`REFRESH`]
    /// has passed since it was last looked at.
    pub(super) fn read(&self) -> RwLockReadGuard<'_, KeyringData> {
        self.poll();
        self.data.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Look at a shared backing's version if [`REFRESH`] has passed, and load what changed.
    fn poll(&self) {
        if !self.backing.shared() {
            return;
        }
        {
            let mut at = self.checked.lock().unwrap_or_else(|p| p.into_inner());
            if at.elapsed() < REFRESH {
                return;
            }
            *at = Instant::now();
        }
        if let Err(e) = self.refresh() {
            tracing::warn!(keyring = %self.backing.describe(), error = %e, "could not refresh the keyring");
        }
    }

    /// Load what another node saved, if the stored version is newer than ours.
    fn refresh(&self) -> Result<(), KeyError> {
        let stored = self.backing.version()?.unwrap_or(0);
        if stored <= self.version.load(Ordering::SeqCst) {
            return Ok(());
        }
        let Some((version, text)) = self.backing.load()? else { return Ok(()) };
        let mut data = keyring_file::open(&text, &self.kek, &self.backing.describe())?;
        data.region = self.region.clone();
        let mut guard = self.data.write().unwrap_or_else(|p| p.into_inner());
        *guard = data;
        self.version.store(version, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Seal `data` and store it as the next version; false when another node saved first.
    fn save(&self, data: &KeyringData) -> Result<bool, KeyError> {
        let text = keyring_file::seal(data, &self.kdf, &self.kek, &*self.rng)?;
        let next = self.version.load(Ordering::SeqCst) + 1;
        let saved = self.backing.save(next, &text)?;
        if saved {
            self.version.store(next, Ordering::SeqCst);
        }
        Ok(saved)
    }

    /// Change the keyring in memory and where it is kept, or neither. On a shared backing
    /// the change applies to the newest stored keys; if another node saves between the two,
    /// the change is refused (retry it).
    pub(super) fn update<T>(&self, f: impl FnOnce(&mut KeyringData) -> Result<T, KeyError>) -> Result<T, KeyError> {
        if self.backing.shared() {
            self.refresh()?;
        }
        let mut guard = self.data.write().unwrap_or_else(|p| p.into_inner());
        let mut next = guard.clone();
        let out = f(&mut next)?;
        if !self.save(&next)? {
            return Err(KeyError::new(
                KeyErrorKind::Unavailable,
                "the keyring was changed by another node at the same moment; retry",
            ));
        }
        *guard = next;
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(out)
    }

    pub(super) fn arn_of(&self, r: &KeyRecord) -> String {
        KeyArn::new(&self.region, &self.account, &r.key_id).to_string()
    }

    /// Find `key` (an ARN or a bare key id) in `data`.
    pub(super) fn index(&self, data: &KeyringData, key: &str) -> Result<usize, KeyError> {
        let arn =
            if key.starts_with("arn:") { KeyArn::parse(key)? } else { KeyArn::new(&self.region, &self.account, key) };
        let pos = data.keys.iter().position(|r| r.key_id == arn.key_id);
        if arn.account != self.account {
            return Err(not_found(format!(
                "key {arn} belongs to account {}, not this region's account {}",
                arn.account, self.account
            )));
        }
        match pos {
            Some(i) if arn.region == self.region || data.keys[i].multi_region || data.keys[i].aws_owned => Ok(i),
            _ if !arn.multi_region() && arn.region != self.region => Err(not_found(format!(
                "key {arn} is a single-region key of region {}; it does not exist in region {} (use a multi-region mrk- key replicated with `janus keys replicate`)",
                arn.region, self.region
            ))),
            None if arn.multi_region() => Err(not_found(format!(
                "multi-region key {} does not exist in region {} (replicate it here with `janus keys replicate`)",
                arn.key_id, self.region
            ))),
            _ => Err(not_found(format!("key {arn} does not exist in region {}", self.region))),
        }
    }

    pub(super) fn record(&self, key: &str) -> Result<KeyRecord, KeyError> {
        {
            let data = self.read();
            match self.index(&data, key) {
                Ok(i) => return Ok(data.keys[i].clone()),
                Err(e) if !self.backing.shared() || e.kind != KeyErrorKind::NotFound => return Err(e),
                Err(_) => {}
            }
        }
        // A key another node created a moment ago: look again at once rather than wait for
        // the next poll.
        self.refresh()?;
        let data = self.data.read().unwrap_or_else(|p| p.into_inner());
        Ok(data.keys[self.index(&data, key)?].clone())
    }

    fn check_use(&self, r: &KeyRecord, pool: &str) -> Result<(), KeyError> {
        let arn = self.arn_of(r);
        if !r.enabled {
            return Err(KeyError::new(
                KeyErrorKind::Disabled,
                format!("key {arn} is disabled in region {}; its pools refuse to sign in until it is enabled (`janus keys enable`)", self.region),
            ));
        }
        if !r.policy.allows(pool, &self.region) {
            return Err(KeyError::new(
                KeyErrorKind::Denied,
                format!("the policy of key {arn} does not allow pool {pool} in region {}", self.region),
            ));
        }
        Ok(())
    }

    pub(super) fn transport_private(&self) -> Result<Vec<u8>, KeyError> {
        if let Some(t) = &self.read().transport {
            return B64
                .decode(t)
                .map_err(|_| KeyError::new(KeyErrorKind::Integrity, "the stored transport key is malformed"));
        }
        let der = transport::generate(&*self.rng)?;
        self.update(|d| {
            d.transport.get_or_insert_with(|| B64.encode(&der));
            Ok(())
        })?;
        let t = self.read().transport.clone().unwrap_or_default();
        B64.decode(t).map_err(|_| KeyError::new(KeyErrorKind::Integrity, "the stored transport key is malformed"))
    }
}

/// Make sure the region has its default key. With a shared secret it is the key derived from
/// it (first in the list, so it is the default); a default key made earlier (before the secret
/// was set, or from another secret) stays, so the data keys it wrapped still unwrap — their
/// pools move to the new default key the next time their pool is written.
fn ensure_default(data: &mut KeyringData, opts: &KeyringOptions, rng: &dyn Random, now_ms: i64) {
    if let Some(secret) = &opts.shared_secret {
        let shared = shared_default(secret, &opts.account, now_ms);
        let kept = data.keys.iter().position(|k| k.key_id == shared.key_id).map(|i| data.keys.remove(i));
        let record = match kept {
            Some(k) => {
                KeyRecord { enabled: k.enabled, created_ms: k.created_ms, current_version: k.current_version, ..shared }
            }
            None => shared,
        };
        data.keys.insert(0, record);
    } else if !data.keys.iter().any(|k| k.aws_owned) {
        let id = crate::random::uuid_v4(rng);
        let mut r =
            KeyRecord::generate(id, false, "Default key (AWS owned) of this region", KeyPolicy::default(), rng, now_ms);
        r.aws_owned = true;
        data.keys.insert(0, r);
    }
}

impl KeyProvider for Keyring {
    fn name(&self) -> &'static str {
        "keyring"
    }

    fn region(&self) -> &str {
        &self.region
    }

    fn default_key(&self) -> Result<String, KeyError> {
        let data = self.read();
        let r = data
            .keys
            .iter()
            .find(|k| k.aws_owned)
            .ok_or_else(|| not_found(format!("region {} has no default key", self.region)))?;
        Ok(self.arn_of(r))
    }

    fn describe(&self, key: &str) -> Result<KeyInfo, KeyError> {
        let r = self.record(key)?;
        Ok(r.info(self.arn_of(&r)))
    }

    fn authorize(&self, key: &str, pool: &str) -> Result<KeyInfo, KeyError> {
        let r = self.record(key)?;
        self.check_use(&r, pool)?;
        Ok(r.info(self.arn_of(&r)))
    }

    fn generate_data_key(&self, key: &str, pool: &str) -> Result<DataKey, KeyError> {
        let r = self.record(key)?;
        self.check_use(&r, pool)?;
        let mut plaintext = [0u8; 32];
        self.rng.fill(&mut plaintext);
        let wrapped = r.wrap(pool, &plaintext, &*self.rng)?;
        Ok(DataKey { plaintext, wrapped })
    }

    fn unwrap_data_key(&self, key: &str, pool: &str, wrapped: &[u8]) -> Result<[u8; 32], KeyError> {
        let r = self.record(key)?;
        self.check_use(&r, pool)?;
        r.unwrap(pool, wrapped)
    }

    fn wrap_data_key(&self, key: &str, pool: &str, plaintext: &[u8; 32]) -> Result<Vec<u8>, KeyError> {
        let r = self.record(key)?;
        self.check_use(&r, pool)?;
        r.wrap(pool, plaintext, &*self.rng)
    }

    fn admin(&self) -> Option<&dyn KeyAdmin> {
        Some(self)
    }

    fn generation(&self) -> Option<u64> {
        // The hot path asks only this before reusing a check: a shared keyring's changes on
        // other nodes must move it, so it polls too.
        self.poll();
        Some(self.generation.load(Ordering::SeqCst))
    }
}
