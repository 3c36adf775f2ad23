//! `rollcall-fake-sms` for one test: started on a free loopback port with its own record
//! file, asked what it was sent and told how to answer; killed on drop.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};

use crate::process::Process;

/// A running fake SMS gateway.
#[derive(Debug)]
pub struct FakeSms {
    process: Process,
    addr: SocketAddr,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl FakeSms {
    /// Starts the gateway and waits until it listens.
    pub fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let record = dir.path().join("messages.jsonl");
        let record = record
            .to_str()
            .context("a temporary path that is not UTF-8")?;
        let args = ["--listen", "127.0.0.1:0", "--record", record];
        let log = dir.path().join("fake-sms.log");
        let mut process = Process::start("rollcall-fake-sms", &args, &[], log)?;
        crate::wait_until("rollcall-fake-sms", Duration::from_secs(10), || {
            process.exited() || listening_on(&process.output()).is_some()
        })?;
        let addr = listening_on(&process.output())
            .with_context(|| format!("rollcall-fake-sms stopped:\n{}", process.output()))?;
        Ok(Self {
            process,
            addr,
            http: reqwest::Client::new(),
            dir,
        })
    }

    /// The address messages go to, for `[notices.sms] url`.
    pub fn url(&self) -> String {
        format!("http://{}/send", self.addr)
    }

    /// The file each message is appended to, one JSON line each.
    pub fn record_file(&self) -> std::path::PathBuf {
        self.dir.path().join("messages.jsonl")
    }

    /// Every message received so far, oldest first: `{"at", "path", "authorization", "body"}`.
    pub async fn messages(&self) -> anyhow::Result<Vec<Value>> {
        let url = format!("http://{}/messages", self.addr);
        let answer = self.http.get(url).send().await?.error_for_status()?;
        Ok(answer.json().await?)
    }

    /// How messages are answered from now on: `ok`, `fail` (500) or `hang` (never).
    pub async fn set_mode(&self, mode: &str) -> anyhow::Result<()> {
        let url = format!("http://{}/control", self.addr);
        let answer = self
            .http
            .post(url)
            .json(&json!({ "mode": mode }))
            .send()
            .await?;
        answer
            .error_for_status()
            .with_context(|| format!("mode {mode:?}"))?;
        Ok(())
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        self.process.exited()
    }
}

/// The address in the gateway's `listening on ADDR` line, once printed.
fn listening_on(output: &str) -> Option<SocketAddr> {
    output
        .lines()
        .find_map(|l| l.strip_prefix("listening on "))
        .and_then(|a| a.trim().parse().ok())
}
