//! NDJSON for machines: each record exactly as the API returns it, one per line, LF-terminated.
//! No cell rules apply: nothing is neutralized, cut or relabelled.

use std::io::{self, BufWriter, Write};

use actlog_domain::AuditRecord;

/// Streams records as JSON lines.
#[derive(Debug)]
pub(crate) struct NdjsonOut<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> NdjsonOut<W> {
    pub fn new(writer: W) -> Self {
        NdjsonOut {
            out: BufWriter::with_capacity(256 * 1024, writer),
        }
    }

    pub fn write_record(&mut self, record: &AuditRecord) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, record)?;
        self.out.write_all(b"\n")
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use actlog_domain::OperationDate;

    use super::*;

    #[test]
    fn each_record_is_its_api_json_on_one_line() {
        let record: AuditRecord = serde_json::from_str(
            r#"{"id":"r1","partnerId":"p1","customerName":"Il \"Moro\"\nS.r.l.",
                "operationType":"create_order","operationDate":"2017-06-15T22:56:05.0589308Z",
                "customizedData":[{"key":"=x","value":null}]}"#,
        )
        .unwrap();
        let mut second = record.clone();
        second.operation_date = OperationDate::from_ticks(0);

        let mut out = Vec::new();
        let mut ndjson = NdjsonOut::new(&mut out);
        ndjson.write_record(&record).unwrap();
        ndjson.write_record(&second).unwrap();
        ndjson.finish().unwrap();

        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.split_terminator('\n').collect();
        assert_eq!(lines.len(), 2);
        assert!(text.ends_with('\n') && !text.contains('\r'));
        assert_eq!(lines[0], serde_json::to_string(&record).unwrap());
        let back: AuditRecord = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(back, second);
    }
}
