//! `rollcall-fake-sms`: a stand-in for a school's SMS gateway in tests. It records every
//! message it is sent and answers as it is told, speaking just enough HTTP/1.1 for the hub.
//!
//! - `POST` to any path but `/control`: a message. It is appended to the `--record` file as
//!   one JSON line, `{"at", "path", "authorization", "body"}`, then answered by the mode:
//!   `ok` (200 `{"id": "<n>"}`), `fail` (500) or `hang` (no answer, the connection held open).
//! - `POST /control` with `{"mode": "ok" | "fail" | "hang"}`: switches the mode.
//! - `GET /messages`: every recorded line, as one JSON array.
//!
//! Once bound it prints `listening on ADDR` on standard output.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Largest request body read, in bytes.
const MAX_BODY: usize = 1 << 20;

#[derive(Debug, Parser)]
struct Args {
    /// Where to listen, e.g. 127.0.0.1:0.
    #[arg(long)]
    listen: SocketAddr,
    /// The file each message is appended to, one JSON line each.
    #[arg(long)]
    record: PathBuf,
}

/// How messages are answered.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Ok,
    Fail,
    Hang,
}

#[derive(Debug)]
struct Gateway {
    record: PathBuf,
    mode: Mode,
    sent: u64,
}

/// One request as read.
#[derive(Debug)]
struct Request {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Vec<u8>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.record)
        .with_context(|| args.record.display().to_string())?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", listener.local_addr()?)?;
    out.flush()?;
    drop(out);
    let gateway = Arc::new(Mutex::new(Gateway {
        record: args.record,
        mode: Mode::Ok,
        sent: 0,
    }));
    loop {
        let (stream, _) = listener.accept().await?;
        let gateway = Arc::clone(&gateway);
        tokio::spawn(async move {
            if let Err(e) = serve(stream, &gateway).await {
                eprintln!("rollcall-fake-sms: {e:#}");
            }
        });
    }
}

/// Answers one request on `stream`, then closes it.
async fn serve(stream: TcpStream, gateway: &Mutex<Gateway>) -> anyhow::Result<()> {
    let mut stream = BufReader::new(stream);
    let request = read_request(&mut stream).await?;
    let answer = match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/control") => control(&request.body, gateway),
        ("GET", "/messages") => messages(gateway),
        ("POST", _) => message(&request, gateway)?,
        _ => Some((404, json!({"error": "no such page"}))),
    };
    match answer {
        Some((status, body)) => answer_with(stream.get_mut(), status, &body).await,
        None => {
            // Hang: hold the connection until the client gives up.
            let mut buf = [0; 1024];
            while stream.read(&mut buf).await? > 0 {}
            Ok(())
        }
    }
}

/// The request line, the headers and a `Content-Length` body.
async fn read_request(stream: &mut BufReader<TcpStream>) -> anyhow::Result<Request> {
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        bail!("not an HTTP request line: {line:?}");
    };
    let path = target.split('?').next().unwrap_or(target).to_owned();
    let (method, mut length, mut authorization) = (method.to_owned(), 0, None);
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 || line.trim_end().is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            bail!("not a header: {line:?}");
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse()?,
            "authorization" => authorization = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    anyhow::ensure!(length <= MAX_BODY, "a body of {length} bytes is too long");
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await?;
    Ok(Request {
        method,
        path,
        authorization,
        body,
    })
}

/// `POST /control`: the new mode.
fn control(body: &[u8], gateway: &Mutex<Gateway>) -> Option<(u16, Value)> {
    let asked: Value = serde_json::from_slice(body).unwrap_or_default();
    let name = asked["mode"].as_str().unwrap_or_default();
    let mode = match name {
        "ok" => Mode::Ok,
        "fail" => Mode::Fail,
        "hang" => Mode::Hang,
        _ => {
            return Some((
                400,
                json!({"error": "give {\"mode\": \"ok\" | \"fail\" | \"hang\"}"}),
            ));
        }
    };
    gateway.lock().unwrap().mode = mode;
    Some((200, json!({ "mode": name })))
}

/// `GET /messages`: the record file's lines as one array.
fn messages(gateway: &Mutex<Gateway>) -> Option<(u16, Value)> {
    let record = gateway.lock().unwrap().record.clone();
    let lines = std::fs::read_to_string(record).unwrap_or_default();
    let all: Vec<Value> = lines
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Some((200, Value::Array(all)))
}

/// A message: recorded, then answered by the mode (`None`: not at all).
fn message(request: &Request, gateway: &Mutex<Gateway>) -> anyhow::Result<Option<(u16, Value)>> {
    let body = serde_json::from_slice(&request.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into_owned()));
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let line = json!({
        "at": at,
        "path": request.path,
        "authorization": request.authorization,
        "body": body,
    });
    let mut gateway = gateway.lock().unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&gateway.record)?;
    writeln!(file, "{line}")?;
    Ok(match gateway.mode {
        Mode::Ok => {
            gateway.sent += 1;
            Some((200, json!({"id": gateway.sent.to_string()})))
        }
        Mode::Fail => Some((500, json!({"error": "gateway down"}))),
        Mode::Hang => None,
    })
}

async fn answer_with(stream: &mut TcpStream, status: u16, body: &Value) -> anyhow::Result<()> {
    let body = body.to_string();
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await?;
    Ok(())
}
