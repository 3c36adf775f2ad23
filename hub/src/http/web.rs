//! The teacher and admin pages: plain HTML, CSS and JavaScript modules from `hub/web/`,
//! embedded in the binary at build time and served on every path outside `/api`.
//!
//! Owns only the static files and their headers (a strict Content-Security-Policy, no
//! sniffing, no framing, revalidation by ETag). The pages talk to the JSON API like any other
//! client; nothing here reads the database or knows a token. Paths under `/api` are left to
//! the API (and its "no such endpoint" answer).

use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::header::{self, HeaderValue};
use warp::http::{Method, StatusCode};
use warp::path::FullPath;
use warp::reply::Response;

/// Where the pages may load anything from: only the hub. Images may also be `blob:` URLs (face
/// crops are fetched with the token and shown from memory). No inline script or style.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' blob:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file.
#[derive(Debug)]
struct Asset {
    /// The URL path it is served at.
    path: &'static str,
    mime: &'static str,
    body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

macro_rules! asset {
    ($path:literal, $mime:expr) => {
        Asset {
            path: $path,
            mime: $mime,
            body: include_bytes!(concat!("../../web", $path)),
        }
    };
}

/// Every file under `hub/web/` (a unit test checks none is missing).
const ASSETS: &[Asset] = &[
    asset!("/index.html", HTML),
    asset!("/style.css", CSS),
    asset!("/icon.svg", "image/svg+xml"),
    asset!("/manifest.webmanifest", "application/manifest+json"),
    asset!("/sw.js", JS),
    asset!("/js/queue.js", JS),
    asset!("/js/app.js", JS),
    asset!("/js/api.js", JS),
    asset!("/js/ui.js", JS),
    asset!("/js/signin.js", JS),
    asset!("/js/review.js", JS),
    asset!("/js/strangers.js", JS),
    asset!("/js/lesson_suggestion.js", JS),
    asset!("/js/today.js", JS),
    asset!("/js/unit_settings.js", JS),
    asset!("/js/class_photo.js", JS),
    asset!("/js/report.js", JS),
    asset!("/js/school.js", JS),
    asset!("/js/students.js", JS),
    asset!("/js/student_details.js", JS),
    asset!("/js/guardians.js", JS),
    asset!("/js/enrol_folder.js", JS),
    asset!("/js/devices.js", JS),
    asset!("/js/admin.js", JS),
    asset!("/js/calendar.js", JS),
    asset!("/js/history.js", JS),
    asset!("/js/account.js", JS),
    asset!("/js/privacy.js", JS),
    asset!("/js/consent.js", JS),
    asset!("/js/audit.js", JS),
    asset!("/js/codes.js", JS),
    asset!("/js/roll_call.js", JS),
    asset!("/js/reception.js", JS),
    asset!("/js/pupils_out.js", JS),
    asset!("/js/missing.js", JS),
    asset!("/js/activities.js", JS),
    asset!("/js/taps.js", JS),
    asset!("/js/staff.js", JS),
    asset!("/js/staff_faces.js", JS),
    asset!("/js/analytics.js", JS),
    asset!("/js/api_docs.js", JS),
    asset!("/js/operations.js", JS),
    asset!("/js/mis.js", JS),
    asset!("/js/invitations.js", JS),
    asset!("/js/mine.js", JS),
    asset!("/js/children.js", JS),
    asset!("/js/welcome.js", JS),
    asset!("/js/reply.js", JS),
    asset!("/js/notices.js", JS),
    asset!("/js/family_messages.js", JS),
];

/// Each asset's strong ETag: the start of its SHA-256, quoted.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| format!("\"{}\"", hex::encode(&Sha256::digest(a.body)[..12])))
        .collect()
});

/// The pages: GET or HEAD of any path not under `/api`. Rejects (for the API's fallback)
/// everything else.
pub fn pages() -> BoxedFilter<(Response,)> {
    warp::method()
        .and(warp::path::full())
        .and(warp::header::optional::<String>("if-none-match"))
        .and_then(
            |method: Method, path: FullPath, if_none_match: Option<String>| async move {
                let path = path.as_str();
                if path == "/api" || path.starts_with("/api/") {
                    return Err(warp::reject::not_found());
                }
                Ok(serve(&method, path, if_none_match.as_deref()))
            },
        )
        .boxed()
}

/// The answer for `path`: the asset (or 304), the app's page for `/`, else 404 or 405.
fn serve(method: &Method, path: &str, if_none_match: Option<&str>) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    let wanted = match path {
        "/" => "/index.html",
        other => other,
    };
    let Some(i) = ASSETS.iter().position(|a| a.path == wanted) else {
        return plain(StatusCode::NOT_FOUND, "no such page\n");
    };
    let (asset, etag) = (&ASSETS[i], &ETAGS[i]);
    let fresh = if_none_match.is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let mut response = match fresh {
        true => Response::new(Vec::new().into()),
        false => Response::new(asset.body.into()),
    };
    if fresh {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
    if let Ok(tag) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, tag);
    }
    // Revalidate every time: a new hub binary must never run with yesterday's scripts.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    secure(response)
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(text.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    secure(response)
}

/// Adds the security headers every page response carries.
fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_under_web_is_embedded_and_nothing_else() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut on_disk = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                match path.is_dir() {
                    true => dirs.push(path),
                    false => {
                        on_disk.push(format!("/{}", path.strip_prefix(&root).unwrap().display()))
                    }
                }
            }
        }
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        on_disk.sort();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn the_service_worker_keeps_every_page_file_for_offline_use() {
        let sw = ASSETS.iter().find(|a| a.path == "/sw.js").unwrap();
        let sw = std::str::from_utf8(sw.body).unwrap();
        let list = &sw[sw.find("const FILES = [").unwrap()..];
        let list = &list[..list.find("];").unwrap()];
        let kept: Vec<&str> = list.split('\'').skip(1).step_by(2).collect();
        let served: Vec<&str> = ASSETS
            .iter()
            .map(|a| match a.path {
                "/index.html" => "/",
                other => other,
            })
            .filter(|p| *p != "/sw.js")
            .collect();
        assert_eq!(kept, served, "sw.js's FILES, in the order of ASSETS");
    }

    #[test]
    fn a_matching_etag_answers_not_modified_and_api_paths_are_left_alone() {
        let first = serve(&Method::GET, "/js/app.js", None);
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        let again = serve(&Method::GET, "/js/app.js", Some(&format!("\"x\", {tag}")));
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(
            serve(&Method::GET, "/nope", None).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            serve(&Method::POST, "/", None).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}
