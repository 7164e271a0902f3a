//! Our formats against independent implementations: the Merkle tree and its proofs against a
//! naive transcription of RFC 9162's recursive definitions (over the leaf data, with SHA-256
//! called directly), and our signed notes against the `signed_note` crate, both ways.

use std::collections::HashMap;

use actlog_tlog::checkpoint::{self, Checkpoint};
use actlog_tlog::merkle::{
    self, Frontier, Hash, NodeId, consistency_proof, inclusion_proof, verify_consistency,
    verify_inclusion,
};
use actlog_tlog::note::{self, SigningKey, VerifierKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use signed_note::{Note, StandardSigner, StandardVerifier, Verifier, VerifierList};

// --- RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, as written -------------------------------------

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The largest power of two smaller than `n`.
fn k_for(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(d: &[Vec<u8>]) -> Hash {
    match d.len() {
        0 => sha256(&[]),
        1 => sha256(&[&[0x00], &d[0]]),
        n => {
            let k = k_for(n);
            sha256(&[&[0x01], &mth(&d[..k]), &mth(&d[k..])])
        }
    }
}

fn path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    let n = d.len();
    if n == 1 {
        return Vec::new();
    }
    let k = k_for(n);
    let (mut proof, sibling) = match m < k {
        true => (path(m, &d[..k]), mth(&d[k..])),
        false => (path(m - k, &d[k..]), mth(&d[..k])),
    };
    proof.push(sibling);
    proof
}

fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(d)] };
    }
    let k = k_for(n);
    let (mut proof, sibling) = match m <= k {
        true => (subproof(m, &d[..k], b), mth(&d[k..])),
        false => (subproof(m - k, &d[k..], false), mth(&d[..k])),
    };
    proof.push(sibling);
    proof
}

// ---------------------------------------------------------------------------------------------

#[test]
fn roots_and_proofs_match_the_rfc_definitions_for_every_size_up_to_70() {
    let data: Vec<Vec<u8>> = (0..70)
        .map(|i| format!("record {i}").into_bytes())
        .collect();
    let mut frontier = Frontier::new();
    // Exactly the nodes complete at the current size, as a store would hold them.
    let mut store: HashMap<NodeId, Hash> = HashMap::new();
    let mut leaves = Vec::new();
    for n in 1..=data.len() {
        let leaf = merkle::leaf_hash(&data[n - 1]);
        assert_eq!(leaf, mth(&data[n - 1..n]));
        leaves.push(leaf);
        for node in frontier.push(leaf) {
            store.insert(NodeId::new(node.level, node.index), node.hash);
        }
        let d = &data[..n];
        let root = mth(d);
        assert_eq!(frontier.root(), root, "root of {n}");
        assert_eq!(merkle::root(&leaves), root);
        let size = n as u64;

        for (m, leaf) in leaves.iter().enumerate() {
            let proof = inclusion_proof(&store, m as u64, size).unwrap();
            assert_eq!(proof, path(m, d), "PATH({m}, D[{n}])");
            verify_inclusion(leaf, m as u64, size, &proof, &root).unwrap();
            let other = merkle::leaf_hash(b"not a record");
            assert!(verify_inclusion(&other, m as u64, size, &proof, &root).is_err());
        }

        for m in 0..=n {
            let proof = consistency_proof(&store, m as u64, size).unwrap();
            let expected = if m == 0 || m == n {
                Vec::new()
            } else {
                subproof(m, d, true)
            };
            assert_eq!(proof, expected, "PROOF({m}, D[{n}])");
            let old = mth(&data[..m]);
            verify_consistency(m as u64, size, &proof, &old, &root).unwrap();
            if 0 < m && m < n {
                let mut forked = data[..m].to_vec();
                forked[0].push(b'!');
                assert!(verify_consistency(m as u64, size, &proof, &mth(&forked), &root).is_err());
            }
        }
    }
}

fn key() -> SigningKey {
    SigningKey::from_seed("actlog.example", [42; 32]).unwrap()
}

/// The same key as `signed_note`'s private key text (Go's `PRIVATE+KEY+…` form).
fn their_signer() -> StandardSigner {
    let verifier = key().verifier().clone();
    let mut private = vec![0x01];
    private.extend_from_slice(&[42; 32]);
    let text = format!(
        "PRIVATE+KEY+{}+{:08x}+{}",
        verifier.name(),
        verifier.key_id(),
        STANDARD.encode(private)
    );
    StandardSigner::new(&text).unwrap()
}

#[test]
fn signed_note_verifies_our_signed_checkpoints() {
    let origin =
        checkpoint::origin("actlog.example", "3fa85f64-5717-4562-b3fc-2c963f66afa6").unwrap();
    let checkpoint = Checkpoint::new(&origin, 70, merkle::leaf_hash(b"root")).unwrap();
    let signed = checkpoint.sign(&key());

    let verifier = StandardVerifier::new(&key().verifier().to_string()).unwrap();
    assert_eq!(verifier.key_id(), key().verifier().key_id());
    let known = VerifierList::new(vec![Box::new(verifier)]);
    let note = Note::from_bytes(signed.as_bytes()).unwrap();
    let (verified, unverified) = note.verify(&known).unwrap();
    assert_eq!((verified.len(), unverified.len()), (1, 0));
    assert_eq!(note.text(), checkpoint.to_text().as_bytes());

    let altered = signed.replacen("\n70\n", "\n71\n", 1);
    let note = Note::from_bytes(altered.as_bytes()).unwrap();
    assert!(note.verify(&known).is_err());
}

#[test]
fn we_verify_notes_signed_by_signed_note() {
    let text = checkpoint::origin("actlog.example", "p").unwrap()
        + "\n3\n"
        + &STANDARD.encode([9u8; 32])
        + "\n";
    let mut note = Note::new(text.as_bytes(), &[]).unwrap();
    note.add_sigs(&[&their_signer()]).unwrap();
    let signed = String::from_utf8(note.to_bytes()).unwrap();

    // Their verifier key text reads as ours.
    let public = ed25519_dalek::SigningKey::from_bytes(&[42; 32]).verifying_key();
    let theirs: VerifierKey = signed_note::new_ed25519_verifier_key("actlog.example", &public)
        .parse()
        .unwrap();
    assert_eq!(theirs, *key().verifier());

    let opened = note::open(&signed, std::slice::from_ref(&theirs)).unwrap();
    assert_eq!(opened.text, text);
    let checkpoint = Checkpoint::open(&signed, &[theirs], "actlog.example/partner/p").unwrap();
    assert_eq!(checkpoint.size(), 3);
    let stranger = SigningKey::from_seed("actlog.example", [1; 32]).unwrap();
    assert!(note::open(&signed, &[stranger.verifier().clone()]).is_err());
}

#[test]
fn the_keyring_holds_a_private_key_signed_note_reads() {
    use actlog_tlog::keyfile::Keyring;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.key");
    let keyring = Keyring::load_or_create(&path, "actlog.example").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let private = text
        .lines()
        .nth(1)
        .unwrap()
        .strip_prefix("current ")
        .unwrap();
    let signer = StandardSigner::new(private).unwrap();
    let mut note = Note::new(b"from the keyring\n", &[]).unwrap();
    note.add_sigs(&[&signer]).unwrap();
    let signed = String::from_utf8(note.to_bytes()).unwrap();
    note::open(&signed, &keyring.verifiers()).unwrap();
}
