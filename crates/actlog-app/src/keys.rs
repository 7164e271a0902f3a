//! API keys: `actlog_<id>_<secret>`, where the id is public (it names the key in listings)
//! and only the SHA-256 of the whole key is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use actlog_store::{ApiKey, Scopes, StoreError, Tenancy};

const PREFIX: &str = "actlog_";

/// The SHA-256 a key is stored and looked up by.
pub fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

/// Creates and stores a key for `partner` (created if new); returns the key, shown only once.
pub async fn create(
    store: &dyn Tenancy,
    partner: &str,
    scopes: Scopes,
    label: &str,
) -> Result<(ApiKey, String), StoreError> {
    store.ensure_partner(partner).await?;
    let id: String = random_bytes::<5>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let key_text = format!("{PREFIX}{id}_{secret}");
    let key = ApiKey {
        id,
        partner_id: partner.to_owned(),
        scopes,
        label: label.to_owned(),
    };
    store.add_api_key(&key, &hash(&key_text)).await?;
    Ok((key, key_text))
}

/// Reads `read`, `write` or `read,write`.
pub fn parse_scopes(text: &str) -> Result<Scopes, String> {
    let mut scopes = Scopes::default();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.to_ascii_lowercase().as_str() {
            "read" => scopes.read = true,
            "write" => scopes.write = true,
            other => {
                return Err(format!(
                    "unknown scope `{other}`: use read, write or read,write"
                ));
            }
        }
    }
    if scopes == Scopes::default() {
        return Err("give at least one scope: read, write or read,write".to_owned());
    }
    Ok(scopes)
}

/// Whether a text looks like an actlog key at all (saves a database look-up for garbage).
pub fn looks_like_key(text: &str) -> bool {
    text.starts_with(PREFIX) && text.len() < 200 && text.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_refuse_unknown_words() {
        assert_eq!(
            parse_scopes("read, WRITE").unwrap(),
            Scopes {
                read: true,
                write: true
            }
        );
        assert_eq!(
            parse_scopes("read").unwrap(),
            Scopes {
                read: true,
                write: false
            }
        );
        assert!(parse_scopes("admin").unwrap_err().contains("admin"));
        assert!(parse_scopes(" , ").is_err());
    }
}
