//! Servers the hub's tests talk to that are not the hub, and a school set up to use them.

pub mod families;
pub mod oidc;
pub mod smtp;
pub mod sweep;
