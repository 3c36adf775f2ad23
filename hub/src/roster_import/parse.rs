//! Reading roster files into a [`Roster`]: the plain CSV (one row per student and class) and
//! OneRoster 1.2 bulk CSV (`users.csv`, `classes.csv`, `enrollments.csv`, `orgs.csv`,
//! `academicSessions.csv`). Every problem is reported with its file and line; any problem
//! means nothing is imported.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{ClassRow, Roster, StudentRow, TeacherRow};

/// Longest source id, name or user name taken.
const MAX_TEXT: usize = 200;

/// A problem in one row of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub file: String,
    /// 1 for the header; 0 when the problem is the file as a whole.
    pub line: u64,
    pub message: String,
}

/// A CSV file as rows of named fields, with their line numbers.
struct Table {
    file: String,
    rows: Vec<(u64, HashMap<String, String>)>,
}

impl Table {
    fn read(file: &str, bytes: &[u8], required: &[&str], errors: &mut Vec<RowError>) -> Self {
        let mut table = Table {
            file: file.to_owned(),
            rows: Vec::new(),
        };
        let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(text);
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(str::to_owned).collect(),
            Err(e) => {
                errors.push(table.error(1, format!("cannot read the header: {e}")));
                return table;
            }
        };
        let missing: Vec<&&str> = required
            .iter()
            .filter(|c| !header.iter().any(|h| h == *c))
            .collect();
        if !missing.is_empty() {
            errors.push(table.error(1, format!("missing columns: {missing:?}")));
            return table;
        }
        for record in reader.records() {
            match record {
                Ok(r) => {
                    let line = r.position().map_or(0, |p| p.line());
                    let fields = header.iter().cloned().zip(r.iter().map(str::to_owned));
                    table.rows.push((line, fields.collect()));
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    errors.push(table.error(line, e.to_string()));
                }
            }
        }
        table
    }

    fn error(&self, line: u64, message: String) -> RowError {
        RowError {
            file: self.file.clone(),
            line,
            message,
        }
    }
}

/// A field's text: present and not empty when `required`, at most [`MAX_TEXT`] characters,
/// no control characters.
fn text(
    t: &Table,
    line: u64,
    row: &HashMap<String, String>,
    column: &str,
    required: bool,
    errors: &mut Vec<RowError>,
) -> Option<String> {
    let value = row.get(column).map(String::as_str).unwrap_or("");
    if value.is_empty() {
        if required {
            errors.push(t.error(line, format!("{column} is empty")));
        }
        return None;
    }
    if value.chars().count() > MAX_TEXT || value.chars().any(char::is_control) {
        errors.push(t.error(
            line,
            format!("{column}: at most {MAX_TEXT} characters, no control characters"),
        ));
        return None;
    }
    Some(value.to_owned())
}

/// The plain CSV: `student_id,student_name,class_id,class_name,teacher_id,teacher_username,
/// teacher_name,teacher_email`, one row per student and class (a student in no class has the
/// class columns empty; the teacher columns may be empty).
pub fn plain(bytes: &[u8]) -> Result<Roster, Vec<RowError>> {
    let mut errors = Vec::new();
    let t = Table::read(
        "roster.csv",
        bytes,
        &["student_id", "student_name", "class_id", "class_name"],
        &mut errors,
    );
    let mut roster = Builder::default();
    for (line, row) in &t.rows {
        let line = *line;
        let f = |c: &str, req: bool, e: &mut Vec<RowError>| text(&t, line, row, c, req, e);
        let (Some(id), Some(name)) = (
            f("student_id", true, &mut errors),
            f("student_name", true, &mut errors),
        ) else {
            continue;
        };
        roster.student(
            &t,
            line,
            StudentRow {
                source_id: id.clone(),
                name,
            },
            &mut errors,
        );
        let Some(class_id) = f("class_id", false, &mut errors) else {
            continue;
        };
        let Some(class_name) = f("class_name", true, &mut errors) else {
            continue;
        };
        let teacher = match f("teacher_id", false, &mut errors) {
            Some(tid) => {
                let username = f("teacher_username", true, &mut errors).unwrap_or_default();
                let name =
                    f("teacher_name", false, &mut errors).unwrap_or_else(|| username.clone());
                let email = f("teacher_email", false, &mut errors);
                let email = account(&t, line, &username, email, &mut errors);
                let teacher = TeacherRow {
                    source_id: tid.clone(),
                    username,
                    name,
                    email,
                };
                roster.teacher(&t, line, teacher, &mut errors);
                Some(tid)
            }
            None => None,
        };
        let class = ClassRow {
            source_id: class_id.clone(),
            name: class_name,
            teacher,
        };
        roster.class(&t, line, class, &mut errors);
        roster.members.push((class_id, id));
    }
    roster.finish(errors)
}

/// OneRoster 1.2 bulk CSV, from its files by name. Users with role `student` become students,
/// `teacher` teachers; classes take their `title`; active enrollments make the memberships
/// (a class's teacher is its first active teacher enrollment, the primary one first). Rows
/// whose `status` is `tobedeleted` are left out, so their students become leavers.
pub fn oneroster(files: &BTreeMap<String, Vec<u8>>) -> Result<Roster, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut table = |name: &str, required: &[&str]| match files.get(name) {
        Some(bytes) => Some(Table::read(name, bytes, required, &mut errors)),
        None => {
            errors.push(RowError {
                file: name.to_owned(),
                line: 0,
                message: "missing from the OneRoster files".into(),
            });
            None
        }
    };
    let users = table(
        "users.csv",
        &["sourcedId", "role", "username", "givenName", "familyName"],
    );
    let classes = table("classes.csv", &["sourcedId", "title"]);
    let enrollments = table(
        "enrollments.csv",
        &["sourcedId", "classSourcedId", "userSourcedId", "role"],
    );
    // Read for their shape; the school's orgs and terms are not imported (the Calendar page
    // keeps terms).
    let _orgs = table("orgs.csv", &["sourcedId", "name", "type"]);
    let _sessions = table(
        "academicSessions.csv",
        &["sourcedId", "title", "type", "startDate", "endDate"],
    );
    let (Some(users), Some(classes), Some(enrollments)) = (users, classes, enrollments) else {
        return Err(errors);
    };
    let deleted = |row: &HashMap<String, String>| {
        row.get("status")
            .is_some_and(|s| s.eq_ignore_ascii_case("tobedeleted"))
    };

    let mut roster = Builder::default();
    let mut kinds: HashMap<String, &'static str> = HashMap::new();
    for (line, row) in users.rows.iter().filter(|(_, r)| !deleted(r)) {
        let line = *line;
        let f = |c: &str, req: bool, e: &mut Vec<RowError>| text(&users, line, row, c, req, e);
        let Some(id) = f("sourcedId", true, &mut errors) else {
            continue;
        };
        let given = f("givenName", false, &mut errors).unwrap_or_default();
        let family = f("familyName", false, &mut errors).unwrap_or_default();
        let name = format!("{given} {family}").trim().to_owned();
        if name.is_empty() {
            errors.push(users.error(line, "givenName and familyName are both empty".into()));
            continue;
        }
        match row.get("role").map(|r| r.to_ascii_lowercase()).as_deref() {
            Some("student") => {
                kinds.insert(id.clone(), "student");
                roster.student(
                    &users,
                    line,
                    StudentRow {
                        source_id: id,
                        name,
                    },
                    &mut errors,
                );
            }
            Some("teacher") => {
                let Some(username) = f("username", true, &mut errors) else {
                    continue;
                };
                kinds.insert(id.clone(), "teacher");
                let email = f("email", false, &mut errors);
                let email = account(&users, line, &username, email, &mut errors);
                let teacher = TeacherRow {
                    source_id: id,
                    username,
                    name,
                    email,
                };
                roster.teacher(&users, line, teacher, &mut errors);
            }
            // Parents, guardians, aides, administrators: not Rollcall's people.
            _ => {}
        }
    }

    let mut teacher_of: HashMap<String, (bool, String)> = HashMap::new();
    let mut members = Vec::new();
    for (line, row) in enrollments.rows.iter().filter(|(_, r)| !deleted(r)) {
        let line = *line;
        let f = |c: &str, e: &mut Vec<RowError>| text(&enrollments, line, row, c, true, e);
        let (Some(class), Some(user)) = (
            f("classSourcedId", &mut errors),
            f("userSourcedId", &mut errors),
        ) else {
            continue;
        };
        match (
            row.get("role").map(|r| r.to_ascii_lowercase()).as_deref(),
            kinds.get(&user),
        ) {
            (Some("student"), Some(&"student")) => members.push((class, user, line)),
            (Some("teacher"), Some(&"teacher")) => {
                let primary = row
                    .get("primary")
                    .is_some_and(|p| p.eq_ignore_ascii_case("true"));
                let better = teacher_of.get(&class).is_none_or(|(p, _)| primary && !p);
                if better {
                    teacher_of.insert(class, (primary, user));
                }
            }
            (Some("student" | "teacher"), _) => errors.push(enrollments.error(
                line,
                format!(
                    "userSourcedId {user} is not an active {} in users.csv",
                    row["role"]
                ),
            )),
            _ => {}
        }
    }

    for (line, row) in classes.rows.iter().filter(|(_, r)| !deleted(r)) {
        let line = *line;
        let f = |c: &str, e: &mut Vec<RowError>| text(&classes, line, row, c, true, e);
        let (Some(id), Some(title)) = (f("sourcedId", &mut errors), f("title", &mut errors)) else {
            continue;
        };
        let teacher = teacher_of.get(&id).map(|(_, t)| t.clone());
        let class = ClassRow {
            source_id: id,
            name: title,
            teacher,
        };
        roster.class(&classes, line, class, &mut errors);
    }
    for (class, student, line) in members {
        if !roster.classes.contains_key(&class) {
            errors.push(enrollments.error(
                line,
                format!("classSourcedId {class} is not an active class in classes.csv"),
            ));
            continue;
        }
        roster.members.push((class, student));
    }
    roster.finish(errors)
}

/// A teacher's user name and e-mail address checked as the hub checks them anywhere else; the
/// address as the hub keeps it.
fn account(
    t: &Table,
    line: u64,
    username: &str,
    email: Option<String>,
    errors: &mut Vec<RowError>,
) -> Option<String> {
    if !username.is_empty() && !crate::accounts::valid_username(username) {
        errors.push(t.error(
            line,
            format!("user name {username:?}: 1 to 64 letters, digits, '.', '_' or '-'"),
        ));
    }
    match email.as_deref().map(crate::accounts::email_address) {
        Some(Ok(address)) => Some(address),
        Some(Err(e)) => {
            errors.push(t.error(line, e));
            None
        }
        None => None,
    }
}

/// Collects rows, refusing one source id with two different contents.
#[derive(Default)]
struct Builder {
    students: BTreeMap<String, StudentRow>,
    teachers: BTreeMap<String, TeacherRow>,
    classes: BTreeMap<String, ClassRow>,
    members: Vec<(String, String)>,
}

impl Builder {
    fn student(&mut self, t: &Table, line: u64, s: StudentRow, errors: &mut Vec<RowError>) {
        add(
            &mut self.students,
            s.source_id.clone(),
            s,
            "student",
            t,
            line,
            errors,
        );
    }

    fn teacher(&mut self, t: &Table, line: u64, s: TeacherRow, errors: &mut Vec<RowError>) {
        add(
            &mut self.teachers,
            s.source_id.clone(),
            s,
            "teacher",
            t,
            line,
            errors,
        );
    }

    fn class(&mut self, t: &Table, line: u64, c: ClassRow, errors: &mut Vec<RowError>) {
        add(
            &mut self.classes,
            c.source_id.clone(),
            c,
            "class",
            t,
            line,
            errors,
        );
    }

    fn finish(mut self, errors: Vec<RowError>) -> Result<Roster, Vec<RowError>> {
        if !errors.is_empty() {
            return Err(errors);
        }
        self.members.sort();
        self.members.dedup();
        Ok(Roster {
            students: self.students.into_values().collect(),
            teachers: self.teachers.into_values().collect(),
            classes: self.classes.into_values().collect(),
            members: self.members,
        })
    }
}

fn add<T: PartialEq>(
    into: &mut BTreeMap<String, T>,
    id: String,
    value: T,
    kind: &str,
    t: &Table,
    line: u64,
    errors: &mut Vec<RowError>,
) {
    match into.get(&id) {
        Some(seen) if *seen != value => errors.push(t.error(
            line,
            format!("{kind} {id} appears again with different details"),
        )),
        Some(_) => {}
        None => {
            into.insert(id, value);
        }
    }
}

/// OneRoster files from a zip archive (at its root or in one folder). Only the five files
/// are read, each at most [`MAX_FILE`] bytes unpacked.
pub fn oneroster_zip(bytes: &[u8]) -> Result<Roster, Vec<RowError>> {
    oneroster(&unzip(bytes).map_err(|message| {
        vec![RowError {
            file: "(zip)".into(),
            line: 0,
            message,
        }]
    })?)
}

/// The most bytes one OneRoster file may unpack to.
pub const MAX_FILE: u64 = 64 * 1024 * 1024;
/// The files OneRoster import reads.
pub const ONEROSTER_FILES: [&str; 5] = [
    "users.csv",
    "classes.csv",
    "enrollments.csv",
    "orgs.csv",
    "academicSessions.csv",
];

fn unzip(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    use std::io::Read as _;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a zip archive: {e}"))?;
    let mut files = BTreeMap::new();
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|e| e.to_string())?;
        let name = entry
            .name()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        if !ONEROSTER_FILES.contains(&name.as_str()) || entry.is_dir() {
            continue;
        }
        if files.contains_key(&name) {
            return Err(format!("{name} is in the archive twice"));
        }
        let mut text = Vec::new();
        entry
            .take(MAX_FILE + 1)
            .read_to_end(&mut text)
            .map_err(|e| format!("{name}: {e}"))?;
        if text.len() as u64 > MAX_FILE {
            return Err(format!("{name} unpacks to more than {MAX_FILE} bytes"));
        }
        files.insert(name, text);
    }
    Ok(files)
}
