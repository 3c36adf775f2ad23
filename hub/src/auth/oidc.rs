//! Signing in with the school's accounts: OpenID Connect's authorization code flow with PKCE
//! (RFC 7636, `S256`) against the provider of `[auth.oidc]` (Microsoft Entra ID, Google
//! Workspace, any OpenID provider).
//!
//! 1. [`Flow::new`]: a fresh state, nonce and PKCE verifier (32 random bytes each), which the
//!    browser keeps in a cookie only the hub reads; [`Oidc::authorization_url`] sends it to
//!    the provider with the state, the nonce and the verifier's hash.
//! 2. The provider signs the person in and sends the browser back with a code and the state.
//! 3. [`Oidc::redeem`]: the state must be the cookie's; the code and the verifier buy an ID
//!    token at the token endpoint (with the client secret when there is one). The token's
//!    signature is checked against the provider's published keys, and its issuer, audience,
//!    expiry and nonce must be ours. Its e-mail claim is who signed in (asked of the userinfo
//!    endpoint, for the same subject, when the provider keeps it out of the ID token, as the
//!    standard allows); `http::accounts::oidc` finds the Rollcall user with that address, whose role
//!    Rollcall alone decides.
//!
//! The provider's discovery document and keys are fetched when first needed and kept for an
//! hour; the keys again when a token names one not yet seen (the provider rotated them). Each
//! answer is read up to 1 MiB within 10 s; anything else is an [`OidcError`] that says which
//! step failed and why. Knows nothing of warp: the cookie is text in, text out.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Url;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config::OidcConfig;
use rollcall_school::clip::clip;

/// The cookie holding a flow between leaving for the provider and coming back.
pub const FLOW_COOKIE: &str = "rollcall_oidc";
/// How long a flow may take, in seconds: the cookie's life.
pub const FLOW_SECS: u32 = 600;
/// What Rollcall asks the provider for: an ID token, with the address and the name.
const SCOPES: &str = "openid email profile";
/// Each call to the provider.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from the provider.
const MAX_ANSWER: usize = 1024 * 1024;
/// How long discovery and keys are trusted before they are fetched again.
const KEEP_PROVIDER: Duration = Duration::from_secs(3600);
/// After discovery failed, how long sign-ins are told the same without asking again: a
/// provider that is away does not hold every sign-in for its timeout.
const RETRY_DISCOVERY: Duration = Duration::from_secs(15);
/// Clock difference allowed between the provider and the hub for `exp`, `iat` and `nbf`.
const LEEWAY_SECS: u64 = 60;

/// Why a sign-in with the school's account did not happen; the message is shown to the person
/// signing in.
#[derive(Clone, Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the school's sign-in ({url}) could not be reached: {error}")]
    Unreachable { url: String, error: String },
    #[error("the school's sign-in answered the {step} with something unusable: {detail}")]
    Garbage { step: &'static str, detail: String },
    #[error("the school's sign-in did not sign you in: {0}")]
    Refused(String),
    #[error(
        "this sign-in was not started in this browser, was started again in another tab, or \
         took more than 10 minutes; start again"
    )]
    NotStartedHere,
    #[error("the school's sign-in sent an ID token that does not check: {0}")]
    Token(String),
    #[error("your school account has no e-mail address in its {0:?} claim")]
    NoEmail(String),
    #[error("the school's sign-in says your e-mail address {0} is not verified")]
    Unverified(String),
}

/// One sign-in on its way through the provider: what the browser keeps in [`FLOW_COOKIE`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Sent to the provider and back: ties the answer to this browser.
    pub state: String,
    /// Sent to the provider and into the ID token: ties the token to this flow.
    nonce: String,
    /// Kept here; only its hash goes out, so a stolen code is worthless without it.
    verifier: String,
}

impl Flow {
    pub fn new() -> Flow {
        let random = || URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        Flow {
            state: random(),
            nonce: random(),
            verifier: random(),
        }
    }

    /// The cookie's value.
    pub fn to_cookie(&self) -> String {
        format!("{}.{}.{}", self.state, self.nonce, self.verifier)
    }

    /// The flow in a `Cookie` header, when it holds a well-formed one.
    pub fn from_cookies(header: &str) -> Option<Flow> {
        let value = header.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == FLOW_COOKIE).then_some(value)
        })?;
        let mut parts = value.split('.');
        let mut part = || {
            parts
                .next()
                .filter(|p| p.len() == 43 && URL_SAFE_NO_PAD.decode(p).is_ok())
                .map(str::to_owned)
        };
        let flow = Flow {
            state: part()?,
            nonce: part()?,
            verifier: part()?,
        };
        parts.next().is_none().then_some(flow)
    }

    /// The verifier's hash, as the provider is told it (`S256`).
    fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.as_bytes()))
    }
}

impl Default for Flow {
    fn default() -> Self {
        Flow::new()
    }
}

/// Who signed in, as the provider vouches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The provider's id for the person (`sub`).
    pub subject: String,
    /// The address Rollcall users are matched by.
    pub email: String,
}

/// The provider's discovery document: the parts Rollcall uses.
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
    code_challenge_methods_supported: Option<Vec<String>>,
}

/// What Rollcall knows of the provider, and since when.
#[derive(Debug)]
struct Provider {
    meta: Discovery,
    keys: JwkSet,
    fetched: Instant,
}

/// The token endpoint's answer, success or error.
#[derive(Debug, Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
    access_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The school's OpenID provider, as `[auth.oidc]` names it.
#[derive(Debug)]
pub struct Oidc {
    config: OidcConfig,
    secret: Option<String>,
    http: reqwest::Client,
    provider: tokio::sync::Mutex<Cache>,
}

/// What is known of the provider, and the last failure to learn it.
#[derive(Debug, Default)]
struct Cache {
    known: Option<Provider>,
    failed: Option<(Instant, OidcError)>,
}

impl Oidc {
    /// The provider of `config`, with the client secret read from its file; nothing is fetched
    /// yet (the hub starts while the provider is away).
    pub fn new(config: &OidcConfig) -> Result<Oidc, String> {
        let secret = config
            .client_secret_file
            .as_ref()
            .map(|file| {
                let raw = std::fs::read_to_string(file)
                    .map_err(|e| format!("auth.oidc.client_secret_file {}: {e}", file.display()))?;
                let secret = raw.trim().to_owned();
                if secret.is_empty() {
                    return Err(format!(
                        "auth.oidc.client_secret_file {}: empty",
                        file.display()
                    ));
                }
                Ok(secret)
            })
            .transpose()?;
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| format!("auth.oidc: cannot make an HTTP client: {e}"))?;
        Ok(Oidc {
            config: config.clone(),
            secret,
            http,
            provider: tokio::sync::Mutex::default(),
        })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Where to send the browser to sign in, for `flow`.
    pub async fn authorization_url(&self, flow: &Flow) -> Result<String, OidcError> {
        let endpoint = self
            .with_provider(|p| p.meta.authorization_endpoint.clone())
            .await?;
        let mut url = Url::parse(&endpoint).map_err(|e| garbage("discovery request", e))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri())
            .append_pair("scope", SCOPES)
            .append_pair("state", &flow.state)
            .append_pair("nonce", &flow.nonce)
            .append_pair("code_challenge", &flow.challenge())
            .append_pair("code_challenge_method", "S256");
        Ok(url.into())
    }

    /// Who signed in, from the provider's answer (`code`, `state`) to `flow`.
    pub async fn redeem(
        &self,
        flow: &Flow,
        code: &str,
        state: &str,
    ) -> Result<Identity, OidcError> {
        if state != flow.state {
            return Err(OidcError::NotStartedHere);
        }
        let answer = self.exchange(flow, code).await?;
        let id_token = answer
            .id_token
            .ok_or_else(|| garbage("token request", "it holds no id_token"))?;
        let claims = self.verify(&id_token, flow).await?;
        if claims.contains_key(&self.config.email_claim) {
            return self.identity(&claims);
        }
        let about = self
            .userinfo(answer.access_token.as_deref(), &claims)
            .await?;
        self.identity(&about)
    }

    /// What the userinfo endpoint says of the ID token's subject, with the access token; the
    /// ID token's claims when there is no endpoint or no access token.
    async fn userinfo(
        &self,
        access_token: Option<&str>,
        id_claims: &Map<String, Value>,
    ) -> Result<Map<String, Value>, OidcError> {
        let endpoint = self
            .with_provider(|p| p.meta.userinfo_endpoint.clone())
            .await?;
        let (Some(endpoint), Some(access_token)) = (endpoint, access_token) else {
            return Ok(id_claims.clone());
        };
        let response = self
            .http
            .get(&endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| unreachable(&endpoint, e))?;
        let about: Map<String, Value> = read_json(response, "userinfo request", false).await?;
        if about.get("sub") != id_claims.get("sub") {
            return Err(garbage(
                "userinfo request",
                "it describes another subject than the ID token",
            ));
        }
        Ok(about)
    }

    /// The token endpoint's answer for `code` and the flow's verifier.
    async fn exchange(&self, flow: &Flow, code: &str) -> Result<TokenAnswer, OidcError> {
        let (endpoint, methods) = self
            .with_provider(|p| {
                let meta = &p.meta;
                (
                    meta.token_endpoint.clone(),
                    meta.token_endpoint_auth_methods_supported.clone(),
                )
            })
            .await?;
        let redirect = self.config.redirect_uri();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", flow.verifier.as_str()),
        ];
        let mut request = self.http.post(&endpoint);
        match &self.secret {
            // client_secret_basic is the default (OpenID Connect Core 9); its parts are
            // form-encoded first (RFC 6749 2.3.1).
            Some(secret)
                if methods.is_empty() || methods.iter().any(|m| m == "client_secret_basic") =>
            {
                let encode =
                    |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                request = request.basic_auth(encode(&self.config.client_id), Some(encode(secret)));
            }
            Some(secret) => {
                form.push(("client_id", &self.config.client_id));
                form.push(("client_secret", secret));
            }
            None => form.push(("client_id", &self.config.client_id)),
        }
        let response = request
            .form(&form)
            .send()
            .await
            .map_err(|e| unreachable(&endpoint, e))?;
        let status = response.status();
        let answer: TokenAnswer = read_json(response, "token request", true).await?;
        if let Some(error) = answer.error {
            let said = answer
                .error_description
                .map_or(String::new(), |d| format!(" ({d})"));
            return Err(OidcError::Refused(format!("{}{said}", clip(&error))));
        }
        if !status.is_success() {
            return Err(garbage("token request", format!("HTTP {status}")));
        }
        Ok(answer)
    }

    /// The ID token's claims, once its signature, issuer, audience, times and nonce check.
    async fn verify(&self, id_token: &str, flow: &Flow) -> Result<Map<String, Value>, OidcError> {
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|e| OidcError::Token(format!("its header: {e}")))?;
        if matches!(
            header.alg,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            return Err(OidcError::Token(format!(
                "it is signed with {:?}, a shared secret, not the provider's own key",
                header.alg
            )));
        }
        let key = self.key_for(header.kid.as_deref()).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(id_token, &key, &validation)
            .map_err(|e| OidcError::Token(e.to_string()))?
            .claims;
        if claims.get("nonce").and_then(Value::as_str) != Some(flow.nonce.as_str()) {
            return Err(OidcError::Token("its nonce is not this sign-in's".into()));
        }
        if let Some(azp) = claims.get("azp").and_then(Value::as_str)
            && azp != self.config.client_id
        {
            return Err(OidcError::Token(format!(
                "it was issued to another application ({})",
                clip(azp)
            )));
        }
        Ok(claims)
    }

    /// The provider's key named `kid` (its only key when the token names none), fetching the
    /// keys again once when it is not among those known.
    async fn key_for(&self, kid: Option<&str>) -> Result<DecodingKey, OidcError> {
        let find = |keys: &JwkSet| match kid {
            Some(kid) => keys.find(kid).cloned(),
            None if keys.keys.len() == 1 => keys.keys.first().cloned(),
            None => None,
        };
        let mut jwk = self.with_provider(|p| find(&p.keys)).await?;
        if jwk.is_none() {
            let mut cache = self.provider.lock().await;
            if let Some(known) = cache.known.as_mut() {
                known.keys = self.fetch(&known.meta.jwks_uri, "key request").await?;
                jwk = find(&known.keys);
            }
        }
        let jwk = jwk.ok_or_else(|| {
            OidcError::Token(format!(
                "it is signed with a key the provider does not publish ({})",
                kid.map_or("none named".into(), clip)
            ))
        })?;
        DecodingKey::from_jwk(&jwk).map_err(|e| garbage("key request", e))
    }

    /// The address in the configured claim, unless the provider says it is unverified.
    fn identity(&self, claims: &Map<String, Value>) -> Result<Identity, OidcError> {
        let claim = &self.config.email_claim;
        let email = claims
            .get(claim)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|e| e.contains('@') && e.len() <= 254)
            .ok_or_else(|| OidcError::NoEmail(claim.clone()))?;
        if claim == "email" && claims.get("email_verified") == Some(&Value::Bool(false)) {
            return Err(OidcError::Unverified(clip(email)));
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Ok(Identity {
            subject: subject.to_owned(),
            email: email.to_owned(),
        })
    }

    /// `f` of what is known of the provider, fetched first when nothing is or it is stale;
    /// within [`RETRY_DISCOVERY`] of a failure, that failure again.
    async fn with_provider<T>(&self, f: impl FnOnce(&Provider) -> T) -> Result<T, OidcError> {
        let mut cache = self.provider.lock().await;
        if let Some(known) = &cache.known
            && known.fetched.elapsed() <= KEEP_PROVIDER
        {
            return Ok(f(known));
        }
        if let Some((at, failure)) = &cache.failed
            && at.elapsed() < RETRY_DISCOVERY
        {
            return Err(failure.clone());
        }
        match self.discover().await {
            Ok(known) => {
                let out = f(&known);
                *cache = Cache {
                    known: Some(known),
                    failed: None,
                };
                Ok(out)
            }
            Err(failure) => {
                cache.failed = Some((Instant::now(), failure.clone()));
                Err(failure)
            }
        }
    }

    /// The discovery document and the keys, checked: the issuer named as configured, every
    /// address https (or on this machine), PKCE with `S256` offered.
    async fn discover(&self) -> Result<Provider, OidcError> {
        let issuer = &self.config.issuer;
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let meta: Discovery = self.fetch(&url, "discovery request").await?;
        if &meta.issuer != issuer {
            return Err(garbage(
                "discovery request",
                format!(
                    "it names the issuer {:?}, not {issuer:?}",
                    clip(&meta.issuer)
                ),
            ));
        }
        let userinfo = meta
            .userinfo_endpoint
            .iter()
            .map(|u| ("userinfo_endpoint", u));
        for (field, address) in [
            ("authorization_endpoint", &meta.authorization_endpoint),
            ("token_endpoint", &meta.token_endpoint),
            ("jwks_uri", &meta.jwks_uri),
        ]
        .into_iter()
        .chain(userinfo)
        {
            crate::config::https_or_loopback(field, address)
                .map_err(|e| garbage("discovery request", e))?;
        }
        if let Some(methods) = &meta.code_challenge_methods_supported
            && !methods.iter().any(|m| m == "S256")
        {
            return Err(garbage(
                "discovery request",
                "it does not offer PKCE with S256",
            ));
        }
        let keys = self.fetch(&meta.jwks_uri, "key request").await?;
        Ok(Provider {
            meta,
            keys,
            fetched: Instant::now(),
        })
    }

    async fn fetch<T: DeserializeOwned>(
        &self,
        url: &str,
        step: &'static str,
    ) -> Result<T, OidcError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| unreachable(url, e))?;
        read_json(response, step, false).await
    }
}

/// The answer's body as `T`: at most [`MAX_ANSWER`] bytes of JSON; an error status is garbage
/// unless `errors_are_json` (the token endpoint explains its refusals in JSON).
async fn read_json<T: DeserializeOwned>(
    mut response: reqwest::Response,
    step: &'static str,
    errors_are_json: bool,
) -> Result<T, OidcError> {
    let status = response.status();
    if !status.is_success() && !errors_are_json {
        return Err(garbage(step, format!("HTTP {status}")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| garbage(step, format!("reading it: {e}")))?
    {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(garbage(step, "it is over 1 MiB"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| {
        let start = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        garbage(
            step,
            format!("HTTP {status}, not the JSON expected ({e}): {start:?}"),
        )
    })
}

fn garbage(step: &'static str, detail: impl std::fmt::Display) -> OidcError {
    OidcError::Garbage {
        step,
        detail: detail.to_string(),
    }
}

fn unreachable(url: &str, error: reqwest::Error) -> OidcError {
    // reqwest's message names the URL again; its source says what went wrong.
    let cause =
        std::error::Error::source(&error).map_or_else(|| error.to_string(), |s| s.to_string());
    OidcError::Unreachable {
        url: url.to_owned(),
        error: cause,
    }
}

#[cfg(test)]
mod tests;
