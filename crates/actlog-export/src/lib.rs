//! The export engine: records to Excel-safe CSV, XLSX and NDJSON, streamed.
