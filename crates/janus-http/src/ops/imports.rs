//! User import operations: GetCSVHeader, CreateUserImportJob, StartUserImportJob,
//! StopUserImportJob, DescribeUserImportJob, ListUserImportJobs. The CSV upload itself is
//! `PUT /import/<pool>/<job>` (crate::upload).

use serde::Deserialize;
use serde_json::{json, Value};

use janus_core::imports::NewJob;
use janus_core::Services;
use janus_types::{Error, ImportJob, PoolId};

use super::{admin, admin_read, input, limit, Operation};
use crate::render::date;

pub const OPS: &[Operation] = &[
    admin_read("GetCSVHeader", get_csv_header),
    admin("CreateUserImportJob", create_user_import_job),
    admin("StartUserImportJob", start_user_import_job),
    admin("StopUserImportJob", stop_user_import_job),
    admin_read("DescribeUserImportJob", describe_user_import_job),
    admin_read("ListUserImportJobs", list_user_import_jobs),
];

/// `UserImportJobType`.
fn job(pool: &PoolId, j: &ImportJob, url: Option<&str>) -> Value {
    let mut out = json!({
        "JobName": j.name,
        "JobId": j.id,
        "UserPoolId": pool,
        "CreationDate": date(j.created_ms),
        "Status": j.status.as_str(),
        "CloudWatchLogsRoleArn": j.role_arn,
        "ImportedUsers": j.imported,
        "SkippedUsers": j.skipped,
        "FailedUsers": j.failed,
    });
    if let Some(u) = url {
        out["PreSignedUrl"] = json!(u);
    }
    if let Some(a) = &j.algorithm {
        out["PasswordHashingAlgorithm"] = json!(a);
    }
    if let Some(t) = j.start_ms {
        out["StartDate"] = date(t);
    }
    if let Some(t) = j.completion_ms {
        out["CompletionDate"] = date(t);
    }
    if let Some(m) = &j.completion_message {
        out["CompletionMessage"] = json!(m);
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolRef {
    user_pool_id: PoolId,
}

fn get_csv_header(s: &Services, v: Value) -> Result<Value, Error> {
    let r: PoolRef = input(v)?;
    Ok(json!({ "UserPoolId": r.user_pool_id, "CSVHeader": s.import_csv_header(&r.user_pool_id)? }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Create {
    user_pool_id: PoolId,
    job_name: String,
    cloud_watch_logs_role_arn: String,
    password_hashing_algorithm: Option<String>,
}

fn create_user_import_job(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Create = input(v)?;
    let new =
        NewJob { name: r.job_name, role_arn: r.cloud_watch_logs_role_arn, algorithm: r.password_hashing_algorithm };
    let (j, url) = s.create_import_job(&r.user_pool_id, new)?;
    Ok(json!({ "UserImportJob": job(&r.user_pool_id, &j, Some(&url)) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JobRef {
    user_pool_id: PoolId,
    job_id: String,
}

fn start_user_import_job(s: &Services, v: Value) -> Result<Value, Error> {
    let r: JobRef = input(v)?;
    Ok(json!({ "UserImportJob": job(&r.user_pool_id, &s.start_import_job(&r.user_pool_id, &r.job_id)?, None) }))
}

fn stop_user_import_job(s: &Services, v: Value) -> Result<Value, Error> {
    let r: JobRef = input(v)?;
    Ok(json!({ "UserImportJob": job(&r.user_pool_id, &s.stop_import_job(&r.user_pool_id, &r.job_id)?, None) }))
}

fn describe_user_import_job(s: &Services, v: Value) -> Result<Value, Error> {
    let r: JobRef = input(v)?;
    Ok(json!({ "UserImportJob": job(&r.user_pool_id, &s.describe_import_job(&r.user_pool_id, &r.job_id)?, None) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct List {
    user_pool_id: PoolId,
    max_results: Option<usize>,
    pagination_token: Option<String>,
}

fn list_user_import_jobs(s: &Services, v: Value) -> Result<Value, Error> {
    let r: List = input(v)?;
    let (jobs, next) = s.list_import_jobs(&r.user_pool_id, limit(r.max_results), r.pagination_token.as_deref())?;
    let mut out = json!({ "UserImportJobs": jobs.iter().map(|j| job(&r.user_pool_id, j, None)).collect::<Vec<_>>() });
    if let Some(n) = next {
        out["PaginationToken"] = json!(n);
    }
    Ok(out)
}
