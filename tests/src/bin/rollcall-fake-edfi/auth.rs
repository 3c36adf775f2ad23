//! OAuth 2 client credentials as the ODS/API 7 token endpoint answers them
//! (`EdFi.Ods.Api/Controllers/TokenController.cs`, `ClientCredentialsTokenRequestProvider.cs`),
//! and the bearer check every data request passes (`OAuthTokenAuthenticator.cs`,
//! `AuthenticationFailureMessages.cs`). One client; tokens live in memory until they expire.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use rollcall_e2e::standin::http::{Answer, Request, basic_credentials, parse_pairs};

#[derive(Debug)]
pub struct Tokens {
    client_id: String,
    client_secret: String,
    lifetime: Duration,
    /// Each issued token and when it stops being accepted.
    issued: HashMap<String, Instant>,
}

/// Why a bearer token was refused, in the ODS's words.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    Missing,
    UnknownScheme,
    NoToken,
    Invalid,
}

impl Refusal {
    pub fn message(&self) -> &'static str {
        match self {
            Self::Missing => "Authorization header is missing.",
            Self::UnknownScheme => "Unknown Authorization header scheme.",
            Self::NoToken => "Missing Authorization header bearer token value.",
            Self::Invalid => "Invalid token",
        }
    }
}

/// The fields of a token request body, wherever they came from.
#[derive(Debug, Default)]
struct Form {
    client_id: Option<String>,
    client_secret: Option<String>,
    grant_type: Option<String>,
}

impl Tokens {
    pub fn new(client_id: String, client_secret: String, lifetime: Duration) -> Self {
        Self {
            client_id,
            client_secret,
            lifetime,
            issued: HashMap::new(),
        }
    }

    /// `POST /oauth/token`.
    pub fn token(&mut self, request: &Request, now: Instant) -> Answer {
        let form = form(request);
        let from_header = match request.authorization.as_deref() {
            None => None,
            Some(header) => match header_credentials(header) {
                Ok(pair) => Some(pair),
                Err(answer) => return answer,
            },
        };
        let (id, secret) = match (from_header, &form) {
            (Some(_), f) if f.client_id.is_some() || f.client_secret.is_some() => {
                return token_error(400, "invalid_client");
            }
            (Some(pair), _) => pair,
            (None, f) => (
                f.client_id.clone().unwrap_or_default(),
                f.client_secret.clone().unwrap_or_default(),
            ),
        };
        if id.trim().is_empty() || secret.trim().is_empty() {
            return token_error(401, "invalid_request");
        }
        let grant = form.grant_type.as_deref().unwrap_or_default();
        if !grant.eq_ignore_ascii_case("client_credentials") {
            return token_error(400, "unsupported_grant_type");
        }
        if id != self.client_id || secret != self.client_secret {
            return token_error(401, "invalid_client");
        }
        self.issued.retain(|_, until| *until > now);
        let token = uuid::Uuid::new_v4().simple().to_string();
        self.issued.insert(token.clone(), now + self.lifetime);
        Answer::json(
            200,
            json!({
                "access_token": token,
                "expires_in": self.lifetime.as_secs(),
                "token_type": "bearer",
            }),
        )
    }

    /// Whether `authorization` carries a bearer token issued here and not yet expired.
    pub fn check(&self, authorization: Option<&str>, now: Instant) -> Result<(), Refusal> {
        let header = authorization.ok_or(Refusal::Missing)?;
        let (scheme, token) = header.split_once(' ').unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Refusal::UnknownScheme);
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(Refusal::NoToken);
        }
        match self.issued.get(token) {
            Some(until) if *until > now => Ok(()),
            _ => Err(Refusal::Invalid),
        }
    }
}

/// Credentials from an `Authorization` header, or the ODS's answer to a malformed one.
fn header_credentials(header: &str) -> Result<(String, String), Answer> {
    let parts: Vec<&str> = header.split(' ').collect();
    let [scheme, encoded] = parts.as_slice() else {
        return Err(token_error(400, "invalid_request"));
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(token_error(401, "invalid_client"));
    }
    if encoded.trim().is_empty() {
        return Err(token_error(400, "invalid_request"));
    }
    basic_credentials(header).ok_or_else(|| token_error(400, "invalid_request"))
}

/// The token request's fields from a JSON or a form body.
fn form(request: &Request) -> Form {
    let json = request
        .content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/json"));
    let pairs: Vec<(String, String)> = if json {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let object = body.as_object().cloned().unwrap_or_default();
        object
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?.to_owned())))
            .collect()
    } else {
        parse_pairs(&String::from_utf8_lossy(&request.body))
    };
    let mut form = Form::default();
    for (name, value) in pairs {
        match name.to_ascii_lowercase().as_str() {
            "client_id" => form.client_id = Some(value),
            "client_secret" => form.client_secret = Some(value),
            "grant_type" => form.grant_type = Some(value),
            _ => {}
        }
    }
    form
}

/// A token request body as recorded: the secret replaced.
pub fn redacted(body: &[u8]) -> Value {
    let text = String::from_utf8_lossy(body);
    if let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(&text) {
        if object.contains_key("client_secret") {
            object.insert("client_secret".into(), json!("<redacted>"));
        }
        return Value::Object(object);
    }
    let pairs = parse_pairs(&text).into_iter().map(|(name, value)| {
        let value = if name.eq_ignore_ascii_case("client_secret") {
            "<redacted>".to_owned()
        } else {
            value
        };
        (name, Value::String(value))
    });
    Value::Object(pairs.collect())
}

fn token_error(status: u16, error: &str) -> Answer {
    Answer::json(status, json!({ "error": error }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_refused_once_it_expires() {
        let mut tokens = Tokens::new("c".into(), "s".into(), Duration::from_secs(60));
        let now = Instant::now();
        let token = "t".to_owned();
        tokens
            .issued
            .insert(token.clone(), now + Duration::from_secs(60));
        let header = format!("Bearer {token}");
        assert_eq!(tokens.check(Some(&header), now), Ok(()));
        let later = now + Duration::from_secs(61);
        assert_eq!(tokens.check(Some(&header), later), Err(Refusal::Invalid));
        assert_eq!(tokens.check(None, now), Err(Refusal::Missing));
        assert_eq!(
            tokens.check(Some("Basic x"), now),
            Err(Refusal::UnknownScheme)
        );
        assert_eq!(tokens.check(Some("Bearer "), now), Err(Refusal::NoToken));
    }

    #[test]
    fn recorded_token_requests_hide_the_secret() {
        let form = redacted(b"grant_type=client_credentials&client_secret=hush");
        assert_eq!(form["client_secret"], "<redacted>");
        assert_eq!(form["grant_type"], "client_credentials");
        let json = redacted(br#"{"client_secret": "hush", "client_id": "c"}"#);
        assert_eq!(json["client_secret"], "<redacted>");
    }
}
