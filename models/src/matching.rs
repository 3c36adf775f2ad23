//! 1:N matching of an embedding against a gallery of enrolled students.
