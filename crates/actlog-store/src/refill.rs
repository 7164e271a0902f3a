//! Refilling a record in place, row after row: what a scan does so that a million-row export
//! allocates about as much as one of a few thousand rows (see `RecordBatch`). Shared by the
//! SQL backends.

/// Spare capacity a refilled string may keep beyond twice its text: a record refilled row
/// after row must not keep the memory of the largest value it ever held, or a scan's memory
/// would grow with its rarest rows rather than stay a few batches of ordinary ones.
const KEEP_SPARE: usize = 1024;

/// Overwrites `slot` with `text`, in the memory it holds when that is not far too large.
pub fn set(slot: &mut String, text: &str) {
    if slot.capacity() > KEEP_SPARE.max(2 * text.len()) {
        *slot = text.to_owned();
        return;
    }
    slot.clear();
    slot.push_str(text);
}

pub fn set_optional(slot: &mut Option<String>, text: Option<&str>) {
    match (slot.as_mut(), text) {
        (Some(held), Some(text)) => set(held, text),
        (_, text) => *slot = text.map(str::to_owned),
    }
}

/// Overwrites `list` with the stored `customizedData` JSON, reusing its strings
/// ([`crate::customized::read_into`]).
pub use crate::customized::read_into as set_customized;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refilled_string_keeps_no_memory_of_a_long_value() {
        let mut slot = "x".repeat(100_000);
        set(&mut slot, "short");
        assert_eq!(slot, "short");
        assert!(slot.capacity() <= KEEP_SPARE, "{}", slot.capacity());

        let mut slot = String::with_capacity(300);
        let memory = slot.as_ptr();
        set(&mut slot, "an ordinary value");
        assert_eq!(slot, "an ordinary value");
        assert_eq!(
            slot.as_ptr(),
            memory,
            "ordinary values are written in place"
        );
    }
}
