//! actlog's application services: what the HTTP server and the command line both do, in
//! domain terms and with domain errors, so that neither reaches into the other (the server
//! maps these errors to problem documents, the binary to messages and exit codes).
//!
//! - [`evidence`]: signing checkpoints, inclusion and consistency proofs, `actlog verify`.
//! - [`export`]: a query's records through the export engine into any writer.
//! - [`keys`]: issuing API keys, and reading their scopes.
//! - [`oidc`]: signing in with OpenID Connect (Entra ID) and checking Entra-issued API tokens.
//! - [`password`]: Argon2id hashes, off the async runtime's threads.
//! - [`period`]: the period and filter of a query, Partner Center's way.
//! - [`pull`]: mirroring a partner's records from a Partner Center–compatible API.
//! - [`clock`]: the time source, injected so that "the most recent month" is testable.

pub mod clock;
pub mod evidence;
pub mod export;
pub mod keys;
pub mod oidc;
pub mod password;
pub mod period;
pub mod pull;
