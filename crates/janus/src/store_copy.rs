//! `janus store copy --from URL --to URL`: move a stopped region onto another store (SQLite
//! onto PostgreSQL, or back). Each pool goes over as it is stored — rows still sealed under
//! the pool's data key, so nothing is decrypted on the way — in one destination transaction:
//! its entities streamed through a spool file (constant memory whatever the pool's size), its
//! log head, and its retained change log (so replicas following the pool resume where they
//! were). The region's subscriptions follow. Then both sides are read again and compared
//! pool by pool — a SHA-256 over every entity, the head, the number of retained changes —
//! and any difference fails the command.
//!
//! The built-in keyring goes along, still sealed: from `DIR/keyring.json` into the database
//! when moving onto PostgreSQL (where the region's nodes share it), and back into the file.
//! The key file or passphrase that unlocks it stays with the operator.
//!
//! Region-local marks (the last TOTP step used on a secondary, codes redeemed there) are not
//! copied: at worst a code used in the last 90 seconds could be used once more.

use anyhow::{bail, ensure, Context};
use sha2::{Digest as _, Sha256};
use std::io::{BufRead as _, BufReader, Seek as _, SeekFrom, Write as _};

use janus_store::{Read, Store};
use janus_types::{Error, Pool, PoolId, Seq};

use crate::store_url::StoreUrl;

/// What a pool looks like in one store, for the comparison.
#[derive(Debug, PartialEq, Eq)]
struct Fingerprint {
    head: (u64, u64),
    changes: usize,
    entities: u64,
    sha256: String,
}

fn fingerprint(r: &dyn Read, pool: &PoolId) -> anyhow::Result<Fingerprint> {
    let (seq, epoch) = r.log_head(pool)?;
    let changes = r.changes(pool, Seq(0), usize::MAX >> 1)?.len();
    let mut h = Sha256::new();
    let entities = r.for_each_entity(pool, &mut |e| {
        h.update(serde_json::to_vec(&e).map_err(Error::internal)?);
        h.update(b"\n");
        Ok(())
    })?;
    Ok(Fingerprint { head: (seq.0, epoch.0), changes, entities, sha256: hex::encode(h.finalize()) })
}

fn all_pools(r: &dyn Read) -> anyhow::Result<Vec<Pool>> {
    let mut out: Vec<Pool> = Vec::new();
    loop {
        let page = r.pools(out.last().map(|p| &p.id), 500)?;
        if page.is_empty() {
            return Ok(out);
        }
        out.extend(page);
    }
}

/// Copy every pool of `from` into the empty store `to`, then verify.
pub fn copy(from: &StoreUrl, to: &StoreUrl) -> anyhow::Result<()> {
    ensure!(from != to, "--from and --to are the same store");
    let (src, dst) = (from.open()?, to.open()?);
    let pools = all_pools(&*src.read()?)?;
    if !all_pools(&*dst.read()?)?.is_empty() {
        bail!("{} already holds pools; copy into an empty store", to.describe());
    }
    eprintln!("copying {} pools from {} to {}", pools.len(), from.describe(), to.describe());
    for (i, pool) in pools.iter().enumerate() {
        let n = copy_pool(&*src, &*dst, &pool.id)?;
        eprintln!("[{}/{}] {}: {n} entities", i + 1, pools.len(), pool.id);
    }
    let subs = src.read()?.subscriptions()?;
    let mut tx = dst.write(0)?;
    for sub in &subs {
        tx.set_subscription(&sub.pool, Some(sub))?;
    }
    tx.commit()?;
    carry_keyring(from, &*src, to, &*dst)?;
    eprint!("verifying … ");
    let (rs, rd) = (src.read()?, dst.read()?);
    for pool in &pools {
        let (a, b) = (fingerprint(&*rs, &pool.id)?, fingerprint(&*rd, &pool.id)?);
        ensure!(a == b, "{} differs after the copy: {a:?} became {b:?}", pool.id);
    }
    ensure!(rs.subscriptions()? == rd.subscriptions()?, "the subscriptions differ after the copy");
    eprintln!("every pool identical");
    println!("copied {} pools, verified", pools.len());
    Ok(())
}

fn copy_pool(src: &dyn Store, dst: &dyn Store, pool: &PoolId) -> anyhow::Result<u64> {
    let r = src.read()?;
    let (seq, epoch) = r.log_head(pool)?;
    let spool = tempfile::tempfile().context("a spool file")?;
    let mut w = std::io::BufWriter::new(spool);
    let mut written = 0u64;
    r.for_each_entity(pool, &mut |e| {
        serde_json::to_writer(&mut w, &e).map_err(Error::internal)?;
        w.write_all(b"\n").map_err(Error::internal)?;
        written += 1;
        if written.is_multiple_of(10_000) {
            eprint!("\r  {pool}: {written} entities spooled");
        }
        Ok(())
    })?;
    let changes = r.changes(pool, Seq(0), usize::MAX >> 1)?;
    drop(r);
    let mut file = w.into_inner().map_err(|e| e.into_error())?;
    file.seek(SeekFrom::Start(0))?;
    let mut entities = BufReader::with_capacity(256 * 1024, file)
        .lines()
        .map(|line| serde_json::from_str(&line.map_err(Error::internal)?).map_err(Error::internal));
    let mut tx = dst.write(0)?;
    let loaded = tx.load_snapshot(pool, seq, epoch, &mut entities)?;
    ensure!(loaded == written, "{pool}: spooled {written} entities but loaded {loaded}");
    for c in &changes {
        tx.keep_history(c)?;
    }
    tx.commit()?;
    if written >= 10_000 {
        eprintln!();
    }
    Ok(loaded)
}

/// Move the sealed keyring between its file (next to an embedded store) and a shared store.
fn carry_keyring(from: &StoreUrl, src: &dyn Store, to: &StoreUrl, dst: &dyn Store) -> anyhow::Result<()> {
    use crate::keyring_store::DOC;
    let text = match from {
        StoreUrl::Sqlite(dir) if dir.join("keyring.json").exists() => {
            Some(std::fs::read_to_string(dir.join("keyring.json")).context("reading keyring.json")?)
        }
        StoreUrl::Sqlite(_) => None,
        StoreUrl::Postgres(_) => src.region_doc(DOC)?.map(|(_, t)| t),
    };
    let Some(text) = text else { return Ok(()) };
    match to {
        StoreUrl::Postgres(_) => {
            ensure!(dst.put_region_doc(DOC, 1, &text)?, "the destination already holds a keyring");
        }
        StoreUrl::Sqlite(dir) => {
            let path = dir.join("keyring.json");
            ensure!(!path.exists(), "{} exists already", path.display());
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            #[cfg(unix)]
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        }
    }
    eprintln!("the sealed keyring went along");
    Ok(())
}
