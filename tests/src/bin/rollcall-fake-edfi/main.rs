//! `rollcall-fake-edfi`: a contract stand-in for an Ed-Fi ODS/API 7 server (Data Standard 5.2)
//! in tests of the hub's attendance write-back. It checks every request against the vendor's
//! published definitions, cut down into `tests/standins/edfi/model.json` (`SOURCE.md` beside it
//! says where each part comes from), and answers as the ODS does. HTTP is the shared
//! `rollcall_e2e::standin_http`.
//!
//! - `GET /`: the discovery document (version, data model, `oauth` and `dataManagementApi` URLs).
//! - `POST /oauth/token`: client credentials (HTTP Basic, or form or JSON fields) for the one
//!   client of `--client-id`/`--client-secret`; tokens expire after `--token-seconds`.
//! - `/data/v3/ed-fi/studentSchoolAttendanceEvents` and `…/studentSectionAttendanceEvents`:
//!   POST (upsert by natural key: 201 or 200, with `Location`), GET by example (`offset`,
//!   `limit`, `totalCount`, the model's query fields), GET and DELETE by id. Bodies are
//!   validated; a student not in `--students` (or added by `/control`) is an unresolved
//!   reference (409).
//! - `POST /control` with `{"mode": "ok" | "unauthorized" | "throttle" | "fail" | "hang",
//!   "retryAfter": n, "students": [...]}` (any of them; `retryAfter`, default 1, goes with
//!   `throttle`): how the ODS endpoints answer from now on (401, 429 with `Retry-After`, 500,
//!   or never), and more known students.
//! - `GET /requests`: every request to the ODS endpoints so far, as one JSON array of
//!   `{"at", "method", "path", "query", "authorization", "body", "status"}`; each is also
//!   appended to `--record` as one JSON line. Token secrets are redacted, and `authorization`
//!   only says whether the header was there.
//!
//! Once bound it prints `listening on ADDR` on standard output.

mod auth;
mod model;
mod ods;
mod problem;
mod store;
mod validate;

use std::collections::{BTreeSet, VecDeque};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use rollcall_e2e::standin_http as http;

use crate::http::{Answer, Request};
use crate::model::Model;

/// The longest token lifetime accepted (ten years): the clock can always add it.
const MAX_TOKEN_SECONDS: u64 = 10 * 365 * 24 * 3600;
/// How many requests `GET /requests` keeps; older ones are dropped (the record file keeps all).
const KEPT_REQUESTS: usize = 10_000;

#[derive(Debug, Parser)]
struct Args {
    /// Where to listen, e.g. 127.0.0.1:0.
    #[arg(long)]
    listen: SocketAddr,
    /// The resource model requests are checked against.
    #[arg(long, default_value_os_t = default_model())]
    model: PathBuf,
    /// Descriptor values replacing the model's, as `{"XDescriptor": {"namespace",
    /// "codeValues": [...]}}`.
    #[arg(long)]
    descriptors: Option<PathBuf>,
    /// The students the ODS knows, by studentUniqueId, comma-separated.
    #[arg(long, value_delimiter = ',')]
    students: Vec<String>,
    /// The one API client's key.
    #[arg(long, default_value = "rollcall")]
    client_id: String,
    /// The one API client's secret.
    #[arg(long, default_value = "rollcall-secret")]
    client_secret: String,
    /// How long an access token is accepted, in seconds (the ODS ships with 30 minutes).
    #[arg(long, default_value_t = 1800)]
    token_seconds: u64,
    /// A file each request is appended to, one JSON line each.
    #[arg(long)]
    record: Option<PathBuf>,
}

fn default_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("standins/edfi/model.json")
}

/// How the ODS endpoints answer.
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
    students: BTreeSet<String>,
    tokens: auth::Tokens,
    store: store::Store,
    mode: Mode,
    requests: VecDeque<Value>,
    record: Option<PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut model = Model::load(&args.model)?;
    if let Some(path) = &args.descriptors {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        let json: Value =
            serde_json::from_str(&text).with_context(|| path.display().to_string())?;
        model
            .descriptors
            .extend(model::descriptors_from_json(&json)?);
    }
    if let Some(record) = &args.record {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(record)
            .with_context(|| record.display().to_string())?;
    }
    anyhow::ensure!(
        (1..=MAX_TOKEN_SECONDS).contains(&args.token_seconds),
        "--token-seconds must be between 1 and {MAX_TOKEN_SECONDS}"
    );
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {local}")?;
    out.flush()?;
    drop(out);
    let lifetime = Duration::from_secs(args.token_seconds);
    let server = Arc::new(Mutex::new(Server {
        model,
        students: args
            .students
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect(),
        tokens: auth::Tokens::new(args.client_id, args.client_secret, lifetime),
        store: store::Store::default(),
        mode: Mode::Ok,
        requests: VecDeque::new(),
        record: args.record,
    }));
    loop {
        let (stream, _) = listener.accept().await?;
        let server = Arc::clone(&server);
        tokio::spawn(async move {
            if let Err(e) = serve(stream, local, &server).await {
                eprintln!("rollcall-fake-edfi: {e:#}");
            }
        });
    }
}

/// Answers one request on `stream`, then closes it.
async fn serve(stream: TcpStream, local: SocketAddr, server: &Mutex<Server>) -> anyhow::Result<()> {
    let mut stream = BufReader::new(stream);
    let request = match http::read_request(&mut stream).await {
        Ok(request) => request,
        Err(e) => {
            let answer = Answer::json(400, json!({ "error": format!("{e:#}") }));
            return http::write_answer(stream.get_mut(), &answer).await;
        }
    };
    let answer = match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/control") => Some(control(&request.body, server)),
        ("GET", "/requests") => Some(requests(server)),
        _ => ods_request(&request, local, server)?,
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

/// A request to the ODS proper: answered by the mode, then recorded. `None`: never answered.
fn ods_request(
    request: &Request,
    local: SocketAddr,
    server: &Mutex<Server>,
) -> anyhow::Result<Option<Answer>> {
    let mut server = server
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let token_path = request.path == "/oauth/token";
    let answer = match server.mode {
        Mode::Ok => Some(route(request, &http::root(request, local), &mut server)),
        Mode::Unauthorized if token_path => {
            Some(Answer::json(401, json!({"error": "invalid_client"})))
        }
        Mode::Unauthorized => Some(problem::unauthenticated(auth::Refusal::Invalid.message())),
        Mode::Throttle { retry_after } => Some(
            Answer::json(429, json!({"error": "Too many requests: retry later."}))
                .with_header("retry-after", retry_after.to_string()),
        ),
        Mode::Fail => Some(problem::system_error()),
        Mode::Hang => None,
    };
    record(&mut server, request, answer.as_ref().map(|a| a.status))?;
    Ok(answer)
}

/// The ODS's endpoints.
fn route(request: &Request, root: &str, server: &mut Server) -> Answer {
    let now = Instant::now();
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/") => discovery(root),
        ("POST", "/oauth/token") => server.tokens.token(request, now),
        (_, path) if path.starts_with(ods::DATA_PREFIX) => {
            let data = ods::Data {
                model: &server.model,
                students: &server.students,
                tokens: &server.tokens,
                store: &mut server.store,
                now,
            };
            ods::answer(data, request, root)
        }
        _ => problem::not_found(),
    }
}

/// `GET /`: the parts of the ODS's version document (`VersionController`) a client reads.
fn discovery(root: &str) -> Answer {
    Answer::json(
        200,
        json!({
            "version": "7.3",
            "dataModels": [{"name": "Ed-Fi", "version": "5.2.0"}],
            "urls": {
                "oauth": format!("{root}/oauth/token"),
                "dataManagementApi": format!("{root}/data/v3/"),
            },
        }),
    )
}

/// Keeps `request` for `GET /requests` and appends it to the record file.
fn record(server: &mut Server, request: &Request, status: Option<u16>) -> anyhow::Result<()> {
    let body = if request.path == "/oauth/token" {
        auth::redacted(&request.body)
    } else if request.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&request.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into_owned()))
    };
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let query: serde_json::Map<String, Value> = request
        .query
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let line = json!({
        "at": at,
        "method": request.method,
        "path": request.path,
        "query": query,
        "authorization": request.authorization.is_some(),
        "body": body,
        "status": status,
    });
    if let Some(path) = &server.record {
        let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
        writeln!(file, "{line}")?;
    }
    if server.requests.len() == KEPT_REQUESTS {
        server.requests.pop_front();
    }
    server.requests.push_back(line);
    Ok(())
}

/// `POST /control`: the new mode, retry delay and known students.
fn control(body: &[u8], server: &Mutex<Server>) -> Answer {
    let usage = "give {\"mode\": \"ok\" | \"unauthorized\" | \"throttle\" | \"fail\" | \"hang\", \
                 \"retryAfter\": seconds, \"students\": [studentUniqueId, ...]}";
    let refuse = || Answer::json(400, json!({ "error": usage }));
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
    let students: Option<Vec<String>> = match asked.get("students") {
        None => Some(Vec::new()),
        Some(list) => list
            .as_array()
            .and_then(|l| l.iter().map(|s| s.as_str().map(str::to_owned)).collect()),
    };
    let Some(students) = students else {
        return refuse();
    };
    let mut server = server
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(mode) = mode {
        server.mode = mode;
    }
    server.students.extend(students);
    Answer::json(
        200,
        json!({"mode": server.mode.name(), "students": server.students}),
    )
}

/// `GET /requests`: the requests kept, oldest first.
fn requests(server: &Mutex<Server>) -> Answer {
    let server = server
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Answer::json(200, Value::Array(server.requests.iter().cloned().collect()))
}
