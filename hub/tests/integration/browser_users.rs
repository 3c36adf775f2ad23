//! The users page, the password page and the Sign out button in a real headless Chromium
//! against a real hub: an admin disables a teacher (whose live token stops working at once),
//! resets their password, enables them again and deletes them; Sign out ends the sign-in at
//! the hub, not only in the tab; a user changes their own password.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::chrome::Browser;
use crate::common::*;

async fn go(b: &Browser, page: &str) {
    b.click(&format!("#nav a[data-page={page}]")).await;
    let shown = "return document.getElementById('main').dataset.page === arguments[0];";
    b.wait(&format!("the {page} page"), shown, vec![json!(page)])
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_manages_users_and_signing_out_ends_the_sign_in() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    admin
        .created(
            "/users",
            json!({"username": "tess", "role": "teacher", "password": "teacher password"}),
        )
        .await;
    let tess = hub.api().login("tess", "teacher password").await;
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    go(&b, "admin").await;
    let row = "li[data-user=tess]";
    b.visible(row).await;
    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll("admin").await;
    b.assert_accessible("admin").await;
    b.viewport(1280, 900).await;
    b.assert_accessible("admin").await;

    // The address for the e-mail digest is shown and edited in the row.
    b.type_into(&format!("{row} input[name=email]"), "tess@school.test")
        .await;
    b.click(&format!("{row} form button[type=submit]")).await;
    b.said("Saved tess").await;
    let (_, users) = admin.get("/users").await;
    assert!(
        users.to_string().contains("\"email\":\"tess@school.test\""),
        "{users}"
    );
    b.wait(
        "the address in tess's row",
        "return document.querySelector('li[data-user=tess] strong').textContent.includes('tess@school.test');",
        vec![],
    )
    .await;

    // Without [email] the test button says what is missing.
    b.click("button.email-test").await;
    b.said("e-mail is not set up").await;

    b.click(&format!("{row} button.toggle")).await;
    b.said("Disabled tess").await;
    b.text_with(row, &["disabled"]).await;
    assert_eq!(tess.get("/auth/me").await.0, StatusCode::UNAUTHORIZED);

    b.type_into(
        &format!("{row} input[name=new_password]"),
        "reset in the browser",
    )
    .await;
    b.click(&format!("{row} button.reset")).await;
    b.said("New password set for tess").await;
    b.click(&format!("{row} button.toggle")).await;
    b.said("Enabled tess").await;
    hub.api().login("tess", "reset in the browser").await;

    b.click(&format!("{row} button.danger")).await;
    b.click("#confirm-ok").await;
    b.said("Deleted tess").await;
    let gone = "return document.querySelector('li[data-user=tess]') === null;";
    b.wait("tess gone from the list", gone, vec![]).await;

    let stored = "return JSON.parse(sessionStorage.getItem('rollcall.tokens')).refresh;";
    let refresh = b.js(stored, vec![]).await;
    b.click("#sign-out").await;
    b.visible("form.signin").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _) = hub
            .api()
            .post("/auth/refresh", json!({"refresh_token": refresh}))
            .await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Sign out did not end the sign-in"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    b.sign_in(ADMIN, PASSWORD).await;
    go(&b, "account").await;
    b.type_into("input[name=old_password]", PASSWORD).await;
    b.type_into("input[name=password]", "my own new passphrase")
        .await;
    b.type_into("input[name=again]", "my own new passphrase")
        .await;
    b.click("section[aria-labelledby=account-password] button[type=submit]")
        .await;
    b.said("Password changed").await;
    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll("account").await;
    b.assert_accessible("account").await;
    assert_eq!(admin.get("/auth/me").await.0, StatusCode::UNAUTHORIZED);
    hub.api().login(ADMIN, "my own new passphrase").await;
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_chooses_their_digest_and_the_class_their_pages_open_on() {
    let hub = start_hub(None).await;
    let admin = hub.admin().await;
    let s = seed_school(&admin).await;
    let tess_id = s.teacher.get("/auth/me").await.1["user_id"].clone();
    // A second class of hers, which she makes her default.
    let second = admin
        .created("/classes", json!({"name": "9A", "teacher_id": tess_id}))
        .await;
    let second = second["id"].as_str().unwrap().to_owned();
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(1280, 900).await;
    b.open("/").await;
    b.sign_in("tess", "teacher password").await;
    go(&b, "account").await;
    b.type_into("input[name=email]", "tess@school.test").await;
    b.js(
        "const at = document.querySelector('input[name=digest_at]'); at.value = '16:15';
         const c = document.querySelector('select[name=default_class]'); c.value = arguments[0];",
        vec![json!(second)],
    )
    .await;
    b.click("section[aria-labelledby=account-choices] button[type=submit]")
        .await;
    b.said("Your digest goes to tess@school.test at 16:15")
        .await;
    let (_, account) = s.teacher.get("/account").await;
    assert_eq!(
        (
            &account["user"]["email"],
            &account["user"]["digest_at"],
            &account["user"]["default_class"]
        ),
        (&json!("tess@school.test"), &json!("16:15"), &json!(second))
    );
    b.assert_accessible("account").await;
    b.screenshot("account").await;

    // The class report opens on her class.
    go(&b, "report").await;
    let chosen = "return document.querySelector('select[name=class]').value === arguments[0];";
    b.wait("the default class chosen", chosen, vec![json!(second)])
        .await;

    // She turns the digest off; the admin sees it in her row.
    go(&b, "account").await;
    b.click("input[name=digest]").await;
    b.click("section[aria-labelledby=account-choices] button[type=submit]")
        .await;
    b.said("You get no daily digest").await;
    b.viewport(375, 812).await;
    b.assert_no_sideways_scroll("account").await;
    b.assert_accessible("account").await;
    b.screenshot("account-phone").await;
    b.click("#sign-out").await;
    b.viewport(1280, 900).await;
    b.sign_in(ADMIN, PASSWORD).await;
    go(&b, "admin").await;
    b.text_with(
        "li[data-user=tess] .receives",
        &["Digest turned off by them"],
    )
    .await;
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}

/// A page that asks for several things at once after the access token has expired renews it
/// once: the refresh token is spent by its first use, so a second renewal with it would be
/// taken for a stolen copy and end the sign-in.
#[tokio::test(flavor = "multi_thread")]
async fn requests_sent_together_after_the_token_expires_renew_it_once_and_stay_signed_in() {
    let hub = start_hub(None).await;
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    hub.clock.advance(Duration::from_secs(20 * 60));

    let together = "const api = await import('/js/api.js'); \
        const paths = ['/staff', '/students', '/users', '/devices', '/review?limit=0']; \
        const answers = await Promise.allSettled(paths.map((p) => api.get(p))); \
        return answers.map((a) => a.status);";
    let script = format!("return (async () => {{ {together} }})();");
    let settled = b.js(&script, vec![]).await;
    assert_eq!(
        settled,
        json!(vec!["fulfilled"; 5]),
        "every request answered"
    );
    let signed_in = "return sessionStorage.getItem('rollcall.tokens') !== null;";
    assert_eq!(b.js(signed_in, vec![]).await, json!(true));
    b.visible("#sign-out").await;
    let later = "return (async () => { const api = await import('/js/api.js'); \
        return (await api.get('/users')) !== null; })();";
    assert_eq!(b.js(later, vec![]).await, json!(true), "still served");
    b.client.clone().close().await.unwrap();
    hub.stop().await;
}
