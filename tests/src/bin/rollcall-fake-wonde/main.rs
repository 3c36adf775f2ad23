//! `rollcall-fake-wonde`: a contract stand-in for the Wonde API v1.0, through which most English
//! schools' MIS (SIMS, Arbor, Bromcom) take third-party attendance write-back, in tests of the
//! hub's write-back connector. It checks every request against Wonde's published definitions,
//! cut down into `tests/standins/wonde/model.json` (`SOURCE.md` beside it says where each part
//! comes from), and answers as Wonde does where that is known. The server, the fault modes and
//! the journal of requests are the shared `rollcall_e2e::standin`; this folder holds Wonde's
//! own endpoints, checks, store and error shapes.
//!
//! - `GET /v1.0/schools/{--school}/students` and `…/attendance-codes`: the school's students
//!   (`--students`) and codes (`--codes`), a page at a time (`meta.pagination`).
//! - `GET …/lessons`: the school's timetable (`--lessons`), a page at a time, filtered by
//!   `lessons_start_after` and `lessons_start_before` (`Y-m-d H:i:s` or `Y-m-d`; the lessons
//!   starting at or after the one and before the other; 400 for a bad value); each lesson's
//!   `class` is its id, or `{"data": {"id", "mis_id", "name"}}` with `include=class`. The
//!   page links keep the filters.
//! - `POST …/attendance/session` and `…/attendance/lesson`: a register, `{"attendance": [...]}`,
//!   checked whole (422 naming each field at fault, among them a student, code or lesson the
//!   school does not have), then kept one mark per student, date and session (per student and
//!   lesson), the newest winning; answers `{"writeback_id"}`.
//! - `GET …/attendance/session` and `…/attendance/lesson`: the marks kept, a page at a time.
//! - Every Wonde endpoint wants `--token`, as `Bearer` or as the Basic user (401 otherwise).
//! - `POST /control` with `{"mode": "ok" | "unauthorized" | "throttle" | "fail" | "hang",
//!   "retryAfter": n, "students": ["ID=MIS_ID", ...], "lessons": [...]}` (any of them): how the
//!   Wonde endpoints answer from now on (401, 429 with `Retry-After`, 500, or never), more
//!   students, and more lessons (as `--lessons` gives them; a lesson whose id is known already
//!   replaces it: the MIS's timetable synced again).
//! - `GET /requests`: every request to the Wonde endpoints so far, as one JSON array of
//!   `{"at", "method", "path", "query", "authorization", "body", "status"}`, also appended to
//!   `--record` as one JSON line each. `authorization` only says whether the header was there.
//!
//! Once bound it prints `listening on ADDR` on standard output.

mod answers;
mod api;
mod codes;
mod lessons;
mod model;
mod store;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Parser;
use rollcall_e2e::standin::http::{Answer, Request};
use rollcall_e2e::standin::journal::Journal;
use rollcall_e2e::standin::serve::{self, Vendor};
use serde_json::{Value, json};

use crate::model::Model;

#[derive(Debug, Parser)]
struct Args {
    /// Where to listen, e.g. 127.0.0.1:0.
    #[arg(long)]
    listen: SocketAddr,
    /// The definitions requests are checked against.
    #[arg(long, default_value_os_t = default_model())]
    model: PathBuf,
    /// The token of the school's access.
    #[arg(long, default_value = "rollcall-wonde-token")]
    token: String,
    /// The school's Wonde id.
    #[arg(long, default_value = "A1000000000")]
    school: String,
    /// The school's students, as Wonde id and MIS id: `A1749191433=9919`, comma-separated.
    #[arg(long, value_delimiter = ',')]
    students: Vec<String>,
    /// The school's attendance codes, `[{"id", "code"}, ...]`; England's codes when not given.
    #[arg(long)]
    codes: Option<PathBuf>,
    /// The school's lessons, `[{"id", "class": {"id", "mis_id", "name"}, "start_at":
    /// "Y-m-d H:i:s", "end_at": "Y-m-d H:i:s"}, ...]`; none when not given.
    #[arg(long)]
    lessons: Option<PathBuf>,
    /// A file each request is appended to, one JSON line each.
    #[arg(long)]
    record: Option<PathBuf>,
}

fn default_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("standins/wonde/model.json")
}

/// What the school holds at Wonde.
#[derive(Debug)]
struct Wonde {
    model: Model,
    school: String,
    token: String,
    /// Wonde student id → MIS id.
    students: BTreeMap<String, String>,
    codes: Vec<api::Code>,
    lessons: Vec<lessons::Lesson>,
    store: store::Store,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let model = Model::load(&args.model)?;
    let codes = match &args.codes {
        Some(path) => codes::load(path)?,
        None => codes::england(),
    };
    let lessons = match &args.lessons {
        Some(path) => lessons::load(path)?,
        None => Vec::new(),
    };
    let students = parse_students(&args.students).context("--students")?;
    anyhow::ensure!(!args.token.is_empty(), "--token must not be empty");
    anyhow::ensure!(
        !args.school.is_empty() && !args.school.contains('/'),
        "--school must be a plain id"
    );
    let journal = Journal::open(args.record)?;
    let listener = serve::listen(args.listen).await?;
    let wonde = Wonde {
        model,
        school: args.school,
        token: args.token,
        students,
        codes,
        lessons,
        store: store::Store::default(),
    };
    serve::run(listener, wonde, journal).await
}

/// `ID=MIS_ID` pairs; both parts non-empty.
fn parse_students(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (id, mis_id) = pair
                .split_once('=')
                .filter(|(id, mis)| !id.is_empty() && !mis.is_empty())
                .with_context(|| format!("{pair:?} is not ID=MIS_ID"))?;
            Ok((id.to_owned(), mis_id.to_owned()))
        })
        .collect()
}

impl Vendor for Wonde {
    const NAME: &'static str = "rollcall-fake-wonde";
    const STUDENT: &'static str = "\"ID=MIS_ID\"";

    fn bad_request(message: String) -> Answer {
        Answer::json(400, json!({ "message": message }))
    }

    fn unauthorized(_: &Request) -> Answer {
        answers::unauthenticated()
    }

    fn throttled(retry_after: u32) -> Answer {
        answers::throttled(retry_after)
    }

    fn failed() -> Answer {
        answers::server_error()
    }

    fn answer(&mut self, request: &Request, root: &str) -> Answer {
        let school = api::School {
            model: &self.model,
            id: &self.school,
            token: &self.token,
            students: &self.students,
            codes: &self.codes,
            lessons: &self.lessons,
            store: &mut self.store,
        };
        api::answer(school, request, root)
    }

    fn add_students(&mut self, students: Vec<String>) -> anyhow::Result<()> {
        self.students.extend(parse_students(&students)?);
        Ok(())
    }

    fn students(&self) -> Value {
        json!(self.students.keys().collect::<Vec<_>>())
    }

    fn control(&mut self, key: &str, value: &Value) -> anyhow::Result<()> {
        anyhow::ensure!(
            key == "lessons",
            "{} takes no {key:?} in /control",
            Self::NAME
        );
        for lesson in lessons::from_json(value)? {
            match self.lessons.iter_mut().find(|l| l.id == lesson.id) {
                Some(known) => *known = lesson,
                None => self.lessons.push(lesson),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn students_are_id_and_mis_id_pairs() {
        let pairs = ["A1=9919".to_owned(), String::new(), "A2=x=y".to_owned()];
        let students = parse_students(&pairs).unwrap();
        assert_eq!(students["A1"], "9919");
        assert_eq!(students["A2"], "x=y");
        for bad in ["A1", "=9919", "A1="] {
            assert!(parse_students(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}
