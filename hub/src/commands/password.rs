//! Passwords for the commands that set one (`init`, `user`): read from a file, or asked on
//! the terminal.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, bail};

/// A password from `file` (without its line ending), else asked twice on the terminal.
pub(super) fn read_password(file: Option<&Path>, prompt: &str) -> anyhow::Result<String> {
    if let Some(file) = file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        return Ok(text.trim_end_matches(['\n', '\r']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the password on: pass a password file");
    }
    let first = rpassword::prompt_password(prompt)?;
    let again = rpassword::prompt_password("again: ")?;
    if first != again {
        bail!("the passwords differ");
    }
    Ok(first)
}
