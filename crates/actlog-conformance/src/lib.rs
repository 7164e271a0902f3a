//! The behaviour every actlog store backend must show, as a test suite each backend runs.
