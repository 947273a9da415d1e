//! [`World`]: the services of one region on a test store, with everything a test wants to
//! control injected — the clock, the randomness, the outbox — and, when asked for, the built-in
//! keyring encrypting its secrets ([`WorldBuilder::keyring`]).

use std::path::Path;
use std::sync::{Arc, Mutex};

use janus_core::outbox::{Message, Outbox};
use janus_core::vault::KeySettings;
use janus_core::{Parts, Services};
use janus_crypto::keys::keyring::{Keyring, KeyringOptions, Unlock};
use janus_crypto::{HashParams, PasswordHasher, SeededRandom};
use janus_store::Store;
use janus_types::{ManualClock, RegionName};

use crate::{Backend, TestStore};

/// An outbox that keeps every message, for tests that read the codes sent.
#[derive(Default)]
pub struct Captured(Mutex<Vec<Message>>);

impl Outbox for Captured {
    fn send(&self, m: &Message) -> janus_types::Result<()> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(m.clone());
        Ok(())
    }
}

impl Captured {
    /// Every message so far, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The newest message.
    pub fn last(&self) -> Option<Message> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).last().cloned()
    }
}

/// An outbox that drops everything.
pub struct Quiet;

impl Outbox for Quiet {
    fn send(&self, _: &Message) -> janus_types::Result<()> {
        Ok(())
    }
}

/// The clock tests start at (2027-01-15).
pub const T0: i64 = 1_800_000_000_000;

/// One region's services on a test store.
pub struct World {
    /// The services.
    pub s: Services,
    /// The clock they read.
    pub clock: Arc<ManualClock>,
    /// What they sent.
    pub outbox: Arc<Captured>,
    /// Their store (kept alive as long as the world).
    pub store: TestStore,
    settings: Settings,
}

/// What a second node of the same region is built with.
#[derive(Clone)]
struct Settings {
    region: &'static str,
    seed: u64,
    rsa_bits: usize,
    issuer_base: String,
    keyring: bool,
}

/// The services of a node on `store`; with `keyring`, secrets are sealed under the built-in
/// keyring kept in `dir` (every node of the world opens the same one).
fn services(
    settings: &Settings,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    outbox: Arc<Captured>,
    seed: u64,
    keyring: Option<&Path>,
) -> Services {
    let rng = Arc::new(SeededRandom::new(seed));
    let s = Services::new(Parts {
        store,
        clock: clock.clone(),
        rng: rng.clone(),
        hasher: PasswordHasher::new(HashParams { m_kib: 64, t: 1, p: 1 }),
        region: RegionName::parse(settings.region).expect("region name"),
        account: "000000000000".into(),
        outbox,
        issuer_base: settings.issuer_base.clone(),
        rsa_bits: settings.rsa_bits,
    });
    let Some(dir) = keyring else { return s };
    let opts = KeyringOptions {
        backing: None,
        path: dir.join("keyring.json"),
        unlock: Unlock::KeyFile(dir.join("keyring.key")),
        region: settings.region.into(),
        account: "000000000000".into(),
        shared_secret: None,
    };
    let ring = Keyring::open(opts, rng, clock).expect("open the keyring");
    s.with_keys(Arc::new(ring), KeySettings::default())
}

/// How to build a [`World`]; every setting has the usual test default.
pub struct WorldBuilder {
    backend: Backend,
    region: &'static str,
    seed: u64,
    rsa_bits: usize,
    issuer_base: String,
    keyring: bool,
    clock: Option<Arc<ManualClock>>,
}

impl WorldBuilder {
    /// Defaults: us-east-1, seed 5, 2048-bit keys, the clock at [`T0`].
    pub fn new(backend: Backend) -> Self {
        Self {
            backend,
            region: "us-east-1",
            seed: 5,
            rsa_bits: janus_core::RSA_BITS,
            issuer_base: "http://127.0.0.1:9229".into(),
            keyring: false,
            clock: None,
        }
    }

    /// The region's name.
    pub fn region(mut self, region: &'static str) -> Self {
        self.region = region;
        self
    }

    /// The random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Smaller signing keys, for tests that never sign (faster pool creation).
    pub fn rsa_bits(mut self, bits: usize) -> Self {
        self.rsa_bits = bits;
        self
    }

    /// The region's issuer base URL (a pool's `iss` is `<base>/<pool id>`).
    pub fn issuer_base(mut self, base: &str) -> Self {
        self.issuer_base = base.into();
        self
    }

    /// Secrets sealed under the built-in keyring (in the store's directory), as `janus serve`
    /// runs by default; without it the services store them as given.
    pub fn keyring(mut self) -> Self {
        self.keyring = true;
        self
    }

    /// A clock shared with another world.
    pub fn clock(mut self, clock: Arc<ManualClock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Build it on a fresh store.
    pub fn build(self) -> World {
        let store = TestStore::new(self.backend);
        self.build_on(store)
    }

    /// Build it on `store`.
    pub fn build_on(self, store: TestStore) -> World {
        let clock = self.clock.unwrap_or_else(|| Arc::new(ManualClock::at(T0)));
        let outbox = Arc::new(Captured::default());
        let settings = Settings {
            region: self.region,
            seed: self.seed,
            rsa_bits: self.rsa_bits,
            issuer_base: self.issuer_base,
            keyring: self.keyring,
        };
        let keyring = settings.keyring.then(|| store.dir());
        let s = services(&settings, store.store.clone(), clock.clone(), outbox.clone(), settings.seed, keyring);
        World { s, clock, outbox, store, settings }
    }
}

impl World {
    /// A world with every default on `backend`.
    pub fn new(backend: Backend) -> Self {
        WorldBuilder::new(backend).build()
    }

    /// Another node of this region: its own connection to the same data (for SQLite, the
    /// same directory opened again), the same clock and outbox, randomness of its own.
    pub fn node(&self, n: u64) -> Services {
        let seed = self.settings.seed.wrapping_add(1000 * n);
        let keyring = self.settings.keyring.then(|| self.store.dir());
        services(&self.settings, self.store.reopen(), self.clock.clone(), self.outbox.clone(), seed, keyring)
    }

    /// This region's data opened again by a node with the built-in keyring: what an upgrade
    /// to encryption at rest meets (a world built without [`WorldBuilder::keyring`]).
    pub fn with_keyring(&self) -> Services {
        let seed = self.settings.seed.wrapping_add(7);
        let store = self.store.reopen();
        services(&self.settings, store, self.clock.clone(), self.outbox.clone(), seed, Some(self.store.dir()))
    }
}

/// Two regions on one backend, each on its own store, sharing a clock: a primary in
/// us-east-1 and a secondary in us-west-2. Wiring replication between them is the test's.
pub fn pair(backend: Backend) -> (World, World) {
    let clock = Arc::new(ManualClock::at(T0));
    let primary = WorldBuilder::new(backend).clock(clock.clone()).build();
    let secondary = WorldBuilder::new(backend).region("us-west-2").seed(6).clock(clock).build();
    (primary, secondary)
}
