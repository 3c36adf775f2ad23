//! Why a value refused to be what the wire says it is: [`Invalid`], below the wire format and
//! every message type, so each type's checks can say so without importing the format.

/// A message that breaks a limit or an invariant; says which.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(String);

impl Invalid {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

thread_local! {
    /// Why a value of this crate refused to decode: postcard keeps only "custom error", so the
    /// reason travels beside it to `wire::take`, which reports it.
    static REFUSAL: std::cell::Cell<Option<String>> = const { std::cell::Cell::new(None) };
}

/// A decoding error for `reason`, which `wire::decode` reports as `DecodeError::Invalid` (other
/// formats, such as JSON, carry it in the error itself).
pub(crate) fn refuse<E: serde::de::Error>(reason: impl std::fmt::Display) -> E {
    let reason = reason.to_string();
    let error = E::custom(&reason);
    REFUSAL.set(Some(reason));
    error
}

/// The reason [`refuse`] left for the decoder, taken (none since the last call: `None`).
pub(crate) fn take_refusal() -> Option<String> {
    REFUSAL.take()
}
