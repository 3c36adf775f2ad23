//! Calls to the API from another site's pages (CORS, `[http] cors_origins`), for a school that
//! runs a front end of its own. Off unless origins are listed: a browser then keeps every
//! answer from a page of another site, and refuses to send it anything but a plain form.
//!
//! A listed origin's requests are answered with `Access-Control-Allow-Origin` naming it, and
//! its preflights (the `OPTIONS` a browser asks first) with what the API takes: its methods,
//! the `Authorization` header (a bearer token, never a cookie, so no credentials are allowed)
//! and `Content-Type`. Any other origin's preflight is refused with 403, saying why. Requests
//! themselves are never refused for their origin: the hub's own pages send `Origin` too (on
//! every POST), and whether a request is allowed is the token's business, not the origin's.
//! warp's `cors()` filter refuses exactly those, so this small rule is the hub's own.

use warp::http::header::{self, HeaderMap, HeaderValue};
use warp::http::{Method, StatusCode};
use warp::reply::{Reply as _, Response};

use super::error::ApiError;
use super::input::clip;

const METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
const HEADERS: &str = "authorization, content-type, idempotency-key, x-request-id";
/// What a page may read of an answer besides the simple headers.
const EXPOSED: &str = "x-request-id, retry-after, content-disposition";
/// How long a browser may keep a preflight's answer.
const MAX_AGE_SECS: &str = "600";

/// The request's `Origin` when `allowed` lists it.
pub fn allowed(allowed: &[String], headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    allowed.iter().any(|a| a == text).then(|| origin.clone())
}

/// Whether the request is a browser's preflight: `OPTIONS` naming the method it means to use.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a preflight: what the API takes, to an origin listed; else 403.
pub fn preflight(origin: Option<HeaderValue>, headers: &HeaderMap) -> Result<Response, ApiError> {
    let Some(origin) = origin else {
        let asked = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
        let asked = asked.map_or_else(|| "(none)".to_owned(), clip);
        return Err(ApiError::Forbidden(format!(
            "pages of {asked} may not call this API: an admin lists the sites that may in \
             [http] cors_origins"
        )));
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let answer = response.headers_mut();
    answer.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    answer.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(METHODS),
    );
    answer.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(HEADERS),
    );
    answer.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE_SECS),
    );
    answer.insert(header::VARY, HeaderValue::from_static("origin"));
    Ok(response)
}

/// `response`, readable by the pages of `origin` when it is listed.
pub fn expose(mut response: Response, origin: Option<HeaderValue>) -> Response {
    if let Some(origin) = origin {
        let answer = response.headers_mut();
        answer.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        answer.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
        answer.append(header::VARY, HeaderValue::from_static("origin"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        headers
    }

    #[test]
    fn only_a_listed_origin_is_answered_as_itself() {
        let listed = ["https://portal.school.example".to_owned()];
        let origin = allowed(&listed, &from("https://portal.school.example"));
        assert_eq!(origin.unwrap(), "https://portal.school.example");
        assert!(allowed(&listed, &from("https://portal.school.example:444")).is_none());
        assert!(allowed(&listed, &from("https://evil.example")).is_none());
        assert!(allowed(&listed, &HeaderMap::new()).is_none());
        assert!(
            allowed(&[], &from("https://portal.school.example")).is_none(),
            "off"
        );
    }

    #[test]
    fn a_preflight_says_what_the_api_takes_or_why_not() {
        let listed = ["http://localhost:3000".to_owned()];
        let headers = from("http://localhost:3000");
        let answer = preflight(allowed(&listed, &headers), &headers).unwrap();
        assert_eq!(answer.status(), StatusCode::NO_CONTENT);
        let said = |name| answer.headers()[name].to_str().unwrap();
        assert_eq!(
            said(header::ACCESS_CONTROL_ALLOW_ORIGIN),
            "http://localhost:3000"
        );
        assert!(said(header::ACCESS_CONTROL_ALLOW_HEADERS).contains("authorization"));
        assert!(said(header::ACCESS_CONTROL_ALLOW_METHODS).contains("DELETE"));
        assert!(
            !answer
                .headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
        );
        let stranger = from("http://localhost:3001");
        let refused = preflight(allowed(&listed, &stranger), &stranger).unwrap_err();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(
            refused.to_string().contains("http://localhost:3001"),
            "{refused}"
        );
        assert!(refused.to_string().contains("cors_origins"), "{refused}");
    }

    #[test]
    fn an_answer_is_exposed_only_to_a_listed_origin() {
        let plain = expose(StatusCode::OK.into_response(), None);
        assert!(
            plain
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );
        let origin = HeaderValue::from_static("http://localhost:3000");
        let shown = expose(StatusCode::OK.into_response(), Some(origin));
        let said = |name| shown.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(
            said(header::ACCESS_CONTROL_ALLOW_ORIGIN),
            "http://localhost:3000"
        );
        assert!(said(header::ACCESS_CONTROL_EXPOSE_HEADERS).contains("x-request-id"));
    }
}
