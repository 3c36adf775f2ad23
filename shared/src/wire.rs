//! The envelope every MQTT payload travels in, and the only functions that turn messages into
//! bytes and back.
//!
//! Encoding is postcard: compact, deterministic, not self-describing. The envelope's first
//! field is the protocol version, read before anything else, so a version this build does not
//! know is refused with a clear error instead of being misread. Sizes are checked before
//! decoding; decoded messages are validated before they are returned. Decoding never panics
//! (fuzzed and property-tested).
//!
//! A build reads and writes its own version and the one before ([`OLDEST_VERSION`]): the hub
//! is upgraded first and answers each door unit in the version it spoke, then the door units
//! one by one (`docs/PROTOCOL.md`). Frozen older versions live in their own module ([`v6`]).

use serde::{Deserialize, Serialize};

use crate::invalid::{self, Invalid};
use crate::message::Message;

mod v6;

/// The protocol version this build writes by default.
pub const PROTOCOL_VERSION: u16 = 7;
/// The oldest version this build still reads and can write.
pub const OLDEST_VERSION: u16 = 6;

/// A message together with the protocol version it was written in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Envelope {
    pub version: u16,
    pub message: Message,
}

/// Size limits for one direction of traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
}

impl Limits {
    /// What a hub accepts from a device: records (≤ 24 KiB thumbnail), status, requests.
    pub const FROM_DEVICE: Limits = Limits {
        max_bytes: 64 * 1024,
    };
    /// What a device accepts from the hub: a full gallery snapshot can be tens of MiB.
    pub const FROM_HUB: Limits = Limits {
        max_bytes: 48 * 1024 * 1024,
    };
}

/// Why bytes could not be read as a message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("payload is {len} bytes, the limit is {max}")]
    TooLarge { len: usize, max: usize },
    #[error("payload is empty")]
    Empty,
    #[error(
        "protocol version {got} is not supported (this build speaks {OLDEST_VERSION} to {supported})"
    )]
    UnsupportedVersion { got: u16, supported: u16 },
    #[error("payload is not a valid message: {0}")]
    Malformed(String),
    #[error("payload has {0} unread bytes after the message")]
    TrailingBytes(usize),
    #[error("message breaks a rule: {0}")]
    Invalid(#[from] Invalid),
}

/// Why a message could not be encoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    #[error("message breaks a rule: {0}")]
    Invalid(#[from] Invalid),
    #[error("encoded message is {len} bytes, the limit is {max}")]
    TooLarge { len: usize, max: usize },
    #[error("serialisation failed: {0}")]
    Serialize(String),
    #[error(
        "protocol version {0} cannot be written (this build writes {OLDEST_VERSION} to {PROTOCOL_VERSION})"
    )]
    UnsupportedVersion(u16),
    #[error("this {0} message carries members of staff, which protocol version {1} does not know")]
    NotInVersion(&'static str, u16),
}

/// Encodes `message` in the current protocol version, after validating it.
pub fn encode(message: &Message, limits: Limits) -> Result<Vec<u8>, EncodeError> {
    encode_as(PROTOCOL_VERSION, message, limits)
}

/// Encodes `message` in protocol `version` (for a peer that speaks an older one), after
/// validating it. What that version cannot carry is left out.
pub fn encode_as(version: u16, message: &Message, limits: Limits) -> Result<Vec<u8>, EncodeError> {
    message.validate()?;
    let bytes = match version {
        OLDEST_VERSION => to_bytes(&EnvelopeRef {
            version,
            message: &v6::MessageV6Ref::of(message)
                .ok_or(EncodeError::NotInVersion(message.kind(), version))?,
        }),
        PROTOCOL_VERSION => to_bytes(&EnvelopeRef { version, message }),
        other => return Err(EncodeError::UnsupportedVersion(other)),
    }?;
    if bytes.len() > limits.max_bytes {
        return Err(EncodeError::TooLarge {
            len: bytes.len(),
            max: limits.max_bytes,
        });
    }
    Ok(bytes)
}

fn to_bytes(envelope: &impl Serialize) -> Result<Vec<u8>, EncodeError> {
    postcard::to_stdvec(envelope).map_err(|e| EncodeError::Serialize(e.to_string()))
}

/// Decodes and validates one message, of any version this build reads.
pub fn decode(bytes: &[u8], limits: Limits) -> Result<Message, DecodeError> {
    decode_envelope(bytes, limits).map(|e| e.message)
}

/// Decodes and validates one message, with the version it was written in (which is the
/// version to answer in).
pub fn decode_envelope(bytes: &[u8], limits: Limits) -> Result<Envelope, DecodeError> {
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: limits.max_bytes,
        });
    }
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let (version, body) = postcard::take_from_bytes::<u16>(bytes)
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let (message, rest) = match version {
        OLDEST_VERSION => take::<v6::MessageV6>(body).map(|(m, rest)| (Message::from(m), rest))?,
        PROTOCOL_VERSION => take::<Message>(body)?,
        got => {
            return Err(DecodeError::UnsupportedVersion {
                got,
                supported: PROTOCOL_VERSION,
            });
        }
    };
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes(rest.len()));
    }
    message.validate()?;
    Ok(Envelope { version, message })
}

fn take<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<(T, &'a [u8]), DecodeError> {
    invalid::take_refusal();
    postcard::take_from_bytes(bytes).map_err(|e| match invalid::take_refusal() {
        Some(reason) => DecodeError::Invalid(Invalid::new(reason)),
        None => DecodeError::Malformed(e.to_string()),
    })
}

/// Borrowing twin of [`Envelope`], so encoding does not clone the message.
#[derive(Serialize)]
struct EnvelopeRef<'a, M> {
    version: u16,
    message: &'a M,
}
