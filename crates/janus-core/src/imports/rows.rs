//! One CSV row of a user import into one user, with Cognito's rules: `cognito:username` is
//! required; an existing user is skipped; every row must set at least one of the pool's
//! auto-verified attributes to true; attributes follow the schema; a `password_hash` (with
//! the job's PasswordHashingAlgorithm) makes the user CONFIRMED with that hash, none leaves
//! it RESET_REQUIRED. Row results never carry a value of the row, only why it failed.

use janus_crypto::imported::{self, Algorithm};
use janus_crypto::random;
use janus_store::Read;
use janus_types::{MfaFactor, PasswordCredential, Pool, Sub, User, UserStatus};

use crate::attributes::{self, SetMode};
use crate::users::{claim_aliases, create::username_for, new_user};

const USERNAME: &str = "cognito:username";
const MFA: &str = "cognito:mfa_enabled";
const HASH: &str = "password_hash";

/// What became of a row.
#[derive(Debug)]
pub enum Row {
    /// A user to store.
    Imported(Box<User>),
    /// Not imported: the user exists.
    Skipped(String),
    /// Not imported: why.
    Failed(String),
}

/// The header's columns, checked against the pool.
#[derive(Debug, Clone)]
pub struct Columns {
    names: Vec<String>,
    username: usize,
    hash: Option<usize>,
    mfa: Option<usize>,
}

impl Columns {
    /// Check the header row; an error fails the whole job (as Cognito fails a job whose CSV
    /// it cannot read, or whose hash column is missing).
    pub fn parse(header: Vec<String>, pool: &Pool, algorithm: Option<Algorithm>) -> Result<Self, String> {
        let at = |name: &str| header.iter().position(|h| h == name);
        let username = at(USERNAME).ok_or("The CSV header has no cognito:username column.")?;
        let hash = at(HASH);
        if algorithm.is_some() && hash.is_none() {
            return Err(
                "The job names a PasswordHashingAlgorithm but the CSV header has no password_hash column.".into()
            );
        }
        if let Some(unknown) =
            header.iter().find(|h| ![USERNAME, MFA, HASH].contains(&h.as_str()) && pool.config.schema(h).is_none())
        {
            return Err(format!("The CSV header names {unknown}, which is not an attribute of the user pool."));
        }
        Ok(Columns { username, hash, mfa: at(MFA), names: header })
    }
}

fn verified_flag(name: &str, value: &str) -> Result<String, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok("true".into()),
        "false" => Ok("false".into()),
        _ => Err(format!("{name} must be TRUE or FALSE.")),
    }
}

fn attributes_of(cols: &Columns, values: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut attrs = Vec::new();
    for (i, (name, value)) in cols.names.iter().zip(values).enumerate() {
        if value.is_empty() || i == cols.username || Some(i) == cols.hash || Some(i) == cols.mfa {
            continue;
        }
        let value = if name.ends_with("_verified") { verified_flag(name, value)? } else { value.clone() };
        attrs.push((name.clone(), value));
    }
    Ok(attrs)
}

fn check_auto_verified(pool: &Pool, attrs: &[(String, String)]) -> Result<(), String> {
    let verified = |a: &String| attrs.iter().any(|(n, v)| *n == format!("{a}_verified") && v == "true");
    if pool.config.auto_verified_attributes.iter().any(verified) {
        return Ok(());
    }
    Err("The User Record does not set any of the auto verified attributes to true. (Example: email_verified to true)."
        .into())
}

fn credential(
    algorithm: Option<Algorithm>,
    hash: Option<&str>,
    now: i64,
) -> Result<Option<PasswordCredential>, String> {
    let Some(hash) = hash.filter(|h| !h.is_empty()) else { return Ok(None) };
    let algorithm = algorithm.ok_or("The row has a password_hash but the job names no PasswordHashingAlgorithm.")?;
    let phc = imported::import(algorithm, hash)?;
    Ok(Some(PasswordCredential { phc, temporary: false, set_ms: now, srp_salt: None, srp_verifier: None }))
}

/// The user `values` (one row) describes, or why not.
pub fn user_of(
    r: &dyn Read,
    pool: &Pool,
    cols: &Columns,
    algorithm: Option<Algorithm>,
    values: &[String],
    rng: &dyn janus_types::Random,
    now: i64,
) -> janus_types::Result<Row> {
    if values.len() != cols.names.len() {
        let why = format!("The row has {} values; the header names {} columns.", values.len(), cols.names.len());
        return Ok(Row::Failed(why));
    }
    let requested = &values[cols.username];
    if requested.is_empty() || requested.chars().any(char::is_whitespace) {
        return Ok(Row::Failed("cognito:username must be set, without spaces or tabs.".into()));
    }
    let built = (|| {
        let mut attrs = attributes_of(cols, values)?;
        attributes::validate(&pool.config, &attrs, SetMode::Create).map_err(|e| e.to_string())?;
        check_auto_verified(pool, &attrs)?;
        let sub = Sub::new(random::uuid_v4(rng));
        let username = username_for(pool, requested, &mut attrs, &sub).map_err(|e| e.to_string())?;
        let attributes: std::collections::BTreeMap<_, _> = attrs.into_iter().collect();
        let missing = attributes::missing_required(&pool.config, &attributes);
        if let Some(m) = missing.first() {
            return Err(format!("The attribute {m} is required."));
        }
        let password = credential(algorithm, cols.hash.map(|i| values[i].as_str()), now)?;
        let status = if password.is_some() { UserStatus::Confirmed } else { UserStatus::ResetRequired };
        let mut user = new_user(pool, username, sub, attributes, status, password, now);
        if cols.mfa.is_some_and(|i| values[i].eq_ignore_ascii_case("true")) {
            if !user.attributes.contains_key("phone_number") {
                return Err("cognito:mfa_enabled is TRUE but the user has no phone_number.".into());
            }
            user.mfa.enabled.push(MfaFactor::Sms);
        }
        Ok(user)
    })();
    let mut user = match built {
        Ok(u) => u,
        Err(why) => return Ok(Row::Failed(why)),
    };
    if r.user(&pool.id, &user.key)?.is_some() {
        return Ok(Row::Skipped("The user already exists.".into()));
    }
    match claim_aliases(r, pool, &mut user, false) {
        Ok(_) => Ok(Row::Imported(Box::new(user))),
        Err(janus_types::Error::UsernameExistsException(_)) => Ok(Row::Skipped("The user already exists.".into())),
        Err(e) => Ok(Row::Failed(e.to_string())),
    }
}
