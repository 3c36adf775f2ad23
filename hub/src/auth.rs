//! Who is calling: the gate every password hash goes through, the signing key, access
//! tokens, sign-ins with their rotating refresh tokens, the failed-login limiter, each caller's
//! pace (`[http.limits]`), and signing
//! in with the school's accounts (`oidc`). Knows nothing of HTTP; `http::accounts::auth` turns headers
//! into a [`rollcall_school::principal::Principal`]. The password rule and its hashing are the
//! school's (`rollcall_school::accounts::password`).

pub mod hashing;
pub mod key;
pub mod limiter;
pub mod oidc;
pub mod pace;
pub mod signin;
pub mod tokens;
