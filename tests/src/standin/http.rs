//! Just enough HTTP/1.1 for the contract stand-ins (`rollcall-fake-edfi`, `rollcall-fake-wonde`):
//! one request per connection, a `Content-Length` body of bounded size, answers with
//! `connection: close`. It also decodes what requests carry: query strings, form bodies and
//! HTTP Basic credentials. Nothing here knows about any vendor's API.

use anyhow::{Context, bail, ensure};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Largest request body read, in bytes.
pub const MAX_BODY: usize = 1 << 20;
/// Largest request line plus headers, in bytes.
const MAX_HEAD: usize = 64 << 10;

/// One request as read.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The path without its query string.
    pub path: String,
    /// The query string's pairs, decoded, in order.
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub host: Option<String>,
    pub body: Vec<u8>,
}

/// One answer to write. `body: None` answers without a body (204, 201).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    pub content_type: &'static str,
}

impl Answer {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(body),
            content_type: "application/json",
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: None,
            content_type: "application/json",
        }
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// Reads the request line, the headers and a `Content-Length` body.
pub async fn read_request(stream: &mut BufReader<TcpStream>) -> anyhow::Result<Request> {
    let mut budget = MAX_HEAD;
    let line = read_line(stream, &mut budget).await?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        bail!("not an HTTP request line: {line:?}");
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut request = Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query: parse_pairs(query),
        authorization: None,
        content_type: None,
        host: None,
        body: Vec::new(),
    };
    let mut length = 0;
    loop {
        let line = read_line(stream, &mut budget).await?;
        if line.trim_end().is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            bail!("not a header: {line:?}");
        };
        let value = value.trim().to_owned();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().context("content-length")?,
            "transfer-encoding" => bail!("transfer-encoding {value:?} is not supported"),
            "authorization" => request.authorization = Some(value),
            "content-type" => request.content_type = Some(value),
            "host" => request.host = Some(value),
            _ => {}
        }
    }
    ensure!(length <= MAX_BODY, "a body of {length} bytes is too long");
    request.body = vec![0; length];
    stream.read_exact(&mut request.body).await?;
    Ok(request)
}

/// One line of the head, counted against what is left of `budget`.
async fn read_line(
    stream: &mut BufReader<TcpStream>,
    budget: &mut usize,
) -> anyhow::Result<String> {
    let mut line = String::new();
    let read = (&mut *stream)
        .take(*budget as u64)
        .read_line(&mut line)
        .await?;
    ensure!(read > 0, "the connection closed before the headers ended");
    ensure!(
        line.ends_with('\n'),
        "the request head is longer than {MAX_HEAD} bytes"
    );
    *budget -= read;
    Ok(line)
}

/// Writes `answer` and closes the sending side.
pub async fn write_answer(stream: &mut TcpStream, answer: &Answer) -> anyhow::Result<()> {
    let body = answer
        .body
        .as_ref()
        .map(Value::to_string)
        .unwrap_or_default();
    let mut head = format!(
        "HTTP/1.1 {} {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        answer.status,
        reason(answer.status),
        body.len()
    );
    if answer.body.is_some() {
        head.push_str(&format!("content-type: {}\r\n", answer.content_type));
    }
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await?;
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        _ => "Internal Server Error",
    }
}

/// This server's URL as the client addressed it: its `Host` header if it is a plain one,
/// else `local`.
pub fn root(request: &Request, local: std::net::SocketAddr) -> String {
    let plain = |h: &&String| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_graphic() && c != '/' && c != '\\')
    };
    match request.host.as_ref().filter(plain) {
        Some(host) => format!("http://{host}"),
        None => format!("http://{local}"),
    }
}

/// The pairs of a query string or an `application/x-www-form-urlencoded` body.
pub fn parse_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

/// `%XX` escapes and `+` for space; a malformed escape is kept as written.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (byte, None) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The user and password of an `Authorization: Basic …` value; `None` if it is not one.
pub fn basic_credentials(authorization: &str) -> Option<(String, String)> {
    let (scheme, encoded) = authorization.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Standard base64 with padding (RFC 4648 §4); `None` for anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_padded_text_and_refuses_the_rest() {
        assert_eq!(
            base64_decode("Y2xpZW50OnNlY3JldA==").unwrap(),
            b"client:secret"
        );
        assert_eq!(base64_decode("YWJj").unwrap(), b"abc");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert!(base64_decode("YWJ").is_none());
        assert!(base64_decode("YW=j").is_none());
        assert!(base64_decode("Y===").is_none());
        assert!(base64_decode("****").is_none());
    }

    #[test]
    fn basic_credentials_need_the_basic_scheme() {
        let pair = basic_credentials("Basic Y2xpZW50OnNlY3JldA==").unwrap();
        assert_eq!(pair, ("client".to_owned(), "secret".to_owned()));
        assert!(basic_credentials("Bearer Y2xpZW50OnNlY3JldA==").is_none());
        assert!(basic_credentials("Basic").is_none());
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("uri%3A%2F%2Fx%23Y"), "uri://x#Y");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
