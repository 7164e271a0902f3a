//! The HTTP API against a real store (SQLite, or PostgreSQL with `ACTLOG_TEST_BACKEND=postgres`):
//! ingest, query, access, and every bad input.

mod access;
mod clients;
mod details;
mod edges;
mod evidence;
mod export;
mod ingest;
mod limits;
mod pages;
mod passwords;
mod query;
mod roles;
mod shares;
mod signin;
mod sso_page;
mod support;
