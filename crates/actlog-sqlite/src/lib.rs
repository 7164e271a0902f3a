//! The embedded SQLite backend of the actlog store.
