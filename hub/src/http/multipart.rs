//! A small `multipart/form-data` reader over a body already held in memory (the body limit
//! bounds it). Only what photo uploads need: each part's field name, file name and bytes.

use bytes::Bytes;

use super::error::ApiError;
use super::request::Request;

/// One part of a form.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub name: Option<String>,
    pub filename: Option<String>,
    pub data: Bytes,
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';').map(str::trim);
    let kind = params.next()?;
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

/// The parts of `req`'s body, which must be `multipart/form-data` (`what` it should carry
/// names it in the error).
pub fn form(req: &Request, what: &str) -> Result<Vec<Part>, ApiError> {
    let boundary = req
        .content_type
        .as_deref()
        .and_then(boundary)
        .ok_or_else(|| ApiError::UnsupportedMedia(format!("send {what} as multipart/form-data")))?;
    parse(&req.body, &boundary)
}

/// Whether `part` is a photo: a file, or a field named `photo…`.
pub fn is_photo(part: &Part) -> bool {
    part.filename.is_some() || part.name.as_deref().is_some_and(|n| n.starts_with("photo"))
}

/// Splits `body` into its parts.
pub fn parse(body: &Bytes, boundary: &str) -> Result<Vec<Part>, ApiError> {
    let bad = |why: &str| ApiError::bad(format!("malformed multipart body: {why}"));
    let opening = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let mut at = find(body, opening.as_bytes(), 0).ok_or_else(|| bad("no boundary"))?;
    at += opening.len();
    let mut parts = Vec::new();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err(bad("boundary not followed by a line break"));
        }
        let head_start = at + 2;
        let head_end =
            find(body, b"\r\n\r\n", head_start).ok_or_else(|| bad("part without headers"))?;
        let data_end = find(body, delimiter.as_bytes(), head_end + 4)
            .ok_or_else(|| bad("unterminated part"))?;
        let head = std::str::from_utf8(&body[head_start..head_end])
            .map_err(|_| bad("part headers are not UTF-8"))?;
        parts.push(part(head, body.slice(head_end + 4..data_end)));
        at = data_end + delimiter.len();
    }
}

fn part(head: &str, data: Bytes) -> Part {
    let disposition = head
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
        .map(|(_, v)| v)
        .unwrap_or_default();
    let param = |key: &str| {
        disposition
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim_matches('"').to_owned())
    };
    Part {
        name: param("name"),
        filename: param("filename"),
        data,
    }
}

/// Index of the first `needle` in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = needle.first()?;
    let mut at = from;
    while at + needle.len() <= hay.len() {
        let offset = hay[at..].iter().position(|b| b == first)?;
        at += offset;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_boundary_quoted_or_not() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"ab c\"").as_deref(),
            Some("ab c")
        );
        assert_eq!(
            boundary("Multipart/Form-Data;boundary=x").as_deref(),
            Some("x")
        );
        assert_eq!(boundary("application/json"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn splits_parts_with_their_names_and_binary_data() {
        let body = Bytes::from_static(
            b"preamble\r\n--XX\r\nContent-Disposition: form-data; name=\"photo\"; \
              filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\x00\r\n--X\xff\r\n--XX\r\n\
              Content-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--XX--\r\n",
        );
        let parts = parse(&body, "XX").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].filename.as_deref(), Some("a.jpg"));
        assert_eq!(&parts[0].data[..], b"\x00\r\n--X\xff");
        assert_eq!(
            (parts[1].name.as_deref(), &parts[1].data[..]),
            (Some("note"), &b"hi"[..])
        );
    }

    #[test]
    fn a_truncated_body_is_a_bad_request() {
        let body = Bytes::from_static(b"--XX\r\nContent-Disposition: form-data\r\n\r\nabc");
        assert!(parse(&body, "XX").is_err());
        assert!(parse(&Bytes::from_static(b"nothing"), "XX").is_err());
    }
}
