//! CSV as the hub writes it (reports, the school's export): RFC 4180 quoting, CRLF line ends,
//! and a leading formula character (`=`, `+`, `-`, `@`) defused with a `'`, so a name typed as
//! a formula is shown, not run, when a spreadsheet opens the file.

/// One line: the fields quoted where needed, ending in CRLF.
pub fn line(fields: &[&str]) -> String {
    let mut line: String = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// One field: quoted when needed, and a leading formula character defused.
fn field(text: &str) -> String {
    let text = match text.starts_with(['=', '+', '-', '@']) {
        true => format!("'{text}"),
        false => text.to_owned(),
    };
    match text.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", text.replace('"', "\"\"")),
        false => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(line(&["a", "b"]), "a,b\r\n");
    }
}
