//! Deterministic, realistic demo data for actlog: a partner, its customers and their activity.
