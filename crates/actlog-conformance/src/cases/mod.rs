//! The cases, grouped by what they check. Each takes a fresh, empty store and panics on failure.

mod append;
mod external;
mod filters;
mod identity;
mod log;
mod pages;
mod records;
mod shared;
mod subscriptions;
mod tenancy;

pub use append::{
    concurrent_single_record_appends_are_all_stored,
    conflicting_batches_store_nothing_and_name_the_ids, duplicate_ids_inside_one_batch,
    retried_batches_store_nothing_new,
};
pub use external::{
    external_identities_stay_with_their_partner, external_sign_ins_create_then_update_one_user,
    external_sign_ins_never_take_another_users_email,
};
pub use filters::{
    compound_filters_and_free_text_match_the_reference,
    every_field_and_operator_matches_the_reference, windows_include_the_start_and_exclude_the_end,
};
pub use identity::{
    a_new_password_ends_the_users_other_sessions, sessions_follow_their_user,
    sign_in_failures_are_counted_per_key_and_expire, users_keep_roles_partner_and_preferences,
};
pub use log::{
    checkpoints_are_kept_per_partner_and_size, partners_whose_log_grew_are_the_unsigned_ones,
    the_log_holds_each_stored_record_once_and_proves_it, two_handles_append_in_alternation,
    two_handles_append_to_one_log_in_turn,
};
pub use pages::{
    batched_scans_stream_the_same_records_as_a_walk, count_matches_a_full_walk,
    log_scans_follow_commit_order_and_skip, scan_streams_the_same_records_as_a_walk,
    walks_ignore_records_appended_during_the_walk,
    walks_return_every_record_once_at_every_page_size,
};
pub use records::{
    get_finds_by_id_within_the_partner_only, pages_are_newest_first_with_ties_in_insertion_order,
    partners_never_see_each_others_records, records_round_trip_every_field,
    unknown_fields_round_trip_byte_for_byte,
};
pub use shared::{
    two_handles_share_partners_keys_users_sessions_and_secrets,
    two_handles_store_each_record_of_overlapping_retries_once,
    walks_keep_their_snapshot_while_two_handles_append,
};
pub use subscriptions::subscriptions_kept_at_ingest_are_the_fold_in_any_arrival_order;
pub use tenancy::{
    api_keys_have_a_lifecycle, partners_api_keys_and_secrets,
    pull_state_is_kept_per_partner_and_source,
};
