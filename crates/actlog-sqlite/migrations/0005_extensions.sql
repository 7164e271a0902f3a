-- What a record carried that this version does not model (fields Partner Center added), byte
-- for byte: actlog_domain::extensions::Extensions::to_stored(); NULL when nothing.
ALTER TABLE records ADD COLUMN extensions TEXT;
