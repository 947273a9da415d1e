//! The administrator's SigV4 credentials: from `JANUS_ADMIN_ACCESS_KEY_ID` and
//! `JANUS_ADMIN_SECRET_ACCESS_KEY`, else from `admin-credentials.json` in the data directory,
//! else generated on first start, stored there (mode 0600) and printed once with the exact
//! lines to use them.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;

use janus_crypto::{random, OsRandom};
use janus_http::AdminCredentials;

#[derive(Serialize, Deserialize)]
struct Stored {
    access_key_id: String,
    secret_access_key: String,
}

const FILE: &str = "admin-credentials.json";

/// Resolve the administrator credentials for a region serving on `endpoint`.
pub fn resolve(data_dir: &Path, region: &str, endpoint: &str) -> anyhow::Result<AdminCredentials> {
    let id = std::env::var("JANUS_ADMIN_ACCESS_KEY_ID").ok().filter(|v| !v.is_empty());
    let secret = std::env::var("JANUS_ADMIN_SECRET_ACCESS_KEY").ok().filter(|v| !v.is_empty());
    if let (Some(access_key_id), Some(secret_access_key)) = (id, secret) {
        return Ok(AdminCredentials { access_key_id, secret_access_key });
    }
    let path = data_dir.join(FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let s: Stored = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        return Ok(AdminCredentials { access_key_id: s.access_key_id, secret_access_key: s.secret_access_key });
    }
    let s = Stored {
        access_key_id: random::access_key_id(&OsRandom),
        secret_access_key: random::secret_access_key(&OsRandom),
    };
    write_private(&path, &serde_json::to_string_pretty(&s)?)?;
    println!(
        "Janus generated administrator credentials, kept in {}.\n\
         Use them with the AWS CLI:\n\
         \x20 aws configure set aws_access_key_id {id}\n\
         \x20 aws configure set aws_secret_access_key {secret}\n\
         \x20 aws configure set region {region}\n\
         \x20 aws --endpoint-url {endpoint} cognito-idp list-user-pools --max-results 10\n\
         or in the environment (boto3, the SDKs):\n\
         \x20 export AWS_ACCESS_KEY_ID={id}\n\
         \x20 export AWS_SECRET_ACCESS_KEY={secret}\n\
         \x20 export AWS_DEFAULT_REGION={region}\n\
         \x20 export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER={endpoint}",
        path.display(),
        id = s.access_key_id,
        secret = s.secret_access_key,
    );
    Ok(AdminCredentials { access_key_id: s.access_key_id, secret_access_key: s.secret_access_key })
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}
