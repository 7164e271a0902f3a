//! Partner users and browser sessions.

use std::sync::Arc;

use actlog_domain::roles::Role;
use actlog_domain::time::OperationDate;
use actlog_store::{AddUserError, NewUser, Store};

fn new_user(partner: &str, email: &str, roles: &[Role]) -> NewUser {
    NewUser {
        partner_id: partner.into(),
        email: email.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        roles: roles.to_vec(),
    }
}

/// Users are created once per email (compared without case), keep their roles, partner and
/// preferences, and are listed per partner.
pub async fn users_keep_roles_partner_and_preferences(store: Arc<dyn Store>) {
    let roles = [Role::AdminAgent, Role::ReportViewer];
    let created = store
        .add_user(new_user("partner-a", "Giulia.Rossi@Example.IT", &roles))
        .await
        .unwrap();
    assert_eq!(created.email, "giulia.rossi@example.it");
    assert_eq!(
        (created.partner_id.as_str(), created.roles.as_slice()),
        ("partner-a", &roles[..])
    );
    assert!(!created.disabled);
    let again = store
        .add_user(new_user("partner-b", "giulia.rossi@example.it", &[]))
        .await;
    assert!(
        matches!(again, Err(AddUserError::EmailTaken(_))),
        "{again:?}"
    );
    store
        .add_user(new_user("partner-b", "nobody@example.com", &[]))
        .await
        .unwrap();

    let found = store
        .user_by_email("  GIULIA.rossi@example.it ")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, created);
    assert_eq!(
        store.user_by_email("missing@example.com").await.unwrap(),
        None
    );

    assert!(
        store
            .set_roles("giulia.rossi@example.it", &[Role::GlobalAdmin])
            .await
            .unwrap()
    );
    assert!(!store.set_roles("missing@example.com", &[]).await.unwrap());
    store
        .set_preferences(created.id, Some("it-IT"), Some("Europe/Rome"))
        .await
        .unwrap();
    let updated = store
        .user_by_email("giulia.rossi@example.it")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.roles, [Role::GlobalAdmin]);
    assert_eq!(
        (updated.lang.as_deref(), updated.time_zone.as_deref()),
        (Some("it-IT"), Some("Europe/Rome"))
    );

    let a: Vec<String> = store
        .users(Some("partner-a"))
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.email)
        .collect();
    assert_eq!(a, ["giulia.rossi@example.it"]);
    assert_eq!(store.users(None).await.unwrap().len(), 2);
}

/// Sessions are found by their id hash with their user; touching moves `last_seen` forward only;
/// disabling a user ends its sessions; purging removes idle and old ones.
pub async fn sessions_follow_their_user(store: Arc<dyn Store>) {
    let user = store
        .add_user(new_user(
            "partner-a",
            "agent@example.com",
            &[Role::AdminAgent],
        ))
        .await
        .unwrap();
    let other = store
        .add_user(new_user("partner-a", "other@example.com", &[]))
        .await
        .unwrap();
    let t0 = OperationDate::from_ticks(1_000_000_000);
    let t1 = OperationDate::from_ticks(2_000_000_000);
    store
        .create_session(&[1; 32], user.id, "csrf-1", t0)
        .await
        .unwrap();
    store
        .create_session(&[2; 32], other.id, "csrf-2", t0)
        .await
        .unwrap();
    store
        .create_session(&[3; 32], user.id, "csrf-3", t1)
        .await
        .unwrap();

    let session = store.session(&[1; 32]).await.unwrap().unwrap();
    assert_eq!(
        (session.user.email.as_str(), session.csrf_token.as_str()),
        ("agent@example.com", "csrf-1")
    );
    assert_eq!((session.created_at, session.last_seen), (t0, t0));
    assert_eq!(store.session(&[9; 32]).await.unwrap(), None);

    store.touch_session(&[1; 32], t1).await.unwrap();
    store.touch_session(&[1; 32], t0).await.unwrap();
    assert_eq!(
        store.session(&[1; 32]).await.unwrap().unwrap().last_seen,
        t1,
        "last_seen never goes back"
    );

    store.delete_session(&[1; 32]).await.unwrap();
    assert_eq!(store.session(&[1; 32]).await.unwrap(), None);

    assert!(store.set_disabled("agent@example.com", true).await.unwrap());
    assert_eq!(
        store.session(&[3; 32]).await.unwrap(),
        None,
        "a disabled user's sessions end"
    );
    assert!(
        store
            .user_by_email("agent@example.com")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );

    let purged = store.purge_sessions(t1, t0).await.unwrap();
    assert_eq!(purged, 1, "the other user's session, idle since t0");
    assert_eq!(store.session(&[2; 32]).await.unwrap(), None);
}

/// Failed sign-ins are counted per key within a window, newest kept, cleared on demand, and
/// purged when old; keys never mix.
pub async fn sign_in_failures_are_counted_per_key_and_expire(store: Arc<dyn Store>) {
    let at = |s: i64| OperationDate::from_ticks(s * 10_000_000);
    let (account, other) = ([1u8; 32], [2u8; 32]);
    for s in [10, 20, 30, 40] {
        store
            .add_sign_in_failure(&account, at(s), at(0))
            .await
            .unwrap();
    }
    store
        .add_sign_in_failure(&other, at(35), at(0))
        .await
        .unwrap();
    let since = |s| store.sign_in_failures(&account, at(s), 10);
    assert_eq!(since(0).await.unwrap(), [at(10), at(20), at(30), at(40)]);
    assert_eq!(
        since(25).await.unwrap(),
        [at(30), at(40)],
        "within the window"
    );
    let newest = store.sign_in_failures(&account, at(0), 2).await.unwrap();
    assert_eq!(newest, [at(30), at(40)], "the newest, oldest first");
    // A failure forgets its key's failures from before the window.
    store
        .add_sign_in_failure(&account, at(50), at(25))
        .await
        .unwrap();
    assert_eq!(since(0).await.unwrap(), [at(30), at(40), at(50)]);
    assert_eq!(store.purge_sign_in_failures(at(36)).await.unwrap(), 2);
    assert_eq!(since(0).await.unwrap(), [at(40), at(50)]);
    store.clear_sign_in_failures(&account).await.unwrap();
    assert!(since(0).await.unwrap().is_empty());
    assert!(
        store
            .sign_in_failures(&other, at(0), 10)
            .await
            .unwrap()
            .is_empty(),
        "purged as old"
    );
}

/// Setting a password stores the new hash and ends every session of that user but the one it
/// was changed from; other users' sessions stay; an unknown user is reported, not created.
pub async fn a_new_password_ends_the_users_other_sessions(store: Arc<dyn Store>) {
    let user = store
        .add_user(new_user("partner-a", "agent@example.com", &[]))
        .await
        .unwrap();
    let other = store
        .add_user(new_user("partner-a", "other@example.com", &[]))
        .await
        .unwrap();
    let t0 = OperationDate::from_ticks(1_000_000_000);
    for (hash, id) in [([1; 32], user.id), ([2; 32], user.id), ([3; 32], other.id)] {
        store.create_session(&hash, id, "csrf", t0).await.unwrap();
    }
    let new_hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA";

    assert!(
        store
            .set_password(user.id, new_hash, Some(&[2; 32]))
            .await
            .unwrap()
    );
    let stored = store.user_by_email("agent@example.com").await.unwrap();
    assert_eq!(stored.unwrap().password_hash, new_hash);
    assert_eq!(store.session(&[1; 32]).await.unwrap(), None, "ended");
    assert!(store.session(&[2; 32]).await.unwrap().is_some(), "kept");
    assert!(store.session(&[3; 32]).await.unwrap().is_some(), "not ours");
    let untouched = store.user_by_email("other@example.com").await.unwrap();
    assert_ne!(untouched.unwrap().password_hash, new_hash);

    // An admin's reset keeps no session at all.
    assert!(store.set_password(user.id, new_hash, None).await.unwrap());
    assert_eq!(store.session(&[2; 32]).await.unwrap(), None);
    assert!(store.session(&[3; 32]).await.unwrap().is_some());

    assert!(!store.set_password(i64::MAX, new_hash, None).await.unwrap());
}
