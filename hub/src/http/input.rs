//! Values from a request, checked where they enter: dates inside the years a register can
//! speak of, times as strict `HH:MM`, names and free text of bounded length. Every refusal is
//! a 400 that names the field and the accepted range, so nothing out of range reaches date
//! arithmetic or the database.

use chrono::NaiveDate;

use super::error::ApiError;

/// The first and last dates the API accepts: a school register has nothing to say outside
/// them, and every date between them converts to and from Unix milliseconds safely.
pub const FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
pub const LAST_DAY: NaiveDate = NaiveDate::from_ymd_opt(2199, 12, 31).unwrap();

/// Longest name of a student, class, term, holiday or device, in characters.
pub const MAX_NAME: usize = 200;
/// Longest free text (a reason, an external reference), in characters.
pub const MAX_TEXT: usize = 1000;

/// `text` as a `YYYY-MM-DD` date between [`FIRST_DAY`] and [`LAST_DAY`].
pub fn day(field: &str, text: &str) -> Result<NaiveDate, ApiError> {
    date_in(field, text, FIRST_DAY, LAST_DAY)
}

/// `text` as a strict `YYYY-MM-DD` date from `first` to `last` (a date of birth: not after
/// today).
pub fn date_in(
    field: &str,
    text: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<NaiveDate, ApiError> {
    let strict = text.len() == 10 && text.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(d) if strict => between(field, d, first, last),
        _ => Err(ApiError::bad(format!(
            "{field}: {:?} is not a date (YYYY-MM-DD)",
            clip(text)
        ))),
    }
}

/// `d` if it lies between [`FIRST_DAY`] and [`LAST_DAY`].
pub fn in_range(field: &str, d: NaiveDate) -> Result<NaiveDate, ApiError> {
    between(field, d, FIRST_DAY, LAST_DAY)
}

fn between(
    field: &str,
    d: NaiveDate,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<NaiveDate, ApiError> {
    match (first..=last).contains(&d) {
        true => Ok(d),
        false => Err(ApiError::bad(format!(
            "{field}: {d} is outside {first} to {last}"
        ))),
    }
}

/// Minutes after midnight of a strict `HH:MM` (two digits each, 00:00 to 24:00).
pub fn minute_of_day(field: &str, hhmm: &str) -> Result<u16, ApiError> {
    let bad = || {
        ApiError::bad(format!(
            "{field}: {:?} is not a time from 00:00 to 24:00 (HH:MM)",
            clip(hhmm)
        ))
    };
    let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    let (h, m) = hhmm.split_once(':').ok_or_else(bad)?;
    if !digits(h) || !digits(m) {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    match h * 60 + m {
        minute if m < 60 && minute <= 1440 => Ok(minute),
        _ => Err(bad()),
    }
}

/// A name: trimmed, 1 to [`MAX_NAME`] characters, no control characters.
pub fn name(field: &str, value: &str) -> Result<String, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApiError::bad(format!("{field}: must not be empty")));
    }
    text(field, trimmed, MAX_NAME).map(str::to_owned)
}

/// `value` if it is at most `max` characters with no control characters.
pub fn text<'a>(field: &str, value: &'a str, max: usize) -> Result<&'a str, ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::bad(format!(
            "{field}: longer than {max} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::bad(format!(
            "{field}: must not contain control characters"
        )));
    }
    Ok(value)
}

/// At most the first 64 characters of `s`, for echoing input in messages and logs (see
/// [`rollcall_school::clip`]).
pub fn clip(s: &str) -> String {
    rollcall_school::clip::clip(s)
}

/// Whether `text` is a `Host` header worth repeating in a URL: a DNS name, an IPv4 address or
/// a bracketed IPv6 address, with an optional port.
pub fn is_host(text: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
    (1..=255).contains(&text.len()) && text.chars().all(ok) && !text.starts_with(['-', '.', ':'])
}

/// For a field whose absence and `null` mean different things (`Option<Option<T>>` with
/// `#[serde(default, deserialize_with = "present")]`): absent is `None`, `null` is
/// `Some(None)`.
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// An `email` field, checked as an address.
pub fn email(text: &str) -> Result<String, ApiError> {
    rollcall_school::accounts::email_address(text).map_err(|m| ApiError::bad(format!("email: {m}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_range_is_the_range_of_days_the_api_accepts() {
        use rollcall_store::records::{EARLIEST_MS, LATEST_MS};
        let first = FIRST_DAY.and_hms_opt(0, 0, 0).unwrap().and_utc();
        let last = LAST_DAY
            .and_hms_milli_opt(23, 59, 59, 999)
            .unwrap()
            .and_utc();
        assert_eq!(
            (first.timestamp_millis(), last.timestamp_millis()),
            (EARLIEST_MS, LATEST_MS)
        );
    }

    #[test]
    fn a_host_header_is_a_name_or_address_with_a_port() {
        for good in [
            "hub.school.lan",
            "hub.school.lan:8443",
            "10.0.0.5:8443",
            "[::1]:8443",
        ] {
            assert!(is_host(good), "{good}");
        }
        for bad in ["", "hub/evil", "a b", "-x", "hub\r\nX: y", "user@hub"] {
            assert!(!is_host(bad), "{bad}");
        }
    }

    #[test]
    fn dates_are_strict_and_inside_the_register_years() {
        assert_eq!(day("date", "2026-11-23").unwrap().to_string(), "2026-11-23");
        for bad in [
            "+262142-12-31",
            "2026-1-5",
            "1999-12-31",
            "2200-01-01",
            "",
            "x",
        ] {
            let e = day("date", bad).unwrap_err().to_string();
            assert!(e.starts_with("date: "), "{bad}: {e}");
        }
    }

    #[test]
    fn times_are_strict_hh_mm_up_to_24_00() {
        assert_eq!(minute_of_day("start", "09:30").unwrap(), 570);
        assert_eq!(minute_of_day("end", "24:00").unwrap(), 1440);
        for bad in [
            "1092:16", "9:30", "09:5", "10:60", "24:01", "25:00", "+1:00", "09h30",
        ] {
            assert!(minute_of_day("start", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(name("name", "  Ada  ").unwrap(), "Ada");
        assert!(name("name", "   ").is_err());
        assert!(name("name", &"é".repeat(MAX_NAME)).is_ok());
        assert!(name("name", &"é".repeat(MAX_NAME + 1)).is_err());
        assert!(name("name", "a\u{0}b").is_err());
        assert_eq!(clip(&"x".repeat(100)).chars().count(), 65);
    }
}
