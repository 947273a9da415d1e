//! Region documents: small versioned texts a region's nodes share and nobody replicates (the
//! sealed keyring). A save names the version it replaces, so two nodes saving at once
//! cannot lose each other's change silently: the second is told it lost.

use janus_types::Result;

use super::Sql;

/// The document `name` and its version.
pub(crate) fn get(c: &impl Sql, name: &str) -> Result<Option<(u64, String)>> {
    let mut out = None;
    c.query("SELECT version, body FROM region_docs WHERE name = ?1", &[name.into()], &mut |r| {
        out = Some((r.int(0)? as u64, r.text(1)?));
        Ok(())
    })?;
    Ok(out)
}

/// The version of document `name` alone.
pub(crate) fn version(c: &impl Sql, name: &str) -> Result<Option<u64>> {
    let mut out = None;
    c.query("SELECT version FROM region_docs WHERE name = ?1", &[name.into()], &mut |r| {
        out = Some(r.int(0)? as u64);
        Ok(())
    })?;
    Ok(out)
}

/// Store `body` as `version` of `name` if the stored version is `version - 1` (none, for 1).
pub(crate) fn put(c: &impl Sql, name: &str, version: u64, body: &str) -> Result<bool> {
    let changed = if version == 1 {
        c.exec(
            "INSERT INTO region_docs (name, version, body) VALUES (?1, 1, ?2) ON CONFLICT (name) DO NOTHING",
            &[name.into(), body.into()],
        )?
    } else {
        c.exec(
            "UPDATE region_docs SET version = ?2, body = ?3 WHERE name = ?1 AND version = ?4",
            &[name.into(), (version as i64).into(), body.into(), (version as i64 - 1).into()],
        )?
    };
    Ok(changed == 1)
}
