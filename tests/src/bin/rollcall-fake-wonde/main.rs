//! `rollcall-fake-wonde`: a contract stand-in for the Wonde API v1.0, through which most English
//! schools' MIS (SIMS, Arbor, Bromcom) take third-party attendance write-back, in tests of the
//! hub's write-back connector. It checks every request against Wonde's published definitions,
//! cut down into `tests/standins/wonde/model.json` (`SOURCE.md` beside it says where each part
//! comes from), and answers as Wonde does where that is known. HTTP is the shared
//! `rollcall_e2e::standin_http`.
//!
//! - `GET /v1.0/schools/{--school}/students` and `…/attendance-codes`: the school's students
//!   (`--students`) and codes (`--codes`), a page at a time (`meta.pagination`).
//! - `POST …/attendance/session` and `…/attendance/lesson`: a register, `{"attendance": [...]}`,
//!   checked whole (422 naming each field at fault), then kept one mark per student, date and
//!   session (per student and lesson), the newest winning; answers `{"writeback_id"}`.
//! - `GET …/attendance/session` and `…/attendance/lesson`: the marks kept, a page at a time.
//! - Every Wonde endpoint wants `--token`, as `Bearer` or as the Basic user (401 otherwise).
//! - `POST /control` with `{"mode": "ok" | "unauthorized" | "throttle" | "fail" | "hang",
//!   "retryAfter": n, "students": ["ID=MIS_ID", ...]}` (any of them): how the Wonde endpoints
//!   answer from now on (401, 429 with `Retry-After`, 500, or never), and more students.
//! - `GET /requests`: every request to the Wonde endpoints so far, as one JSON array of
//!   `{"at", "method", "path", "query", "authorization", "body", "status"}`, also appended to
//!   `--record` as one JSON line each. `authorization` only says whether the header was there.
//!
//! Once bound it prints `listening on ADDR` on standard output.

mod answers;
mod api;
mod codes;
mod journal;
mod model;
mod store;
mod validate;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::Parser;
use rollcall_e2e::standin_http::{self as http, Answer, Request};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

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
    /// A file each request is appended to, one JSON line each.
    #[arg(long)]
    record: Option<PathBuf>,
}

fn default_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("standins/wonde/model.json")
}

/// How the Wonde endpoints answer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Ok,
    Unauthorized,
    Throttle { retry_after: u32 },
    Fail,
    Hang,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Unauthorized => "unauthorized",
            Self::Throttle { .. } => "throttle",
            Self::Fail => "fail",
            Self::Hang => "hang",
        }
    }
}

/// Everything the stand-in holds.
#[derive(Debug)]
struct Server {
    model: Model,
    school: String,
    token: String,
    /// Wonde student id → MIS id.
    students: BTreeMap<String, String>,
    codes: Vec<api::Code>,
    store: store::Store,
    mode: Mode,
    journal: journal::Journal,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let model = Model::load(&args.model)?;
    let codes = match &args.codes {
        Some(path) => codes::load(path)?,
        None => codes::england(),
    };
    let students = parse_students(&args.students).context("--students")?;
    anyhow::ensure!(!args.token.is_empty(), "--token must not be empty");
    anyhow::ensure!(
        !args.school.is_empty() && !args.school.contains('/'),
        "--school must be a plain id"
    );
    let journal = journal::Journal::open(args.record)?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {local}")?;
    out.flush()?;
    drop(out);
    let server = Arc::new(Mutex::new(Server {
        model,
        school: args.school,
        token: args.token,
        students,
        codes,
        store: store::Store::default(),
        mode: Mode::Ok,
        journal,
    }));
    loop {
        let (stream, _) = listener.accept().await?;
        let server = Arc::clone(&server);
        tokio::spawn(async move {
            if let Err(e) = serve(stream, local, &server).await {
                eprintln!("rollcall-fake-wonde: {e:#}");
            }
        });
    }
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

/// Answers one request on `stream`, then closes it.
async fn serve(stream: TcpStream, local: SocketAddr, server: &Mutex<Server>) -> anyhow::Result<()> {
    let mut stream = BufReader::new(stream);
    let request = match http::read_request(&mut stream).await {
        Ok(request) => request,
        Err(e) => {
            let answer = Answer::json(400, json!({ "message": format!("{e:#}") }));
            return http::write_answer(stream.get_mut(), &answer).await;
        }
    };
    let answer = match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/control") => Some(control(&request.body, server)),
        ("GET", "/requests") => Some(requests(server)),
        _ => wonde_request(&request, local, server)?,
    };
    match answer {
        Some(answer) => http::write_answer(stream.get_mut(), &answer).await,
        None => {
            // Hang: hold the connection until the client gives up.
            let mut buf = [0; 1024];
            while stream.read(&mut buf).await? > 0 {}
            Ok(())
        }
    }
}

/// A request to Wonde proper: answered by the mode, then recorded. `None`: never answered.
fn wonde_request(
    request: &Request,
    local: SocketAddr,
    server: &Mutex<Server>,
) -> anyhow::Result<Option<Answer>> {
    let mut server = server
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let answer = match server.mode {
        Mode::Ok => {
            let server = &mut *server;
            let school = api::School {
                model: &server.model,
                id: &server.school,
                token: &server.token,
                students: &server.students,
                codes: &server.codes,
                store: &mut server.store,
            };
            Some(api::answer(school, request, &http::root(request, local)))
        }
        Mode::Unauthorized => Some(answers::unauthenticated()),
        Mode::Throttle { retry_after } => Some(answers::throttled(retry_after)),
        Mode::Fail => Some(answers::server_error()),
        Mode::Hang => None,
    };
    server
        .journal
        .record(request, answer.as_ref().map(|a| a.status))?;
    Ok(answer)
}

/// `POST /control`: the new mode, retry delay and more students.
fn control(body: &[u8], server: &Mutex<Server>) -> Answer {
    let usage = "give {\"mode\": \"ok\" | \"unauthorized\" | \"throttle\" | \"fail\" | \"hang\", \
                 \"retryAfter\": seconds, \"students\": [\"ID=MIS_ID\", ...]}";
    let refuse = || Answer::json(400, json!({ "message": usage }));
    let Ok(Value::Object(asked)) = serde_json::from_slice::<Value>(body) else {
        return refuse();
    };
    let known = ["mode", "retryAfter", "students"];
    if asked.is_empty() || asked.keys().any(|k| !known.contains(&k.as_str())) {
        return refuse();
    }
    let retry_after = match asked.get("retryAfter").map(Value::as_u64) {
        None => 1,
        Some(Some(n)) => u32::try_from(n).unwrap_or(u32::MAX),
        Some(None) => return refuse(),
    };
    let mode = match asked.get("mode").map(Value::as_str) {
        None => None,
        Some(Some("ok")) => Some(Mode::Ok),
        Some(Some("unauthorized")) => Some(Mode::Unauthorized),
        Some(Some("throttle")) => Some(Mode::Throttle { retry_after }),
        Some(Some("fail")) => Some(Mode::Fail),
        Some(Some("hang")) => Some(Mode::Hang),
        Some(_) => return refuse(),
    };
    let pairs: Option<Vec<String>> = match asked.get("students") {
        None => Some(Vec::new()),
        Some(list) => list
            .as_array()
            .and_then(|l| l.iter().map(|s| s.as_str().map(str::to_owned)).collect()),
    };
    let Some(Ok(students)) = pairs.map(|p| parse_students(&p)) else {
        return refuse();
    };
    let mut server = server
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(mode) = mode {
        server.mode = mode;
    }
    server.students.extend(students);
    let ids: Vec<&String> = server.students.keys().collect();
    Answer::json(200, json!({"mode": server.mode.name(), "students": ids}))
}

/// `GET /requests`: the requests kept, oldest first.
fn requests(server: &Mutex<Server>) -> Answer {
    let server = server
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Answer::json(200, server.journal.all())
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
