//! The checks every token passes before actlog reads a claim of it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::{OidcError, TenantProvider};

/// Clock difference tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 60;

/// The claims actlog reads (Entra's names). Users are `tid` + `oid`; `preferred_username` is
/// only shown, never trusted for who someone is.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub tid: String,
    pub oid: String,
    /// App-role values assigned to the user or the application.
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
    /// Delegated scopes: present in tokens a user's client obtained, absent in app-only ones.
    #[serde(default)]
    pub scp: Option<String>,
    /// `app` in Entra's app-only tokens (with the optional claim configured).
    #[serde(default)]
    pub idtyp: Option<String>,
}

impl Claims {
    /// Whether the token speaks for an application alone, not for a signed-in user.
    pub fn is_app_only(&self) -> bool {
        self.idtyp.as_deref() == Some("app") || self.scp.is_none()
    }
}

#[derive(Deserialize)]
struct TenantOnly {
    tid: Option<String>,
}

/// The `tid` a token claims, read before its signature is checked, only to pick the tenant
/// whose keys and issuer then check it.
pub fn unverified_tenant(jwt: &str) -> Result<String, OidcError> {
    let bad = |why: &str| OidcError::BadToken(why.to_owned());
    let payload = jwt.split('.').nth(1).ok_or_else(|| bad("not a JWT"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| bad("not a JWT"))?;
    let claims: TenantOnly = serde_json::from_slice(&bytes).map_err(|_| bad("not a JWT"))?;
    claims.tid.ok_or_else(|| bad("no tid claim"))
}

/// Checks `jwt` as issued by `tenant` for `audience`: RS256 signature by a key of the tenant's
/// key set (fetched again for an unknown key id), `iss` equal to the tenant's issuer, `aud`,
/// `exp` and `nbf`, and `tid` equal to `tid`.
pub async fn verify(
    http: &reqwest::Client,
    tenant: &TenantProvider,
    jwt: &str,
    audience: &str,
    tid: &str,
) -> Result<Claims, OidcError> {
    let bad = |e: jsonwebtoken::errors::Error| OidcError::BadToken(e.to_string());
    let header = jsonwebtoken::decode_header(jwt).map_err(bad)?;
    let kid = header
        .kid
        .ok_or_else(|| OidcError::BadToken("the token names no key (kid)".into()))?;
    let key = tenant.key(http, &kid).await?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&tenant.issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECONDS;
    let claims = jsonwebtoken::decode::<Claims>(jwt, &key, &validation)
        .map_err(bad)?
        .claims;
    if claims.tid != tid {
        return Err(OidcError::BadToken(format!(
            "tid {} is not the issuer's tenant {tid}",
            claims.tid
        )));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_is_read_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"tid":"t-1","oid":"o"}"#);
        assert_eq!(unverified_tenant(&format!("h.{payload}.s")).unwrap(), "t-1");
        assert!(unverified_tenant("actlog_key").is_err());
        let none = URL_SAFE_NO_PAD.encode(br#"{"oid":"o"}"#);
        assert!(unverified_tenant(&format!("h.{none}.s")).is_err());
    }
}
