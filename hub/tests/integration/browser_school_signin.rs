//! Signing in with the school's accounts, end to end: a real OpenID provider (panva's
//! oidc-provider under node, requiring PKCE), a real hub and a real headless Chromium. A
//! teacher who has no Rollcall password signs in with their school account and keeps the role
//! Rollcall gave them; an address no user has, an unverified one, a forged return and a
//! provider that answers garbage or nothing each end on the sign-in page with the reason; and
//! with passwords switched off only the school's accounts sign in.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::StatusCode;
use rollcall_e2e::free_port;
use rollcall_hub::config::{Config, OidcConfig};
use serde_json::{Value, json};

use crate::chrome::Browser;
use crate::common::*;
use crate::support::oidc::{CLIENT_ID, CLIENT_SECRET, OpenIdProvider};

/// The hub's `[auth.oidc]` for a provider at `issuer`, the client secret in `dir`.
fn school_signin(config: &mut Config, issuer: &str, dir: &std::path::Path) {
    let secret = dir.join("oidc-client-secret");
    std::fs::write(&secret, format!("{CLIENT_SECRET}\n")).unwrap();
    config.auth.oidc = Some(OidcConfig {
        issuer: issuer.to_owned(),
        client_id: CLIENT_ID.into(),
        client_secret_file: Some(secret),
        hub_url: format!("http://{}", config.http.listen),
        name: "Springfield School".into(),
        email_claim: "email".into(),
    });
}

/// Goes through the provider's sign-in as `login` (any password) and its consent page.
async fn at_the_provider(b: &Browser, login: &str) {
    b.type_into("input[name=login]", login).await;
    b.type_into("input[name=password]", "anything").await;
    b.click("button.login-submit").await;
    // The consent page has the same button: wait for the sign-in form to be gone first, or
    // the click may find the old page's button just as it goes.
    let consent_page = "return !document.querySelector('input[name=login]') \
        && !!document.querySelector('button.login-submit');";
    b.wait("the provider's consent page", consent_page, vec![])
        .await;
    b.click("button.login-submit").await; // "Continue": consent to the hub's request
}

/// In a new browser, signs in at the provider as `login`, and returns the browser and the
/// reason the sign-in page gives for not letting them in.
async fn refused(hub: &TestHub, downloads: &std::path::Path, login: &str) -> (Browser, String) {
    let b = Browser::start(&format!("http://{}", hub.addr), downloads).await;
    b.open("/").await;
    b.click("#school-signin").await;
    at_the_provider(&b, login).await;
    let said = signin_error(&b).await;
    (b, said)
}

async fn signin_error(b: &Browser) -> String {
    let script = "const e = document.getElementById('signin-error'); \
        return e && e.textContent.length > 0 && e.textContent;";
    let said = b.wait("the sign-in page's error", script, vec![]).await;
    said.as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn teachers_sign_in_with_the_school_account_and_every_failure_says_why() {
    let secrets = tempfile::tempdir().unwrap();
    let provider_port = free_port().unwrap();
    let issuer = OpenIdProvider::issuer_on(provider_port);
    let hub = start_hub_with(None, |c| school_signin(c, &issuer, secrets.path())).await;
    let redirect = format!("http://{}/api/v1/auth/oidc/callback", hub.addr);
    // The address only at the userinfo endpoint, as the standard has it.
    let _provider = OpenIdProvider::start(provider_port, &redirect, false).await;
    let admin = hub.admin().await;

    // A teacher with no Rollcall password: only the school's account signs them in.
    let tess = admin
        .created(
            "/users",
            json!({"username": "tess", "role": "teacher", "email": "tess@school.test"}),
        )
        .await;
    assert_eq!(tess["role"], "teacher");
    let methods = hub.api().get("/auth/methods").await.1;
    assert_eq!(
        methods,
        json!({"passwords": true, "school_account": {
            "name": "Springfield School", "start": "/api/v1/auth/oidc/start"}})
    );

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.visible("#school-signin").await;
    b.visible("form.signin input[name=password]").await;
    assert_eq!(
        b.text("#school-signin").await,
        "Sign in with Springfield School"
    );
    b.assert_accessible("signin").await;

    // Tess signs in; the address is matched whatever its case, the role is Rollcall's.
    b.click("#school-signin").await;
    at_the_provider(&b, "Tess@School.test").await;
    b.visible("#nav").await;
    assert_eq!(b.text("#who").await, "tess (teacher)");
    let address = b.js("return location.hash;", vec![]).await;
    assert!(
        !address.as_str().unwrap().contains("done"),
        "the hand-off token left the address bar: {address}"
    );
    let kept = b
        .js(
            "return JSON.parse(sessionStorage.getItem('rollcall.tokens'));",
            vec![],
        )
        .await;
    let access = kept["access"].as_str().unwrap();
    let me = hub.api().with_token(access).get("/auth/me").await;
    assert_eq!((me.0, &me.1["username"]), (StatusCode::OK, &json!("tess")));
    assert_eq!(me.1["role"], "teacher", "roles stay Rollcall's");
    let admin_only = hub.api().with_token(access).get("/users").await.0;
    assert_eq!(admin_only, StatusCode::FORBIDDEN);

    // Signed out of Rollcall, still signed in at the provider: the button signs them
    // straight back in (single sign-on), in a new sign-in.
    b.click("#sign-out").await;
    b.visible("#school-signin").await;
    b.click("#school-signin").await;
    b.visible("#nav").await;
    assert_eq!(b.text("#who").await, "tess (teacher)");
    let old = hub.api().with_token(access).get("/auth/me").await.0;
    assert_eq!(
        old,
        StatusCode::UNAUTHORIZED,
        "signing out ended the first sign-in"
    );

    // A new browser: nobody@ has no Rollcall user.
    drop(b);
    let (b, said) = refused(&hub, downloads.path(), "nobody@school.test").await;
    assert!(
        said.contains("no enabled Rollcall user has the e-mail address nobody@school.test"),
        "{said}"
    );
    assert_eq!(b.text("#who").await, "");
    b.assert_accessible("signin with an error").await;
    drop(b);

    // An address the provider says is unverified signs nobody in, even one a user has.
    admin
        .created(
            "/users",
            json!({"username": "una", "role": "admin", "email": "unverified@school.test"}),
        )
        .await;
    let (_, said) = refused(&hub, downloads.path(), "unverified@school.test").await;
    assert!(said.contains("is not verified"), "{said}");

    // A disabled user does not sign in with the school account either.
    let id = tess["id"].as_str().unwrap();
    let patch = json!({"disabled": true});
    let patched = admin
        .send(reqwest::Method::PATCH, &format!("/users/{id}"), Some(patch))
        .await;
    assert_eq!(patched.0, StatusCode::OK, "{}", patched.1);
    let (_, said) = refused(&hub, downloads.path(), "tess@school.test").await;
    assert!(said.contains("no enabled Rollcall user"), "{said}");

    // A return the hub did not start (no flow cookie, or another state) signs nobody in.
    let (status, location) =
        redirect_of(&hub, "/auth/oidc/callback?code=stolen&state=forged", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.contains("#/oidc/error/"), "{location}");
    assert!(
        location.contains("not%20started%20in%20this%20browser"),
        "{location}"
    );
    let cookie = started_flow(&hub).await;
    let (_, location) = redirect_of(
        &hub,
        "/auth/oidc/callback?code=stolen&state=forged",
        Some(&cookie),
    )
    .await;
    assert!(
        location.contains("not%20started%20in%20this%20browser"),
        "{location}"
    );
    let (_, location) = redirect_of(
        &hub,
        "/auth/oidc/callback?error=access_denied&error_description=cancelled",
        Some(&cookie),
    )
    .await;
    let said = percent_decoded(&location);
    assert!(
        said.contains("did not sign you in: access_denied (cancelled)"),
        "{said}"
    );
    hub.stop().await;
}

/// Starts a flow as a browser would: the `Set-Cookie` it gets, as a `Cookie` header.
async fn started_flow(hub: &TestHub) -> String {
    let response = no_redirects()
        .get(format!("http://{}/api/v1/auth/oidc/start", hub.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let set = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Max-Age=600"),
        "{set}"
    );
    let to = response.headers()["location"].to_str().unwrap();
    for part in [
        "code_challenge_method=S256",
        "code_challenge=",
        "nonce=",
        "state=",
    ] {
        assert!(
            to.contains(part),
            "the authorization request lacks {part}: {to}"
        );
    }
    set.split(';').next().unwrap().to_owned()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The status and `Location` of `GET /api/v1{path}`, sent with `cookie`.
async fn redirect_of(hub: &TestHub, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let mut request = no_redirects().get(format!("http://{}/api/v1{path}", hub.addr));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status(), location)
}

/// A server that answers every request with `answer` (raw HTTP), on a thread; its port, and
/// how many requests it has had.
fn answering(answer: &'static str) -> (u16, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked = Arc::new(AtomicUsize::new(0));
    let count = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (port, asked)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_that_answers_garbage_or_nothing_is_named_and_the_hub_serves_on() {
    let secrets = tempfile::tempdir().unwrap();
    let (garbage, asked) = answering(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 22\r\nconnection: close\r\n\r\n<html>maintenance</html>",
    );
    let issuer = format!("http://127.0.0.1:{garbage}");
    let hub = start_hub_with(None, |c| school_signin(c, &issuer, secrets.path())).await;
    let (status, location) = redirect_of(&hub, "/auth/oidc/start", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let said = percent_decoded(&location);
    assert!(
        said.contains("answered the discovery request with something unusable")
            && said.contains("not the JSON expected"),
        "{said}"
    );
    assert!(
        said.starts_with(&format!("http://{}/#/oidc/error/", hub.addr)),
        "{said}"
    );
    // Asked again at once, the hub answers the same without asking the provider again.
    let (_, again) = redirect_of(&hub, "/auth/oidc/start", None).await;
    assert_eq!(percent_decoded(&again), said);
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "discovery was asked for once"
    );
    assert_eq!(hub.api().get("/health").await.0, StatusCode::OK);
    hub.stop().await;

    let nothing = free_port().unwrap();
    let issuer = format!("http://127.0.0.1:{nothing}");
    let hub = start_hub_with(None, |c| school_signin(c, &issuer, secrets.path())).await;
    let (_, location) = redirect_of(&hub, "/auth/oidc/start", None).await;
    let said = percent_decoded(&location);
    assert!(said.contains("could not be reached"), "{said}");
    assert_eq!(
        hub.admin().await.get("/users").await.0,
        StatusCode::OK,
        "passwords still work"
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_passwords_off_only_the_school_account_signs_in() {
    let secrets = tempfile::tempdir().unwrap();
    let provider_port = free_port().unwrap();
    let issuer = OpenIdProvider::issuer_on(provider_port);
    let hub = start_hub_with(None, |c| school_signin(c, &issuer, secrets.path())).await;
    let patch = json!({"email": "head@school.test"});
    let path = format!("/users/{}", admin_id(&hub).await);
    let patched = hub
        .admin()
        .await
        .send(reqwest::Method::PATCH, &path, Some(patch))
        .await;
    assert_eq!(patched.0, StatusCode::OK, "{}", patched.1);
    let hub = restart_hub_with(hub, |c| {
        school_signin(c, &issuer, secrets.path());
        c.auth.passwords = false;
    })
    .await;
    let redirect = format!("http://{}/api/v1/auth/oidc/callback", hub.addr);
    // The address in the ID token, as Entra ID and Google send it.
    let _provider = OpenIdProvider::start(provider_port, &redirect, true).await;

    let (status, body) = hub
        .api()
        .post(
            "/auth/login",
            json!({"username": ADMIN, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error"]["message"],
        "passwords are switched off on this hub: sign in with Springfield School"
    );
    assert_eq!(hub.api().get("/auth/methods").await.1["passwords"], false);

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.visible("#school-signin").await;
    let form = b
        .js(
            "return document.querySelector('form.signin') === null;",
            vec![],
        )
        .await;
    assert_eq!(form, json!(true), "no password form when passwords are off");
    b.click("#school-signin").await;
    at_the_provider(&b, "head@school.test").await;
    b.visible("#nav").await;
    assert_eq!(b.text("#who").await, format!("{ADMIN} (admin)"));
    b.click("#nav a[data-page=admin]").await;
    b.visible("li[data-user]").await;
    drop(b);
    hub.stop().await;
}

async fn admin_id(hub: &TestHub) -> String {
    let me: Value = hub.admin().await.get("/auth/me").await.1;
    me["user_id"].as_str().unwrap().to_owned()
}

fn percent_decoded(text: &str) -> String {
    form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A student whose account was opened by invitation, before choosing any password, signs in
/// with their school account and lands on their own attendance, nothing else.
#[tokio::test(flavor = "multi_thread")]
async fn an_invited_student_signs_in_with_the_school_account_to_their_own_page() {
    let secrets = tempfile::tempdir().unwrap();
    let provider_port = free_port().unwrap();
    let issuer = OpenIdProvider::issuer_on(provider_port);
    let hub = start_hub_with(None, |c| school_signin(c, &issuer, secrets.path())).await;
    let redirect = format!("http://{}/api/v1/auth/oidc/callback", hub.addr);
    let _provider = OpenIdProvider::start(provider_port, &redirect, false).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let ada = &s.students[0];
    let (status, out) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/students/{ada}"),
            Some(json!({"email": "ada@pupils.test"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let invited = admin
        .created("/invitations", json!({"role": "student", "student": ada}))
        .await;
    assert_eq!(invited["invitation"]["username"], "ada@pupils.test");

    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.click("#school-signin").await;
    at_the_provider(&b, "Ada@Pupils.test").await;
    b.visible("#nav").await;
    assert_eq!(b.text("#who").await, "ada@pupils.test (student)");
    let page = b
        .js(
            "return document.getElementById('main').dataset.page;",
            vec![],
        )
        .await;
    assert_eq!(page, json!("mine"), "a student lands on their own page");
    let kept = b
        .js(
            "return JSON.parse(sessionStorage.getItem('rollcall.tokens'));",
            vec![],
        )
        .await;
    let student = hub.api().with_token(kept["access"].as_str().unwrap());
    let (status, mine) = student.get("/me/student").await;
    assert_eq!(
        (status, &mine["student"]["name"]),
        (StatusCode::OK, &json!("Ada"))
    );
    let (status, _) = student.get(&format!("/students/{ada}")).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "not even their own staff record"
    );
    b.client.clone().close().await.unwrap();
}
