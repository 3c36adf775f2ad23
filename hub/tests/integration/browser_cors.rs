//! A school's own front end calling the API from another site, in a real headless Chromium:
//! a page served at an origin listed in `[http] cors_origins` reads a teacher's classes and
//! makes one (a request the browser preflights), and can read the request's id; the same page
//! at an origin not listed gets nothing, and its change never reaches the hub. The hub's own
//! pages go on working with the list set (their POSTs carry an `Origin` too).

use std::net::SocketAddr;

use serde_json::{Value, json};
use warp::Filter as _;

use crate::chrome::Browser;
use crate::common::*;

/// A site of the school's own on `127.0.0.1` (a port of its own, so another origin than the
/// hub's); `localhost` at the same port is yet another origin.
async fn portal() -> SocketAddr {
    let page = warp::any().map(|| warp::reply::html("<!doctype html><title>Portal</title>"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(page).incoming(listener).run());
    addr
}

/// Calls the hub from the page open in `b` and waits for what came of it: the answer's status,
/// JSON and request id, or the error the browser gave the page.
async fn call_from_page(b: &Browser, url: &str, token: &str, body: Option<Value>) -> Value {
    b.js(
        "const [url, token, body] = arguments;
         window.outcome = null;
         const init = { headers: { Authorization: 'Bearer ' + token } };
         if (body) {
           init.method = 'POST';
           init.headers['Content-Type'] = 'application/json';
           init.body = JSON.stringify(body);
         }
         fetch(url, init)
           .then(async r => window.outcome = {
             status: r.status, json: await r.json(), id: r.headers.get('x-request-id') })
           .catch(e => window.outcome = { error: String(e) });
         return true;",
        vec![json!(url), json!(token), body.unwrap_or(Value::Null)],
    )
    .await;
    b.wait("the call from the page", "return window.outcome;", vec![])
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listed_sites_pages_call_the_api_and_any_other_sites_get_nothing() {
    let portal = portal().await;
    let listed = format!("http://127.0.0.1:{}", portal.port());
    let allowed = listed.clone();
    let hub = start_hub_with(None, move |c| c.http.cors_origins = vec![allowed]).await;
    let admin = hub.admin().await;
    admin.created("/classes", json!({"name": "7C Maths"})).await;
    let token = admin.token.clone().unwrap();
    let api = format!("http://{}/api/v1", hub.addr);
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;

    b.client.goto(&format!("{listed}/")).await.unwrap();
    let classes = format!("{api}/classes");
    let read = call_from_page(&b, &classes, &token, None).await;
    assert_eq!(read["status"], 200, "{read}");
    assert_eq!(read["json"][0]["name"], "7C Maths", "{read}");
    assert_eq!(
        read["id"].as_str().map(str::len),
        Some(32),
        "the id is readable: {read}"
    );
    let made = call_from_page(&b, &classes, &token, Some(json!({"name": "8A"}))).await;
    assert_eq!(
        made["status"], 201,
        "a preflighted POST from a listed site: {made}"
    );

    let stranger = format!("http://localhost:{}", portal.port());
    b.client.goto(&format!("{stranger}/")).await.unwrap();
    let read = call_from_page(&b, &classes, &token, None).await;
    assert!(
        read["error"]
            .as_str()
            .is_some_and(|e| e.contains("Failed to fetch")),
        "the browser keeps the answer from a site not listed: {read}"
    );
    let made = call_from_page(&b, &classes, &token, Some(json!({"name": "9Z"}))).await;
    assert!(made["error"].is_string(), "{made}");
    let (_, classes) = admin.get("/classes").await;
    let names: Vec<_> = classes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        ["7C Maths", "8A"],
        "the refused preflight stopped the POST"
    );

    // The hub's own pages still post (their requests name the hub's origin).
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.assert_no_page_errors("signing in with cors_origins set")
        .await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_list_no_other_site_reads_the_api() {
    let portal = portal().await;
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let token = admin.token.clone().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.client
        .goto(&format!("http://127.0.0.1:{}/", portal.port()))
        .await
        .unwrap();
    let api = format!("http://{}/api/v1", hub.addr);
    let read = call_from_page(&b, &format!("{api}/classes"), &token, None).await;
    assert!(read["error"].is_string(), "CORS is off by default: {read}");
    hub.stop().await;
}
