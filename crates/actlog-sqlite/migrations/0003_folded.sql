-- Filters compare forms folded in Rust when a record is stored (actlog_domain::folded), the
-- same on every backend, instead of folding in SQL when a query runs.
--   *_fold       the Unicode fold of a name, NULL where lower() (ASCII) gives the same text
--   search_text  the record's free text (keys and values of customizedData, not its JSON),
--                Unicode-folded
-- Rows stored before this migration are filled in by the functions the store registers on
-- every connection (the domain's own code).
ALTER TABLE records ADD COLUMN customer_name_fold TEXT;
ALTER TABLE records ADD COLUMN user_principal_name_fold TEXT;
ALTER TABLE records ADD COLUMN application_id_fold TEXT;
ALTER TABLE records ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

UPDATE records SET
    customer_name_fold = actlog_stored_fold(customer_name),
    user_principal_name_fold = actlog_stored_fold(user_principal_name),
    application_id_fold = actlog_stored_fold(application_id),
    search_text = actlog_fold(
        id || char(1) || coalesce(customer_id, '') || char(1) || coalesce(customer_name, '')
        || char(1) || coalesce(user_principal_name, '') || char(1)
        || coalesce(application_id, '') || char(1) || coalesce(resource_type, '') || char(1)
        || operation_type || char(1) || coalesce(operation_status, '') || char(1)
        || coalesce(actlog_customized_text(customized_data), '') || char(1)
        || coalesce(resource_old_value, '') || char(1) || coalesce(resource_new_value, ''));
