//! Source-neutral pieces of the copy: chunk ranges, the invalid-value policy and rejects.

use serde::{Deserialize, Serialize};

/// One value of a key column, as used in chunk boundaries (serializable so a checkpoint can
/// record exactly which ranges are done).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyValue {
    Int(i64),
    UInt(u64),
    /// Text, and any other type compared as its text form by the source (dates, decimals).
    Text(String),
    Bytes(Vec<u8>),
}

/// A chunk: the rows whose key is `>= start` and `< end` (tuple order for composite keys);
/// `None` bounds are open. The whole table is `start = end = None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyRange {
    pub start: Option<Vec<KeyValue>>,
    pub end: Option<Vec<KeyValue>>,
}

impl KeyRange {
    pub const WHOLE: KeyRange = KeyRange {
        start: None,
        end: None,
    };

    pub fn is_whole(&self) -> bool {
        self.start.is_none() && self.end.is_none()
    }

    /// Consecutive ranges split at `bounds` (ascending): `[.., b1)`, `[b1, b2)`, ..., `[bn, ..)`.
    /// No bounds means one range over the whole table.
    pub fn split_at(bounds: Vec<Vec<KeyValue>>) -> Vec<KeyRange> {
        let mut ranges = Vec::with_capacity(bounds.len() + 1);
        let mut start = None;
        for b in bounds {
            let bound = Some(b);
            ranges.push(KeyRange {
                start: start.take(),
                end: bound.clone(),
            });
            start = bound;
        }
        ranges.push(KeyRange { start, end: None });
        ranges
    }
}

/// What to do with a value that does not fit its column and has no lossless conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidValuePolicy {
    /// Stop the run with the value's location.
    Error,
    /// Load NULL and record the value in the reject report.
    Null,
}

/// One value loaded as NULL under `on_invalid_value = "null"`.
#[derive(Debug, Clone, Serialize)]
pub struct Reject {
    pub table: String,
    pub column: String,
    /// Where the row is: `rowid 42`, or the primary key values.
    pub row: String,
    pub value: String,
    pub reason: String,
}
