//! Continuation tokens. A token issued for a request opens, for its partner and key, to that
//! request continued from its position; for another partner or key it is refused; and every
//! change to it (a byte flipped, inserted, removed, the token cut) is refused, never a panic.
//! Arbitrary text is refused, and a payload signed with the right key but written by hand
//! either is refused or opens to a request that issues and opens to itself again.

#![no_main]

use actlog_domain::cursor::{CursorKey, InvalidToken};
use actlog_domain::filter::{Condition, Field, Filter, Operator, TEXT_SEPARATOR};
use actlog_domain::query::{PageRequest, Position, Query, Window};
use actlog_fuzz::{instant, text};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = check(&mut u);
});

fn check(u: &mut Unstructured<'_>) -> Result<()> {
    let secret: Vec<u8> = u.arbitrary()?;
    let key = CursorKey::new(secret.clone());
    let partner = text(u)?;
    let request = request(u)?;
    let after = Position {
        date: instant(u)?,
        seq: u.arbitrary()?,
    };
    let snapshot: i64 = u.arbitrary()?;
    let token = key.issue(&partner, &request, after, snapshot);
    let continued = PageRequest {
        after: Some(after),
        snapshot: Some(snapshot),
        ..request.clone()
    };
    assert_eq!(key.open(&partner, &token), Ok(continued.clone()), "{token}");
    assert_eq!(key.open(&partner, &format!(" {token}\n")), Ok(continued));
    assert_eq!(key.open(&format!("{partner}x"), &token), Err(InvalidToken));
    // HMAC pads short keys with zeros, so another key differs in a byte that padding keeps.
    let mut other = secret.clone();
    match other.first_mut() {
        Some(first) => *first ^= 0x01,
        None => other.push(1),
    }
    assert_eq!(
        CursorKey::new(other).open(&partner, &token),
        Err(InvalidToken)
    );

    let mutated = mutate(u, token.as_bytes())?;
    let mutated = String::from_utf8_lossy(&mutated);
    if mutated.trim() != token {
        assert_eq!(
            key.open(&partner, &mutated),
            Err(InvalidToken),
            "{token} → {mutated}"
        );
    }

    let payload: Vec<u8> = u.arbitrary()?;
    let tag = Hmac::<Sha256>::new_from_slice(&secret)
        .expect("any key length")
        .chain_update(&payload)
        .finalize()
        .into_bytes();
    let forged = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(&tag[..16])
    );
    if let Ok(opened) = key.open(&partner, &forged) {
        let (after, snapshot) = (
            opened.after.expect("a position"),
            opened.snapshot.expect("a snapshot"),
        );
        let again = key.issue(&partner, &opened, after, snapshot);
        assert_eq!(key.open(&partner, &again), Ok(opened));
    }

    let garbage = String::from_utf8_lossy(u.bytes(u.len())?).into_owned();
    assert_eq!(key.open(&partner, &garbage), Err(InvalidToken));
    Ok(())
}

/// A first page's request: any window, size and filter (a filter as the parser accepts it).
fn request(u: &mut Unstructured<'_>) -> Result<PageRequest> {
    let filter = if u.ratio(1, 3)? {
        None
    } else {
        Some(filter(u, 1, &mut 0)?)
    };
    if let Some(f) = &filter {
        assert_eq!(Filter::parse(&f.to_json()).as_ref(), Ok(f));
    }
    Ok(PageRequest {
        query: Query {
            window: Window {
                start: instant(u)?,
                end: if u.arbitrary()? {
                    Some(instant(u)?)
                } else {
                    None
                },
            },
            filter,
        },
        size: u.int_in_range(1..=5_000)?,
        after: None,
        snapshot: None,
    })
}

/// A filter within the parser's limits: depth 8, 32 conditions (branching stops after 8, and
/// the branches still open keep within 32), values of 512 characters.
fn filter(u: &mut Unstructured<'_>, depth: usize, conditions: &mut usize) -> Result<Filter> {
    if depth < 8 && *conditions < 8 && u.ratio(1, 3)? {
        let mut parts = Vec::new();
        for _ in 0..u.int_in_range(1..=3)? {
            parts.push(filter(u, depth + 1, conditions)?);
        }
        return Ok(if u.arbitrary()? {
            Filter::And(parts)
        } else {
            Filter::Or(parts)
        });
    }
    *conditions += 1;
    let field = *u.choose(&Field::ALL)?;
    let operator = if field == Field::Text {
        Operator::Substring
    } else {
        *u.choose(&Operator::ALL)?
    };
    let value: String = text(u)?
        .chars()
        .filter(|&c| c != '\0' && !(field == Field::Text && c == TEXT_SEPARATOR))
        .take(512)
        .collect();
    Ok(Filter::Condition(Condition {
        field,
        operator,
        value,
    }))
}

/// The token changed once: a byte flipped, inserted or removed, or the token cut.
fn mutate(u: &mut Unstructured<'_>, token: &[u8]) -> Result<Vec<u8>> {
    let mut out = token.to_vec();
    let at = u.choose_index(out.len())?;
    match u.int_in_range(0..=3)? {
        0 => out[at] ^= u.int_in_range(1..=255)?,
        1 => out.insert(at, u.arbitrary()?),
        2 => {
            out.remove(at);
        }
        _ => out.truncate(at),
    }
    Ok(out)
}
