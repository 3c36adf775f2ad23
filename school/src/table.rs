//! One CSV file as rows of named fields, read the way school systems and offices write them:
//! UTF-8 with or without a byte-order mark, CRLF or LF, quoted fields holding commas and line
//! breaks, empty optional columns, each row numbered by the line it starts on. Every problem
//! becomes a [`RowError`] naming the file and line; the caller refuses the whole file if there
//! is any.
//!
//! Two kinds of file: a roster's ([`Table::read`]), where columns the hub does not know are a
//! vendor's extras and ignored; and one the office writes by hand (staff, guardians, which
//! photo is whose: [`Table::read_known`]), where an unknown column is a typing mistake to
//! point out.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::consent::Statement;
use rollcall_store::consent::State;

/// Longest source id, name or user name taken.
const MAX_TEXT: usize = 200;
/// Longest year group or form taken (as the API takes them).
const MAX_GROUP: usize = 64;

/// A problem in one row of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub file: String,
    /// 1 for the header; 0 when the problem is the file as a whole.
    pub line: u64,
    pub message: String,
}

impl RowError {
    pub fn new(at: At, message: impl Into<String>) -> Self {
        RowError {
            file: at.file.to_owned(),
            line: at.line,
            message: message.into(),
        }
    }
}

/// What a file refused for its bad `rows` comes to, said of `what` ("file", "roster"):
/// "1 row of the file cannot be used; nothing was imported".
pub fn nothing_imported(rows: &[RowError], what: &str) -> String {
    let rows = match rows.len() {
        1 => "1 row".to_owned(),
        n => format!("{n} rows"),
    };
    format!("{rows} of the {what} cannot be used; nothing was imported")
}

/// Where a row stands: its file and the line it starts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    pub file: &'static str,
    pub line: u64,
}

/// A CSV file read into rows.
#[derive(Debug)]
pub struct Table {
    pub file: &'static str,
    rows: Vec<(u64, HashMap<String, String>)>,
}

impl Table {
    /// Reads `bytes`, which must have every column of `required` in its header; other columns
    /// are a vendor's extras, kept and ignored.
    pub fn read(
        file: &'static str,
        bytes: &[u8],
        required: &[&str],
        errors: &mut Vec<RowError>,
    ) -> Self {
        Table::read_with(file, bytes, required, None, errors)
    }

    /// Reads a file the office writes by hand: its header names only `columns`, in any case,
    /// `required` among them, and it has at most `max_rows` rows. The table, or every problem.
    pub fn read_known(
        file: &'static str,
        bytes: &[u8],
        columns: &[&str],
        required: &[&str],
        max_rows: usize,
    ) -> Result<Self, Vec<RowError>> {
        let mut errors = Vec::new();
        let table = Table::read_with(file, bytes, required, Some(columns), &mut errors);
        if table.rows.len() + errors.len() > max_rows {
            return Err(vec![table.error(0, format!("at most {max_rows} rows"))]);
        }
        match errors.is_empty() {
            true => Ok(table),
            false => Err(errors),
        }
    }

    /// [`Table::read`], the header's names lowercased and checked against `known` when given.
    fn read_with(
        file: &'static str,
        bytes: &[u8],
        required: &[&str],
        known: Option<&[&str]>,
        errors: &mut Vec<RowError>,
    ) -> Self {
        let mut table = Table {
            file,
            rows: Vec::new(),
        };
        let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(text);
        let header: Vec<String> = match reader.headers() {
            Ok(h) if known.is_some() => h.iter().map(str::to_ascii_lowercase).collect(),
            Ok(h) => h.iter().map(str::to_owned).collect(),
            Err(e) => {
                errors.push(table.error(1, format!("cannot read the header: {e}")));
                return table;
            }
        };
        let the_columns = || {
            known.map_or(String::new(), |k| {
                format!(" (the columns: {})", k.join(", "))
            })
        };
        if let Some(unknown) = known.and_then(|k| header.iter().find(|h| !k.contains(&h.as_str())))
        {
            errors.push(table.error(1, format!("unknown column {unknown:?}{}", the_columns())));
            return table;
        }
        let missing: Vec<&str> = (required.iter().copied())
            .filter(|c| !header.iter().any(|h| h == c))
            .collect();
        if !missing.is_empty() {
            let why = format!("missing columns: {}{}", missing.join(", "), the_columns());
            errors.push(table.error(1, why));
            return table;
        }
        // Lines counted here: after CRLF line ends the reader starts a record at its LF, and
        // counts one line short.
        let breaks: Vec<usize> = (text.iter().enumerate())
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        let line_at = |p: Option<&csv::Position>| {
            p.map_or(0, |p| {
                let byte = usize::try_from(p.byte()).unwrap_or(usize::MAX);
                breaks.partition_point(|b| *b <= byte) as u64 + 1
            })
        };
        for record in reader.records() {
            match record {
                Ok(r) => {
                    let line = line_at(r.position());
                    let fields = header.iter().cloned().zip(r.iter().map(str::to_owned));
                    table.rows.push((line, fields.collect()));
                }
                Err(e) => {
                    let line = line_at(e.position());
                    errors.push(table.error(line, e.to_string()));
                }
            }
        }
        table
    }

    /// The rows, each with where it stands.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|(line, fields)| Row {
            at: At {
                file: self.file,
                line: *line,
            },
            fields,
        })
    }

    fn error(&self, line: u64, message: String) -> RowError {
        RowError::new(
            At {
                file: self.file,
                line,
            },
            message,
        )
    }
}

/// One row of a [`Table`].
#[derive(Debug)]
pub struct Row<'a> {
    pub at: At,
    fields: &'a HashMap<String, String>,
}

impl Row<'_> {
    /// The field as written (trimmed), empty when the column is absent or blank.
    pub fn raw(&self, column: &str) -> &str {
        self.fields.get(column).map_or("", String::as_str)
    }

    /// The field as written (trimmed), when the file has the column.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.fields.get(column).map(String::as_str)
    }

    /// A yes/no field as the office writes it (`yes`, `y`, `true`, `1`; `no`, `n`, `false`,
    /// `0`; any case): `None` when blank or the file lacks the column.
    pub fn yes_no(&self, column: &str) -> Result<Option<bool>, String> {
        match self.raw(column).to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "yes" | "y" | "true" | "1" => Ok(Some(true)),
            "no" | "n" | "false" | "0" => Ok(Some(false)),
            other => Err(format!("{column}: yes or no, not {other:?}")),
        }
    }

    /// A field that must be there: at most [`MAX_TEXT`] characters, no control characters.
    pub fn required(&self, column: &str, errors: &mut Vec<RowError>) -> Option<String> {
        let value = self.optional(column, errors);
        if value.is_none() && self.raw(column).is_empty() {
            errors.push(RowError::new(self.at, format!("{column} is empty")));
        }
        value
    }

    /// A field that may be empty, checked as [`Row::required`].
    pub fn optional(&self, column: &str, errors: &mut Vec<RowError>) -> Option<String> {
        checked(self.at, column, self.raw(column), errors)
    }

    /// A person's or a class's name: runs of white space (line breaks inside a quoted field
    /// among them) become one space.
    pub fn name(&self, column: &str, errors: &mut Vec<RowError>) -> Option<String> {
        let folded = self.raw(column).split_whitespace().collect::<Vec<_>>();
        checked(self.at, column, &folded.join(" "), errors)
    }

    /// A teacher's e-mail address in `column`, checked as the hub checks addresses anywhere
    /// else (and their `username` likewise); the address as the hub keeps it.
    pub fn account(
        &self,
        username: &str,
        column: &str,
        errors: &mut Vec<RowError>,
    ) -> Option<String> {
        if !username.is_empty() && !crate::accounts::valid_username(username) {
            errors.push(RowError::new(
                self.at,
                format!("user name {username:?}: {}", crate::accounts::USERNAME_RULE),
            ));
        }
        match self
            .optional(column, errors)
            .map(|e| crate::accounts::email_address(&e))
        {
            Some(Ok(address)) => Some(address),
            Some(Err(e)) => {
                errors.push(RowError::new(self.at, e));
                None
            }
            None => None,
        }
    }

    /// The value in `column`, if the file has the column and the row a value, as `check` takes
    /// it (`crate::office::phone_number`, `crate::office::class_code`); what it refuses is a
    /// row error naming the column.
    pub fn checked_by(
        &self,
        column: &str,
        check: fn(&str) -> Result<String, String>,
        errors: &mut Vec<RowError>,
    ) -> Option<String> {
        let value = self.optional(column, errors)?;
        match check(&value) {
            Ok(value) => Some(value),
            Err(why) => {
                errors.push(RowError::new(self.at, format!("{column}: {why}")));
                None
            }
        }
    }

    /// A name that must be there.
    pub fn required_name(&self, column: &str, errors: &mut Vec<RowError>) -> Option<String> {
        let value = self.name(column, errors);
        if value.is_none() && self.raw(column).is_empty() {
            errors.push(RowError::new(self.at, format!("{column} is empty")));
        }
        value
    }

    /// Whether the file has `column` at all.
    pub fn has(&self, column: &str) -> bool {
        self.fields.contains_key(column)
    }

    /// A year group or form in `column`: `None` when the file lacks the column, `Some(None)`
    /// when the field is empty.
    pub fn group(&self, column: &str, errors: &mut Vec<RowError>) -> Option<Option<String>> {
        if !self.has(column) {
            return None;
        }
        let value = self.optional(column, errors);
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_GROUP)
        {
            let why = format!("{column}: at most {MAX_GROUP} characters");
            errors.push(RowError::new(self.at, why));
            return None;
        }
        Some(value)
    }

    /// A date of birth (`YYYY-MM-DD`, a date-time's date part too) in `column`, from 1900 on
    /// (the import refuses one after its day): `None` when the file lacks the column,
    /// `Some(None)` when the field is empty.
    pub fn born_on(&self, column: &str, errors: &mut Vec<RowError>) -> Option<Option<NaiveDate>> {
        if !self.has(column) {
            return None;
        }
        let raw = self.raw(column);
        let day = raw.split_once('T').map_or(raw, |(d, _)| d);
        if day.is_empty() {
            return Some(None);
        }
        let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(d) if d >= first => Some(Some(d)),
            Ok(d) => {
                let why = format!("{column} {d}: a date of birth from {first} on");
                errors.push(RowError::new(self.at, why));
                None
            }
            Err(_) => {
                let why = format!("{column} {raw:?}: a date as YYYY-MM-DD");
                errors.push(RowError::new(self.at, why));
                None
            }
        }
    }

    /// A `true`/`false` field whose empty value is `true` (a student's `active`): `None` when
    /// the file lacks the column.
    pub fn active(&self, column: &str, errors: &mut Vec<RowError>) -> Option<bool> {
        if !self.has(column) {
            return None;
        }
        match self.raw(column) {
            "" => Some(true),
            _ => Some(self.flag(column, errors)),
        }
    }

    /// A `true`/`false` field; empty is `false`.
    pub fn flag(&self, column: &str, errors: &mut Vec<RowError>) -> bool {
        match self.raw(column).to_ascii_lowercase().as_str() {
            "true" => true,
            "" | "false" => false,
            other => {
                errors.push(RowError::new(
                    self.at,
                    format!("{column} {other:?}: true or false"),
                ));
                false
            }
        }
    }

    /// A student's consent to face recognition, when the row's `{prefix}consent` column names
    /// a state (`given`, `refused`, …), with `{prefix}consent_by`, `{prefix}consent_signed_on`
    /// (`YYYY-MM-DD`) and `{prefix}consent_reference`. What each state must say is checked when
    /// the import is planned, as for an admin's answer.
    pub fn consent(&self, prefix: &str, errors: &mut Vec<RowError>) -> Option<Statement> {
        let column = |name: &str| format!("{prefix}{name}");
        let state = self.raw(&column("consent")).to_ascii_lowercase();
        if state.is_empty() {
            return None;
        }
        let Some(state) = State::parse(&state) else {
            let states = State::ALL.map(State::as_str).join(", ");
            let why = format!("{} {state:?}: one of {states}", column("consent"));
            errors.push(RowError::new(self.at, why));
            return None;
        };
        let signed_on = match self.raw(&column("consent_signed_on")) {
            "" => None,
            day => match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
                Ok(day) => Some(day),
                Err(_) => {
                    let why = format!(
                        "{} {day:?}: a date (YYYY-MM-DD)",
                        column("consent_signed_on")
                    );
                    errors.push(RowError::new(self.at, why));
                    return None;
                }
            },
        };
        Some(Statement {
            state,
            by: self.optional(&column("consent_by"), errors),
            signed_on,
            reference: self.optional(&column("consent_reference"), errors),
            note: None,
        })
    }
}

fn checked(at: At, column: &str, value: &str, errors: &mut Vec<RowError>) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    if value.chars().count() > MAX_TEXT || value.chars().any(char::is_control) {
        errors.push(RowError::new(
            at,
            format!("{column}: at most {MAX_TEXT} characters, no control characters"),
        ));
        return None;
    }
    Some(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_as_school_systems_write_them_are_read() {
        let text = "\u{feff}id,name,vendorExtra\r\n\
            1,\"Smith, Jo\",x\r\n\
            2,\"Ann\r\nMarie  Lee\",\r\n\
            3,Zoë Ψ 李,\r\n";
        let mut errors = Vec::new();
        let t = Table::read("f.csv", text.as_bytes(), &["id", "name"], &mut errors);
        let names: Vec<(u64, Option<String>)> = t
            .rows()
            .map(|r| (r.at.line, r.name("name", &mut errors)))
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            names,
            [
                (2, Some("Smith, Jo".into())),
                (3, Some("Ann Marie Lee".into())),
                (5, Some("Zoë Ψ 李".into())),
            ]
        );
    }

    #[test]
    fn each_problem_names_its_file_and_line() {
        let mut errors = Vec::new();
        let t = Table::read("f.csv", b"id,flag\n,maybe\n2\n", &["id"], &mut errors);
        for row in t.rows() {
            row.required("id", &mut errors);
            row.flag("flag", &mut errors);
        }
        let found: Vec<(u64, &str)> = errors
            .iter()
            .map(|e| (e.line, e.message.as_str()))
            .collect();
        assert_eq!(found[0].0, 3, "a row of the wrong length: {errors:?}");
        assert_eq!(found[1], (2, "id is empty"));
        assert_eq!(found[2], (2, "flag \"maybe\": true or false"));
        let mut errors = Vec::new();
        Table::read("f.csv", b"a,b\n", &["id"], &mut errors);
        assert!(errors[0].message.contains("missing columns"), "{errors:?}");
    }

    #[test]
    fn a_refused_file_counts_its_rows_in_words() {
        let row = RowError::new(
            At {
                file: "f.csv",
                line: 2,
            },
            "x",
        );
        assert_eq!(
            nothing_imported(std::slice::from_ref(&row), "file"),
            "1 row of the file cannot be used; nothing was imported"
        );
        assert!(
            nothing_imported(&[row.clone(), row], "roster").starts_with("2 rows of the roster")
        );
    }

    #[test]
    fn a_file_the_office_writes_names_known_columns_in_any_case_and_no_others() {
        let read =
            |text: &str| Table::read_known("f.csv", text.as_bytes(), &["id", "ok"], &["id"], 2);
        let Ok(t) = read("ID,Ok\n1,Yes\n2,n\n") else {
            panic!("read")
        };
        let flags: Vec<_> = t.rows().map(|r| r.yes_no("ok")).collect();
        assert_eq!(flags, [Ok(Some(true)), Ok(Some(false))]);
        let whole = |text: &str| {
            let Err(e) = read(text) else {
                panic!("{text:?} refused")
            };
            (e[0].line, e[0].message.clone())
        };
        assert_eq!(
            whole("id,vendor\n1,x\n"),
            (1, "unknown column \"vendor\" (the columns: id, ok)".into())
        );
        assert_eq!(
            whole("ok\nyes\n"),
            (1, "missing columns: id (the columns: id, ok)".into())
        );
        assert_eq!(whole("id\n1\n2\n3\n"), (0, "at most 2 rows".into()));
    }
}
