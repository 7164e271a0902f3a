use super::*;

fn key(name: &str, seed: u8) -> SigningKey {
    SigningKey::from_seed(name, [seed; 32]).unwrap()
}

#[test]
fn the_key_id_and_verifier_key_follow_the_specification() {
    let k = key("actlog.example", 7);
    let public = k.key.verifying_key().to_bytes();
    let mut hashed = b"actlog.example\n\x01".to_vec();
    hashed.extend_from_slice(&public);
    let digest = Sha256::digest(&hashed);
    assert_eq!(k.verifier().key_id().to_be_bytes(), digest[..4]);

    let mut encoded = vec![1];
    encoded.extend_from_slice(&public);
    let text = k.verifier().to_string();
    assert_eq!(
        text,
        format!(
            "actlog.example+{:02x}{:02x}{:02x}{:02x}+{}",
            digest[0],
            digest[1],
            digest[2],
            digest[3],
            STANDARD.encode(encoded)
        )
    );
    assert_eq!(text.parse::<VerifierKey>().unwrap(), *k.verifier());
}

#[test]
fn malformed_verifier_keys_are_refused() {
    let good = key("actlog.example", 7).verifier().to_string();
    // The key's base64 may hold `+`; the name and ID do not.
    let (name, rest) = good.split_once('+').unwrap();
    let (id, b64) = rest.split_once('+').unwrap();
    let other_id = format!(
        "{name}+{:08x}+{b64}",
        u32::from_str_radix(id, 16).unwrap() ^ 1
    );
    let cases = [
        format!("{name}+{id}"),
        format!("{name}+{id}+{b64}!"),
        format!("{name}+{}+{b64}", id.to_uppercase()),
        format!("{name}+{}+{b64}", &id[1..]),
        format!("other+{id}+{b64}"),
        other_id,
        format!("{name}+{id}+{}", STANDARD.encode([2u8; 33])),
        format!("{name}+{id}+{}", STANDARD.encode([1u8; 32])),
        format!("+{id}+{b64}"),
        format!("two words+{id}+{b64}"),
    ];
    for case in cases {
        assert!(case.parse::<VerifierKey>().is_err(), "accepted {case}");
    }
}

#[test]
fn a_signed_note_has_the_text_a_blank_line_and_an_em_dash_signature_line() {
    let k = key("actlog.example", 1);
    let note = sign("hello\nworld\n", &k).unwrap();
    let (text, line) = note.split_once("\n\n").unwrap();
    assert_eq!(text, "hello\nworld");
    let line = line.strip_prefix("\u{2014} actlog.example ").unwrap();
    let line = line.strip_suffix('\n').unwrap();
    let bytes = STANDARD.decode(line).unwrap();
    assert_eq!(bytes.len(), 4 + 64);
    assert_eq!(bytes[..4], k.verifier().key_id().to_be_bytes());

    let opened = open(&note, &[k.verifier().clone()]).unwrap();
    assert_eq!(opened.text, "hello\nworld\n");
    assert_eq!(opened.signers, [k.verifier().clone()]);
}

#[test]
fn texts_a_note_cannot_carry_are_refused() {
    let k = key("a", 1);
    assert_eq!(
        sign("no newline", &k),
        Err(NoteError::Malformed("the text must end with a newline"))
    );
    assert!(sign("tab\there\n", &k).is_err());
    assert!(SigningKey::from_seed("a+b", [0; 32]).is_err());
    assert!(SigningKey::from_seed("a\u{2003}b", [0; 32]).is_err());
    assert!(SigningKey::from_seed("", [0; 32]).is_err());
}

#[test]
fn an_altered_text_or_signature_is_refused() {
    let k = key("actlog.example", 1);
    let known = [k.verifier().clone()];
    let note = sign("size 10\n", &k).unwrap();
    let altered = note.replacen("10", "11", 1);
    assert_eq!(
        open(&altered, &known),
        Err(NoteError::BadSignature {
            name: "actlog.example".into(),
            key_id: k.verifier().key_id()
        })
    );
    // Flip one bit of the signature itself (past the key ID).
    let (head, b64) = note.rsplit_once(' ').unwrap();
    let mut bytes = STANDARD.decode(b64.trim_end()).unwrap();
    bytes[10] ^= 1;
    let flipped = format!("{head} {}\n", STANDARD.encode(bytes));
    assert!(matches!(
        open(&flipped, &known),
        Err(NoteError::BadSignature { .. })
    ));
}

#[test]
fn a_note_signed_by_another_key_is_refused_as_unknown() {
    let ours = key("actlog.example", 1);
    let theirs = key("actlog.example", 2);
    let note = sign("text\n", &theirs).unwrap();
    let err = open(&note, &[ours.verifier().clone()]).unwrap_err();
    assert_eq!(
        err,
        NoteError::UnknownKey {
            signers: vec![format!("actlog.example+{:08x}", theirs.verifier().key_id())]
        }
    );
    assert!(open(&note, &[]).is_err());
}

#[test]
fn several_signatures_verify_when_one_is_by_a_known_key() {
    let ours = key("actlog.example", 1);
    let witness = key("witness.example", 2);
    let by_witness = sign("text\n", &witness).unwrap();
    let by_us = sign("text\n", &ours).unwrap();
    let ours_line = by_us.split_once("\n\n").unwrap().1;
    let both = format!("{by_witness}{ours_line}");
    let opened = open(&both, &[ours.verifier().clone()]).unwrap();
    assert_eq!(opened.signers, [ours.verifier().clone()]);
    let opened = open(
        &both,
        &[ours.verifier().clone(), witness.verifier().clone()],
    )
    .unwrap();
    assert_eq!(opened.signers.len(), 2);
    // A known key's bad signature (here over another text) refuses the note even beside a
    // good one; a line with a known name but another key ID is just someone else's.
    let elsewhere = sign("other\n", &witness).unwrap();
    let bad_line = elsewhere.split_once("\n\n").unwrap().1;
    let mixed = format!("{by_us}{bad_line}");
    assert_eq!(
        open(
            &mixed,
            &[ours.verifier().clone(), witness.verifier().clone()]
        ),
        Err(NoteError::BadSignature {
            name: "witness.example".into(),
            key_id: witness.verifier().key_id()
        })
    );
    let renamed = ours_line.replacen("actlog.example", "witness.example", 1);
    let mixed = format!("{by_us}{renamed}");
    assert!(
        open(
            &mixed,
            &[ours.verifier().clone(), witness.verifier().clone()]
        )
        .is_ok()
    );
}

#[test]
fn truncated_and_malformed_notes_are_refused() {
    let k = key("actlog.example", 1);
    let known = [k.verifier().clone()];
    let note = sign("origin\n1\n", &k).unwrap();
    for cut in [1, 2, 10, note.len() - "origin\n1\n".len()] {
        let truncated = &note[..note.len() - cut];
        assert!(open(truncated, &known).is_err(), "cut {cut}");
    }
    let (text, sig) = note.split_once("\n\n").unwrap();
    let cases = [
        format!("{text}\n{sig}"),                              // no blank line
        format!("{text}\n\n{}", sig.replace('\u{2014}', "-")), // hyphen, not em dash
        format!("{text}\n\n{}", sig.replacen(' ', "  ", 1)),   // two spaces
        format!("{text}\n\n{}", sig.replace('=', "")),         // unpadded base64
        format!("{text}\n\n\u{2014} actlog.example AAAA\n"),   // too short
        format!("{text}\r\n\n{sig}"),                          // a control character
        format!("{text}\n\n"),                                 // no signature
    ];
    for case in cases {
        assert!(open(&case, &known).is_err(), "accepted {case:?}");
    }
}

#[test]
fn debug_never_shows_the_private_key() {
    let k = key("actlog.example", 9);
    let shown = format!("{k:?}");
    assert!(shown.contains("actlog.example"));
    let seed = k.seed();
    assert!(!shown.contains(&STANDARD.encode(seed)));
    assert!(!shown.contains(&format!("{seed:?}")));
    assert!(!shown.contains("9, 9, 9"));
}
