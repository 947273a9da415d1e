//! The upload of an import job's CSV to the URL CreateUserImportJob returns: a Janus URL
//! carrying a token sealed with the pool's keys (the pool, the job, an expiry 15 minutes
//! out), so it cannot be forged or reused for another job, and any node of the region that
//! holds the pool's keys accepts it. The body is cut into chunks of whole lines (about 1 MiB
//! each, UTF-8 checked), each sealed and stored as it arrives, so memory stays bounded
//! whatever the file's size: up to 1 GiB (Cognito stops at 100 MB and 500,000 rows; a
//! million users move in one job here).

use serde::{Deserialize, Serialize};

use janus_types::{Entity, Error, ImportStatus, PoolId, Result};

use crate::auth::sealed;
use crate::users::pool_of;
use crate::Services;

/// How long an upload URL is good for.
pub const URL_VALID_MS: i64 = 15 * 60 * 1000;
/// The largest CSV accepted.
pub const MAX_BYTES: usize = 1024 * 1024 * 1024;
/// The size a chunk is cut at (the next line end after it).
pub const CHUNK_BYTES: usize = 1024 * 1024;
const PURPOSE: &str = "import-upload";

#[derive(Serialize, Deserialize)]
struct UploadClaims {
    v: u8,
    pool: PoolId,
    job: String,
    exp_ms: i64,
}

/// Cuts an upload into chunks of whole lines.
#[derive(Default)]
pub struct Chunker {
    pending: Vec<u8>,
    total: usize,
}

fn not_utf8() -> Error {
    Error::invalid("The CSV file must be UTF-8.")
}

impl Chunker {
    /// Take `bytes`; the chunks now complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<String>> {
        self.total += bytes.len();
        if self.total > MAX_BYTES {
            return Err(Error::invalid("The CSV file is larger than 1 GiB."));
        }
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while self.pending.len() >= CHUNK_BYTES {
            let Some(end) = self.pending[CHUNK_BYTES - 1..].iter().position(|b| *b == b'\n') else { break };
            let rest = self.pending.split_off(CHUNK_BYTES + end);
            let chunk = std::mem::replace(&mut self.pending, rest);
            out.push(String::from_utf8(chunk).map_err(|_| not_utf8())?);
        }
        Ok(out)
    }

    /// The last chunk, if any bytes are left.
    pub fn finish(self) -> Result<Option<String>> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        String::from_utf8(self.pending).map(Some).map_err(|_| not_utf8())
    }
}

impl Services {
    /// The pre-signed URL of `job`'s upload, on this region's public base.
    pub(crate) fn upload_url(&self, pool: &PoolId, job: &str) -> Result<String> {
        let keys = self.pool_keys(&*self.store.read()?, pool)?;
        let claims =
            UploadClaims { v: 1, pool: pool.clone(), job: job.to_owned(), exp_ms: self.now_ms() + URL_VALID_MS };
        let token = sealed::seal_url(&keys, PURPOSE, &claims, &*self.rng)?;
        Ok(format!("{}/import/{pool}/{job}?X-Amz-Expires={}&token={token}", self.issuer_base, URL_VALID_MS / 1000))
    }

    /// Check an upload's token, and that its job still waits for a CSV.
    pub fn check_upload(&self, pool: &PoolId, job: &str, token: &str) -> Result<()> {
        let denied = || Error::NotAuthorizedException("The upload URL is not valid.".into());
        let r = self.store.read()?;
        pool_of(&*r, pool).map_err(|_| denied())?;
        let keys = self.pool_keys(&*r, pool)?;
        let claims: UploadClaims = sealed::open_url(&keys, PURPOSE, token).ok_or_else(denied)?;
        if claims.pool != *pool || claims.job != job {
            return Err(denied());
        }
        if claims.exp_ms < self.now_ms() {
            return Err(Error::NotAuthorizedException("The upload URL has expired.".into()));
        }
        let found = r.import_job(pool, job)?.ok_or_else(denied)?;
        if super::as_seen(found, self.now_ms()).status != ImportStatus::Created {
            return Err(Error::PreconditionNotMetException(format!("Import job {job} has started or ended.")));
        }
        Ok(())
    }

    /// Store chunk `n` of `job`'s CSV.
    pub fn put_upload_chunk(&self, pool: &PoolId, job: &str, n: u32, text: &str) -> Result<()> {
        let mut tx = self.store.write(self.now_ms())?;
        tx.put_import_chunk(pool, job, n, text)?;
        tx.commit()
    }

    /// The upload is complete: the job has `chunks` chunks (none: an empty file).
    pub fn finish_upload(&self, pool: &PoolId, job: &str, chunks: u32) -> Result<()> {
        if chunks == 0 {
            return Err(Error::invalid("The CSV file is empty."));
        }
        let mut tx = self.store.write(self.now_ms())?;
        let mut found = tx.import_job(pool, job)?.ok_or_else(|| super::not_found(job))?;
        if found.status != ImportStatus::Created {
            return Err(Error::PreconditionNotMetException(format!("Import job {job} has started or ended.")));
        }
        found.chunks = chunks;
        tx.put(pool, Entity::ImportJob(found))?;
        tx.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_at_line_ends_and_keep_every_byte() {
        let line = "é".repeat(100) + "\n";
        let text = line.repeat(CHUNK_BYTES / line.len() * 3);
        let mut c = Chunker::default();
        let mut chunks = Vec::new();
        for piece in text.as_bytes().chunks(7777) {
            chunks.extend(c.push(piece).unwrap());
        }
        chunks.extend(c.finish().unwrap());
        assert!(chunks.len() >= 3 && chunks.iter().all(|c| c.ends_with('\n')));
        assert_eq!(chunks.concat(), text);
    }
}
