use super::*;

#[test]
fn a_flow_survives_its_cookie_and_nothing_else_passes_for_one() {
    let flow = Flow::new();
    let header = format!("theme=dark; {FLOW_COOKIE}={}; other=1", flow.to_cookie());
    assert_eq!(Flow::from_cookies(&header), Some(flow.clone()));
    assert_ne!(Flow::new(), flow, "each flow is fresh");
    let cookie = flow.to_cookie();
    for bad in [
        String::new(),
        format!("{FLOW_COOKIE}="),
        format!("{FLOW_COOKIE}={}", &cookie[1..]),
        format!("{FLOW_COOKIE}={cookie}.extra"),
        format!("{FLOW_COOKIE}={}", cookie.replace('.', ",")),
        format!("other_{FLOW_COOKIE}={cookie}"),
    ] {
        assert_eq!(Flow::from_cookies(&bad), None, "{bad:?}");
    }
}

const ISSUER: &str = "https://login.school.example/tenant/v2.0";

/// A provider already discovered, signing with a fresh P-256 key named `k1`; its keys are
/// fetched again (from a closed port) only for a key it does not know.
fn provider() -> (Oidc, rcgen::KeyPair) {
    let config = OidcConfig {
        issuer: ISSUER.into(),
        client_id: "rollcall".into(),
        client_secret_file: None,
        hub_url: "https://rollcall.school.example".into(),
        name: "School".into(),
        email_claim: "email".into(),
    };
    let oidc = Oidc::new(&config).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let point = &key.public_key_raw()[1..];
    let jwk = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1",
        "x": URL_SAFE_NO_PAD.encode(&point[..32]), "y": URL_SAFE_NO_PAD.encode(&point[32..])}]});
    let closed = "http://127.0.0.1:9";
    let meta = Discovery {
        issuer: ISSUER.into(),
        authorization_endpoint: format!("{closed}/auth"),
        token_endpoint: format!("{closed}/token"),
        jwks_uri: format!("{closed}/jwks"),
        userinfo_endpoint: None,
        token_endpoint_auth_methods_supported: Vec::new(),
        code_challenge_methods_supported: None,
    };
    let known = Provider {
        meta,
        keys: serde_json::from_value(jwk).unwrap(),
        fetched: Instant::now(),
    };
    oidc.provider.try_lock().unwrap().known = Some(known);
    (oidc, key)
}

/// An ID token for `flow` signed by `key` as `kid`, with `change` made to its claims.
fn token(key: &rcgen::KeyPair, kid: &str, flow: &Flow, change: impl FnOnce(&mut Value)) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = serde_json::json!({"iss": ISSUER, "aud": "rollcall", "sub": "u-1",
        "iat": now, "exp": now + 300, "nonce": flow.nonce, "email": "Ann@School.example",
        "email_verified": true});
    change(&mut claims);
    let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    let signing = jsonwebtoken::EncodingKey::from_ec_der(&key.serialize_der());
    jsonwebtoken::encode(&header, &claims, &signing).unwrap()
}

#[tokio::test]
async fn an_id_token_counts_only_when_everything_in_it_is_ours() {
    let (oidc, key) = provider();
    let flow = Flow::new();
    let good = token(&key, "k1", &flow, |_| {});
    let claims = oidc.verify(&good, &flow).await.unwrap();
    let who = oidc.identity(&claims).unwrap();
    assert_eq!(
        (who.subject.as_str(), who.email.as_str()),
        ("u-1", "Ann@School.example")
    );

    let refused = |change: fn(&mut Value)| token(&key, "k1", &flow, change);
    let cases: [(&str, String); 6] = [
        (
            "another audience",
            refused(|c| c["aud"] = "someone-else".into()),
        ),
        (
            "another issuer",
            refused(|c| c["iss"] = "https://evil.example".into()),
        ),
        (
            "expired",
            refused(|c| c["exp"] = (jsonwebtoken::get_current_timestamp() - 600).into()),
        ),
        (
            "another sign-in's nonce",
            refused(|c| c["nonce"] = "old".into()),
        ),
        (
            "issued to another application",
            refused(|c| c["azp"] = "other".into()),
        ),
        ("signed by another key", {
            let stranger = rcgen::KeyPair::generate().unwrap();
            token(&stranger, "k1", &flow, |_| {})
        }),
    ];
    for (what, bad) in cases {
        let e = oidc.verify(&bad, &flow).await.unwrap_err();
        assert!(matches!(e, OidcError::Token(_)), "{what}: {e}");
    }
    let shared = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &serde_json::json!({"iss": ISSUER}),
        &jsonwebtoken::EncodingKey::from_secret(b"guessable"),
    )
    .unwrap();
    let e = oidc.verify(&shared, &flow).await.unwrap_err();
    assert!(e.to_string().contains("shared secret"), "{e}");
    let e = oidc.verify("not.a.token", &flow).await.unwrap_err();
    assert!(matches!(e, OidcError::Token(_)), "{e}");
    // A key it does not know: the keys are fetched again, and the closed port is named.
    let e = oidc
        .verify(&token(&key, "k2", &flow, |_| {}), &flow)
        .await
        .unwrap_err();
    assert!(matches!(e, OidcError::Unreachable { .. }), "{e}");
}

#[test]
fn the_address_must_be_there_and_not_called_unverified() {
    let (oidc, _) = provider();
    let claims = |v: Value| v.as_object().unwrap().clone();
    let none = oidc.identity(&claims(serde_json::json!({"sub": "u"})));
    assert!(matches!(none, Err(OidcError::NoEmail(_))));
    let unverified =
        serde_json::json!({"sub": "u", "email": "a@b.example", "email_verified": false});
    let e = oidc.identity(&claims(unverified)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the school's sign-in says your e-mail address a@b.example is not verified"
    );
    let silent = serde_json::json!({"sub": "u", "email": "a@b.example"});
    assert_eq!(oidc.identity(&claims(silent)).unwrap().email, "a@b.example");
}

#[test]
fn the_challenge_is_the_verifiers_sha256_in_base64url() {
    // RFC 7636, appendix B.
    let flow = Flow {
        state: String::new(),
        nonce: String::new(),
        verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
    };
    assert_eq!(
        flow.challenge(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}
