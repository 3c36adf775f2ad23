//! Signing in with the school's accounts, as the browser goes through it (`auth::oidc` is
//! the protocol):
//!
//! 1. The sign-in page asks `GET /auth/methods` what this hub takes, and shows the button.
//! 2. `GET /auth/oidc/start`: a fresh flow in a cookie, and 303 to the provider.
//! 3. `GET /auth/oidc/callback?code=…&state=…`: the provider's answer redeemed for the person's
//!    address; the one enabled Rollcall user with it gets a sign-in, and the browser goes back to
//!    the pages with its refresh token in the fragment (`#/oidc/done/…`), which the page spends
//!    at once for its own pair, so the token in the address bar is dead before anyone could
//!    copy it. Whatever fails, the browser goes back to `#/oidc/error/…` with the reason, and
//!    the flow's cookie is cleared either way.

use std::fmt::Display;

use serde_json::json;

use crate::auth::oidc::{FLOW_COOKIE, FLOW_SECS, Flow, Oidc, OidcError};
use crate::auth::signin;
use crate::http::error::ApiError;
use crate::http::input::clip;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_store::users;

/// What this hub signs in with, for the sign-in page.
pub async fn methods(hub: &Hub, _req: &Request) -> Result<Reply, ApiError> {
    let school = hub
        .oidc
        .as_ref()
        .map(|o| json!({"name": o.config().name, "start": "/api/v1/auth/oidc/start"}));
    Reply::ok(json!({"passwords": hub.config.auth.passwords, "school_account": school}))
}

/// Sends the browser to the provider with a fresh flow.
pub async fn start(hub: &Hub, _req: &Request) -> Result<Reply, ApiError> {
    let oidc = configured(hub)?;
    let flow = Flow::new();
    Ok(match oidc.authorization_url(&flow).await {
        Ok(url) => Reply::Redirect {
            location: url,
            cookie: Some(cookie(oidc, &flow.to_cookie(), FLOW_SECS)),
        },
        Err(e) => {
            tracing::warn!("cannot start a sign-in with the school's account: {e}");
            back(oidc, Err(e.to_string()))
        }
    })
}

/// Takes the provider's answer and sends the browser back to the pages, signed in or told why
/// not.
pub async fn callback(hub: &Hub, req: &Request) -> Result<Reply, ApiError> {
    let oidc = configured(hub)?;
    let outcome = redeem(hub, oidc, req).await;
    if let Err(why) = &outcome {
        tracing::warn!("a sign-in with the school's account failed: {why}");
    }
    Ok(back(oidc, outcome))
}

/// The refresh token of a new sign-in for the user the provider's answer names, or what to
/// tell the person.
async fn redeem(hub: &Hub, oidc: &Oidc, req: &Request) -> Result<String, String> {
    let query = |key: &str| req.query.get(key).map(String::as_str);
    if let Some(error) = query("error") {
        let said = query("error_description").map_or(String::new(), |d| format!(" ({})", clip(d)));
        return Err(OidcError::Refused(format!("{}{said}", clip(error))).to_string());
    }
    let (Some(code), Some(state)) = (query("code"), query("state")) else {
        return Err("the school's sign-in sent you back without a code; start again".into());
    };
    let flow = req
        .cookie
        .as_deref()
        .and_then(Flow::from_cookies)
        .ok_or_else(|| OidcError::NotStartedHere.to_string())?;
    let who = oidc
        .redeem(&flow, code, state)
        .await
        .map_err(|e| e.to_string())?;
    let email = who.email.clone();
    let found = hub
        .read(move |sql| users::by_email(sql, &email))
        .await
        .map_err(internal)?;
    let enabled: Vec<_> = found.into_iter().filter(|u| !u.disabled).collect();
    let user = match enabled.as_slice() {
        [user] => user.clone(),
        [] => {
            return Err(format!(
                "no enabled Rollcall user has the e-mail address {}; an admin can add it to \
                 your account on the Users page",
                who.email
            ));
        }
        _ => {
            return Err(format!(
                "{} Rollcall users have the e-mail address {}; an admin must leave it on one \
                 only",
                enabled.len(),
                who.email
            ));
        }
    };
    let (id, life, now) = (user.id, hub.signins, hub.now());
    let issued = hub
        .write(move |tx| signin::start(tx, id, life, now))
        .await
        .map_err(internal)?;
    tracing::info!(user = %user.username, subject = %who.subject, "signed in with the school's account");
    Ok(issued.refresh_token)
}

fn configured(hub: &Hub) -> Result<&Oidc, ApiError> {
    hub.oidc
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("the school's sign-in ([auth.oidc])".into()))
}

/// 303 to the pages: signed in with `refresh_token`, or told what went wrong. The flow's
/// cookie is spent either way.
fn back(oidc: &Oidc, outcome: Result<String, String>) -> Reply {
    let pages = oidc.config().pages();
    let fragment = match outcome {
        Ok(refresh_token) => format!("done/{refresh_token}"),
        Err(why) => format!("error/{}", percent(&why)),
    };
    Reply::Redirect {
        location: format!("{pages}/#/oidc/{fragment}"),
        cookie: Some(cookie(oidc, "", 0)),
    }
}

/// The flow's cookie: only for the sign-in's own paths, never for scripts, sent on the
/// provider's redirect back (SameSite=Lax), over HTTPS only when the pages are.
fn cookie(oidc: &Oidc, value: &str, max_age: u32) -> String {
    let secure = if oidc.config().pages().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{FLOW_COOKIE}={value}; Path=/api/v1/auth/oidc; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    )
}

/// `text` for a URL's fragment, every reserved character escaped.
fn percent(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn internal(e: impl Display) -> String {
    tracing::error!("a sign-in with the school's account: {e}");
    "the hub could not record the sign-in; try again".into()
}
