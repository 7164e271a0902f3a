//! TLS on the server's own port (`[tls]`): rustls, the certificate chain and private key read
//! from PEM files, read again on [`Tls::reload`] (the binary calls it on SIGHUP).
//!
//! A reload that fails (a file missing, half-written, or a key that does not match) keeps the
//! certificate in use and says why: a renewal gone wrong never takes the server down.
//! Connections already open keep the certificate they were opened with; each new one gets the
//! latest.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The certificate and key files, and the configuration made of them.
pub struct Tls {
    certificate: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<ServerConfig>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("certificate", &self.certificate)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Why the certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} holds no certificate (a PEM block `BEGIN CERTIFICATE`): {detail}", path.display())]
    NoCertificate { path: PathBuf, detail: String },
    #[error(
        "{} holds no private key (a PEM block `BEGIN PRIVATE KEY`, `BEGIN RSA PRIVATE KEY` or `BEGIN EC PRIVATE KEY`): {detail}",
        path.display()
    )]
    NoKey { path: PathBuf, detail: String },
    #[error("the certificate {} and the key {} cannot serve TLS together: {source}", certificate.display(), key.display())]
    Unusable {
        certificate: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
}

impl Tls {
    /// Reads `certificate` (the server's certificate first, then its chain) and `key`.
    pub fn load(certificate: &Path, key: &Path) -> Result<Tls, TlsError> {
        let config = server_config(certificate, key)?;
        Ok(Tls {
            certificate: certificate.to_owned(),
            key: key.to_owned(),
            current: RwLock::new(Arc::new(config)),
        })
    }

    /// Reads the files again; new connections get what they hold. On error the configuration
    /// in use is kept.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = server_config(&self.certificate, &self.key)?;
        *self.current.write().unwrap() = Arc::new(config);
        Ok(())
    }

    /// What a new connection's handshake is made with.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.current.read().unwrap().clone())
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// What is wrong with a PEM file, in words: the parser's own text shows the marker lines as
/// lists of byte values.
fn pem_problem(error: &rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error;
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim().to_owned();
    match error {
        Error::MissingSectionEnd { end_marker } => {
            format!(
                "a block is cut off: its line `-----END {}-----` is missing",
                text(end_marker)
            )
        }
        Error::IllegalSectionStart { line } => {
            format!("the line `{}` does not begin a PEM block", text(line))
        }
        Error::Base64Decode(e) => format!("a block's base64 is damaged ({e})"),
        Error::NoItemsFound => "none found".into(),
        other => other.to_string(),
    }
}

fn server_config(certificate: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let no_certificate = |detail: String| TlsError::NoCertificate {
        path: certificate.to_owned(),
        detail,
    };
    let chain = CertificateDer::pem_slice_iter(&read(certificate)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| no_certificate(pem_problem(&e)))?;
    if chain.is_empty() {
        return Err(no_certificate("none found".into()));
    }
    let private_key = PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|e| TlsError::NoKey {
        path: key.to_owned(),
        detail: pem_problem(&e),
    })?;
    let unusable = |source| TlsError::Unusable {
        certificate: certificate.to_owned(),
        key: key.to_owned(),
        source,
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(unusable)?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(unusable)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
