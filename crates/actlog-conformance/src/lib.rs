//! The behaviour every actlog store backend must show, as a test suite each backend runs.
//!
//! Why: PRODUCT.md §7 promises SQLite and PostgreSQL "at full parity (same behaviour, same test
//! suite)". The filter evaluator [`actlog_domain::filter::Filter::matches`] and the windows of
//! [`actlog_domain::query`] are the reference; every case here compares a backend with them, or
//! with a property a user would notice (a record lost, shown twice, shown to another partner).
//!
//! How: each case in [`cases`] is a `pub async fn` taking a fresh, empty store and panicking on
//! failure. A backend runs them all with one line in its `tests/`:
//!
//! ```ignore
//! actlog_conformance::conformance_tests!(fresh_store());
//! ```
//!
//! where `fresh_store()` is an async expression giving a [`Fresh`] (a store, a second handle on
//! the same database as another server would open, and whatever must outlive them, such as a
//! temporary directory). The macro writes one
//! `#[tokio::test(flavor = "multi_thread")]` per case, and evaluates the expression anew for each,
//! so each case gets its own database. The invoking crate needs `tokio` as a dev-dependency.
//!
//! [`data`] builds the deterministic, deliberately awkward data sets the cases use.

pub mod cases;
pub mod data;
mod support;

use std::any::Any;
use std::sync::Arc;

use actlog_store::Store;

pub use support::{expected, folded, walk, window_of_data};

/// A fresh store for one case, and what must live as long as it (dropped after the store).
pub struct Fresh {
    pub store: Arc<dyn Store>,
    /// A second handle on the same database, as a second server would hold (cases about
    /// several servers need it).
    pub second: Option<Arc<dyn Store>>,
    _guard: Box<dyn Any + Send>,
}

impl Fresh {
    /// `guard` is dropped after the case, after the store: a temporary directory, a database
    /// to drop, …
    pub fn new(store: Arc<dyn Store>, guard: impl Any + Send) -> Self {
        Fresh {
            store,
            second: None,
            _guard: Box::new(guard),
        }
    }

    /// With `second`, another handle opened on the same database.
    pub fn with_second(mut self, second: Arc<dyn Store>) -> Self {
        self.second = Some(second);
        self
    }

    /// Both handles; panics when the backend gave no second one.
    pub fn pair(&self) -> (Arc<dyn Store>, Arc<dyn Store>) {
        let second = self
            .second
            .as_ref()
            .expect("this case needs a second handle on the same database (Fresh::with_second)");
        (Arc::clone(&self.store), Arc::clone(second))
    }
}

impl std::fmt::Debug for Fresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fresh").field("store", &self.store).finish()
    }
}

impl From<Arc<dyn Store>> for Fresh {
    fn from(store: Arc<dyn Store>) -> Self {
        Fresh::new(store, ())
    }
}

/// Writes one `#[tokio::test(flavor = "multi_thread")]` per conformance case; `$factory` is an
/// async expression evaluating to something `Into<Fresh>`, evaluated once per case.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@pairs $factory;
            two_handles_store_each_record_of_overlapping_retries_once,
            two_handles_share_partners_keys_users_sessions_and_secrets,
            walks_keep_their_snapshot_while_two_handles_append,
            two_handles_append_to_one_log_in_turn,
            two_handles_append_in_alternation,
        );
        $crate::conformance_tests!(@cases $factory;
            records_round_trip_every_field,
            unknown_fields_round_trip_byte_for_byte,
            get_finds_by_id_within_the_partner_only,
            partners_never_see_each_others_records,
            pages_are_newest_first_with_ties_in_insertion_order,
            every_field_and_operator_matches_the_reference,
            compound_filters_and_free_text_match_the_reference,
            windows_include_the_start_and_exclude_the_end,
            walks_return_every_record_once_at_every_page_size,
            walks_ignore_records_appended_during_the_walk,
            count_matches_a_full_walk,
            scan_streams_the_same_records_as_a_walk,
            batched_scans_stream_the_same_records_as_a_walk,
            log_scans_follow_commit_order_and_skip,
            retried_batches_store_nothing_new,
            conflicting_batches_store_nothing_and_name_the_ids,
            duplicate_ids_inside_one_batch,
            concurrent_single_record_appends_are_all_stored,
            partners_api_keys_and_secrets,
            api_keys_have_a_lifecycle,
            pull_state_is_kept_per_partner_and_source,
            users_keep_roles_partner_and_preferences,
            external_sign_ins_create_then_update_one_user,
            external_sign_ins_never_take_another_users_email,
            external_identities_stay_with_their_partner,
            sessions_follow_their_user,
            a_new_password_ends_the_users_other_sessions,
            sign_in_failures_are_counted_per_key_and_expire,
            the_log_holds_each_stored_record_once_and_proves_it,
            checkpoints_are_kept_per_partner_and_size,
            partners_whose_log_grew_are_the_unsigned_ones,
            subscriptions_kept_at_ingest_are_the_fold_in_any_arrival_order,
        );
    };
    (@pairs $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread")]
            async fn $case() {
                let fresh: $crate::Fresh = ($factory).await.into();
                let (first, second) = fresh.pair();
                $crate::cases::$case(first, second).await;
                drop(fresh);
            }
        )*
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread")]
            async fn $case() {
                let fresh: $crate::Fresh = ($factory).await.into();
                $crate::cases::$case(::std::sync::Arc::clone(&fresh.store)).await;
                drop(fresh);
            }
        )*
    };
}
