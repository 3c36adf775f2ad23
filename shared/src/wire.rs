//! The envelope every MQTT payload travels in, and the only functions that turn messages into
//! bytes and back.
//!
//! Encoding is postcard: compact, deterministic, not self-describing. The envelope's first
//! field is the protocol version, read before anything else, so a future version is refused
//! with a clear error instead of being misread. Sizes are checked before decoding; decoded
//! messages are validated before they are returned. Decoding never panics (fuzzed and
//! property-tested).

use serde::{Deserialize, Serialize};

use crate::message::Message;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u16 = 1;

/// A message together with the protocol version it was written in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Envelope {
    pub version: u16,
    pub message: Message,
}

/// A message that breaks a limit or an invariant; says which.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(String);

impl Invalid {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
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
    #[error("protocol version {got} is not supported (this build speaks {supported})")]
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
}

/// Encodes `message` in the current protocol version, after validating it.
pub fn encode(message: &Message, limits: Limits) -> Result<Vec<u8>, EncodeError> {
    message.validate()?;
    let envelope = EnvelopeRef {
        version: PROTOCOL_VERSION,
        message,
    };
    let bytes =
        postcard::to_stdvec(&envelope).map_err(|e| EncodeError::Serialize(e.to_string()))?;
    if bytes.len() > limits.max_bytes {
        return Err(EncodeError::TooLarge {
            len: bytes.len(),
            max: limits.max_bytes,
        });
    }
    Ok(bytes)
}

/// Decodes and validates one message.
pub fn decode(bytes: &[u8], limits: Limits) -> Result<Message, DecodeError> {
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: limits.max_bytes,
        });
    }
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let (version, _) = postcard::take_from_bytes::<u16>(bytes)
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if version != PROTOCOL_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            got: version,
            supported: PROTOCOL_VERSION,
        });
    }
    let (envelope, rest) = postcard::take_from_bytes::<Envelope>(bytes)
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes(rest.len()));
    }
    envelope.message.validate()?;
    Ok(envelope.message)
}

/// Borrowing twin of [`Envelope`], so encoding does not clone the message.
#[derive(Serialize)]
struct EnvelopeRef<'a> {
    version: u16,
    message: &'a Message,
}
