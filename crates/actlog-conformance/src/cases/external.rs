//! Users who sign in through an identity provider (OpenID Connect), linked by tenant and
//! object id.

use std::sync::Arc;

use actlog_domain::roles::Role;
use actlog_store::{ExternalSignIn, ExternalSignInError, NewUser, Store};

fn who(tenant: &str, object: &str, email: &str, roles: &[Role]) -> ExternalSignIn {
    ExternalSignIn {
        partner_id: "partner-a".into(),
        tenant_id: tenant.into(),
        object_id: object.into(),
        email: email.into(),
        roles: roles.to_vec(),
    }
}

/// The first sign-in creates the user (and its partner) without a password; later ones find the
/// same user by tenant and object id, whatever the email says, and replace email and roles.
pub async fn external_sign_ins_create_then_update_one_user(store: Arc<dyn Store>) {
    let first = store
        .sign_in_external(&who("t1", "o1", "Ada@Contoso.Example", &[Role::AdminAgent]))
        .await
        .unwrap();
    assert_eq!(first.email, "ada@contoso.example");
    assert_eq!(first.partner_id, "partner-a");
    assert_eq!(first.roles, [Role::AdminAgent]);
    assert_eq!(first.password_hash, actlog_store::identity::NO_PASSWORD);

    let renamed = store
        .sign_in_external(&who("t1", "o1", "ada.l@contoso.example", &[]))
        .await
        .unwrap();
    assert_eq!(renamed.id, first.id, "the same identity is the same user");
    assert_eq!(renamed.email, "ada.l@contoso.example");
    assert!(renamed.roles.is_empty(), "a role removed is gone");
    assert_eq!(
        store.user_by_email("ada.l@contoso.example").await.unwrap(),
        Some(renamed.clone())
    );
    assert_eq!(
        store.user_by_email("ada@contoso.example").await.unwrap(),
        None
    );

    // The same object id in another tenant is another person.
    let other = store
        .sign_in_external(&who(
            "t2",
            "o1",
            "ada@fabrikam.example",
            &[Role::GlobalAdmin],
        ))
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(store.users(Some("partner-a")).await.unwrap().len(), 2);
}

/// An email held by another user (local or linked) is refused, and nothing is written: no user,
/// no link, no change to the holder.
pub async fn external_sign_ins_never_take_another_users_email(store: Arc<dyn Store>) {
    let local = store
        .add_user(NewUser {
            partner_id: "partner-a".into(),
            email: "bo@contoso.example".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            roles: vec![Role::GlobalAdmin],
        })
        .await
        .unwrap();
    let taken = store
        .sign_in_external(&who("t1", "o2", "BO@contoso.example", &[Role::AdminAgent]))
        .await;
    assert!(
        matches!(taken, Err(ExternalSignInError::EmailTaken(ref e)) if e == "bo@contoso.example"),
        "{taken:?}"
    );
    assert_eq!(
        store.users(None).await.unwrap(),
        std::slice::from_ref(&local)
    );

    // Once linked under another email, renaming onto the local user's email is refused too.
    let linked = store
        .sign_in_external(&who("t1", "o2", "bo2@contoso.example", &[Role::AdminAgent]))
        .await
        .unwrap();
    let rename = store
        .sign_in_external(&who("t1", "o2", "bo@contoso.example", &[]))
        .await;
    assert!(
        matches!(rename, Err(ExternalSignInError::EmailTaken(_))),
        "{rename:?}"
    );
    assert_eq!(
        store.user_by_email("bo2@contoso.example").await.unwrap(),
        Some(linked),
        "unchanged"
    );
    assert_eq!(
        store.user_by_email("bo@contoso.example").await.unwrap(),
        Some(local)
    );
}

/// An identity linked to a user of one partner is not handed to another partner (a tenant moved
/// to another partner in the configuration).
pub async fn external_identities_stay_with_their_partner(store: Arc<dyn Store>) {
    store
        .sign_in_external(&who("t1", "o3", "cy@contoso.example", &[Role::AdminAgent]))
        .await
        .unwrap();
    let moved = ExternalSignIn {
        partner_id: "partner-b".into(),
        ..who("t1", "o3", "cy@contoso.example", &[Role::GlobalAdmin])
    };
    let refused = store.sign_in_external(&moved).await;
    assert!(
        matches!(refused, Err(ExternalSignInError::OtherPartner(ref p)) if p == "partner-a"),
        "{refused:?}"
    );
    let kept = store
        .user_by_email("cy@contoso.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (kept.partner_id.as_str(), kept.roles.as_slice()),
        ("partner-a", &[Role::AdminAgent][..])
    );
    assert!(store.users(Some("partner-b")).await.unwrap().is_empty());
}
