//! Sending one text message through the school's SMS gateway (`[notices.sms]`): any HTTP
//! service that takes a JSON body. No provider is named here.
//!
//! The [`Gateway`] reads its header file once, at start, and POSTs [`body`] with that header;
//! a 2xx answer is sent, anything else is a [`SendError`] an office can read. [`mobile_number`]
//! turns a guardian's phone, as the office entered it, into the E.164 form gateways take.
//!
//! Must never: log a message's text or a number in full, or put either (or the header's
//! value) in an error. Retrying is the caller's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};

use crate::config::SmsConfig;

/// Characters of the gateway's answer kept in [`SendError::Refused`].
const SAID_CHARS: usize = 200;
/// Fewest and most digits of a number after the `+`, country code included (E.164).
const DIGITS: std::ops::RangeInclusive<usize> = 8..=15;
/// The same for a UK number (`+44` and 9 or 10 digits): a national number is checked as one.
const UK_DIGITS: std::ops::RangeInclusive<usize> = 11..=12;

/// The gateway could not be set up from its settings.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("notices.sms.url {0:?}: give an http(s) address")]
    Url(String),
    /// The file is named; its contents never are.
    #[error("notices.sms.auth_header_file {}: {problem}", path.display())]
    HeaderFile { path: PathBuf, problem: String },
    #[error("the SMS gateway's HTTP client cannot be built: {0}")]
    Client(String),
}

/// One message not sent. Each says what an office can look at.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The gateway answered, but not 2xx: `said` is the start of its answer.
    #[error("the SMS gateway answered {status}: {said}")]
    Refused { status: u16, said: String },
    #[error("the SMS gateway did not answer within {secs} s")]
    TimedOut { secs: u32 },
    #[error("the SMS gateway could not be reached: {0}")]
    Unreachable(String),
}

/// The school's gateway, ready to send.
#[derive(Clone)]
pub struct Gateway {
    url: reqwest::Url,
    header: Option<(HeaderName, HeaderValue)>,
    body: String,
    timeout_secs: u32,
    client: reqwest::Client,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("url", &self.url.as_str())
            .field("header", &self.header.as_ref().map(|(name, _)| name))
            .field("timeout_secs", &self.timeout_secs)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// The gateway `config` describes, its header file read and checked now.
    pub fn new(config: &SmsConfig) -> Result<Gateway, GatewayError> {
        let url = reqwest::Url::parse(&config.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| GatewayError::Url(config.url.clone()))?;
        let header = config
            .auth_header_file
            .as_deref()
            .map(read_header)
            .transpose()?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.into()))
            .build()
            .map_err(|e| GatewayError::Client(causes(&e)))?;
        Ok(Gateway {
            url,
            header,
            body: config.body.clone(),
            timeout_secs: config.timeout_secs,
            client,
        })
    }

    /// Sends `text` to `to` (E.164, from [`mobile_number`]).
    pub async fn send(&self, to: &str, text: &str) -> Result<(), SendError> {
        let mut request = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body(&self.body, to, text));
        if let Some((name, value)) = &self.header {
            request = request.header(name, value);
        }
        let answer = request.send().await.map_err(|e| self.failed(e))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(());
        }
        Err(SendError::Refused {
            status: status.as_u16(),
            said: said(answer).await,
        })
    }

    fn failed(&self, e: reqwest::Error) -> SendError {
        if e.is_timeout() {
            return SendError::TimedOut {
                secs: self.timeout_secs,
            };
        }
        // Without the URL: its query may hold a key.
        SendError::Unreachable(causes(&e.without_url()))
    }
}

/// `template` with `{to}` and `{text}` each replaced by its value as a JSON string, in one
/// pass: a value holding `{text}` stays as it is.
pub fn body(template: &str, to: &str, text: &str) -> String {
    let quoted = |s: &str| serde_json::to_string(s).expect("a string is always JSON");
    let (to, text) = (quoted(to), quoted(text));
    let mut filled = String::with_capacity(template.len() + to.len() + text.len());
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        filled.push_str(&rest[..at]);
        rest = &rest[at..];
        let (value, skip) = if rest.starts_with("{to}") {
            (to.as_str(), "{to}".len())
        } else if rest.starts_with("{text}") {
            (text.as_str(), "{text}".len())
        } else {
            ("{", 1)
        };
        filled.push_str(value);
        rest = &rest[skip..];
    }
    filled.push_str(rest);
    filled
}

/// `raw`, a phone number as people write it, in E.164 form (`+447700900123`): `+` and the
/// country code, `00` and the country code, or a UK national number (`07700 900123`), with
/// spaces, dashes, dots, slashes or brackets between the digits. A `(0)` after the country
/// code (`+44 (0)7700 900123`) is dropped, as when dialling. A number has 8 to 15 digits
/// after the `+`; a UK one 9 or 10 after `+44`.
pub fn mobile_number(raw: &str) -> Result<String, String> {
    let refused = |why: &str| {
        Err(format!(
            "not a mobile number ({why}): give it as +44 7700 900123, 0044 7700 900123 or \
             07700 900123"
        ))
    };
    let raw = raw.trim();
    if raw.is_empty() {
        return refused("there is none");
    }
    let international = raw.starts_with('+') || raw.starts_with("00");
    let raw = if international {
        raw.replacen("(0)", "", 1)
    } else {
        raw.to_owned()
    };
    let kept: String = raw.chars().filter(|c| !" -./()".contains(*c)).collect();
    let digits = kept.strip_prefix('+').unwrap_or(&kept);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return refused("only digits, with spaces, dashes, dots, slashes or brackets between");
    }
    let national = if let Some(n) = kept.strip_prefix('+') {
        n.to_owned()
    } else if let Some(n) = kept.strip_prefix("00") {
        n.to_owned()
    } else if let Some(n) = kept.strip_prefix('0') {
        format!("44{n}")
    } else {
        return refused("it starts with neither +, 00 nor 0");
    };
    if national.starts_with('0') || !DIGITS.contains(&national.len()) {
        return refused("8 to 15 digits with the country code, which never starts with 0");
    }
    if national.starts_with("44") && !UK_DIGITS.contains(&national.len()) {
        return refused("a UK number has 10 or 11 digits with its leading 0");
    }
    Ok(format!("+{national}"))
}

/// The header in `path`: one line, `Name: value`.
fn read_header(path: &Path) -> Result<(HeaderName, HeaderValue), GatewayError> {
    let problem = |problem: &str| GatewayError::HeaderFile {
        path: path.to_owned(),
        problem: problem.to_owned(),
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| problem(&format!("cannot read it: {e}")))?;
    let line = text.strip_suffix('\n').unwrap_or(&text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.contains(['\n', '\r']) {
        return Err(problem(
            "it holds more than one line; give one, `Name: value`",
        ));
    }
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| problem("it holds no `Name: value` line"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| problem("the part before `:` is not a header name"))?;
    let value = value.trim();
    if value.is_empty() {
        return Err(problem("the header has no value after `:`"));
    }
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| problem("the header's value holds characters a header cannot"))?;
    value.set_sensitive(true);
    Ok((name, value))
}

/// The start of a refusing gateway's answer, without control characters. Reads only what it
/// keeps: a gateway that sends without end is cut short.
async fn said(mut answer: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < SAID_CHARS * 4 {
        match answer.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    String::from_utf8_lossy(&bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(SAID_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// An error with its causes: reqwest's own line says only "error sending request".
fn causes(e: &dyn std::error::Error) -> String {
    let mut said = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        said.push_str(": ");
        said.push_str(&cause.to_string());
        source = cause.source();
    }
    said
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use serde_json::{Value, json};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    const TEMPLATE: &str = r#"{"to": {to}, "text": {text}, "sender": "SCHOOL"}"#;

    #[test]
    fn a_body_holds_each_value_as_a_json_string() {
        let text = "Ffion \"Ff\" is absent\nPlease reply: ŵ {to} \\ \u{1}";
        let filled: Value = serde_json::from_str(&body(TEMPLATE, "+447700900123", text)).unwrap();
        assert_eq!(
            filled,
            json!({"to": "+447700900123", "text": text, "sender": "SCHOOL"})
        );
        let swapped = body(r#"[{text}, {to}, "{", "}"]"#, "{text}", "}{");
        assert_eq!(
            serde_json::from_str::<Value>(&swapped).unwrap(),
            json!(["}{", "{text}", "{", "}"])
        );
    }

    #[test]
    fn numbers_are_given_in_e164() {
        for (raw, e164) in [
            ("+447700900123", "+447700900123"),
            ("07700 900123", "+447700900123"),
            ("07700-900-123", "+447700900123"),
            ("0044 7700 900123", "+447700900123"),
            (" +44 (0)7700 900.123 ", "+447700900123"),
            ("(07700) 900 123", "+447700900123"),
            ("+1 (202) 555-0100", "+12025550100"),
        ] {
            assert_eq!(mobile_number(raw).unwrap(), e164, "{raw:?}");
        }
    }

    #[test]
    fn what_is_not_a_mobile_number_is_refused() {
        for bad in [
            "",
            "   ",
            "call me",
            "07700 900123 x12",
            "7700 900123",
            "+44 7700 9OO123",
            "+123 456",
            "0123456",
            "+44 7700 9001",
            "07700 9001234",
            "+1234567890123456",
            "+0447700900123",
            "1+2",
        ] {
            let why = mobile_number(bad).unwrap_err();
            assert!(why.starts_with("not a mobile number"), "{bad:?}: {why}");
        }
        assert!(
            mobile_number("call me")
                .unwrap_err()
                .contains("only digits")
        );
    }

    fn header_file(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn the_header_file_holds_one_name_value_line() {
        for good in [
            "Authorization: Bearer abc\n",
            "authorization:Bearer abc\r\n",
        ] {
            let (name, value) = read_header(header_file(good).path()).unwrap();
            assert_eq!(
                (name.as_str(), value.to_str().unwrap()),
                ("authorization", "Bearer abc")
            );
            assert!(value.is_sensitive());
        }
        let x_key = read_header(header_file("X-Api-Key:  k-abc  ").path()).unwrap();
        assert_eq!(
            (x_key.0.as_str(), x_key.1.to_str().unwrap()),
            ("x-api-key", "k-abc")
        );
    }

    #[test]
    fn a_bad_header_file_is_named_and_its_contents_are_not() {
        for (text, problem) in [
            ("Bearer abc\n", "no `Name: value`"),
            ("Author ization: Bearer abc", "not a header name"),
            ("Authorization:\n", "no value"),
            ("Authorization: Bearer abc\nX: abc\n", "more than one line"),
            (
                "Authorization: Bearer \u{7f}abc",
                "characters a header cannot",
            ),
            ("", "no `Name: value`"),
        ] {
            let file = header_file(text);
            let why = read_header(file.path()).unwrap_err().to_string();
            assert!(why.contains(&file.path().display().to_string()), "{why}");
            assert!(why.contains(problem), "{text:?}: {why}");
            assert!(!why.contains("abc"), "{why}");
        }
        let gone = read_header(Path::new("/nonexistent/sms-header")).unwrap_err();
        assert!(
            gone.to_string()
                .contains("/nonexistent/sms-header: cannot read it"),
            "{gone}"
        );
    }

    fn config(url: &str, header: Option<&Path>, timeout_secs: u32) -> SmsConfig {
        SmsConfig {
            url: url.to_owned(),
            auth_header_file: header.map(Path::to_owned),
            body: TEMPLATE.to_owned(),
            timeout_secs,
        }
    }

    /// A server for one request: answers `answer` (or never, holding the connection open) and
    /// hands back what it was sent.
    async fn gateway_answering(
        answer: Option<&'static str>,
    ) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/send?key=secret", listener.local_addr().unwrap());
        let served = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0; 4096];
            while !request_is_whole(&request) {
                let n = stream.read(&mut buf).await.unwrap();
                assert!(n > 0, "the client closed early");
                request.extend_from_slice(&buf[..n]);
            }
            match answer {
                Some(answer) => stream.write_all(answer.as_bytes()).await.unwrap(),
                None => while stream.read(&mut buf).await.is_ok_and(|n| n > 0) {},
            }
            String::from_utf8(request).unwrap()
        });
        (url, served)
    }

    fn request_is_whole(request: &[u8]) -> bool {
        let text = String::from_utf8_lossy(request);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        let length = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|n| n.trim().parse().unwrap())
            })
            .unwrap_or(0);
        body.len() >= length
    }

    #[tokio::test]
    async fn a_2xx_answer_is_sent_with_the_body_and_header() {
        let ok =
            "HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"id\": \"1\"}";
        let (url, served) = gateway_answering(Some(ok)).await;
        let file = header_file("Authorization: Bearer abc\n");
        let gateway = Gateway::new(&config(&url, Some(file.path()), 5)).unwrap();
        assert!(!format!("{gateway:?}").contains("abc"), "{gateway:?}");
        gateway
            .send("+447700900123", "Ffion is absent")
            .await
            .unwrap();
        let request = served.await.unwrap();
        let lower = request.to_ascii_lowercase();
        assert!(
            lower.starts_with("post /send?key=secret http/1.1\r\n"),
            "{request}"
        );
        assert!(
            lower.contains("\r\ncontent-type: application/json\r\n"),
            "{request}"
        );
        assert!(
            request.contains("\r\nauthorization: Bearer abc\r\n"),
            "{request}"
        );
        let (_, sent) = request.split_once("\r\n\r\n").unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(sent).unwrap(),
            json!({"to": "+447700900123", "text": "Ffion is absent", "sender": "SCHOOL"})
        );
    }

    #[tokio::test]
    async fn a_refusal_carries_the_status_and_the_start_of_the_answer() {
        let said = format!(
            "{{\"error\": \"gateway\u{7}\r\n down\"}}{}",
            "x".repeat(300)
        );
        let answer = format!(
            "HTTP/1.1 500 Internal Server Error\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{said}",
            said.len()
        );
        let (url, _served) = gateway_answering(Some(answer.leak())).await;
        let gateway = Gateway::new(&config(&url, None, 5)).unwrap();
        let e = gateway
            .send("+447700900123", "Ffion is absent")
            .await
            .unwrap_err();
        let SendError::Refused { status, said } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(*status, 500);
        assert!(
            said.starts_with("{\"error\": \"gateway down\"}xxx"),
            "{said}"
        );
        assert_eq!(said.chars().count(), SAID_CHARS);
        assert!(
            e.to_string().starts_with("the SMS gateway answered 500: {"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_gateway_that_never_answers_times_out() {
        let (url, _served) = gateway_answering(None).await;
        let gateway = Gateway::new(&config(&url, None, 1)).unwrap();
        let e = gateway
            .send("+447700900123", "Ffion is absent")
            .await
            .unwrap_err();
        assert!(matches!(e, SendError::TimedOut { secs: 1 }), "{e:?}");
        assert_eq!(e.to_string(), "the SMS gateway did not answer within 1 s");
    }

    #[tokio::test]
    async fn a_gateway_not_listening_is_unreachable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/send?key=secret");
        let gateway = Gateway::new(&config(&url, None, 5)).unwrap();
        let e = gateway
            .send("+447700900123", "Ffion is absent")
            .await
            .unwrap_err();
        assert!(matches!(e, SendError::Unreachable(_)), "{e:?}");
        let said = e.to_string();
        assert!(
            said.starts_with("the SMS gateway could not be reached: "),
            "{said}"
        );
        assert!(!said.contains("secret") && !said.contains("7700"), "{said}");
    }

    #[test]
    fn a_gateway_needs_an_http_address() {
        let e = Gateway::new(&config("ftp://gateway.example/send", None, 5)).unwrap_err();
        assert!(matches!(e, GatewayError::Url(_)), "{e:?}");
    }
}
