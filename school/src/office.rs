//! What the school's office types, checked where it enters (the API and roster imports alike):
//! a name or a note ([`text`]), a class's code, and how the office reaches someone (an e-mail
//! address, checked by [`crate::accounts::email_address`], and a phone number). The store keeps
//! them (`rollcall_store::school::{Class, Contact}`, visitors, staff).

/// `value` trimmed, as the office types a name or a note: 1 to `max` characters, no control
/// characters; the error names `field`.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("{field}: must not be empty"));
    }
    if value.chars().count() > max {
        return Err(format!("{field}: at most {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field}: no control characters"));
    }
    Ok(value.to_owned())
}

/// [`text`] for a field that may be left out or blank: then none.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

/// Longest class code, in characters.
pub const MAX_CLASS_CODE: usize = 32;
/// Longest phone number as written, in characters.
pub const MAX_PHONE: usize = 32;

/// A class's code as the school writes it (`7B/Ma2`, `10X-ENG`), trimmed: 1 to
/// [`MAX_CLASS_CODE`] characters, no control characters. Codes are compared as written.
pub fn class_code(text: &str) -> Result<String, String> {
    let code = text.trim();
    if code.is_empty() {
        return Err("a class code has 1 to 32 characters".into());
    }
    if code.chars().count() > MAX_CLASS_CODE {
        return Err(format!(
            "a class code has at most {MAX_CLASS_CODE} characters"
        ));
    }
    if code.chars().any(char::is_control) {
        return Err("a class code has no control characters".into());
    }
    Ok(code.to_owned())
}

/// A phone number as written (`+44 7700 900123`, `(01632) 960 001`, `555-0100 ext. 12`),
/// trimmed: digits with spaces, dots, hyphens, slashes and brackets between them, a leading `+`
/// at most, at least 3 digits, then perhaps an extension (`x12`, `ext 12`, `extension 12`);
/// at most [`MAX_PHONE`] characters.
pub fn phone_number(text: &str) -> Result<String, String> {
    let phone = text.trim();
    let (number, extension) = match phone.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => phone.split_at(at),
        None => (phone, ""),
    };
    let body = number.strip_prefix('+').unwrap_or(number);
    let allowed = |c: char| c.is_ascii_digit() || " .-/()".contains(c);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let extension_ok = extension.is_empty() || {
        let lower = extension.to_ascii_lowercase();
        let rest = ["extension", "ext.", "ext", "x"]
            .iter()
            .find_map(|word| lower.strip_prefix(word))
            .map(str::trim_start);
        rest.is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    let fits = phone.chars().count() <= MAX_PHONE && digits >= 3;
    if !fits || !body.chars().all(allowed) || !extension_ok {
        return Err(format!(
            "{phone:?} is not a phone number (digits, with spaces, dots, hyphens, slashes or \
             brackets between them, a leading + at most and an extension such as x12 or \
             ext. 12 after; 3 to {MAX_PHONE} characters)"
        ));
    }
    Ok(phone.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_codes_are_trimmed_bounded_and_printable() {
        assert_eq!(class_code("  7B/Ma2 ").unwrap(), "7B/Ma2");
        assert!(class_code("   ").is_err());
        assert!(
            class_code(&"x".repeat(33))
                .unwrap_err()
                .contains("at most 32")
        );
        assert!(class_code("7B\u{0}").is_err());
    }

    #[test]
    fn phone_numbers_are_digits_as_people_write_them() {
        for good in [
            "+44 7700 900123",
            "(01632) 960 001",
            "555-0100",
            "020.7946.0000",
            "555-0100 x12",
            "555-0100 Ext. 12",
            "555-0100 extension 7",
        ] {
            assert_eq!(phone_number(good).unwrap(), good);
        }
        assert_eq!(phone_number(" 999 ").unwrap(), "999");
        for bad in [
            "",
            "12",
            "call me",
            "555-0100 ext.",
            "555-0100 y12",
            "1+2",
            &"1".repeat(33),
        ] {
            assert!(phone_number(bad).is_err(), "{bad:?}");
        }
    }
}
