//! `cargo run --release -p janus-core --example rewrap -- 10000`: how long rotating a CMK takes
//! when it must re-wrap the data keys of N pools (bench/keys.sh records it). Pools are created
//! directly through the services in a temporary store, with 512-bit signing keys so that
//! setting up 10,000 pools takes minutes, not hours (re-wrapping never touches signing keys).

use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

use janus_core::outbox::FileOutbox;
use janus_core::pools::CreatePool;
use janus_core::vault::KeySettings;
use janus_core::{Parts, Services};
use janus_crypto::keys::keyring::{Keyring, KeyringOptions, Unlock};
use janus_crypto::{HashParams, OsRandom, PasswordHasher};
use janus_store::SqliteStore;
use janus_types::{RegionName, SystemClock};

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let opts = KeyringOptions {
        backing: None,
        path: dir.path().join("keyring.json"),
        unlock: Unlock::KeyFile(dir.path().join("keyring.key")),
        region: "us-east-1".into(),
        account: "123456789012".into(),
        shared_secret: None,
    };
    let ring = Keyring::open(opts, Arc::new(OsRandom), Arc::new(SystemClock)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let s = Services::new(Parts {
        store: Arc::new(SqliteStore::open(dir.path())?),
        clock: Arc::new(SystemClock),
        rng: Arc::new(OsRandom),
        hasher: PasswordHasher::new(HashParams { m_kib: 64, t: 1, p: 1 }),
        region: RegionName::parse("us-east-1")?,
        account: "123456789012".into(),
        outbox: Arc::new(FileOutbox::new(dir.path().join("outbox.jsonl"))),
        issuer_base: "http://127.0.0.1:9229".into(),
        rsa_bits: 512,
    })
    .with_keys(Arc::new(ring), KeySettings::default());
    let started = Instant::now();
    for i in 0..n {
        s.create_pool(serde_json::from_value::<CreatePool>(json!({"PoolName": format!("p{i}")}))?)?;
    }
    eprintln!("created {n} pools in {:.1} s", started.elapsed().as_secs_f64());
    let key = s.vault().expect("keys configured").provider().default_key().map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    let (_, rewrapped) = s.rotate_key(&key)?;
    let secs = started.elapsed().as_secs_f64();
    println!("rewrap pools={rewrapped} seconds={secs:.3} per_pool_ms={:.3}", secs * 1000.0 / rewrapped.max(1) as f64);
    Ok(())
}
