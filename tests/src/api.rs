//! A small client for the hub's JSON API: sign in, then call with the Bearer token. Answers
//! come back as `(status, JSON)` so tests can check refusals as well as successes.

use std::path::PathBuf;

use anyhow::Context;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Sends the request `make` builds, again after the wait the hub asks for while it answers
/// 503 (its argon2 gate full: "try again in 2 s"), as a patient client does; at most ten
/// times.
async fn send_patiently(
    make: impl Fn() -> reqwest::RequestBuilder,
) -> reqwest::Result<reqwest::Response> {
    let mut tries = 1;
    loop {
        let reply = make().send().await?;
        if reply.status() != StatusCode::SERVICE_UNAVAILABLE || tries == 10 {
            return Ok(reply);
        }
        let wait = reply
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(1);
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        tries += 1;
    }
}

/// A signed-in API client.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api {
    /// Signs in as `user` at `base` (`http://host:port/api/v1`).
    pub async fn login(base: &str, user: &str, password: &str) -> anyhow::Result<Api> {
        Self::login_with(reqwest::Client::new(), base, user, password).await
    }

    /// Signs in over HTTPS at `base`, trusting only the CA in the PEM file `ca`.
    pub async fn login_trusting(
        ca: &std::path::Path,
        base: &str,
        user: &str,
        password: &str,
    ) -> anyhow::Result<Api> {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(ca)?)?;
        let http = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .build()?;
        Self::login_with(http, base, user, password).await
    }

    /// Signs in at `base` with the client `http` (one that resolves a school's host name,
    /// say).
    pub async fn login_with(
        http: reqwest::Client,
        base: &str,
        user: &str,
        password: &str,
    ) -> anyhow::Result<Api> {
        let body = json!({"username": user, "password": password});
        let login = || http.post(format!("{base}/auth/login")).json(&body);
        let reply: Value = send_patiently(login)
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = reply["access_token"]
            .as_str()
            .context("no access_token in the login answer")?;
        Ok(Api {
            base: base.to_owned(),
            token: token.to_owned(),
            http,
        })
    }

    /// One call; the body is JSON when given. A body that is not JSON comes back as a string.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let request = || {
            let req = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(&self.token);
            match &body {
                Some(body) => req.json(body),
                None => req,
            }
        };
        let reply = send_patiently(request).await?;
        let status = reply.status();
        let text = reply.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// A call that must succeed; its JSON answer.
    pub async fn ok(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let (status, value) = self.call(method.clone(), path, body).await?;
        anyhow::ensure!(status.is_success(), "{method} {path}: {status} {value}");
        Ok(value)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.ok(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.ok(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.ok(Method::PUT, path, Some(body)).await
    }

    /// The ids of the records the hub holds from `device` (up to 1,000, the API's page).
    pub async fn record_ids(&self, device: &str) -> anyhow::Result<Vec<String>> {
        let records = self.get("/records?limit=1000").await?;
        let all = records.as_array().context("/records is not a list")?;
        let mut ids: Vec<String> = all
            .iter()
            .filter(|r| r["device_id"] == json!(device))
            .filter_map(|r| r["id"].as_str().map(str::to_owned))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// A `GET` that must succeed; its body as text (CSV reports).
    pub async fn text(&self, path: &str) -> anyhow::Result<String> {
        let url = format!("{}{path}", self.base);
        let reply = self.http.get(url).bearer_auth(&self.token).send().await?;
        Ok(reply.error_for_status()?.text().await?)
    }

    /// Records a parent's written consent for `student`, as an admin does before enrolling.
    pub async fn give_consent(&self, student: &str) -> anyhow::Result<Value> {
        let consent = json!({
            "state": "given", "by": "Jane Doe (mother)", "signed_on": "2025-09-01",
            "reference": "form 12",
        });
        self.put(&format!("/students/{student}/consent"), consent)
            .await
    }

    /// Uploads `photos` (JPEG files) as enrolment photos of `student`; the answer, which says
    /// photo by photo whether it was accepted.
    pub async fn enrol(&self, student: &str, photos: &[PathBuf]) -> anyhow::Result<Value> {
        self.upload_photos(&format!("/students/{student}/faces"), photos)
            .await
    }

    /// Uploads `photos` (JPEG files) to `path` as `multipart/form-data` parts named `photo`.
    pub async fn upload_photos(&self, path: &str, photos: &[PathBuf]) -> anyhow::Result<Value> {
        let mut form = reqwest::multipart::Form::new();
        for photo in photos {
            let name = photo.file_name().unwrap_or_default().to_string_lossy();
            let bytes = std::fs::read(photo).with_context(|| format!("{}", photo.display()))?;
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name(name.into_owned())
                .mime_str("image/jpeg")?;
            form = form.part("photo", part);
        }
        let url = format!("{}{path}", self.base);
        let reply = self.http.post(url).bearer_auth(&self.token).multipart(form);
        let reply = reply.send().await?;
        let status = reply.status();
        let body: Value = reply.json().await?;
        anyhow::ensure!(status.is_success(), "enrolment refused: {status} {body}");
        Ok(body)
    }

    /// `GET /metrics` as JSON.
    pub async fn metrics(&self) -> anyhow::Result<Value> {
        self.get("/metrics").await
    }
}
