use super::*;

#[test]
fn a_reply_link_opens_only_as_signed_by_this_key() {
    let key = ReplyKey::derive(b"the hub's own secret");
    let (ada, day) = (
        StudentId::random(),
        NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
    );
    let token = key.token(ada, day);
    assert_eq!(token.len(), 48, "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(key.open(&token), Some((ada, day)));

    let other = ReplyKey::derive(b"another hub");
    assert_eq!(other.open(&token), None, "another hub's key");
    let mut tampered = token.clone().into_bytes();
    tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(key.open(&tampered), None, "another day or student");
    for junk in [
        "",
        "x",
        "not a token at all",
        &"A".repeat(48),
        &"A".repeat(500),
    ] {
        assert_eq!(key.open(junk), None, "{junk:?}");
    }
    assert_ne!(
        key.token(ada, day.succ_opt().unwrap()),
        token,
        "a day its own link"
    );
}

#[test]
fn a_first_name_is_the_first_word() {
    assert_eq!(first_name("Ada Lovelace"), "Ada");
    assert_eq!(first_name("  Mair  Wyn "), "Mair");
    assert_eq!(first_name(""), "");
}

#[test]
fn every_reason_has_a_label_in_english_and_welsh() {
    for language in ["en", "cy", "pl"] {
        let labels = reason_labels(language);
        let codes: Vec<&str> = labels.iter().map(|(r, _)| *r).collect();
        let reasons: Vec<&str> = REASONS.iter().map(|(r, _)| *r).collect();
        assert_eq!(codes, reasons, "{language}");
    }
    assert_eq!(reason_labels("cy-GB")[0].1, "Sâl");
    assert!(
        REASONS
            .iter()
            .all(|(_, code)| crate::register::reason_code(code).is_some()),
        "the register writes every reason's code"
    );
}
