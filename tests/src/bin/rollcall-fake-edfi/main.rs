//! `rollcall-fake-edfi`: a contract stand-in for an Ed-Fi ODS/API 7 server (Data Standard 5.2)
//! in tests of the hub's attendance write-back. It checks every request against the vendor's
//! published definitions, cut down into `tests/standins/edfi/model.json` (`SOURCE.md` beside it
//! says where each part comes from), and answers as the ODS does. The server, the fault modes
//! and the journal of requests are the shared `rollcall_e2e::standin`; this folder holds the
//! ODS's own endpoints, checks, store and error shapes.
//!
//! - `GET /`: the discovery document (version, data model, `oauth` and `dataManagementApi` URLs).
//! - `POST /oauth/token`: client credentials (HTTP Basic, or form or JSON fields) for the one
//!   client of `--client-id`/`--client-secret`; tokens expire after `--token-seconds`.
//! - `/data/v3/ed-fi/studentSchoolAttendanceEvents` and `…/studentSectionAttendanceEvents`:
//!   POST (upsert by natural key: 201 or 200, with `Location`), GET by example (`offset`,
//!   `limit`, `totalCount`, the model's query fields), GET and DELETE by id. Bodies are
//!   validated; a student not in `--students` (or added by `/control`) is an unresolved
//!   reference (409), and so is a `sectionReference` naming no section held.
//! - `/data/v3/ed-fi/sections`: GET by example (`sectionIdentifier`, `schoolId`, `schoolYear`,
//!   `sessionName`, … the model's query fields) a page at a time, and GET by id; read only
//!   (405). The sections are those of `--sections FILE`, a JSON array of section documents
//!   as the ODS takes them (`sectionIdentifier` and `courseOfferingReference
//!   {localCourseCode, schoolId, schoolYear, sessionName}` at least), each checked against the
//!   model and served with an `id`.
//! - `/data/v3/ed-fi/{xyz}Descriptors` (`attendanceEventCategoryDescriptors`, …): GET of the
//!   model's descriptor values, a page at a time, and GET by id; read only.
//! - `POST /control` with `{"mode": "ok" | "unauthorized" | "throttle" | "fail" | "hang",
//!   "retryAfter": n, "students": [...], "sections": [...]}` (any of them; `retryAfter`,
//!   default 1, goes with `throttle`): how the ODS endpoints answer from now on (401, 429 with
//!   `Retry-After`, 500, or never), more known students, and more sections (as `--sections`
//!   gives them, all or none).
//! - `GET /requests`: every request to the ODS endpoints so far, as one JSON array of
//!   `{"at", "method", "path", "query", "authorization", "body", "status"}`; each is also
//!   appended to `--record` as one JSON line. Token secrets are redacted, and `authorization`
//!   only says whether the header was there.
//!
//! Once bound it prints `listening on ADDR` on standard output.

mod auth;
mod descriptors;
mod model;
mod ods;
mod problem;
mod sections;
mod store;
mod validate;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use rollcall_e2e::standin::http::{Answer, Request};
use rollcall_e2e::standin::journal::{self, Journal};
use rollcall_e2e::standin::serve::{self, Vendor};
use serde_json::{Value, json};

use crate::model::Model;

/// The longest token lifetime accepted (ten years): the clock can always add it.
const MAX_TOKEN_SECONDS: u64 = 10 * 365 * 24 * 3600;

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
    /// The sections the ODS knows: a JSON array of section documents.
    #[arg(long)]
    sections: Option<PathBuf>,
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

/// What the ODS holds.
#[derive(Debug)]
struct Ods {
    model: Model,
    students: BTreeSet<String>,
    tokens: auth::Tokens,
    store: store::Store,
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
    let journal = Journal::open(args.record)?;
    anyhow::ensure!(
        (1..=MAX_TOKEN_SECONDS).contains(&args.token_seconds),
        "--token-seconds must be between 1 and {MAX_TOKEN_SECONDS}"
    );
    let lifetime = Duration::from_secs(args.token_seconds);
    let mut ods = Ods {
        model,
        students: args
            .students
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect(),
        tokens: auth::Tokens::new(args.client_id, args.client_secret, lifetime),
        store: store::Store::default(),
    };
    if let Some(path) = &args.sections {
        let items = sections::load(path)?;
        ods.add_sections(&items)
            .with_context(|| path.display().to_string())?;
    }
    let listener = serve::listen(args.listen).await?;
    serve::run(listener, ods, journal).await
}

impl Ods {
    /// Adds `items` to the sections known, all or none (see `sections`).
    fn add_sections(&mut self, items: &[Value]) -> anyhow::Result<()> {
        sections::add(&self.model, &mut self.store, items)
    }
}

impl Vendor for Ods {
    const NAME: &'static str = "rollcall-fake-edfi";
    const STUDENT: &'static str = "studentUniqueId";

    fn bad_request(message: String) -> Answer {
        Answer::json(400, json!({ "error": message }))
    }

    fn unauthorized(request: &Request) -> Answer {
        if request.path == "/oauth/token" {
            Answer::json(401, json!({"error": "invalid_client"}))
        } else {
            problem::unauthenticated(auth::Refusal::Invalid.message())
        }
    }

    fn throttled(retry_after: u32) -> Answer {
        Answer::json(429, json!({"error": "Too many requests: retry later."}))
            .with_header("retry-after", retry_after.to_string())
    }

    fn failed() -> Answer {
        problem::system_error()
    }

    /// The ODS's endpoints.
    fn answer(&mut self, request: &Request, root: &str) -> Answer {
        let now = Instant::now();
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/") => discovery(root),
            ("POST", "/oauth/token") => self.tokens.token(request, now),
            (_, path) if path.starts_with(ods::DATA_PREFIX) => {
                let data = ods::Data {
                    model: &self.model,
                    students: &self.students,
                    tokens: &self.tokens,
                    store: &mut self.store,
                    now,
                };
                ods::answer(data, request, root)
            }
            _ => problem::not_found(),
        }
    }

    fn add_students(&mut self, students: Vec<String>) -> anyhow::Result<()> {
        self.students.extend(students);
        Ok(())
    }

    fn students(&self) -> Value {
        json!(self.students)
    }

    fn control(&mut self, key: &str, value: &Value) -> anyhow::Result<()> {
        anyhow::ensure!(
            key == "sections",
            "{} takes no {key:?} in /control",
            Self::NAME
        );
        let items = value.as_array().context("sections is not an array")?;
        self.add_sections(items)
    }

    /// A token request's body without its client secret.
    fn recorded_body(request: &Request) -> Value {
        if request.path == "/oauth/token" {
            auth::redacted(&request.body)
        } else {
            journal::body(request)
        }
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
