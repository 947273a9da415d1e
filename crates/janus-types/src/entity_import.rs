//! A user import job (CreateUserImportJob): its settings, where it is in its life cycle, how
//! far it has read the uploaded CSV, and its counts. Pool data, so DescribeUserImportJob
//! answers in every region; the CSV itself is kept region-locally, in chunks of whole lines,
//! and never replicated (the users it creates are). A persisted format: add fields with
//! `#[serde(default)]`.

use serde::{Deserialize, Serialize};

/// `UserImportJobStatusType`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportStatus {
    Created,
    Pending,
    InProgress,
    Stopping,
    Expired,
    Stopped,
    Failed,
    Succeeded,
}

impl ImportStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Created => "Created",
            ImportStatus::Pending => "Pending",
            ImportStatus::InProgress => "InProgress",
            ImportStatus::Stopping => "Stopping",
            ImportStatus::Expired => "Expired",
            ImportStatus::Stopped => "Stopped",
            ImportStatus::Failed => "Failed",
            ImportStatus::Succeeded => "Succeeded",
        }
    }

    /// A job a runner still has work for.
    pub fn is_active(self) -> bool {
        matches!(self, ImportStatus::Pending | ImportStatus::InProgress | ImportStatus::Stopping)
    }
}

/// One user import job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportJob {
    /// `import-<creation time><random>`: ids sort by creation.
    pub id: String,
    /// `JobName`.
    pub name: String,
    /// `CloudWatchLogsRoleArn` (kept and echoed; row results go to Janus's log).
    pub role_arn: String,
    /// `PasswordHashingAlgorithm`, when the CSV carries password hashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// Where the job is.
    pub status: ImportStatus,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// StartUserImportJob, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<i64>,
    /// When it ended, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_ms: Option<i64>,
    /// `CompletionMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_message: Option<String>,
    /// Users created.
    #[serde(default)]
    pub imported: u64,
    /// Rows skipped (the user exists).
    #[serde(default)]
    pub skipped: u64,
    /// Rows refused.
    #[serde(default)]
    pub failed: u64,
    /// Chunks of CSV stored by the upload (0: nothing uploaded yet).
    #[serde(default)]
    pub chunks: u32,
    /// Chunks read to the end.
    #[serde(default)]
    pub done_chunks: u32,
    /// Rows of the next chunk already read.
    #[serde(default)]
    pub done_rows: u32,
    /// The file line number of the next row (the header is line 1).
    #[serde(default)]
    pub next_line: u64,
}
