//! Certificate credentials (`private_key_jwt`): instead of a secret, the app proves itself
//! with a short-lived JWT signed by its certificate's RSA key (PS256), naming the certificate
//! by its SHA-256 thumbprint (`x5t#S256`), as Entra ID documents for client assertions.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PSS_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Url;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use super::error::SetupError;
use super::random_guid;
use super::signin::{PARTNER_CENTER_SCOPE, token_url};

/// The assertion type of a JWT client assertion (RFC 7523).
pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid: Entra accepts up to ten minutes ahead.
const LIFETIME_SECONDS: i64 = 600;

/// An app's certificate and private key at an authority.
#[derive(Clone)]
pub struct ClientCertificate {
    /// `{authority}/{tenant}/oauth2/v2.0/token`, also the assertion's audience.
    pub token_url: Url,
    pub client_id: String,
    /// What the token is for: [`PARTNER_CENTER_SCOPE`].
    pub scope: String,
    /// The certificate's SHA-256 thumbprint, base64url (`x5t#S256`).
    pub thumbprint: String,
    key: Arc<RsaKeyPair>,
}

impl fmt::Debug for ClientCertificate {
    /// Never shows the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("thumbprint", &self.thumbprint)
            .field("key", &"***")
            .finish()
    }
}

impl ClientCertificate {
    /// App `client_id` of `tenant` at `authority`, with the first certificate in
    /// `certificate_pem` and the RSA private key in `key_pem` (PKCS #8 or PKCS #1; the two may
    /// be one file).
    pub fn from_pem(
        authority: &str,
        tenant: &str,
        client_id: &str,
        certificate_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<ClientCertificate, SetupError> {
        let bad = |reason: String| SetupError::Certificate(reason);
        let certificate = CertificateDer::pem_slice_iter(certificate_pem)
            .next()
            .ok_or_else(|| bad("the certificate file holds no PEM CERTIFICATE".into()))?
            .map_err(|e| bad(format!("the certificate cannot be read: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| bad(format!("the private key cannot be read: {e}")))?;
        let key = match &key {
            PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            _ => return Err(bad("the private key must be an RSA key".into())),
        }
        .map_err(|e| bad(format!("the private key is not a usable RSA key: {e}")))?;
        Ok(ClientCertificate {
            token_url: token_url(authority, tenant)?,
            client_id: client_id.trim().to_owned(),
            scope: PARTNER_CENTER_SCOPE.to_owned(),
            thumbprint: URL_SAFE_NO_PAD.encode(Sha256::digest(certificate.as_ref())),
            key: Arc::new(key),
        })
    }

    /// A fresh client assertion, valid from `now` (Unix seconds) for ten minutes.
    pub(crate) fn assertion(&self, now: i64) -> Result<String, SetupError> {
        let header = serde_json::json!({
            "alg": "PS256",
            "typ": "JWT",
            "x5t#S256": self.thumbprint,
        });
        let claims = serde_json::json!({
            "aud": self.token_url.as_str(),
            "iss": self.client_id,
            "sub": self.client_id,
            "jti": random_guid(),
            "iat": now,
            "nbf": now,
            "exp": now + LIFETIME_SECONDS,
        });
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PSS_SHA256,
                &SystemRandom::new(),
                signed.as_bytes(),
                &mut signature,
            )
            .map_err(|_| SetupError::Certificate("the key could not sign".into()))?;
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{KeyPair, RSA_PSS_2048_8192_SHA256, UnparsedPublicKey};

    /// A self-signed certificate and its key, made for these tests.
    const APP_PEM: &[u8] = include_bytes!("fixtures/app.pem");

    #[test]
    fn the_assertion_is_a_ps256_jwt_for_the_token_endpoint_signed_by_the_key() {
        let app = ClientCertificate::from_pem(
            "https://login.microsoftonline.us",
            "tenant-1",
            "app-1",
            APP_PEM,
            APP_PEM,
        )
        .unwrap();
        // `openssl x509 -outform der | openssl dgst -sha256 -binary | base64url`
        assert_eq!(
            app.thumbprint,
            "eacQgUYtkh7SaPO0rQ7LV53IE3x_OmwIg1BQa1mi22o"
        );
        let jwt = app.assertion(1_800_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let json = |part: &str| -> serde_json::Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
        };
        let (header, claims) = (json(parts[0]), json(parts[1]));
        assert_eq!(header["alg"], "PS256");
        assert_eq!(header["x5t#S256"], app.thumbprint);
        assert_eq!(
            claims["aud"],
            "https://login.microsoftonline.us/tenant-1/oauth2/v2.0/token"
        );
        assert_eq!(
            (&claims["iss"], &claims["sub"]),
            (&"app-1".into(), &"app-1".into())
        );
        assert_eq!(claims["exp"], 1_800_000_600);
        assert_ne!(
            json(app.assertion(0).unwrap().split('.').nth(1).unwrap())["jti"],
            claims["jti"]
        );
        let public =
            UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, app.key.public_key().as_ref());
        let signed = format!("{}.{}", parts[0], parts[1]);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        public.verify(signed.as_bytes(), &signature).unwrap();
    }

    #[test]
    fn keys_never_reach_debug_output_and_bad_files_are_explained() {
        let app =
            ClientCertificate::from_pem("https://x.example", "t", "a", APP_PEM, APP_PEM).unwrap();
        let shown = format!("{app:?}");
        assert!(
            shown.contains("***") && !shown.contains("PRIVATE"),
            "{shown}"
        );
        let key_only = APP_PEM
            .split(|&b| b == b'\n')
            .skip_while(|line| !line.starts_with(b"-----BEGIN PRIVATE KEY"))
            .collect::<Vec<_>>()
            .join(&b'\n');
        let err = ClientCertificate::from_pem("https://x.example", "t", "a", &key_only, APP_PEM)
            .unwrap_err();
        assert!(err.to_string().contains("no PEM CERTIFICATE"), "{err}");
        let err = ClientCertificate::from_pem("https://x.example", "t", "a", APP_PEM, b"nothing")
            .unwrap_err();
        assert!(err.to_string().contains("private key"), "{err}");
    }
}
