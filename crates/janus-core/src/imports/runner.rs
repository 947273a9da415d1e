//! Running import jobs: a background loop finds the jobs that have work (Pending,
//! InProgress, Stopping) in pools this region holds as primary, takes a lease per job (so
//! one node of the region runs it, and another takes over when that node dies), and reads
//! the CSV in batches. Each batch — its users and the job's new progress and counts — is one
//! transaction: a crash loses at most the batch under way, which is then read again. Each
//! row's result is logged as Cognito logs it (`[FAILED] Line Number 7 - …`), by line
//! number, never with the row's values.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use janus_crypto::imported::Algorithm;
use janus_types::{Entity, ImportJob, ImportStatus, PoolId, Result};

use super::csv;
use super::rows::{self, Columns, Row};
use crate::users::pool_of;
use crate::Services;

/// Rows per transaction.
pub const BATCH_ROWS: usize = 500;

/// End `job` with `status` at `now`, with Cognito's completion message.
pub fn finish(job: &mut ImportJob, status: ImportStatus, now: i64) {
    job.status = status;
    job.completion_ms = Some(now);
    job.completion_message = Some(
        match status {
            ImportStatus::Succeeded => "Import Job Completed Successfully.",
            ImportStatus::Stopped => "The Import Job was stopped by the developer.",
            _ => "The import job failed.",
        }
        .into(),
    );
}

/// The chunk a job is reading, as lines.
struct Chunk {
    n: u32,
    lines: Vec<String>,
}

/// What a job reads, kept between its batches.
struct Reading {
    columns: Columns,
    algorithm: Option<Algorithm>,
    chunk: Option<Chunk>,
}

/// The background loop; stopped (and joined) with [`Runner::stop`].
pub struct Runner {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Runner {
    /// Look for work every `every`.
    pub fn start(services: Services, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("import-jobs".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    if let Err(e) = services.run_import_jobs(&flag) {
                        tracing::warn!(error = %e, "user import jobs: will try again");
                    }
                    std::thread::sleep(every);
                }
            })
            .ok();
        Runner { stop, handle }
    }

    /// Stop after the batch under way.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Services {
    /// Run every job that has work and that this node can take; returns how many ran.
    pub fn run_import_jobs(&self, stop: &AtomicBool) -> Result<usize> {
        let mut ran = 0;
        for (pool, job) in self.store.read()?.active_import_jobs()? {
            let primary = self.store.read()?.pool(&pool)?.is_some_and(|p| self.is_primary(&p));
            if !primary || stop.load(Ordering::Relaxed) {
                continue;
            }
            let Some(lease) = self.store.try_lease(&format!("import:{pool}:{}", job.id))? else { continue };
            self.run_job(&pool, &job.id, &*lease, stop)?;
            ran += 1;
        }
        Ok(ran)
    }

    fn run_job(&self, pool: &PoolId, id: &str, lease: &dyn janus_store::Lease, stop: &AtomicBool) -> Result<()> {
        let mut reading = None;
        while lease.held() && !stop.load(Ordering::Relaxed) {
            if !self.import_batch(pool, id, &mut reading)? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The header of `job`'s CSV, checked; `Err(why)` fails the job.
    fn reading(&self, pool_id: &PoolId, job: &ImportJob) -> Result<std::result::Result<Reading, String>> {
        let r = self.store.read()?;
        let pool = pool_of(&*r, pool_id)?;
        let first = r.import_chunk(pool_id, &job.id, 0)?.unwrap_or_default();
        let header = csv::header(first.lines().next().unwrap_or_default());
        let algorithm = job.algorithm.as_deref().and_then(Algorithm::parse);
        Ok(Columns::parse(header, &pool, algorithm).map(|columns| Reading { columns, algorithm, chunk: None }))
    }

    /// One batch of `job`; false once the job has nothing more to do.
    fn import_batch(&self, pool_id: &PoolId, id: &str, reading: &mut Option<Reading>) -> Result<bool> {
        let now = self.now_ms();
        let Some(mut job) = self.store.read()?.import_job(pool_id, id)? else { return Ok(false) };
        match job.status {
            ImportStatus::Stopping => return self.end(pool_id, job, ImportStatus::Stopped, now),
            ImportStatus::Pending | ImportStatus::InProgress => {}
            _ => return Ok(false),
        }
        if reading.is_none() {
            match self.reading(pool_id, &job)? {
                Ok(r) => *reading = Some(r),
                Err(why) => {
                    tracing::warn!(pool = %pool_id, job = id, "[FAILED] {why}");
                    return self.end(pool_id, job, ImportStatus::Failed, now);
                }
            }
        }
        let reading = reading.as_mut().expect("set above");
        job.status = ImportStatus::InProgress;
        let mut tx = self.store.write(now)?;
        let pool = pool_of(&*tx, pool_id)?;
        let mut rows_done = 0;
        while rows_done < BATCH_ROWS && job.done_chunks < job.chunks {
            if reading.chunk.as_ref().is_none_or(|c| c.n != job.done_chunks) {
                let text = tx.import_chunk(pool_id, id, job.done_chunks)?.unwrap_or_default();
                let skip = usize::from(job.done_chunks == 0); // the header
                reading.chunk =
                    Some(Chunk { n: job.done_chunks, lines: text.lines().skip(skip).map(str::to_owned).collect() });
            }
            let lines = &reading.chunk.as_ref().expect("loaded above").lines;
            let Some(line) = lines.get(job.done_rows as usize) else {
                job.done_chunks += 1;
                job.done_rows = 0;
                continue;
            };
            let line_no = job.next_line;
            job.done_rows += 1;
            job.next_line += 1;
            if line.trim().is_empty() {
                continue;
            }
            rows_done += 1;
            let values = csv::fields(line);
            match rows::user_of(&*tx, &pool, &reading.columns, reading.algorithm, &values, &*self.rng, now)? {
                Row::Imported(user) => {
                    tx.put(pool_id, Entity::User(*user))?;
                    job.imported += 1;
                    tracing::debug!(pool = %pool_id, job = id, "[SUCCEEDED] Line Number {line_no} - The import succeeded.");
                }
                Row::Skipped(why) => {
                    job.skipped += 1;
                    tracing::info!(pool = %pool_id, job = id, "[SKIPPED] Line Number {line_no} - {why}");
                }
                Row::Failed(why) => {
                    job.failed += 1;
                    tracing::warn!(pool = %pool_id, job = id, "[FAILED] Line Number {line_no} - {why}");
                }
            }
        }
        let done = job.done_chunks >= job.chunks;
        // A StopUserImportJob that landed during the batch is kept (read again now that
        // the batch's writes hold the pool's log).
        if !done && tx.import_job(pool_id, id)?.is_some_and(|j| j.status == ImportStatus::Stopping) {
            job.status = ImportStatus::Stopping;
        }
        if done {
            finish(&mut job, ImportStatus::Succeeded, now);
            tracing::info!(pool = %pool_id, job = id, imported = job.imported, skipped = job.skipped,
                failed = job.failed, "user import job succeeded");
        }
        tx.put(pool_id, Entity::ImportJob(job))?;
        tx.commit()?;
        Ok(!done)
    }

    fn end(&self, pool: &PoolId, mut job: ImportJob, status: ImportStatus, now: i64) -> Result<bool> {
        finish(&mut job, status, now);
        let mut tx = self.store.write(now)?;
        tx.put(pool, Entity::ImportJob(job))?;
        tx.commit()?;
        Ok(false)
    }
}
