//! Servers the hub's tests talk to that are not the hub.

pub mod oidc;
pub mod smtp;
