//! The wire encoding: golden bytes pin it, property tests check round trips, and hostile bytes
//! only ever give `Ok` or `Err`.

mod samples;

use rollcall_shared::{
    Decision, DecodeError, Envelope, Limits, LivenessCheck, Message, PROTOCOL_VERSION, decode,
    decode_envelope, encode, encode_as,
};

const BIG: Limits = Limits::FROM_HUB;

/// The encoding of each sample message in protocol version 6, which door units not yet
/// upgraded speak. A change here breaks every such unit: never change a line.
const GOLDEN_V6: &[(&str, &str)] = &[
    (
        "record",
        "0600100101010101010101010101010101010110020202020202020202020202020202020342313280f8b2e5bd6812726574696e61666163652d646c69622d76310780010000003f000080be0000803f<125 zero floats>0210030303030303030303030303030303030000c03e10040404040404040404040404040404040000003f010104ffd8ffd9000040420000f142a4707d3f000080c00302010001000000803e",
    ),
    (
        "status",
        "06011002020202020202020202020202020202e8ffb2e5bd6880a3050c0705302e312e30011262726f6b657220756e726561636861626c650112726574696e61666163652d646c69622d76310180e497d0120103",
    ),
    ("offline", "06021002020202020202020202020202020202"),
    (
        "gallery-request",
        "060310020202020202020202020202020202020701",
    ),
    (
        "ack",
        "06040210010101010101010101010101010101011006060606060606060606060606060606",
    ),
    (
        "gallery",
        "060512726574696e61666163652d646c69622d763108000110030303030303030303030303030303030110050505050505050505050505050505050180010000003e0000803e<126 zero floats>0001011005050505050505050505050505050505018d04c904a6eaf33d8303cbcc92feb29dd97c9c9129eff8cf74f9644433745f5433e69571",
    ),
    ("command", "060600"),
    ("site", "06070d4575726f70652f4c6f6e646f6e00"),
    (
        "unit-settings",
        "060803135b62757273745d0a6672616d6573203d20370a",
    ),
    (
        "settings-report",
        "060910020202020202020202020202020202020201031c62757273742e6672616d65733a2037302069732061626f7665203230",
    ),
];

/// The encoding of each sample message in protocol version 7, this build's.
const GOLDEN_V7: &[(&str, &str)] = &[
    (
        "record",
        "0700100101010101010101010101010101010110020202020202020202020202020202020342313280f8b2e5bd6812726574696e61666163652d646c69622d76310780010000003f000080be0000803f<125 zero floats>0210030303030303030303030303030303030000c03e10040404040404040404040404040404040000003f010104ffd8ffd9000040420000f142a4707d3f000080c00302010001000000803e00",
    ),
    (
        "status",
        "07011002020202020202020202020202020202e8ffb2e5bd6880a3050c0705302e312e30011262726f6b657220756e726561636861626c650112726574696e61666163652d646c69622d76310180e497d0120103",
    ),
    ("offline", "07021002020202020202020202020202020202"),
    (
        "gallery-request",
        "070310020202020202020202020202020202020701",
    ),
    (
        "ack",
        "07040210010101010101010101010101010101011006060606060606060606060606060606",
    ),
    (
        "gallery",
        "070512726574696e61666163652d646c69622d763108000110030303030303030303030303030303030110050505050505050505050505050505050180010000003e0000803e<126 zero floats>0001011005050505050505050505050505050505018d04c904a6eaf33d8303cbcc92feb29dd97c9c9129eff8cf74f9644433745f5433e695710000",
    ),
    ("command", "070600"),
    ("site", "07070d4575726f70652f4c6f6e646f6e00"),
    (
        "unit-settings",
        "070803135b62757273745d0a6672616d6573203d20370a",
    ),
    (
        "settings-report",
        "070910020202020202020202020202020202020201031c62757273742e6672616d65733a2037302069732061626f7665203230",
    ),
    (
        "staff-record",
        "0700100101010101010101010101010101010110020202020202020202020202020202020342313280f8b2e5bd6812726574696e61666163652d646c69622d76310780010000003f000080be0000803f<125 zero floats>000000000040420000f142a4707d3f000080c00302010001010000603f0110070707070707070707070707070707070000803e",
    ),
    (
        "staff-gallery",
        "070512726574696e61666163652d646c69622d763108000110030303030303030303030303030303030110050505050505050505050505050505050180010000003e0000803e<126 zero floats>0001011005050505050505050505050505050505018d04c9041b2662ac0bf1b0d5f379a6c37c9c969273b7a558d121a3b22583f158c5d19f9b0110070707070707070707070707070707070180010000003f<127 zero floats>00",
    ),
];

/// `hex` with each `<N zero floats>` written out: the samples' embeddings are their first
/// values then zeros up to `EMBEDDING_DIM`.
fn expand(hex: &str) -> String {
    let mut out = String::new();
    let mut rest = hex;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').unwrap() + start;
        let n: usize = rest[start + 1..end]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        out.push_str(&rest[..start]);
        out.push_str(&"00000000".repeat(n));
        rest = &rest[end + 1..];
    }
    out + rest
}

/// Checks that `version` encodes every sample to its golden bytes and decodes them back to
/// what that version carries.
fn check_golden(
    version: u16,
    golden: &[(&str, &str)],
    samples: Vec<(&str, Message)>,
    carried: fn(Message) -> Message,
) {
    let mut mismatches = Vec::new();
    for (name, message) in samples {
        let actual = hex::encode(encode_as(version, &message, BIG).unwrap());
        let expected = golden
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, h)| expand(h));
        if expected.as_deref() != Some(actual.as_str()) {
            mismatches.push(format!("    (\"{name}\", \"{actual}\"),"));
        }
        let decoded = decode_envelope(&hex::decode(&actual).unwrap(), BIG).unwrap();
        assert_eq!(decoded.version, version);
        assert_eq!(decoded.message, carried(message), "{name}");
    }
    assert!(
        mismatches.is_empty(),
        "version {version}'s encoding changed; actual bytes:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn golden_bytes_pin_version_6_which_door_units_not_yet_upgraded_speak() {
    check_golden(6, GOLDEN_V6, samples::all(), |m| m);
}

#[test]
fn golden_bytes_pin_version_7() {
    let mut samples = samples::all();
    samples.extend(samples::with_staff());
    check_golden(7, GOLDEN_V7, samples, |m| m);
}

#[test]
fn the_protocol_version_is_the_first_byte_and_only_known_versions_are_read() {
    let bytes = encode(&samples::all()[0].1, BIG).unwrap();
    assert_eq!(u16::from(bytes[0]), PROTOCOL_VERSION);
    for unknown in [0, PROTOCOL_VERSION as u8 + 1] {
        let mut other = bytes.clone();
        other[0] = unknown;
        assert_eq!(
            decode(&other, BIG),
            Err(DecodeError::UnsupportedVersion {
                got: u16::from(unknown),
                supported: PROTOCOL_VERSION
            })
        );
    }
    assert!(encode_as(PROTOCOL_VERSION + 1, &samples::all()[0].1, BIG).is_err());
}

#[test]
fn staff_never_reach_a_version_6_reader_and_everything_else_does_unchanged() {
    for (_, message) in samples::all() {
        let old = decode(&encode_as(6, &message, BIG).unwrap(), BIG).unwrap();
        assert_eq!(old, message);
    }
    for (name, message) in samples::with_staff() {
        let err = encode_as(6, &message, BIG).unwrap_err();
        assert!(
            err.to_string().contains("members of staff"),
            "{name}: {err}"
        );
        assert_eq!(
            decode(&encode(&message, BIG).unwrap(), BIG).unwrap(),
            message
        );
    }
}

#[test]
fn a_gallery_without_staff_digests_as_in_version_6() {
    // The version-6 gallery's digest is pinned in GOLDEN_V6; a state with staff differs.
    let plain = samples::gallery_state();
    let Message::Gallery(old) = &samples::all()[5].1 else {
        unreachable!("the sixth sample is the gallery")
    };
    assert_eq!(plain.digest(), old.digest);
    let Message::Gallery(with_staff) = &samples::with_staff()[1].1 else {
        unreachable!("the second staff sample is a gallery")
    };
    assert_ne!(with_staff.digest, old.digest);
}

#[test]
fn version_5_is_no_longer_read_and_says_which_versions_are() {
    let mut bytes = encode_as(6, &samples::all()[2].1, BIG).unwrap();
    bytes[0] = 5;
    let err = decode(&bytes, BIG).unwrap_err();
    assert_eq!(
        err,
        DecodeError::UnsupportedVersion {
            got: 5,
            supported: PROTOCOL_VERSION
        }
    );
    assert!(err.to_string().contains("speaks 6 to 7"), "{err}");
    assert!(encode_as(5, &samples::all()[2].1, BIG).is_err());
}

#[test]
fn arbitrary_valid_messages_round_trip() {
    arbtest::arbtest(|u| {
        let envelope: Envelope = u.arbitrary()?;
        let message = envelope.message;
        match encode(&message, BIG) {
            Ok(bytes) => assert_eq!(decode(&bytes, BIG).as_ref(), Ok(&message)),
            Err(_) => assert!(
                message.validate().is_err(),
                "a valid message failed to encode: {message:?}"
            ),
        }
        Ok(())
    })
    .budget_ms(3_000);
}

#[test]
fn random_bytes_only_ever_decode_or_fail() {
    arbtest::arbtest(|u| {
        let bytes: Vec<u8> = u.arbitrary()?;
        if let Ok(message) = decode(&bytes, BIG) {
            assert!(message.validate().is_ok());
        }
        Ok(())
    })
    .budget_ms(3_000);
}

#[test]
fn every_truncation_of_every_message_is_an_error() {
    for (name, message) in samples::all() {
        let bytes = encode(&message, BIG).unwrap();
        for cut in 0..bytes.len() {
            assert!(
                decode(&bytes[..cut], BIG).is_err(),
                "{name} cut at {cut} decoded"
            );
        }
    }
}

#[test]
fn bit_flips_never_panic() {
    arbtest::arbtest(|u| {
        let samples = samples::all();
        let (_, message) = &samples[u.choose_index(samples.len())?];
        let mut bytes = encode(message, BIG).unwrap();
        let i = u.choose_index(bytes.len())?;
        bytes[i] ^= 1 << u.int_in_range(0..=7)?;
        let _ = decode(&bytes, BIG);
        Ok(())
    })
    .budget_ms(2_000);
}

#[test]
fn oversized_payloads_are_refused_before_decoding() {
    let bytes = vec![1u8; Limits::FROM_DEVICE.max_bytes + 1];
    assert!(matches!(
        decode(&bytes, Limits::FROM_DEVICE),
        Err(DecodeError::TooLarge { .. })
    ));
    let (_, gallery) = samples::all()
        .into_iter()
        .find(|(n, _)| *n == "gallery")
        .unwrap();
    let tiny = Limits { max_bytes: 16 };
    assert!(encode(&gallery, tiny).is_err());
}

#[test]
fn trailing_garbage_and_invalid_contents_are_refused() {
    let mut bytes = encode(&samples::all()[0].1, BIG).unwrap();
    bytes.push(0);
    assert_eq!(decode(&bytes, BIG), Err(DecodeError::TrailingBytes(1)));

    let mut record = samples::record();
    record.embedding.0[0] = f32::NAN;
    assert!(encode(&Message::Record(record.clone()), BIG).is_err());
    record.embedding.0[0] = 0.0;
    record.candidates.reverse();
    assert!(
        encode(&Message::Record(record.clone()), BIG).is_err(),
        "candidates out of order"
    );
}

#[test]
fn a_face_judged_not_live_is_never_a_confident_record_on_the_wire() {
    let mut record = samples::record();
    record.decision = Decision::Confident;
    let flagged = encode(&Message::Record(record.clone()), BIG).unwrap_err();
    assert!(flagged.to_string().contains("not live"), "{flagged}");
    record.liveness = Some(LivenessCheck {
        live: true,
        real_score: 0.9,
    });
    assert!(encode(&Message::Record(record.clone()), BIG).is_ok());
    record.liveness = Some(LivenessCheck {
        live: true,
        real_score: 1.5,
    });
    assert!(
        encode(&Message::Record(record), BIG).is_err(),
        "score above 1"
    );
}

#[test]
fn a_huge_length_prefix_is_refused_without_allocating_its_claim() {
    // Version 6, tag Record, then a record id whose varint length claims about 2^34 bytes.
    let bytes = [6u8, 0, 0x80, 0x80, 0x80, 0x80, 0x7F];
    assert!(matches!(
        decode(&bytes, BIG),
        Err(DecodeError::Malformed(_))
    ));
    // A version-6 status whose last-error string claims more bytes than the payload holds.
    let mut status = encode_as(6, &samples::all()[1].1, BIG).unwrap();
    let error = b"broker unreachable";
    let at = status
        .windows(error.len())
        .position(|w| w == error)
        .unwrap()
        - 1;
    status[at] = 0x7F;
    assert!(decode(&status, BIG).is_err());
}

/// A version-6 record of the samples as it would be with an embedding of four values. It
/// differs from the golden record only in the embedding's length prefix (4, not 128) and the
/// missing zeros: the encoding is the same, the length is refused where the record is decoded.
const SHORT_EMBEDDING_RECORD_V6: &str = "0600100101010101010101010101010101010110020202020202020202020202020202020342313280f8b2e5bd6812726574696e61666163652d646c69622d763107040000003f000080be0000803f000000000210030303030303030303030303030303030000c03e10040404040404040404040404040404040000003f010104ffd8ffd9000040420000f142a4707d3f000080c00302010001000000803e";

#[test]
fn an_embedding_of_another_length_is_refused_on_decoding_saying_so() {
    let bytes = hex::decode(SHORT_EMBEDDING_RECORD_V6).unwrap();
    let err = decode(&bytes, BIG).unwrap_err();
    assert_eq!(
        err.to_string(),
        "message breaks a rule: embedding has 4 values, expected 128"
    );
}
