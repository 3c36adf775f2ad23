//! A stand-in's server: it binds and says `listening on ADDR`, accepts connections one request
//! each, answers `POST /control` and `GET /requests` itself, and hands every other request to
//! the vendor's answers as the fault mode allows, recording it in the journal. The vendor's
//! endpoints, error shapes and students are the [`Vendor`]'s.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::faults::{self, Control, Mode};
use super::http::{self, Answer, Request};
use super::journal::{self, Journal};

/// What one stand-in answers in its vendor's name.
pub trait Vendor: Send + 'static {
    /// The program's name, for its error lines (`rollcall-fake-edfi`).
    const NAME: &'static str;
    /// How `/control`'s usage writes one student (`studentUniqueId`, `"ID=MIS_ID"`).
    const STUDENT: &'static str;

    /// 400 with `message`: a request that cannot be read, or a control body that is not one.
    fn bad_request(message: String) -> Answer;
    /// The `unauthorized` mode's answer to `request`.
    fn unauthorized(request: &Request) -> Answer;
    /// The `throttle` mode's answer.
    fn throttled(retry_after: u32) -> Answer;
    /// The `fail` mode's answer.
    fn failed() -> Answer;

    /// The `ok` mode's answer to `request`; `root` is this server's URL as the client named it.
    fn answer(&mut self, request: &Request, root: &str) -> Answer;
    /// Adds the students `/control` names, all or none; an error refuses the whole body.
    fn add_students(&mut self, students: Vec<String>) -> anyhow::Result<()>;
    /// The students known, as `/control` answers them.
    fn students(&self) -> Value;
    /// Takes `/control`'s key `key` of the stand-in's own (`lessons`, `sections`); an error
    /// refuses the whole body. A stand-in without keys of its own refuses every one.
    fn control(&mut self, key: &str, _value: &Value) -> anyhow::Result<()> {
        anyhow::bail!("{} takes no {key:?} in /control", Self::NAME)
    }
    /// `request`'s body as the journal keeps it, secrets redacted.
    fn recorded_body(request: &Request) -> Value {
        journal::body(request)
    }
}

/// Everything one stand-in holds.
#[derive(Debug)]
struct Server<V> {
    vendor: V,
    mode: Mode,
    journal: Journal,
}

/// Binds `addr` and prints `listening on ADDR` (the bound address) on standard output.
pub async fn listen(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", listener.local_addr()?)?;
    out.flush()?;
    Ok(listener)
}

/// Answers every connection to `listener` until accepting fails; starts in mode `ok`.
pub async fn run<V: Vendor>(
    listener: TcpListener,
    vendor: V,
    journal: Journal,
) -> anyhow::Result<()> {
    let local = listener.local_addr()?;
    let server = Arc::new(Mutex::new(Server {
        vendor,
        mode: Mode::Ok,
        journal,
    }));
    loop {
        let (stream, _) = listener.accept().await?;
        let server = Arc::clone(&server);
        tokio::spawn(async move {
            if let Err(e) = serve(stream, local, &server).await {
                eprintln!("{}: {e:#}", V::NAME);
            }
        });
    }
}

/// Answers one request on `stream`, then closes it.
async fn serve<V: Vendor>(
    stream: TcpStream,
    local: SocketAddr,
    server: &Mutex<Server<V>>,
) -> anyhow::Result<()> {
    let mut stream = BufReader::new(stream);
    let request = match http::read_request(&mut stream).await {
        Ok(request) => request,
        Err(e) => {
            let answer = V::bad_request(format!("{e:#}"));
            return http::write_answer(stream.get_mut(), &answer).await;
        }
    };
    let answer = match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/control") => Some(control(&request.body, &mut lock(server))),
        ("GET", "/requests") => Some(Answer::json(200, lock(server).journal.all())),
        _ => vendor_request(&request, local, &mut lock(server))?,
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

fn lock<V>(server: &Mutex<Server<V>>) -> MutexGuard<'_, Server<V>> {
    server
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A request to the vendor proper: answered by the mode, then recorded. `None`: never answered.
fn vendor_request<V: Vendor>(
    request: &Request,
    local: SocketAddr,
    server: &mut Server<V>,
) -> anyhow::Result<Option<Answer>> {
    let answer = match server.mode {
        Mode::Ok => Some(server.vendor.answer(request, &http::root(request, local))),
        Mode::Unauthorized => Some(V::unauthorized(request)),
        Mode::Throttle { retry_after } => Some(V::throttled(retry_after)),
        Mode::Fail => Some(V::failed()),
        Mode::Hang => None,
    };
    let status = answer.as_ref().map(|a| a.status);
    server
        .journal
        .record(request, V::recorded_body(request), status)?;
    Ok(answer)
}

/// `POST /control`: the new mode and more students, then both as they now stand.
fn control<V: Vendor>(body: &[u8], server: &mut Server<V>) -> Answer {
    let refuse = || V::bad_request(faults::usage(V::STUDENT));
    let Some(asked) = Control::parse(body) else {
        return refuse();
    };
    for (key, value) in &asked.own {
        if let Err(e) = server.vendor.control(key, value) {
            return V::bad_request(format!("{e}; {}", faults::usage(V::STUDENT)));
        }
    }
    if server.vendor.add_students(asked.students).is_err() {
        return refuse();
    }
    if let Some(mode) = asked.mode {
        server.mode = mode;
    }
    Answer::json(
        200,
        json!({"mode": server.mode.name(), "students": server.vendor.students()}),
    )
}
