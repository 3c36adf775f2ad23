use reqwest::header::HeaderValue;

use super::*;

fn headers(pairs: &[(reqwest::header::HeaderName, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(name.clone(), HeaderValue::from_str(value).unwrap());
    }
    headers
}

#[test]
fn retry_after_is_read_as_seconds_or_as_a_date_from_the_answers_own_clock() {
    let seconds = headers(&[(RETRY_AFTER, " 120 ")]);
    assert_eq!(retry_after(&seconds), Some(Duration::from_secs(120)));

    // The server's clock says 08:00:00 and asks to wait until 08:02:30: 150 s, whatever ours
    // says.
    let dated = headers(&[
        (DATE, "Mon, 23 Nov 2026 08:00:00 GMT"),
        (RETRY_AFTER, "Mon, 23 Nov 2026 08:02:30 GMT"),
    ]);
    assert_eq!(retry_after(&dated), Some(Duration::from_secs(150)));

    // A date already past asks for no wait; without the server's Date it is from now.
    let past = headers(&[(RETRY_AFTER, "Sun, 06 Nov 1994 08:49:37 GMT")]);
    assert_eq!(retry_after(&past), Some(Duration::ZERO));

    for nonsense in ["soon", "-5", "Mon, 99 Nov 2026 08:00:00 GMT"] {
        assert_eq!(
            retry_after(&headers(&[(RETRY_AFTER, nonsense)])),
            None,
            "{nonsense}"
        );
    }
    assert_eq!(retry_after(&HeaderMap::new()), None);
}
