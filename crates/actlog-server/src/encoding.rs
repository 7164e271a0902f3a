//! `Content-Encoding` of a request body: `gzip` and `deflate` are decoded, with the body limit
//! applied to the decoded size (a small body that inflates past it — a zip bomb — is a 413,
//! found after reading one byte past the limit, never held whole); any other encoding is
//! refused with 415 rather than read as if it were plain.

use std::io::Read;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use serde_json::json;

use crate::bodies::{BodyBudget, Held, Hold};
use crate::error::{ApiError, Code};

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    /// HTTP's `deflate`: zlib (RFC 1950); raw deflate, which some clients send, is read too.
    Deflate,
}

/// The encoding `Content-Encoding` names: none (or `identity`), `gzip` (`x-gzip`) or
/// `deflate`. Several encodings, or any other one, are refused (415).
pub fn content_encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    let mut named = Vec::new();
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let text = value.to_str().unwrap_or("\u{fffd}");
        named.extend(
            text.split(',')
                .map(|e| e.trim().to_ascii_lowercase())
                .filter(|e| !e.is_empty() && e != "identity"),
        );
    }
    match named.as_slice() {
        [] => Ok(Encoding::Identity),
        [one] if one == "gzip" || one == "x-gzip" => Ok(Encoding::Gzip),
        [one] if one == "deflate" => Ok(Encoding::Deflate),
        _ => Err(ApiError::new(
            Code::UnsupportedMediaType,
            format!(
                "Content-Encoding `{}` is not supported: send the body plain, or with gzip or deflate",
                named.join(", ")
            ),
        )
        .with(json!({ "acceptedEncodings": ["gzip", "deflate", "identity"] }))),
    }
}

/// `body` decoded, at most `limit` bytes once decoded (more → 413; not what it says it is →
/// 400). The decoded bytes are held against `budget` as `partner`'s as they come out, so that
/// many small bodies inflating at once cannot take more memory than the budget (429 past the
/// partner's share, 503 past the whole); the compressed ones are given back once decoded.
/// Runs on a blocking thread: inflating megabytes must not hold up the runtime.
pub async fn decode(
    encoding: Encoding,
    body: Held,
    limit: usize,
    budget: &Arc<BodyBudget>,
    partner: &str,
) -> Result<Held, ApiError> {
    if encoding == Encoding::Identity {
        return Ok(body);
    }
    let (budget, partner) = (Arc::clone(budget), partner.to_owned());
    tokio::task::spawn_blocking(move || decode_now(encoding, &body.bytes, limit, &budget, &partner))
        .await
        .map_err(|e| ApiError::internal("decoding a request body", e))?
}

/// Bytes inflated at a time (and held against the budget at a time).
const DECODE_CHUNK: usize = 64 * 1024;

fn decode_now(
    encoding: Encoding,
    body: &[u8],
    limit: usize,
    budget: &Arc<BodyBudget>,
    partner: &str,
) -> Result<Held, ApiError> {
    let reader: Box<dyn Read + '_> = match encoding {
        Encoding::Identity => Box::new(body),
        Encoding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(body)),
        Encoding::Deflate if zlib_header(body) => Box::new(flate2::read::ZlibDecoder::new(body)),
        Encoding::Deflate => Box::new(flate2::read::DeflateDecoder::new(body)),
    };
    let mut reader = reader.take(limit as u64 + 1);
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let mut hold = Hold::default();
    let mut chunk = vec![0; DECODE_CHUNK];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(ApiError::new(
                    Code::BodyNotDecodable,
                    format!("the body is not valid {encoding:?} data: {e}").to_lowercase(),
                ));
            }
        };
        if out.len() + n > limit {
            return Err(ApiError::new(
                Code::BodyTooLarge,
                format!(
                    "the body is larger than {limit} bytes once decoded; split it into smaller batches"
                ),
            )
            .with(json!({ "maxBytes": limit })));
        }
        hold.take(budget, partner, n)?;
        out.extend_from_slice(&chunk[..n]);
    }
    Ok(Held {
        bytes: Bytes::from(out),
        hold,
    })
}

/// Whether `body` starts with a zlib header (RFC 1950: deflate, and a check of the two bytes).
fn zlib_header(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use axum::http::HeaderValue;

    use super::*;

    fn named(value: &str) -> Result<Encoding, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        content_encoding(&headers)
    }

    #[test]
    fn only_gzip_deflate_and_identity_are_accepted() {
        assert_eq!(
            content_encoding(&HeaderMap::new()).unwrap(),
            Encoding::Identity
        );
        assert_eq!(named("identity").unwrap(), Encoding::Identity);
        assert_eq!(named(" GZIP ").unwrap(), Encoding::Gzip);
        assert_eq!(named("x-gzip").unwrap(), Encoding::Gzip);
        assert_eq!(named("deflate, identity").unwrap(), Encoding::Deflate);
        for refused in ["br", "zstd", "compress", "gzip, gzip", "gzip, br", "*"] {
            let err = named(refused).unwrap_err();
            assert_eq!(err.code, Code::UnsupportedMediaType, "{refused}");
        }
    }

    /// A budget as large as `size`, of which one partner may hold all.
    fn budget(size: usize) -> Arc<BodyBudget> {
        BodyBudget::new(size, 100)
    }

    fn decoded(encoding: Encoding, body: &[u8], limit: usize) -> Result<Vec<u8>, ApiError> {
        decode_now(encoding, body, limit, &budget(1 << 30), "p").map(|held| held.bytes.to_vec())
    }

    #[test]
    fn raw_and_zlib_deflate_both_decode_and_a_bomb_stops_at_the_limit() {
        let text = b"[{\"id\":\"a\"}]";
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        raw.write_all(text).unwrap();
        let raw = raw.finish().unwrap();
        assert_eq!(&decoded(Encoding::Deflate, &raw, 100).unwrap()[..], text);
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        zlib.write_all(text).unwrap();
        let zlib = zlib.finish().unwrap();
        assert_eq!(&decoded(Encoding::Deflate, &zlib, 100).unwrap()[..], text);

        let err = decoded(Encoding::Gzip, &gzip(&vec![0; 8 << 20]), 1 << 20).unwrap_err();
        assert_eq!(err.code, Code::BodyTooLarge);
        let err = decoded(Encoding::Gzip, text, 100).unwrap_err();
        assert_eq!(err.code, Code::BodyNotDecodable);
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    /// Decoded bytes were not counted in the byte budget: 256 small gzip bodies inflating to
    /// 32 MiB each could take 8 GiB. They are held against it now, and given back with the
    /// body.
    #[test]
    fn decoded_bytes_are_held_against_the_byte_budget_and_given_back() {
        let budget = BodyBudget::new(768 << 10, 50);
        let small = gzip(&vec![b' '; 300 << 10]);
        let held = decode_now(Encoding::Gzip, &small, 4 << 20, &budget, "p1").unwrap();
        assert_eq!(budget.available(), (768 - 300) << 10);
        // Past the partner's share (384 KiB): 429; another partner still fits.
        let err = decode_now(Encoding::Gzip, &small, 4 << 20, &budget, "p1").unwrap_err();
        assert_eq!(err.code, Code::ShareUsed);
        let other = decode_now(Encoding::Gzip, &small, 4 << 20, &budget, "p2").unwrap();
        // Past the whole budget: 503.
        let err = decode_now(Encoding::Gzip, &small, 4 << 20, &budget, "p3").unwrap_err();
        assert_eq!(err.code, Code::Overloaded);
        drop((held, other));
        assert_eq!(budget.available(), 768 << 10);
    }
}
