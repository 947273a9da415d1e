//! Which store a region runs on: `--store` / `JANUS_STORE_URL` / `[store] url`. The embedded
//! SQLite store in the data directory is the default; `postgres://…` (or `postgresql://…`)
//! puts the region's state in a PostgreSQL database that several nodes share;
//! `sqlite:DIR` names an embedded store explicitly (for `janus store copy`).

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use janus_store::{PgStore, SqliteStore, Store};

/// A parsed store location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// The embedded store in this directory.
    Sqlite(PathBuf),
    /// A PostgreSQL database (the URL keeps its credentials: never print it, use
    /// [`StoreUrl::describe`]).
    Postgres(String),
}

impl StoreUrl {
    /// Parse `url`; `None` means the embedded store in `data_dir`.
    pub fn parse(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        let Some(url) = url.filter(|u| !u.is_empty()) else { return Ok(Self::Sqlite(data_dir.to_owned())) };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(dir) = url.strip_prefix("sqlite:") {
            if dir.is_empty() {
                bail!("sqlite: needs a directory, as in sqlite:./janus-data");
            }
            return Ok(Self::Sqlite(PathBuf::from(dir)));
        }
        bail!("unknown store {:?}: use postgres://user@host/db or sqlite:DIR", redact(url))
    }

    /// Open it (migrating its schema, or refusing a newer one).
    pub fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(match self {
            Self::Sqlite(dir) => {
                Arc::new(SqliteStore::open(dir).with_context(|| format!("opening {}", dir.display()))?)
            }
            Self::Postgres(url) => Arc::new(PgStore::open(url)?),
        })
    }

    /// Where it is, for logs and messages: no password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(dir) => format!("sqlite:{}", dir.display()),
            Self::Postgres(url) => redact(url),
        }
    }

    /// True for the shared backend.
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

/// `scheme://user:secret@host/…` as `scheme://user:***@host/…`; a password in the query
/// (`?password=`) is cut as well.
fn redact(url: &str) -> String {
    let url = match url.split_once('?') {
        Some((base, q)) if q.contains("password") => format!("{base}?…"),
        _ => url.to_owned(),
    };
    let Some((scheme, rest)) = url.split_once("://") else { return url };
    let Some((auth, host)) = rest.split_once('@') else { return url.clone() };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.clone(),
    }
}

/// `janus migrate`: bring the store's schema up to this binary's version and say so.
pub fn migrate(store: &StoreUrl) -> anyhow::Result<()> {
    match store {
        StoreUrl::Postgres(url) => {
            let (found, now) = PgStore::migrate_only(url)?;
            if found == now {
                println!("{}: schema version {now}, up to date", store.describe());
            } else {
                println!("{}: schema migrated from version {found} to {now}", store.describe());
            }
        }
        StoreUrl::Sqlite(dir) => {
            SqliteStore::open(dir).with_context(|| format!("opening {}", dir.display()))?;
            println!("{}: schema version {}, up to date", store.describe(), janus_store::sqlite::SCHEMA_VERSION);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_print_a_password() {
        let d = Path::new("./d");
        assert_eq!(StoreUrl::parse(None, d).unwrap(), StoreUrl::Sqlite(d.into()));
        assert_eq!(StoreUrl::parse(Some("sqlite:/x"), d).unwrap(), StoreUrl::Sqlite("/x".into()));
        let pg = StoreUrl::parse(Some("postgres://janus:s3cret@db:5432/janus"), d).unwrap();
        assert!(pg.is_shared());
        assert_eq!(pg.describe(), "postgres://janus:***@db:5432/janus");
        let q = StoreUrl::parse(Some("postgresql://janus@db/janus?password=s3cret"), d).unwrap();
        assert!(!q.describe().contains("s3cret"));
        let e = StoreUrl::parse(Some("mysql://root:s3cret@db/x"), d).unwrap_err().to_string();
        assert!(!e.contains("s3cret"), "{e}");
    }
}
