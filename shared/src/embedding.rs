//! The face embedding: one type, one dimension, from the embedder to the matcher, over the
//! wire, into both stores.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::invalid::{Invalid, refuse};

/// Length of every face embedding in the system: the dlib ResNet's descriptor.
pub const EMBEDDING_DIM: usize = 128;

/// A face descriptor. Euclidean distances between descriptors of the same model are meaningful.
///
/// In memory a fixed array (what the matcher's kernels take); on the wire a length-prefixed
/// sequence, byte for byte what it was as a `Vec<f32>`, and decoding refuses any other length.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[repr(transparent)]
pub struct Embedding(pub [f32; EMBEDDING_DIM]);

/// Values that are not one embedding long.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("embedding has {0} values, expected {EMBEDDING_DIM}")]
pub struct WrongLength(pub usize);

/// Euclidean distance between two face descriptors: the one measure of how alike two faces
/// are, on the door, on the hub and in the tools. Descriptors of different lengths (another
/// model) or with a value that is not finite are infinitely apart, so they never match.
pub fn distance(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return f32::INFINITY;
    }
    let d = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt();
    if d.is_finite() { d } else { f32::INFINITY }
}

impl Embedding {
    /// All zeros.
    pub const ZERO: Embedding = Embedding([0.0; EMBEDDING_DIM]);

    /// [`distance`] to `other`.
    pub fn distance(&self, other: &Embedding) -> f32 {
        distance(self, other)
    }

    /// Refuses NaN and infinite values (the length is the type's).
    pub fn validate(&self) -> Result<(), Invalid> {
        if !self.0.iter().all(|v| v.is_finite()) {
            return Err(Invalid::new("embedding holds a NaN or infinite value"));
        }
        Ok(())
    }
}

impl Default for Embedding {
    fn default() -> Self {
        Self::ZERO
    }
}

impl fmt::Debug for Embedding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Embedding").field(&&self.0[..]).finish()
    }
}

impl Deref for Embedding {
    type Target = [f32];

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Embedding {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl IntoIterator for Embedding {
    type Item = f32;
    type IntoIter = std::array::IntoIter<f32, EMBEDDING_DIM>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Embedding {
    type Item = &'a f32;
    type IntoIter = std::slice::Iter<'a, f32>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl From<[f32; EMBEDDING_DIM]> for Embedding {
    fn from(values: [f32; EMBEDDING_DIM]) -> Self {
        Self(values)
    }
}

impl TryFrom<&[f32]> for Embedding {
    type Error = WrongLength;

    fn try_from(values: &[f32]) -> Result<Self, WrongLength> {
        <[f32; EMBEDDING_DIM]>::try_from(values)
            .map(Self)
            .map_err(|_| WrongLength(values.len()))
    }
}

impl TryFrom<Vec<f32>> for Embedding {
    type Error = WrongLength;

    fn try_from(values: Vec<f32>) -> Result<Self, WrongLength> {
        Self::try_from(values.as_slice())
    }
}

impl Serialize for Embedding {
    /// As a sequence with its length, like the `Vec<f32>` it used to be.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(EMBEDDING_DIM))?;
        for v in &self.0 {
            seq.serialize_element(v)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Embedding {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(EmbeddingVisitor)
    }
}

struct EmbeddingVisitor;

impl<'de> Visitor<'de> for EmbeddingVisitor {
    type Value = Embedding;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an embedding of {EMBEDDING_DIM} values")
    }

    /// Reads exactly [`EMBEDDING_DIM`] values; a shorter or longer sequence is an error that
    /// names its length (when the format tells it).
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Embedding, A::Error> {
        if let Some(n) = seq.size_hint().filter(|&n| n != EMBEDDING_DIM) {
            return Err(refuse(WrongLength(n)));
        }
        let mut values = [0.0; EMBEDDING_DIM];
        for (i, v) in values.iter_mut().enumerate() {
            *v = seq.next_element()?.ok_or_else(|| refuse(WrongLength(i)))?;
        }
        if seq.next_element::<f32>()?.is_some() {
            return Err(refuse(WrongLength(EMBEDDING_DIM + 1)));
        }
        Ok(Embedding(values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting(n: usize) -> Vec<f32> {
        (0..n).map(|i| i as f32 / 8.0).collect()
    }

    #[test]
    fn the_wire_form_is_the_length_prefixed_sequence_it_always_was() {
        let values = counting(EMBEDDING_DIM);
        let embedding = Embedding::try_from(values.clone()).unwrap();
        let bytes = postcard::to_stdvec(&embedding).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&values).unwrap());
        assert_eq!(&bytes[..2], [0x80, 0x01], "varint 128, then the floats");
        assert_eq!(
            postcard::from_bytes::<Embedding>(&bytes).unwrap(),
            embedding
        );
    }

    #[test]
    fn any_other_length_is_refused_where_it_is_decoded_naming_it() {
        for n in [0, 1, 4, EMBEDDING_DIM - 1, EMBEDDING_DIM + 1, 512] {
            let bytes = postcard::to_stdvec(&counting(n)).unwrap();
            assert!(postcard::from_bytes::<Embedding>(&bytes).is_err(), "{n}");
            assert_eq!(Embedding::try_from(counting(n)), Err(WrongLength(n)), "{n}");
        }
        assert_eq!(
            WrongLength(4).to_string(),
            "embedding has 4 values, expected 128"
        );
    }

    #[test]
    fn non_finite_values_are_invalid() {
        let mut e = Embedding::ZERO;
        assert_eq!(e.validate(), Ok(()));
        e[3] = f32::NAN;
        assert!(e.validate().is_err());
    }
}
