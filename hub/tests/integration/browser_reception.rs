//! Reception in a real headless Chromium: a visitor signed in, their badge shown to print,
//! listed on site, signed out by the badge's code; at phone and desktop width with axe-core's
//! WCAG rules.

use crate::chrome::Browser;
use crate::common::{ADMIN, PASSWORD, start_hub};

#[tokio::test(flavor = "multi_thread")]
async fn reception_signs_a_visitor_in_prints_a_badge_and_signs_them_out() {
    let hub = start_hub(None).await;
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(1024, 768).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.click("#nav a[data-page=reception]").await;
    b.visible("#visitor-sign-in").await;
    b.type_into("#visitor-sign-in input[name=name]", "Ann Lee")
        .await;
    b.type_into("#visitor-sign-in input[name=organisation]", "County IT")
        .await;
    b.type_into("#visitor-sign-in input[name=visiting]", "Mr Bell")
        .await;
    b.click("#visitor-sign-in button[type=submit]").await;
    b.said("Ann Lee signed in: badge").await;
    let badge = b
        .text_with(
            "#visitor-badge",
            &["VISITOR", "Ann Lee", "Visiting Mr Bell"],
        )
        .await;
    b.text_with("#visitors-on-site", &["Ann Lee", "County IT"])
        .await;
    assert_eq!(b.text("#visitors-count").await, "1 visitor on site");
    b.js(
        "document.getElementById('visitor-badge').scrollIntoView();",
        vec![],
    )
    .await;
    b.screenshot("reception").await;
    b.assert_fits_and_accessible("reception with a badge").await;

    let code = badge
        .split_whitespace()
        .skip_while(|w| *w != "Badge")
        .nth(1)
        .unwrap_or_else(|| panic!("{badge}"))
        .to_owned();
    b.type_into(
        "#visitor-sign-out input[name=leaving]",
        &code.to_lowercase(),
    )
    .await;
    b.click("#visitor-sign-out button[type=submit]").await;
    b.said("Ann Lee signed out at").await;
    b.text_with("#visitors-on-site", &["No visitor is signed in."])
        .await;
    b.assert_fits_and_accessible("reception, everyone gone")
        .await;
    hub.stop().await;
}

/// Reception signs a visitor out by part of their name (issue 73, point 6): "shah" is Priya
/// Shah alone and goes at once; "priya" matches two visitors, listed to choose from.
#[tokio::test(flavor = "multi_thread")]
async fn a_visitor_is_signed_out_by_part_of_their_name_choosing_among_several() {
    let hub = start_hub(None).await;
    let downloads = tempfile::tempdir().unwrap();
    let b = Browser::start(&format!("http://{}", hub.addr), downloads.path()).await;
    b.viewport(375, 812).await;
    b.open("/").await;
    b.sign_in(ADMIN, PASSWORD).await;
    b.click("#nav a[data-page=reception]").await;
    for (name, visiting) in [
        ("Priya Shah", "Ms Green"),
        ("Priyanka Patel", "Mr Bell"),
        ("Tom Reed", "Ms Green"),
    ] {
        b.type_into("#visitor-sign-in input[name=name]", name).await;
        b.type_into("#visitor-sign-in input[name=visiting]", visiting)
            .await;
        b.click("#visitor-sign-in button[type=submit]").await;
        b.said(&format!("{name} signed in")).await;
    }
    b.text_with("#visitors-count", &["3 visitors on site"])
        .await;

    let leaving = "#visitor-sign-out input[name=leaving]";
    b.type_into(leaving, "priya").await;
    b.click("#visitor-sign-out button[type=submit]").await;
    b.said("2 visitors match").await;
    let choices = b
        .text_with("#sign-out-choices", &["Priya Shah", "Priyanka Patel"])
        .await;
    assert!(!choices.contains("Tom Reed"), "{choices}");
    b.assert_fits_and_accessible("reception, two visitors match")
        .await;
    let pick = "[...document.querySelectorAll('#sign-out-choices button')] \
        .find(b => b.textContent.includes('Priyanka')).click();";
    b.js(pick, vec![]).await;
    b.said("Priyanka Patel signed out").await;
    b.text_with("#visitors-count", &["2 visitors on site"])
        .await;

    b.type_into(leaving, "shah").await;
    b.click("#visitor-sign-out button[type=submit]").await;
    b.said("Priya Shah signed out").await;
    b.text_with("#visitors-count", &["1 visitor on site"]).await;
    hub.stop().await;
}
