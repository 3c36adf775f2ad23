//! Who is calling and what they may do for themselves: signing in (password, refresh,
//! sign-out, the school's own accounts by OpenID Connect), staff accounts and invitations, a
//! user's own settings, and a student's own account.

pub(super) mod account;
pub(super) mod auth;
pub(super) mod invitations;
pub(super) mod me;
pub(super) mod oidc;
pub(super) mod users;
