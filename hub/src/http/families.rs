//! Families: guardians, a guardian's own account, what families are told the same morning
//! (notices) and in the school's words (messages), and the staff's e-mail digests.

pub(super) mod digest;
pub(super) mod family;
pub(super) mod family_messages;
pub(super) mod guardians;
pub(super) mod notices;
