//! `checksum_source = "database"` for SQLite: each value's canonical text (see
//! `barge_model::checksum`) is produced by SQLite's own SQL from the value as stored
//! (`typeof`, `CAST`, `printf`, `date`/`datetime`/`time`, `hex`), never by barge's encoder
//! (`encode.rs`); barge only frames those texts, lays numbers out in the canonical form
//! (`normalize_number`) and hashes (SQLite has no hash function). A value whose canonical text
//! SQLite's SQL does not produce (a number in a date column, a blob in a text column, the
//! text `'yes'` in a boolean one) is framed as foreign, so it differs from whatever was
//! loaded for it: a guess barge made is reported, not hashed twice.
//!
//! Numbers: SQLite's `CAST(real AS TEXT)` keeps 15 digits (and `printf` 16 without its `!`
//! flag), so a real's text is the first of `printf('%!.15g')`, `'%!.16g'`, `'%!.17g'` that
//! reads back to the same real: the shortest decimal that round-trips, which is what
//! PostgreSQL and MySQL print.

use crate::{quote_ident, SqliteError, SqliteSource};
use barge_model::checksum::{self, CanonicalTable, ChecksumAnswer, ChecksumAsk};
use barge_model::{DataType, Table};
use md5::{Digest, Md5};
use rusqlite::types::ValueRef;

/// The shortest decimal text of the real `c` that SQLite reads back to the same real.
fn shortest_real(c: &str) -> String {
    format!(
        "CASE WHEN CAST(printf('%!.15g', {c}) AS REAL) = {c} THEN printf('%!.15g', {c}) \
         WHEN CAST(printf('%!.16g', {c}) AS REAL) = {c} THEN printf('%!.16g', {c}) \
         ELSE printf('%!.17g', {c}) END"
    )
}

/// Digits of a fraction after position `at` of text `c`, as 6 digits (more when the text has
/// more: a sub-microsecond fraction then differs from any loaded time).
fn fraction(c: &str, at: usize) -> String {
    let tail = format!("substr({c}, {})", at + 1);
    let n = format!("(length({tail}) - length(ltrim({tail}, '0123456789')))");
    format!(
        "CASE WHEN substr({c}, {at}, 1) = '.' AND {n} > 0 \
         THEN substr({tail}, 1, {n}) || substr('000000', 1, max(0, 6 - {n})) ELSE '000000' END"
    )
}

const DATE_GLOB: &str = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]";

/// The SQL of a column's canonical text (NULL where SQLite gives it none), whether it is a
/// number to lay out, and the policy it applies, if any.
fn column_sql(t: &DataType, c: &str) -> Option<(String, bool, Option<&'static str>)> {
    use DataType as T;
    Some(match t {
        T::Bool => (
            format!(
                "CASE WHEN typeof({c}) IN ('integer', 'real') AND {c} IN (0, 1) \
                 THEN CASE WHEN {c} = 1 THEN 't' ELSE 'f' END \
                 WHEN typeof({c}) = 'text' AND lower({c}) IN ('true', 't', '1') THEN 't' \
                 WHEN typeof({c}) = 'text' AND lower({c}) IN ('false', 'f', '0') THEN 'f' END"
            ),
            false,
            Some("boolean columns: 0 and 1, and the texts true/false, t/f, 1/0 (any case), read as booleans; any other value differs"),
        ),
        T::Int2 | T::Int4 | T::Int8 => (
            format!(
                "CASE typeof({c}) WHEN 'integer' THEN CAST({c} AS TEXT) \
                 WHEN 'real' THEN CASE WHEN abs({c}) < 9.2e18 AND {c} = CAST({c} AS INTEGER) \
                     THEN CAST(CAST({c} AS INTEGER) AS TEXT) END \
                 WHEN 'text' THEN CASE WHEN CAST(CAST({c} AS INTEGER) AS TEXT) = {c} THEN {c} END END"
            ),
            false,
            Some("integer columns: integral reals and texts spelling an integer exactly (`'42'`) read as that integer"),
        ),
        T::Float4 | T::Float8 | T::Numeric { .. } => (
            format!(
                "CASE typeof({c}) WHEN 'integer' THEN CAST({c} AS TEXT) WHEN 'real' THEN {} END",
                shortest_real(c)
            ),
            true,
            Some("number columns: a real compares as its shortest round-trip decimal, an integer as itself; text (`'NaN'`) differs"),
        ),
        T::Text | T::Varchar(_) | T::Char(_) | T::Json => (
            format!(
                "CASE typeof({c}) WHEN 'text' THEN {c} WHEN 'integer' THEN CAST({c} AS TEXT) \
                 WHEN 'real' THEN CAST({c} AS TEXT) END"
            ),
            false,
            Some("text columns: a number compares as SQLite's own text of it (`CAST(x AS TEXT)`); a blob differs"),
        ),
        T::Bytea => (
            format!("CASE typeof({c}) WHEN 'blob' THEN lower(hex({c})) WHEN 'text' THEN lower(hex({c})) END"),
            false,
            Some("blob columns: text compares as its UTF-8 bytes"),
        ),
        T::Date => (
            format!(
                "CASE WHEN typeof({c}) = 'text' AND {c} GLOB '{DATE_GLOB}' AND date({c}) = {c} THEN {c} \
                 WHEN typeof({c}) = 'text' AND {c} GLOB '{DATE_GLOB} 00:00:00' \
                     AND date({c}) = substr({c}, 1, 10) THEN substr({c}, 1, 10) END"
            ),
            false,
            Some("date and time columns: only text in ISO 8601 form has a canonical form; a number (Unix seconds? a Julian day? 20200101?) differs"),
        ),
        T::Timestamp(_) | T::Timestamptz(_) => (
            format!(
                "CASE WHEN typeof({c}) = 'text' AND {c} GLOB '{DATE_GLOB}*' AND datetime({c}) IS NOT NULL \
                 THEN datetime({c}) || '.' || {} END",
                fraction(c, 20)
            ),
            false,
            Some("date and time columns: only text in ISO 8601 form has a canonical form; a number (Unix seconds? a Julian day? 20200101?) differs"),
        ),
        T::Time(_) => (
            format!(
                "CASE WHEN typeof({c}) = 'text' AND {c} GLOB '[0-9][0-9]:[0-9][0-9]*' AND time({c}) IS NOT NULL \
                 THEN time({c}) || '.' || {} END",
                fraction(c, 9)
            ),
            false,
            Some("date and time columns: only text in ISO 8601 form has a canonical form; a number (Unix seconds? a Julian day? 20200101?) differs"),
        ),
        T::Uuid => {
            let h = format!("lower(hex({c}))");
            let hex8 = "[0-9a-f]".repeat(8);
            let hex4 = "[0-9a-f]".repeat(4);
            let hex12 = "[0-9a-f]".repeat(12);
            (
                format!(
                    "CASE WHEN typeof({c}) = 'text' AND lower({c}) GLOB '{hex8}-{hex4}-{hex4}-{hex4}-{hex12}' THEN lower({c}) \
                     WHEN typeof({c}) = 'blob' AND length({c}) = 16 THEN substr({h}, 1, 8) || '-' || substr({h}, 9, 4) \
                         || '-' || substr({h}, 13, 4) || '-' || substr({h}, 17, 4) || '-' || substr({h}, 21) END"
                ),
                false,
                Some("uuid columns: the 8-4-4-4-12 text in any case, or 16 bytes; any other spelling differs"),
            )
        }
        // jsonb normalizes (key order, duplicates, numbers): SQLite has no SQL for that form.
        T::Jsonb
        | T::Bit(_)
        | T::Varbit(_)
        | T::Interval
        | T::Inet
        | T::Citext
        | T::TextArray
        | T::Enum { .. }
        | T::Geometry { .. } => return None,
    })
}

/// How SQLite renders `table` canonically (every column, generated ones included: SQLite has
/// their values).
pub fn canonical_table(table: &Table) -> CanonicalTable {
    let mut out = CanonicalTable::default();
    let mut numbers = Vec::new();
    for (i, col) in table.columns.iter().enumerate() {
        match column_sql(&col.data_type, &quote_ident(&col.name)) {
            Some((sql, number, policy)) => {
                out.compared.push(i);
                out.exprs.push(sql);
                numbers.push(number);
                if let Some(p) = policy {
                    if !out.policies.iter().any(|q| q == p) {
                        out.policies.push(p.to_string());
                    }
                }
            }
            None => out.not_compared.push(format!(
                "column `{}` ({}): SQLite's SQL has no canonical form for it",
                col.name, col.data_type
            )),
        }
    }
    // Which columns are numbers to lay out travels in the expression list's order.
    out.exprs = out
        .exprs
        .into_iter()
        .zip(numbers)
        .map(|(e, n)| if n { format!("/*number*/{e}") } else { e })
        .collect();
    out.key = checksum::locating_key(table, &out.compared);
    out
}

fn md5(bytes: &[u8]) -> [u8; 16] {
    Md5::digest(bytes).into()
}

/// A stored value that has no canonical text, as a person reads it.
fn foreign(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => format!("integer {i}"),
        ValueRef::Real(f) => format!("real {f:?}"),
        ValueRef::Text(t) => format!("text '{}'", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => format!(
            "blob x'{}'",
            b.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

impl SqliteSource {
    /// Answer one checksum question about `table` over the whole file.
    pub fn checksum(
        &self,
        table: &Table,
        canon: &CanonicalTable,
        ask: &ChecksumAsk,
    ) -> Result<ChecksumAnswer, SqliteError> {
        let conn = self.connect()?;
        let read_err = |source| SqliteError::Read {
            table: table.name.clone(),
            source,
        };
        let select: Vec<String> = canon
            .compared
            .iter()
            .zip(&canon.exprs)
            .map(|(i, e)| format!("{}, {e}", quote_ident(&table.columns[*i].name)))
            .collect();
        let sql = format!(
            "SELECT {} FROM {}",
            if select.is_empty() {
                "1, 1".to_string()
            } else {
                select.join(", ")
            },
            quote_ident(&table.name)
        );
        let numbers: Vec<bool> = canon
            .exprs
            .iter()
            .map(|e| e.starts_with("/*number*/"))
            .collect();
        let (buckets, of) = match ask {
            ChecksumAsk::Buckets(n) => (*n, None),
            ChecksumAsk::Hashes { buckets, of } | ChecksumAsk::Rows { buckets, of } => {
                (*buckets, Some(of))
            }
        };
        let mut sums: std::collections::BTreeMap<u64, (u64, u64)> = Default::default();
        let mut answer = ChecksumAnswer::default();
        let mut stmt = conn.prepare(&sql).map_err(read_err)?;
        let mut rows = stmt.query([]).map_err(read_err)?;
        let (mut row_text, mut key_text) = (Vec::with_capacity(256), Vec::with_capacity(64));
        let mut parts: Vec<(usize, usize)> = Vec::with_capacity(numbers.len());
        while let Some(row) = rows.next().map_err(read_err)? {
            row_text.clear();
            parts.clear();
            for (n, number) in numbers.iter().enumerate() {
                if n > 0 {
                    row_text.push(b'|');
                }
                let start = row_text.len();
                let raw = row.get_ref(2 * n).map_err(read_err)?;
                let text = row.get_ref(2 * n + 1).map_err(read_err)?;
                match (raw, text) {
                    (ValueRef::Null, _) => checksum::frame(&mut row_text, None, false),
                    (_, ValueRef::Text(t)) => {
                        let laid = if *number {
                            std::str::from_utf8(t)
                                .ok()
                                .and_then(checksum::normalize_number)
                        } else {
                            None
                        };
                        match laid {
                            Some(l) => checksum::frame(&mut row_text, Some(l.as_bytes()), false),
                            None if *number => {
                                checksum::frame(&mut row_text, Some(foreign(raw).as_bytes()), true)
                            }
                            None => checksum::frame(&mut row_text, Some(t), false),
                        }
                    }
                    (raw, _) => checksum::frame(&mut row_text, Some(foreign(raw).as_bytes()), true),
                }
                parts.push((start, row_text.len()));
            }
            let key: &[u8] = if canon.key.is_empty() {
                &row_text
            } else {
                key_text.clear();
                for (n, k) in canon.key.iter().enumerate() {
                    if n > 0 {
                        key_text.push(b'|');
                    }
                    let (s, e) = parts[*k];
                    key_text.extend_from_slice(&row_text[s..e]);
                }
                &key_text
            };
            let key_md5 = md5(key);
            let bucket = checksum::bucket_of(&key_md5, buckets);
            match (ask, of) {
                (ChecksumAsk::Buckets(_), _) => {
                    let h = checksum::row_hash(&md5(&row_text));
                    let slot = sums.entry(bucket).or_default();
                    slot.0 += 1;
                    slot.1 = slot.1.wrapping_add(h);
                }
                (_, Some(of)) if !of.contains(&bucket) => {}
                (ChecksumAsk::Hashes { .. }, _) => answer
                    .hashes
                    .push((key.to_vec(), checksum::row_hash(&md5(&row_text)))),
                (ChecksumAsk::Rows { .. }, _) => answer.rows.push((key.to_vec(), row_text.clone())),
            }
        }
        answer.buckets = sums.into_iter().map(|(b, (n, s))| (b, n, s)).collect();
        Ok(answer)
    }
}
