//! User import jobs: GetCSVHeader, CreateUserImportJob (with PasswordHashingAlgorithm),
//! StartUserImportJob, StopUserImportJob, DescribeUserImportJob, ListUserImportJobs, and the
//! upload of the CSV to the pre-signed URL the job returns (served by Janus, sealed with the
//! pool's keys, 15 minutes). The CSV is stored region-locally in sealed chunks of whole lines
//! (`upload`); a runner reads it in batches, each batch of users committed in one transaction
//! with the job's progress (`runner`, `rows`), so a crash mid-job leaves no half-user and the
//! job resumes where it stood. Imported users replicate like any other write.

pub mod csv;
pub mod rows;
pub mod runner;
pub mod upload;

use janus_crypto::random;
use janus_types::{Entity, Error, ImportJob, ImportStatus, Pool, PoolId, Result};

use crate::users::pool_of;
use crate::Services;

/// A job not started within this time expires (Cognito: 24 to 48 hours).
pub const EXPIRES_AFTER_MS: i64 = 24 * 3600 * 1000;

/// CreateUserImportJob's input.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// `JobName`.
    pub name: String,
    /// `CloudWatchLogsRoleArn`.
    pub role_arn: String,
    /// `PasswordHashingAlgorithm`.
    pub algorithm: Option<String>,
}

fn not_found(id: &str) -> Error {
    Error::ResourceNotFoundException(format!("Import job {id} does not exist."))
}

fn precondition(msg: String) -> Error {
    Error::PreconditionNotMetException(msg)
}

/// The job as callers see it now: a job never started expires.
pub fn as_seen(mut job: ImportJob, now_ms: i64) -> ImportJob {
    if job.status == ImportStatus::Created && now_ms - job.created_ms > EXPIRES_AFTER_MS {
        job.status = ImportStatus::Expired;
        job.completion_ms = Some(job.created_ms + EXPIRES_AFTER_MS);
        job.completion_message = Some("The user import job has expired.".into());
    }
    job
}

/// GetCSVHeader: the pool's attributes (standard, then custom, then developer-only), then
/// `cognito:mfa_enabled`, `cognito:username` and `password_hash`.
pub fn csv_header(pool: &Pool) -> Vec<String> {
    let attrs = pool.config.schema_attributes.iter().map(|a| &a.name).filter(|n| n.as_str() != "sub");
    let (mut standard, mut custom, mut dev) = (Vec::new(), Vec::new(), Vec::new());
    for name in attrs {
        match name {
            n if n.starts_with("dev:") => dev.push(n.clone()),
            n if n.starts_with("custom:") => custom.push(n.clone()),
            n => standard.push(n.clone()),
        }
    }
    standard.extend(custom);
    standard.extend(dev);
    standard.extend(["cognito:mfa_enabled", "cognito:username", "password_hash"].map(String::from));
    standard
}

impl Services {
    /// GetCSVHeader.
    pub fn import_csv_header(&self, pool: &PoolId) -> Result<Vec<String>> {
        Ok(csv_header(&pool_of(&*self.store.read()?, pool)?))
    }

    /// CreateUserImportJob: a job waiting for its CSV; returns it with its upload URL.
    pub fn create_import_job(&self, pool_id: &PoolId, new: NewJob) -> Result<(ImportJob, String)> {
        if let Some(a) = &new.algorithm {
            janus_crypto::imported::Algorithm::parse(a)
                .ok_or_else(|| Error::invalid(format!("Unknown PasswordHashingAlgorithm: {a}")))?;
        }
        let now = self.now_ms();
        let id =
            format!("import-{:0>9}{}", radix36(now), random::string_from(&*self.rng, b"abcdefghijkmnopqrstuvwxyz", 6));
        let job = ImportJob {
            id,
            name: new.name,
            role_arn: new.role_arn,
            algorithm: new.algorithm,
            status: ImportStatus::Created,
            created_ms: now,
            start_ms: None,
            completion_ms: None,
            completion_message: None,
            imported: 0,
            skipped: 0,
            failed: 0,
            chunks: 0,
            done_chunks: 0,
            done_rows: 0,
            next_line: 2,
        };
        let mut tx = self.store.write(now)?;
        pool_of(&*tx, pool_id)?;
        tx.put(pool_id, Entity::ImportJob(job.clone()))?;
        tx.commit()?;
        let url = self.upload_url(pool_id, &job.id)?;
        Ok((job, url))
    }

    fn job(&self, pool: &PoolId, id: &str) -> Result<ImportJob> {
        let r = self.store.read()?;
        pool_of(&*r, pool)?;
        r.import_job(pool, id)?.ok_or_else(|| not_found(id))
    }

    /// DescribeUserImportJob.
    pub fn describe_import_job(&self, pool: &PoolId, id: &str) -> Result<ImportJob> {
        Ok(as_seen(self.job(pool, id)?, self.now_ms()))
    }

    /// ListUserImportJobs: newest first.
    pub fn list_import_jobs(
        &self,
        pool: &PoolId,
        limit: usize,
        token: Option<&str>,
    ) -> Result<(Vec<ImportJob>, Option<String>)> {
        let before = token.map(crate::page::key).transpose()?;
        let r = self.store.read()?;
        pool_of(&*r, pool)?;
        let jobs = r.import_jobs(pool, before.as_deref(), limit + 1)?;
        let now = self.now_ms();
        let (jobs, next) = crate::page::split(jobs, limit, |j| j.id.clone());
        Ok((jobs.into_iter().map(|j| as_seen(j, now)).collect(), next))
    }

    /// StartUserImportJob: the job's CSV must be uploaded; the runner takes it from here.
    pub fn start_import_job(&self, pool_id: &PoolId, id: &str) -> Result<ImportJob> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let pool = pool_of(&*tx, pool_id)?;
        let job = as_seen(tx.import_job(pool_id, id)?.ok_or_else(|| not_found(id))?, now);
        if job.status != ImportStatus::Created {
            return Err(precondition(format!("Import job {id} is {} and cannot be started.", job.status.as_str())));
        }
        if job.chunks == 0 {
            return Err(precondition(format!("No csv file was uploaded for {id}")));
        }
        if pool.config.auto_verified_attributes.is_empty() {
            return Err(precondition(
                "The user pool has no auto-verified attributes (AutoVerifiedAttributes): an import job cannot start."
                    .into(),
            ));
        }
        let job = ImportJob { status: ImportStatus::Pending, start_ms: Some(now), ..job };
        tx.put(pool_id, Entity::ImportJob(job.clone()))?;
        tx.commit()?;
        Ok(job)
    }

    /// StopUserImportJob: a pending job stops at once; a running one at its next batch.
    pub fn stop_import_job(&self, pool_id: &PoolId, id: &str) -> Result<ImportJob> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        pool_of(&*tx, pool_id)?;
        let mut job = tx.import_job(pool_id, id)?.ok_or_else(|| not_found(id))?;
        match job.status {
            ImportStatus::Pending => runner::finish(&mut job, ImportStatus::Stopped, now),
            ImportStatus::InProgress => job.status = ImportStatus::Stopping,
            other => return Err(precondition(format!("Import job {id} is {} and cannot be stopped.", other.as_str()))),
        }
        tx.put(pool_id, Entity::ImportJob(job.clone()))?;
        tx.commit()?;
        Ok(job)
    }
}

fn radix36(mut n: i64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}
