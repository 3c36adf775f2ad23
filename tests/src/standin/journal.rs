//! The record of requests to a stand-in's vendor endpoints: the newest ones kept for
//! `GET /requests`, every one appended to the `--record` file as a JSON line. Secrets never
//! appear: `authorization` only says whether the header was sent, and a stand-in whose bodies
//! carry a secret hands in the body already redacted.

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use serde_json::{Map, Value, json};

use super::http::Request;

/// How many requests `GET /requests` keeps; older ones are dropped (the record file keeps all).
const KEPT: usize = 10_000;

#[derive(Debug)]
pub struct Journal {
    kept: VecDeque<Value>,
    file: Option<PathBuf>,
}

impl Journal {
    /// A journal appending to `file`, which is created if need be.
    pub fn open(file: Option<PathBuf>) -> anyhow::Result<Self> {
        if let Some(path) = &file {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| path.display().to_string())?;
        }
        Ok(Self {
            kept: VecDeque::new(),
            file,
        })
    }

    /// Keeps `request`, with `body` standing for its body, and the status it got (`None`:
    /// never answered).
    pub fn record(
        &mut self,
        request: &Request,
        body: Value,
        status: Option<u16>,
    ) -> anyhow::Result<()> {
        let line = entry(request, body, status)?;
        if let Some(path) = &self.file {
            let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
            writeln!(file, "{line}")?;
        }
        if self.kept.len() == KEPT {
            self.kept.pop_front();
        }
        self.kept.push_back(line);
        Ok(())
    }

    /// The requests kept, oldest first.
    pub fn all(&self) -> Value {
        Value::Array(self.kept.iter().cloned().collect())
    }
}

/// A request's body as recorded: its JSON, else its text, else `null` when it has none.
pub fn body(request: &Request) -> Value {
    if request.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&request.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into_owned()))
    }
}

fn entry(request: &Request, body: Value, status: Option<u16>) -> anyhow::Result<Value> {
    let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let query: Map<String, Value> = request
        .query
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    Ok(json!({
        "at": u64::try_from(at.as_millis()).unwrap_or(u64::MAX),
        "method": request.method,
        "path": request.path,
        "query": query,
        "authorization": request.authorization.is_some(),
        "body": body,
        "status": status,
    }))
}
