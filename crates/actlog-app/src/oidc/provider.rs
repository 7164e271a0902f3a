//! One tenant's OpenID provider: its discovered metadata and its signing keys, fetched when
//! first needed and again when a token names a key id not among them (a rotation at the
//! provider), at most once a minute, so a flood of forged key ids cannot make actlog hammer
//! the provider.

use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::OidcError;

/// How often the keys may be fetched again for an unknown key id.
pub const KEY_REFETCH_EVERY: Duration = Duration::from_secs(60);

/// What discovery says about a provider (OpenID Connect Discovery 1.0, the fields actlog uses).
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

#[derive(Debug, Default)]
struct Known {
    metadata: Option<Metadata>,
    keys: Option<JwkSet>,
    /// The last fetch for a key id not in `keys` (the first fetch does not count).
    refetched: Option<Instant>,
}

/// A tenant's provider, discovered lazily; a provider that is down at start-up does not stop
/// actlog, and is asked again at the next sign-in.
#[derive(Debug)]
pub struct TenantProvider {
    /// `{authority}/{tenant_id}/v2.0`: what discovery's `issuer` and every token's `iss` must be.
    pub issuer: String,
    known: Mutex<Known>,
}

impl TenantProvider {
    pub fn new(issuer: String) -> Self {
        TenantProvider {
            issuer,
            known: Mutex::default(),
        }
    }

    /// The provider's metadata, discovered at `{issuer}/.well-known/openid-configuration`; its
    /// `issuer` must be ours exactly.
    pub async fn metadata(&self, http: &reqwest::Client) -> Result<Metadata, OidcError> {
        let mut known = self.known.lock().await;
        if let Some(metadata) = &known.metadata {
            return Ok(metadata.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let metadata: Metadata = get_json(http, &url).await?;
        if metadata.issuer != self.issuer {
            return Err(OidcError::WrongIssuer {
                expected: self.issuer.clone(),
                found: metadata.issuer,
            });
        }
        known.metadata = Some(metadata.clone());
        Ok(metadata)
    }

    /// The key `kid` names, fetching the key set when it is not known yet, or again when the
    /// key is unknown and the last fetch is over a minute old.
    pub async fn key(&self, http: &reqwest::Client, kid: &str) -> Result<DecodingKey, OidcError> {
        let metadata = self.metadata(http).await?;
        let mut known = self.known.lock().await;
        if let Some(key) = known.keys.as_ref().and_then(|set| set.find(kid)) {
            return DecodingKey::from_jwk(key).map_err(|e| OidcError::Keys(e.to_string()));
        }
        let first = known.keys.is_none();
        let may_fetch = first
            || known
                .refetched
                .is_none_or(|at| at.elapsed() >= KEY_REFETCH_EVERY);
        if !may_fetch {
            return Err(OidcError::UnknownKey(kid.to_owned()));
        }
        if !first {
            known.refetched = Some(Instant::now());
        }
        let keys: JwkSet = get_json(http, &metadata.jwks_uri).await?;
        let found = keys.find(kid).cloned();
        known.keys = Some(keys);
        match found {
            Some(key) => DecodingKey::from_jwk(&key).map_err(|e| OidcError::Keys(e.to_string())),
            None => Err(OidcError::UnknownKey(kid.to_owned())),
        }
    }
}

/// GETs `url` and reads its JSON body.
async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, OidcError> {
    let down = |e: reqwest::Error| OidcError::ProviderDown(format!("{url}: {e}"));
    let response = http.get(url).send().await.map_err(down)?;
    let status = response.status();
    let body = response.bytes().await.map_err(down)?;
    if !status.is_success() {
        return Err(OidcError::ProviderDown(format!("{url}: HTTP {status}")));
    }
    serde_json::from_slice(&body)
        .map_err(|e| OidcError::ProviderDown(format!("{url}: unreadable answer: {e}")))
}
