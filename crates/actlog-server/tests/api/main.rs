//! The HTTP API against a real SQLite store: ingest, query, access, and every bad input.

mod access;
mod export;
mod ingest;
mod pages;
mod query;
mod roles;
mod signin;
mod support;
