//! Who is on site now: the on-site list, the emergency roll call, visitors at reception.

pub(super) mod on_site;
pub(super) mod roll_call;
pub(super) mod visitors;
