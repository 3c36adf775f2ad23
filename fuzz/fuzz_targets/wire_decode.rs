//! The wire decoder on hostile bytes: every payload the hub or a door unit reads off MQTT.
//!
//! The hub decodes what devices publish (records, status, last wills, gallery requests) with
//! `Limits::FROM_DEVICE`; a door unit decodes what the hub publishes (acks, gallery updates,
//! commands) and its own stored gallery snapshot with `Limits::FROM_HUB`. Both go through
//! `rollcall_shared::decode_envelope` (versions 1 and 2) into the one `Message` enum, so one
//! target covers every type and version.
//!
//! For any bytes, under either limit: decoding returns `Ok` or `Err`, never panics; whatever
//! decodes is valid, re-encodes in its version within the same limit in no more bytes, and
//! decodes back to the same value; a gallery update that decodes is applied as a door unit
//! would, without panicking. A length prefix is never believed: what decoding allocates is bounded by the
//! bytes that arrived, not by what they claim.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rollcall_fuzz::{Counting, Usage, measure};
use rollcall_shared::{Envelope, GalleryState, Limits, decode, decode_envelope, encode_as};

#[global_allocator]
static ALLOC: Counting = Counting;

fuzz_target!(|data: &[u8]| {
    for limits in [Limits::FROM_DEVICE, Limits::FROM_HUB] {
        let (decoded, usage) = measure(|| decode_envelope(data, limits));
        check_allocation(usage, data.len());
        if let Ok(envelope) = decoded {
            round_trip(&envelope, data.len(), limits);
            if let rollcall_shared::Message::Gallery(update) = &envelope.message {
                let _ = GalleryState::empty(update.model.clone()).apply(update);
            }
        }
    }
});

/// serde preallocates at most 1 MiB for a sequence whatever its length prefix claims; beyond
/// that, every decoded value took input bytes: at most 24 bytes in memory per byte read (an
/// empty string is one byte on the wire), twice that while a `Vec` grows. The bounds
/// leave room for nested sequences and error messages.
fn check_allocation(usage: Usage, input_len: usize) {
    const PREALLOC: usize = 1 << 20;
    assert!(
        usage.largest <= PREALLOC + 64 * input_len,
        "one allocation of {} bytes for a {input_len}-byte payload",
        usage.largest
    );
    assert!(
        usage.peak <= 8 * PREALLOC + 256 * input_len,
        "{} bytes live at once for a {input_len}-byte payload",
        usage.peak
    );
}

/// Whatever decodes re-encodes in its version, no larger (postcard's encoding is minimal), to
/// the same value.
fn round_trip(envelope: &Envelope, input_len: usize, limits: Limits) {
    let message = &envelope.message;
    assert_eq!(
        message.validate(),
        Ok(()),
        "decode returned an invalid message"
    );
    let bytes = match encode_as(envelope.version, message, limits) {
        Ok(bytes) => bytes,
        Err(e) => panic!("a decoded {} does not re-encode: {e}", message.kind()),
    };
    assert!(bytes.len() <= input_len, "re-encoding grew the message");
    assert_eq!(decode(&bytes, limits).as_ref(), Ok(message));
}
