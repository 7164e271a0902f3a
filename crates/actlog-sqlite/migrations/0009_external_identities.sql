-- Users who sign in through an identity provider (OpenID Connect: Microsoft Entra ID), by the
-- provider's names for them: the tenant (Entra's tid) and the object id within it (oid),
-- which never change, unlike the sign-in name. One identity is one user, and a user has at
-- most one identity.
--
-- Keyed by tenant, not by partner: like users and sessions, this is a small deployment-wide
-- table (a reference table under Citus), looked up by (tenant, object id) at sign-in before
-- any partner's data is touched; the partner is the user's.
CREATE TABLE external_identities (
    tenant_id  TEXT    NOT NULL,
    object_id  TEXT    NOT NULL,
    user_id    INTEGER NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,  -- Unix seconds
    PRIMARY KEY (tenant_id, object_id)
) STRICT, WITHOUT ROWID;
