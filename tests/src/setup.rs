//! What the tests need beside Rust (face models, brokers, PostgreSQL, Chromium, node tools)
//! and the one command that installs it: `scripts/dev-setup`. A test that finds something
//! missing fails at once with [`missing`]'s message; it never skips, and never waits for a
//! timeout first.

use rollcall_models::weights::ModelsDir;

/// The command that makes a machine ready for the tests (README.md; `.ci/run` runs it).
pub const DEV_SETUP: &str = "scripts/dev-setup";

/// "missing: `what` (`detail`); run `scripts/dev-setup`", the message of every such failure.
pub fn missing(what: &str, detail: impl std::fmt::Display) -> String {
    format!(
        "missing: {what} ({detail}); run `{DEV_SETUP}` in the checkout, which installs \
         everything the tests need and says what it did"
    )
}

/// The face models directory, checked against the pins: panics with [`missing`]'s message
/// when a file is absent or corrupt.
pub fn models() -> ModelsDir {
    let dir = ModelsDir::resolve(None)
        .unwrap_or_else(|e| panic!("{}", missing("the face models directory", e)));
    if let Err(e) = dir.check() {
        panic!("{}", missing("the face models", e));
    }
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_thing_and_the_command() {
        let message = missing("mosquitto", "not on PATH");
        assert!(message.starts_with("missing: mosquitto (not on PATH); "));
        assert!(message.contains("`scripts/dev-setup`"), "{message}");
    }
}
