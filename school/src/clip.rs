//! Outside text made safe for a log line or an error message: a user name, a device's MQTT
//! user name, a path someone sent. At most [`SHOWN`] characters are kept and control
//! characters are escaped, so a megabyte user name or a forged newline can neither flood nor
//! split the log. Used by the hub's `http` (through `http::input::clip`), `auth` and `broker`.

/// The most characters of one piece of outside text that are shown.
pub const SHOWN: usize = 64;

/// At most the first [`SHOWN`] characters of `text` (then `…`), control characters escaped.
pub fn clip(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == SHOWN {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_and_control_characters_escaped() {
        assert_eq!(clip("ann"), "ann");
        assert_eq!(clip("a\nb"), "a\\nb");
        let shown = clip(&"é".repeat(1_000_000));
        assert_eq!(shown, format!("{}…", "é".repeat(SHOWN)));
    }
}
