//! `checksum_source = "database"`: what a source computes in its own SQL, from its own values,
//! for the checksum, independently of barge's encoders.
//!
//! Every value is rendered to a canonical text (defined per target type; each source's
//! `checksum.rs` and the engine's `validate/database.rs` write the SQL) and framed: NULL is
//! `\N`, a value is `<byte length>:<text>`, a source value the canonical form has no text for
//! (a number in a date column, a blob in a text column) is `!<byte length>:<what it is>`,
//! which no target value is. A row's text joins its framed values with `|`; its key's text
//! joins the key columns' (the whole row for a table without a key).
//!
//! Every side hashes the same way: a row's hash is the first 8 bytes of the MD5 of its text,
//! big-endian, summed per bucket modulo 2^64; its bucket is the first 4 bytes of the MD5 of
//! its key's text, big-endian, modulo the bucket count. MD5 because PostgreSQL and MySQL both
//! have it built in (SQLite's side is hashed by barge, from the text SQLite produced).

/// What one checksum query asks of a side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChecksumAsk {
    /// Rows and hash sum of each of this many buckets (1: the whole table).
    Buckets(u64),
    /// Key text and row hash of every row in these buckets (of `buckets`).
    Hashes { buckets: u64, of: Vec<u64> },
    /// Key text and row text of every row in these buckets (of `buckets`).
    Rows { buckets: u64, of: Vec<u64> },
}

/// The answer to a [`ChecksumAsk`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChecksumAnswer {
    /// `(bucket, rows, hash sum mod 2^64)` of each non-empty bucket.
    pub buckets: Vec<(u64, u64, u64)>,
    /// `(key text, row hash)`.
    pub hashes: Vec<(Vec<u8>, u64)>,
    /// `(key text, row text)`.
    pub rows: Vec<(Vec<u8>, Vec<u8>)>,
}

/// How a source renders one table canonically.
#[derive(Debug, Clone, Default)]
pub struct CanonicalTable {
    /// Indexes into the table's columns of the columns compared, in table order.
    pub compared: Vec<usize>,
    /// Source SQL of each compared column's canonical text (its meaning is the source's).
    pub exprs: Vec<String>,
    /// Positions (among `compared`) of the key columns rows are located by; empty: the whole
    /// row is the key.
    pub key: Vec<usize>,
    /// Conversions the source side applies on purpose (policies), as lines for the report.
    pub policies: Vec<String>,
    /// Columns not compared, with why.
    pub not_compared: Vec<String>,
}

/// The key columns of `table` rows are located by: its primary key, or a unique key of NOT
/// NULL columns, when every column of it is compared; empty otherwise.
pub fn locating_key(table: &crate::Table, compared: &[usize]) -> Vec<usize> {
    let position = |name: &String| {
        compared
            .iter()
            .position(|i| &table.columns[*i].name == name)
    };
    table
        .primary_key
        .iter()
        .chain(table.unique_keys.iter().filter(|k| {
            k.columns
                .iter()
                .all(|c| table.column(c).is_some_and(|c| !c.nullable))
        }))
        .find_map(|k| {
            k.columns
                .iter()
                .map(position)
                .collect::<Option<Vec<_>>>()
                .filter(|k| !k.is_empty())
        })
        .unwrap_or_default()
}

/// The row hash of a row's text: the first 8 bytes of `md5` (its digest), big-endian.
pub fn row_hash(md5: &[u8; 16]) -> u64 {
    u64::from_be_bytes([
        md5[0], md5[1], md5[2], md5[3], md5[4], md5[5], md5[6], md5[7],
    ])
}

/// The bucket of a key whose text has digest `md5`.
pub fn bucket_of(md5: &[u8; 16], buckets: u64) -> u64 {
    u64::from(u32::from_be_bytes([md5[0], md5[1], md5[2], md5[3]])) % buckets.max(1)
}

/// Append a framed value (see the module docs) to `out`.
pub fn frame(out: &mut Vec<u8>, value: Option<&[u8]>, foreign: bool) {
    match value {
        None => out.extend_from_slice(b"\\N"),
        Some(v) => {
            if foreign {
                out.push(b'!');
            }
            out.extend_from_slice(v.len().to_string().as_bytes());
            out.push(b':');
            out.extend_from_slice(v);
        }
    }
}

/// Split a framed row (or key) text back into its framed values.
pub fn split_framed(row: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = row;
    while !rest.is_empty() {
        let end = if rest.starts_with(b"\\N") {
            2
        } else {
            let colon = rest.iter().position(|b| *b == b':').unwrap_or(rest.len());
            let digits = rest[..colon].strip_prefix(b"!").unwrap_or(&rest[..colon]);
            let len: usize = std::str::from_utf8(digits)
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            (colon + 1 + len).min(rest.len())
        };
        parts.push(&rest[..end]);
        rest = &rest[end..];
        rest = rest.strip_prefix(b"|").unwrap_or(rest);
    }
    parts
}

/// A framed value as a person reads it: `NULL`, `'text'`, or `source value x (no canonical
/// form)`.
pub fn display_framed(part: &[u8]) -> String {
    const MAX: usize = 80;
    if part == b"\\N" {
        return "NULL".into();
    }
    let foreign = part.starts_with(b"!");
    let text = part
        .iter()
        .position(|b| *b == b':')
        .map_or(part, |i| &part[i + 1..]);
    let mut s: String = String::from_utf8_lossy(text)
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if s.chars().count() > MAX {
        s = s.chars().take(MAX).collect::<String>() + "…";
    }
    if foreign {
        format!("{s} (no canonical form)")
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// A decimal number's canonical text (as MariaDB's `JSON_NORMALIZE` writes numbers):
/// `[-]D.DDDE<exponent>`, one digit before the point and at least one after, no trailing
/// zeros past it, zero as `0.0E0` whatever its sign; `Infinity`, `-Infinity` and `NaN` as
/// PostgreSQL spells them. `None` for text that is no decimal number.
pub fn normalize_number(text: &str) -> Option<String> {
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        "inf" | "infinity" | "+inf" | "+infinity" => return Some("Infinity".into()),
        "-inf" | "-infinity" => return Some("-Infinity".into()),
        "nan" => return Some("NaN".into()),
        _ => {}
    }
    let (negative, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int}{frac}");
    if all.is_empty() || !all.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let lz = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_start_matches('0').trim_end_matches('0');
    if digits.is_empty() {
        return Some("0.0E0".into());
    }
    let e = exp + int.len() as i64 - lz as i64 - 1;
    let tail = if digits.len() > 1 { &digits[1..] } else { "0" };
    Some(format!(
        "{}{}.{tail}E{e}",
        if negative { "-" } else { "" },
        &digits[..1]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_normalize_like_json_normalize() {
        for (input, want) in [
            ("0.30000000000000004", "3.0000000000000004E-1"),
            ("1e+300", "1.0E300"),
            ("1e300", "1.0E300"),
            ("1e-07", "1.0E-7"),
            ("0.0000001", "1.0E-7"),
            ("-1.2345678901234568e+17", "-1.2345678901234568E17"),
            ("100", "1.0E2"),
            ("1.50", "1.5E0"),
            ("-0", "0.0E0"),
            ("0.000", "0.0E0"),
            ("123456789.125", "1.23456789125E8"),
            ("18446744073709551615", "1.8446744073709551615E19"),
            ("-0.001", "-1.0E-3"),
            ("Inf", "Infinity"),
        ] {
            assert_eq!(normalize_number(input).as_deref(), Some(want), "{input}");
        }
        assert_eq!(normalize_number("12a"), None);
    }

    #[test]
    fn framed_rows_split_back() {
        let mut row = Vec::new();
        frame(&mut row, Some(b"a|b:c"), false);
        row.push(b'|');
        frame(&mut row, None, false);
        row.push(b'|');
        frame(&mut row, Some(b"integer 5"), true);
        row.push(b'|');
        frame(&mut row, Some(b"\\N"), false);
        assert_eq!(row, b"5:a|b:c|\\N|!9:integer 5|2:\\N");
        let parts = split_framed(&row);
        assert_eq!(parts, [&b"5:a|b:c"[..], b"\\N", b"!9:integer 5", b"2:\\N"]);
        assert_eq!(display_framed(parts[0]), "'a|b:c'");
        assert_eq!(display_framed(parts[1]), "NULL");
        assert_eq!(display_framed(parts[2]), "integer 5 (no canonical form)");
        assert_eq!(display_framed(parts[3]), "'\\N'");
    }
}
