//! A stand-in binary for one test: started on a free loopback port with its own record file
//! and log in a temporary folder, ready once it says `listening on ADDR`, told how to answer
//! (`/control`) and asked what it was sent (`/requests`); killed on drop. Calls to the vendor's
//! own endpoints stay with each test.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use crate::process::Process;

/// The record file's name in [`StandIn::dir`].
pub const RECORD: &str = "requests.jsonl";

/// A running stand-in.
#[derive(Debug)]
pub struct StandIn {
    _process: Process,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    /// Holds the record file ([`RECORD`]) and the log.
    pub dir: tempfile::TempDir,
}

impl StandIn {
    /// Starts binary `name` with `--listen 127.0.0.1:0 --record FILE` and `args`, and waits
    /// until it listens.
    pub fn start(name: &str, args: &[&str]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let record = dir.path().join(RECORD);
        let record = record
            .to_str()
            .context("a temporary path that is not UTF-8")?;
        let mut all = vec!["--listen", "127.0.0.1:0", "--record", record];
        all.extend(args);
        let log = dir.path().join(format!("{name}.log"));
        let mut process = Process::start(name, &all, &[], log)?;
        crate::wait_until(name, Duration::from_secs(10), || {
            process.exited() || listening_on(&process.output()).is_some()
        })?;
        let addr = listening_on(&process.output())
            .with_context(|| format!("{name} stopped:\n{}", process.output()))?;
        Ok(Self {
            _process: process,
            addr,
            http: reqwest::Client::new(),
            dir,
        })
    }

    /// The URL of `path` on the stand-in.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `POST /control` with `body`, which must be taken.
    pub async fn control(&self, body: Value) {
        let request = self.http.post(self.url("/control")).json(&body);
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 200, "control {body}");
    }

    /// `GET /requests`: what the vendor endpoints were sent, oldest first.
    pub async fn requests(&self) -> Vec<Value> {
        let answer = self.http.get(self.url("/requests")).send().await.unwrap();
        answer.json().await.unwrap()
    }
}

/// The address of the `listening on ADDR` line in `output`.
fn listening_on(output: &str) -> Option<SocketAddr> {
    output
        .lines()
        .find_map(|l| l.strip_prefix("listening on "))
        .and_then(|a| a.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_comes_from_the_listening_line() {
        let output = "starting\nlistening on 127.0.0.1:4321\n";
        assert_eq!(
            listening_on(output),
            Some("127.0.0.1:4321".parse().unwrap())
        );
        assert_eq!(listening_on("listening on nowhere\n"), None);
    }
}
