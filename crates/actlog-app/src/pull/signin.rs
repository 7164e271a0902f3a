//! Credentials for the source: a static bearer token (another actlog's API key), or an app's
//! OAuth 2.0 client credentials at an Entra authority — its secret (`client_secret_post`) or
//! its certificate ([`super::certificate`]) — whose access token is kept until shortly before
//! it expires.

use std::fmt;
use std::time::{Duration, Instant};

use reqwest::Url;
use serde::Deserialize;

use super::Observer;
use super::certificate::{self, ClientCertificate};
use super::error::{Fault, PullError, SetupError};
use super::retry::{self, Attempt, RetryPolicy};

/// The scope of Partner Center's API, for an app's own permissions (`.default`).
pub const PARTNER_CENTER_SCOPE: &str = "https://api.partnercenter.microsoft.com/.default";

/// The commercial cloud's Entra authority.
pub const PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com";

/// The US Government cloud's Entra authority (GCC High, DoD).
pub const USGOV_AUTHORITY: &str = "https://login.microsoftonline.us";

/// A value never shown: `Debug` prints `***`, and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, to send it where it belongs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How the pull signs in to its source.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A token sent as it is (`Authorization: Bearer …`), e.g. another actlog's read key.
    Bearer(Secret),
    /// An app registration's client secret, exchanged for access tokens.
    ClientSecret(ClientSecret),
    /// An app registration's certificate, whose signed assertions are exchanged for access
    /// tokens.
    ClientCertificate(ClientCertificate),
}

/// An app's client credentials at an authority.
#[derive(Debug, Clone)]
pub struct ClientSecret {
    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub token_url: Url,
    pub client_id: String,
    pub secret: Secret,
    /// What the token is for: [`PARTNER_CENTER_SCOPE`].
    pub scope: String,
}

impl ClientSecret {
    /// The credentials of app `client_id` in `tenant` at `authority` (e.g.
    /// [`PUBLIC_AUTHORITY`]), for Partner Center's API.
    pub fn new(
        authority: &str,
        tenant: &str,
        client_id: &str,
        secret: Secret,
    ) -> Result<ClientSecret, SetupError> {
        Ok(ClientSecret {
            token_url: token_url(authority, tenant)?,
            client_id: client_id.trim().to_owned(),
            secret,
            scope: PARTNER_CENTER_SCOPE.to_owned(),
        })
    }
}

/// `{authority}/{tenant}/oauth2/v2.0/token`.
pub(crate) fn token_url(authority: &str, tenant: &str) -> Result<Url, SetupError> {
    let mut url = super::source::parse_url(authority.trim().trim_end_matches('/'))?;
    url.path_segments_mut()
        .map_err(|()| SetupError::Url {
            url: authority.to_owned(),
            reason: "it cannot have a path".into(),
        })?
        .pop_if_empty()
        .extend([tenant.trim(), "oauth2", "v2.0", "token"]);
    Ok(url)
}

/// An access token and when to stop using it.
#[derive(Debug, Clone)]
struct Token {
    value: Secret,
    renew_at: Instant,
}

/// Hands out the bearer for each request, signing in when there is no fresh token.
#[derive(Debug)]
pub(crate) struct SignIn {
    credentials: Credentials,
    token: tokio::sync::Mutex<Option<Token>>,
}

impl SignIn {
    pub(crate) fn new(credentials: Credentials) -> SignIn {
        SignIn {
            credentials,
            token: tokio::sync::Mutex::new(None),
        }
    }

    /// Whether a refused token may be replaced by signing in again.
    pub(crate) fn renewable(&self) -> bool {
        !matches!(self.credentials, Credentials::Bearer(_))
    }

    /// Drops the kept token, after the source refused it.
    pub(crate) async fn forget(&self) {
        *self.token.lock().await = None;
    }

    /// The bearer to send now.
    pub(crate) async fn bearer(
        &self,
        http: &reqwest::Client,
        policy: &RetryPolicy,
        observer: &dyn Observer,
    ) -> Result<Secret, PullError> {
        if let Credentials::Bearer(token) = &self.credentials {
            return Ok(token.clone());
        }
        let mut kept = self.token.lock().await;
        if let Some(token) = kept.as_ref()
            && Instant::now() < token.renew_at
        {
            return Ok(token.value.clone());
        }
        let token = request_token(http, &self.credentials, policy, observer).await?;
        let value = token.value.clone();
        *kept = Some(token);
        Ok(value)
    }
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    /// Seconds; a number, or a string of one from older endpoints.
    expires_in: Option<serde_json::Value>,
}

/// A form body, name by name.
type Form = Vec<(&'static str, String)>;

/// The client credentials grant's form: the secret in the body (`client_secret_post`), or a
/// fresh assertion signed with the certificate's key (`private_key_jwt`).
fn grant(credentials: &Credentials) -> Result<(&Url, Form), PullError> {
    let common = |client_id: &str, scope: &str| {
        vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", client_id.to_owned()),
            ("scope", scope.to_owned()),
        ]
    };
    match credentials {
        Credentials::Bearer(_) => unreachable!("a static bearer needs no sign-in"),
        Credentials::ClientSecret(app) => {
            let mut form = common(&app.client_id, &app.scope);
            form.push(("client_secret", app.secret.expose().to_owned()));
            Ok((&app.token_url, form))
        }
        Credentials::ClientCertificate(app) => {
            let now = jiff::Timestamp::now().as_second();
            let assertion = app.assertion(now)?;
            let mut form = common(&app.client_id, &app.scope);
            form.push((
                "client_assertion_type",
                certificate::ASSERTION_TYPE.to_owned(),
            ));
            form.push(("client_assertion", assertion));
            Ok((&app.token_url, form))
        }
    }
}

/// The client credentials grant, retried as the policy says.
async fn request_token(
    http: &reqwest::Client,
    credentials: &Credentials,
    policy: &RetryPolicy,
    observer: &dyn Observer,
) -> Result<Token, PullError> {
    let url = grant(credentials)?.0.to_string();
    retry::run(policy, &url, observer, || async {
        let asked = Instant::now();
        let (token_url, form) = match grant(credentials) {
            Ok(grant) => grant,
            Err(err) => return Attempt::Fail(err),
        };
        let sent = http
            .post(token_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => return network(&err),
        };
        let status = response.status().as_u16();
        let after = retry::retry_after(response.headers().get(reqwest::header::RETRY_AFTER));
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(err) => return network(&err),
        };
        match status {
            200..=299 => match token(&body, asked) {
                Some(token) => Attempt::Done(token),
                None => Attempt::Fail(PullError::Malformed {
                    url: url.clone(),
                    expected: "an OAuth token response",
                    reason: "no access_token".into(),
                }),
            },
            429 | 408 | 500..=599 => Attempt::Retry {
                why: format!("HTTP {status}{}", Fault::parse(&body)),
                after,
            },
            _ => Attempt::Fail(PullError::SignIn {
                url: url.clone(),
                status,
                fault: Fault::parse(&body),
            }),
        }
    })
    .await
}

fn network<T>(err: &reqwest::Error) -> Attempt<T> {
    Attempt::Retry {
        why: retry::describe(err),
        after: None,
    }
}

/// The token in a reply, renewed five minutes before it expires (or halfway, if it lives
/// less than ten); a reply without `expires_in` is taken to last an hour, as Entra's do.
fn token(body: &[u8], asked: Instant) -> Option<Token> {
    let reply: TokenReply = serde_json::from_slice(body).ok()?;
    if reply.access_token.is_empty() {
        return None;
    }
    let seconds = match reply.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .unwrap_or(3600);
    let lifetime = Duration::from_secs(seconds);
    let margin = Duration::from_secs(300).min(lifetime / 2);
    Some(Token {
        value: Secret::new(reply.access_token),
        renew_at: asked + lifetime - margin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_debug_output() {
        let app = ClientSecret::new(
            PUBLIC_AUTHORITY,
            "contoso.onmicrosoft.com",
            "app-1",
            Secret::new("s3cr3t-value"),
        )
        .unwrap();
        let shown = format!(
            "{:?} {:?}",
            Credentials::ClientSecret(app),
            Credentials::Bearer(Secret::new("bearer-value"))
        );
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(!shown.contains("bearer-value"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }

    #[test]
    fn the_token_url_is_the_tenants_v2_endpoint_at_the_authority() {
        let at = |authority| {
            ClientSecret::new(authority, "tenant-1", "app", Secret::new("s"))
                .unwrap()
                .token_url
                .to_string()
        };
        assert_eq!(
            at(PUBLIC_AUTHORITY),
            "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token"
        );
        assert_eq!(
            at("https://login.microsoftonline.us/"),
            "https://login.microsoftonline.us/tenant-1/oauth2/v2.0/token"
        );
        assert_eq!(
            at("http://127.0.0.1:9999"),
            "http://127.0.0.1:9999/tenant-1/oauth2/v2.0/token"
        );
        let plain = ClientSecret::new("http://login.example", "t", "a", Secret::new("s"));
        assert!(matches!(plain, Err(SetupError::PlainHttp { .. })));
    }

    #[test]
    fn tokens_are_renewed_before_they_expire() {
        let asked = Instant::now();
        let token = token(br#"{"access_token":"a","expires_in":"3599"}"#, asked).unwrap();
        assert_eq!(token.renew_at - asked, Duration::from_secs(3299));
        let short = super::token(br#"{"access_token":"a","expires_in":60}"#, asked).unwrap();
        assert_eq!(short.renew_at - asked, Duration::from_secs(30));
        assert!(super::token(br#"{"error":"invalid_client"}"#, asked).is_none());
    }
}
