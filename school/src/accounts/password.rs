//! argon2id hashing of passwords and device secrets, random secrets themselves, and the rule
//! a user's password must meet.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Hashing failed (never expected with the default parameters).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Shortest password accepted for a user, in characters.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted, in characters (argon2 reads all of it).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// The 19,640 most common passwords, one a line, lower case: Django's
/// `django/contrib/auth/common-passwords.txt.gz` (BSD-3-Clause), itself Royce Williams' list
/// drawn from public breach-frequency data. Kept verbatim so it can be compared with upstream.
const COMMON: &str = include_str!("common-passwords.txt");

/// Why a password breaks the rule, naming the field and what is accepted.
pub fn check_rule(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&length) {
        return Err(format!(
            "password must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"
        ));
    }
    if is_common(password) {
        return Err(
            "password is too common (it is on the list of the most used \
                    passwords); choose another"
                .into(),
        );
    }
    Ok(())
}

/// Whether `password`, ignoring case and any digits or symbols at its ends ("Sunshine2024!"),
/// is one of the most common passwords.
pub fn is_common(password: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let set = SET.get_or_init(|| COMMON.lines().map(str::trim).collect());
    let lower = password.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    set.contains(lower.as_str()) || (!core.is_empty() && set.contains(core))
}

/// A PHC-format argon2id hash of `secret` with a fresh salt.
pub fn hash(secret: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `secret` matches `phc`. A malformed stored hash never matches.
pub fn verify(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random secret of 32 bytes as 64 hex characters (device MQTT passwords).
pub fn random_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// A hash that matches no password, checked against when the user does not exist so that
/// an unknown user name takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash(&random_secret()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_own_secret() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong horse", &h));
        assert!(!verify("correct horse", "not a hash"));
        assert_ne!(random_secret(), random_secret());
    }

    #[test]
    fn the_rule_wants_twelve_characters_not_on_the_common_list() {
        assert!(check_rule("short pass").is_err());
        assert!(check_rule("Q1W2E3R4T5Y6").is_err(), "on the list, any case");
        assert!(
            check_rule("Sunshine20242024!").is_err(),
            "a common word with digits"
        );
        assert!(check_rule(&"x".repeat(MAX_PASSWORD_LEN + 1)).is_err());
        assert!(check_rule("correct horse battery").is_ok());
    }
}
