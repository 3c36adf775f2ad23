//! Who is on site now: the on-site list, pupils missing from lessons, the emergency roll call,
//! visitors at reception, pupils signed out there and back in.

pub(super) mod missing;
pub(super) mod on_site;
pub(super) mod roll_call;
pub(super) mod sign_outs;
pub(super) mod visitors;
