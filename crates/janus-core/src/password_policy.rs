//! The pool's password policy, checked on every password set (admin-set, temporary,
//! and later sign-up and change). Messages are Cognito's.

use janus_types::entity::PasswordPolicy;
use janus_types::{Error, Result};

/// Cognito's symbol set for `RequireSymbols`.
const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

/// Check `password` against `policy`.
pub fn check(policy: &PasswordPolicy, password: &str) -> Result<()> {
    let fail =
        |what: &str| Err(Error::InvalidPasswordException(format!("Password does not conform to policy: {what}")));
    if password.chars().count() < policy.minimum_length as usize {
        return fail("Password not long enough");
    }
    if password.chars().count() > 256 {
        return fail("Password too long");
    }
    if policy.require_lowercase && !password.chars().any(|c| c.is_lowercase()) {
        return fail("Password must have lowercase characters");
    }
    if policy.require_uppercase && !password.chars().any(|c| c.is_uppercase()) {
        return fail("Password must have uppercase characters");
    }
    if policy.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
        return fail("Password must have numeric characters");
    }
    if policy.require_symbols && !password.chars().any(|c| SYMBOLS.contains(c)) {
        return fail("Password must have symbol characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_requires_every_class() {
        let p = PasswordPolicy::default();
        assert!(check(&p, "Passw0rd!").is_ok());
        for bad in ["Pw0!", "password0!", "PASSWORD0!", "Password!!", "Password00"] {
            let e = check(&p, bad).unwrap_err();
            assert_eq!(e.code(), "InvalidPasswordException", "{bad}");
        }
    }
}
