use super::*;
use crate::checkpoint::Checkpoint;

const NAME: &str = "actlog.example";

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_first_use_creates_a_private_key_file_and_later_uses_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys").join("signing.key");
    let created = Keyring::load_or_create(&path, NAME).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let again = Keyring::load_or_create(&path, NAME).unwrap();
    assert_eq!(again.verifiers(), created.verifiers());
    assert_eq!(
        Keyring::load(&path).unwrap().verifiers(),
        created.verifiers()
    );
    assert_eq!(created.signing_key().name(), NAME);
    // Nothing but the key file is left in the directory.
    let entries: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(entries.len(), 1);

    let text = fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("actlog-keyring-v1"));
    let current = lines.next().unwrap();
    assert!(current.starts_with(&format!("current PRIVATE+KEY+{NAME}+")));
    assert_eq!(lines.next(), None);
}

#[test]
fn a_key_file_others_may_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.key");
    Keyring::load_or_create(&path, NAME).unwrap();
    for loose in [0o644, 0o640, 0o604, 0o620] {
        fs::set_permissions(&path, fs::Permissions::from_mode(loose)).unwrap();
        let err = Keyring::load(&path).unwrap_err();
        assert!(
            matches!(err, KeyfileError::Permissions { mode, .. } if mode == loose),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"), "{err}");
        assert!(Keyring::load_or_create(&path, NAME).is_err());
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
    Keyring::load(&path).unwrap();
}

#[test]
fn a_missing_file_is_an_error_to_load() {
    let dir = tempfile::tempdir().unwrap();
    let err = Keyring::load(&dir.path().join("absent.key")).unwrap_err();
    assert!(
        matches!(&err, KeyfileError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    );
    assert!(err.to_string().contains("absent.key"), "{err}");
}

#[test]
fn a_key_of_another_deployment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.key");
    Keyring::load_or_create(&path, NAME).unwrap();
    assert!(matches!(
        Keyring::load_or_create(&path, "other.example"),
        Err(KeyfileError::WrongName { .. })
    ));
}

#[test]
fn creating_never_overwrites_a_key_that_appeared_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.key");
    let first = Keyring::load_or_create(&path, NAME).unwrap();
    let other = Keyring {
        current: SigningKey::generate(NAME).unwrap(),
        retired: Vec::new(),
    };
    let err = publish(&path, &other.to_text(), Replace::Never).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(Keyring::load(&path).unwrap().verifiers(), first.verifiers());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temporary left"
    );
}

#[test]
fn rotation_signs_with_a_new_key_and_keeps_the_old_verifier_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.key");
    let first = Keyring::load_or_create(&path, NAME).unwrap();
    let checkpoint = Checkpoint::new("actlog.example/partner/p", 1, [7; 32]).unwrap();
    let old_signed = checkpoint.sign(first.signing_key());

    let second = Keyring::rotate(&path, NAME).unwrap();
    let third = Keyring::rotate(&path, NAME).unwrap();
    assert_eq!(mode(&path), 0o600);
    let loaded = Keyring::load(&path).unwrap();
    assert_eq!(loaded.verifiers(), third.verifiers());
    assert_eq!(
        loaded.verifiers(),
        [
            third.signing_key().verifier().clone(),
            second.signing_key().verifier().clone(),
            first.signing_key().verifier().clone(),
        ]
    );
    assert_ne!(
        loaded.signing_key().verifier(),
        first.signing_key().verifier()
    );
    let origin = checkpoint.origin();
    assert_eq!(
        Checkpoint::open(&old_signed, &loaded.verifiers(), origin).unwrap(),
        checkpoint
    );
    // Signing now uses the new key only.
    let new_signed = checkpoint.sign(loaded.signing_key());
    let only_first = [first.signing_key().verifier().clone()];
    assert!(Checkpoint::open(&new_signed, &only_first, origin).is_err());
    assert!(Keyring::rotate(&dir.path().join("absent.key"), NAME).is_err());
}

#[test]
fn a_damaged_key_file_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.key");
    Keyring::load_or_create(&path, NAME).unwrap();
    Keyring::rotate(&path, NAME).unwrap();
    let good = fs::read_to_string(&path).unwrap();
    let current = good.lines().nth(1).unwrap();
    // `current PRIVATE+KEY+<name>+<id>+<key>`; the key's base64 may hold `+` too.
    let parts: Vec<&str> = current.splitn(5, '+').collect();
    let id = u32::from_str_radix(parts[3], 16).unwrap() ^ 1;
    let wrong_id = format!(
        "{}+{}+{}+{id:08x}+{}",
        parts[0], parts[1], parts[2], parts[4]
    );
    let cases = [
        (
            good.replacen("actlog-keyring-v1", "actlog-keyring-v2", 1),
            1,
        ),
        (good.replacen(current, &wrong_id, 1), 2),
        (
            good.replacen(current, &current.replace("current", "curent"), 1),
            2,
        ),
        (good.replacen("retired ", "retired x", 1), 3),
        (format!("{good}junk\n"), 4),
        ("actlog-keyring-v1\n".to_owned(), 2),
    ];
    for (text, line) in cases {
        fs::remove_file(&path).unwrap();
        write_new(&path, &text).unwrap();
        match Keyring::load(&path) {
            Err(KeyfileError::Malformed { line: at, .. }) => assert_eq!(at, line, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn the_keyring_debug_output_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.key");
    let keyring = Keyring::load_or_create(&path, NAME).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let secret = text.lines().nth(1).unwrap().splitn(5, '+').nth(4).unwrap();
    let shown = format!("{keyring:?}");
    assert!(shown.contains(NAME), "{shown}");
    assert!(!shown.contains(secret), "{shown}");
}
