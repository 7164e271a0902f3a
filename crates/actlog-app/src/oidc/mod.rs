//! OpenID Connect as a relying party of Microsoft Entra ID (or any OpenID provider that gives
//! each tenant its own issuer): the authorization code flow with PKCE (S256), `state` and
//! `nonce`; ID tokens and API access tokens checked against the tenant's published keys.
//!
//! Every configured tenant's issuer is `{authority}/{tenant_id}/v2.0`, and a token's `iss` must
//! equal its own tenant's issuer exactly, with `tid` among the configured tenants: never the
//! `/common` or `/organizations` metadata, whose issuer is a template (the multi-tenant trap).
//!
//! - [`provider`]: one tenant's discovered metadata and keys (refetched on an unknown key id).
//! - [`token`]: the checks on ID tokens and access tokens, and the claims actlog reads.

pub mod provider;
pub mod token;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use provider::{Metadata, TenantProvider};
pub use token::Claims;

use crate::keys::random_bytes;

/// Why a sign-in or a token was refused; the text is the reason logged, never shown as is.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider cannot be reached or answered badly: {0}")]
    ProviderDown(String),
    #[error("the provider's issuer is {found}, not {expected}")]
    WrongIssuer { expected: String, found: String },
    #[error("tenant {0} is not configured")]
    UnknownTenant(String),
    #[error("no key {0} among the provider's signing keys")]
    UnknownKey(String),
    #[error("the provider's keys cannot be read: {0}")]
    Keys(String),
    #[error("the token is refused: {0}")]
    BadToken(String),
    #[error("the provider refused the code: {0}")]
    CodeRefused(String),
}

/// How actlog is registered with the provider.
#[derive(Clone)]
pub struct OidcSettings {
    /// `https://login.microsoftonline.com`, `https://login.microsoftonline.us`, or another
    /// provider's base URL; no trailing slash.
    pub authority: String,
    pub client_id: String,
    pub client_secret: String,
    /// Where the provider sends the browser back (`{public_url}/auth/callback`).
    pub redirect_uri: String,
    /// The configured tenants' ids (`tid`).
    pub tenants: Vec<String>,
    /// The `aud` API access tokens must carry; `None`: API tokens are not accepted.
    pub api_audience: Option<String>,
}

impl fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcSettings")
            .field("authority", &self.authority)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_uri", &self.redirect_uri)
            .field("tenants", &self.tenants)
            .field("api_audience", &self.api_audience)
            .finish()
    }
}

/// What a sign-in must remember between sending the browser away and its return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub tenant_id: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

impl Pending {
    /// Fresh random `state`, `nonce` and PKCE verifier for a sign-in at `tenant_id`.
    pub fn new(tenant_id: &str) -> Pending {
        let token = || URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        Pending {
            tenant_id: tenant_id.to_owned(),
            state: token(),
            nonce: token(),
            verifier: token(),
        }
    }

    /// The PKCE S256 challenge of the verifier (RFC 7636 §4.2).
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.as_bytes()))
    }
}

/// The relying party: every configured tenant's provider.
#[derive(Debug)]
pub struct Oidc {
    pub settings: OidcSettings,
    http: reqwest::Client,
    tenants: BTreeMap<String, TenantProvider>,
}

#[derive(Debug, Deserialize)]
struct TokenReply {
    id_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> Oidc {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds");
        let authority = settings.authority.trim_end_matches('/').to_owned();
        let tenants = settings
            .tenants
            .iter()
            .map(|tid| {
                let issuer = format!("{authority}/{tid}/v2.0");
                (tid.clone(), TenantProvider::new(issuer))
            })
            .collect();
        Oidc {
            settings,
            http,
            tenants,
        }
    }

    /// The authority's origin (`https://login.microsoftonline.com`), where sign-in goes.
    pub fn authority_origin(&self) -> Option<String> {
        let url = reqwest::Url::parse(&self.settings.authority).ok()?;
        Some(url.origin().ascii_serialization()).filter(|o| o != "null")
    }

    /// The configured tenant `tid`.
    pub fn tenant(&self, tid: &str) -> Result<&TenantProvider, OidcError> {
        self.tenants
            .get(tid)
            .ok_or_else(|| OidcError::UnknownTenant(tid.to_owned()))
    }

    /// Where to send the browser to sign in: the tenant's authorization endpoint with the
    /// code flow's parameters (and `login_hint`, when the person typed their email).
    pub async fn authorization_url(
        &self,
        pending: &Pending,
        login_hint: Option<&str>,
    ) -> Result<String, OidcError> {
        let metadata = self
            .tenant(&pending.tenant_id)?
            .metadata(&self.http)
            .await?;
        let mut url = reqwest::Url::parse(&metadata.authorization_endpoint)
            .map_err(|e| OidcError::ProviderDown(format!("authorization_endpoint: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.settings.client_id)
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", &self.settings.redirect_uri)
                .append_pair("scope", "openid profile")
                .append_pair("response_mode", "query")
                .append_pair("state", &pending.state)
                .append_pair("nonce", &pending.nonce)
                .append_pair("code_challenge", &pending.challenge())
                .append_pair("code_challenge_method", "S256");
            if let Some(hint) = login_hint {
                query.append_pair("login_hint", hint);
            }
        }
        Ok(url.into())
    }

    /// Exchanges the code the browser brought back for an ID token, and checks it: signature,
    /// issuer, audience, times, `tid` and the sign-in's nonce.
    pub async fn finish(&self, pending: &Pending, code: &str) -> Result<Claims, OidcError> {
        let tenant = self.tenant(&pending.tenant_id)?;
        let metadata = tenant.metadata(&self.http).await?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.settings.redirect_uri),
            ("client_id", &self.settings.client_id),
            // client_secret_post, as Entra documents it.
            ("client_secret", &self.settings.client_secret),
            ("code_verifier", &pending.verifier),
        ];
        let down = |e: reqwest::Error| OidcError::ProviderDown(format!("token endpoint: {e}"));
        let response = self
            .http
            .post(&metadata.token_endpoint)
            .form(&form)
            .send()
            .await
            .map_err(down)?;
        let status = response.status();
        let body = response.bytes().await.map_err(down)?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<TokenError>(&body) {
                Ok(e) => OidcError::CodeRefused(format!(
                    "{}: {}",
                    e.error,
                    e.error_description.unwrap_or_default()
                )),
                Err(_) => OidcError::ProviderDown(format!("token endpoint: HTTP {status}")),
            });
        }
        let reply: TokenReply = serde_json::from_slice(&body)
            .map_err(|e| OidcError::ProviderDown(format!("token endpoint: {e}")))?;
        let id_token = reply
            .id_token
            .ok_or_else(|| OidcError::BadToken("the provider sent no ID token".into()))?;
        let claims = token::verify(
            &self.http,
            tenant,
            &id_token,
            &self.settings.client_id,
            &pending.tenant_id,
        )
        .await?;
        if claims.nonce.as_deref() != Some(pending.nonce.as_str()) {
            return Err(OidcError::BadToken(
                "the nonce is not this sign-in's".into(),
            ));
        }
        Ok(claims)
    }

    /// Checks an API access token (`Authorization: Bearer`): from a configured tenant, signed
    /// by its keys, its issuer, `aud` equal to the API audience, within its times.
    pub async fn verify_access_token(&self, jwt: &str) -> Result<Claims, OidcError> {
        let audience = self
            .settings
            .api_audience
            .as_deref()
            .ok_or_else(|| OidcError::BadToken("API tokens are not configured".into()))?;
        let tid = token::unverified_tenant(jwt)?;
        let tenant = self.tenant(&tid)?;
        token::verify(&self.http, tenant, jwt, audience, &tid).await
    }

    /// The tenant's end-session endpoint, when its provider advertises one.
    pub async fn end_session_url(&self, tid: &str) -> Option<String> {
        let metadata = self.tenant(tid).ok()?.metadata(&self.http).await.ok()?;
        let mut url = reqwest::Url::parse(metadata.end_session_endpoint.as_deref()?).ok()?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.client_id);
        Some(url.into())
    }
}
