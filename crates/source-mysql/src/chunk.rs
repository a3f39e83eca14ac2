//! Key-range chunks for any primary key: single or composite, integer or not.
//!
//! Boundaries are keys that exist, read in one ordered pass over the key index, split into
//! seeks (`WHERE key >= previous ORDER BY key LIMIT chunk_size, 1`): the server walks the index,
//! only one key per chunk crosses the wire, and no chunk is ever empty however sparse the keys.
//! A big table whose key leads with an integer is walked in a few sub-ranges at once, each
//! starting at the first existing key at or after an evenly spaced value of that column (so
//! those starts are existing keys too, and the chunk just before each may be shorter).
//!
//! A chunk is filtered with `key >= start AND key < end` in tuple order. Row constructors
//! (`(a, b) >= (1, 2)`) are not used: MariaDB 10.11 does not turn them into an index range and
//! scans the table. The expanded form `a >= 1 AND (a > 1 OR (a = 1 AND b >= 2))` is an index
//! range on both servers.
//!
//! Bounds are inlined as literals (rows come over the text protocol, which has no parameters).
//! Text keys are carried as their raw bytes in the column's character set and written as
//! `_charset X'..' COLLATE collation`: exact, immune to escaping modes, and compared under the
//! column's own collation, the one `ORDER BY` used, so every row falls in exactly one chunk.

use crate::{quote_ident, MysqlError, MysqlSource};
use barge_model::{Column, KeyRange, KeyValue, Table};
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Value};
use std::collections::HashMap;

/// How a key column's values are read and written back as literals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Signed,
    Unsigned,
    Decimal,
    /// Dates, times, datetimes, timestamps and MariaDB uuids: quoted text.
    Quoted,
    Text {
        charset: String,
        collation: String,
    },
    Binary,
}

#[derive(Debug, Clone)]
pub(crate) struct ChunkKey {
    pub columns: Vec<(String, KeyKind)>,
}

/// The base type name of a `COLUMN_TYPE`: `int(10) unsigned` -> `int`.
pub(crate) fn base_type(source_type: &str) -> String {
    source_type
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn key_kind(
    column: &Column,
    collations: Option<&HashMap<String, (String, String)>>,
) -> Option<KeyKind> {
    let base = base_type(&column.source_type);
    let unsigned = column.source_type.to_ascii_lowercase().contains("unsigned");
    Some(match base.as_str() {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => {
            if unsigned {
                KeyKind::Unsigned
            } else {
                KeyKind::Signed
            }
        }
        "year" => KeyKind::Signed,
        "decimal" | "numeric" => KeyKind::Decimal,
        "date" | "datetime" | "timestamp" | "time" | "uuid" => KeyKind::Quoted,
        "char" | "varchar" => {
            let (charset, collation) = collations?.get(&column.name)?.clone();
            let safe = |s: &str| {
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            };
            if !safe(&charset) || !safe(&collation) {
                return None;
            }
            KeyKind::Text { charset, collation }
        }
        "binary" | "varbinary" => KeyKind::Binary,
        _ => return None,
    })
}

/// The key a table is chunked on: its primary key, else its first unique key whose columns are
/// all NOT NULL, provided every column has a kind barge can bound; `None` means one stream.
pub(crate) fn chunk_key(
    table: &Table,
    collations: Option<&HashMap<String, (String, String)>>,
) -> Option<ChunkKey> {
    let candidates = table
        .primary_key
        .iter()
        .map(|k| (k, true))
        .chain(table.unique_keys.iter().map(|k| (k, false)));
    for (key, primary) in candidates {
        let mut columns = Vec::new();
        for name in &key.columns {
            let Some(col) = table.column(name) else {
                break;
            };
            if !primary && col.nullable {
                break;
            }
            let Some(kind) = key_kind(col, collations) else {
                break;
            };
            columns.push((name.clone(), kind));
        }
        if !columns.is_empty() && columns.len() == key.columns.len() {
            return Some(ChunkKey { columns });
        }
    }
    None
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn unhex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

/// Text that can sit between single quotes or bare in SQL without escaping.
fn plain(s: &str, extra: &[u8]) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

impl ChunkKey {
    /// The select-list expression reading a key column for a boundary.
    fn read_expr(&self, i: usize) -> String {
        let (name, kind) = &self.columns[i];
        match kind {
            KeyKind::Text { .. } => format!("HEX({})", quote_ident(name)),
            _ => quote_ident(name),
        }
    }

    fn parse_value(&self, i: usize, raw: &[u8]) -> Option<KeyValue> {
        let text = || std::str::from_utf8(raw).ok();
        Some(match &self.columns[i].1 {
            KeyKind::Signed => KeyValue::Int(text()?.parse().ok()?),
            KeyKind::Unsigned => KeyValue::UInt(text()?.parse().ok()?),
            KeyKind::Decimal | KeyKind::Quoted => KeyValue::Text(text()?.to_string()),
            KeyKind::Text { .. } => KeyValue::Bytes(unhex(raw)?),
            KeyKind::Binary => KeyValue::Bytes(raw.to_vec()),
        })
    }

    /// A key value as an SQL literal for column `i`.
    fn literal(&self, i: usize, v: &KeyValue) -> Result<String, String> {
        let (name, kind) = &self.columns[i];
        let bad = || format!("value {v:?} does not fit key column `{name}`");
        match (kind, v) {
            (KeyKind::Signed | KeyKind::Unsigned, KeyValue::Int(n)) => Ok(n.to_string()),
            (KeyKind::Signed | KeyKind::Unsigned, KeyValue::UInt(n)) => Ok(n.to_string()),
            (KeyKind::Decimal, KeyValue::Text(s)) if plain(s, b"-.") => Ok(s.clone()),
            (KeyKind::Quoted, KeyValue::Text(s)) if plain(s, b"-.: ") => Ok(format!("'{s}'")),
            (KeyKind::Text { charset, collation }, KeyValue::Bytes(b)) => {
                if b.is_empty() {
                    Ok(format!("_{charset}'' COLLATE {collation}"))
                } else {
                    Ok(format!("_{charset} X'{}' COLLATE {collation}", hex(b)))
                }
            }
            (KeyKind::Binary, KeyValue::Bytes(b)) => Ok(format!("X'{}'", hex(b))),
            _ => Err(bad()),
        }
    }

    /// `key >= bound` (`lower`) or `key < bound` in tuple order, as an index-range predicate.
    pub(crate) fn bound_predicate(
        &self,
        bound: &[KeyValue],
        lower: bool,
    ) -> Result<String, String> {
        if bound.len() != self.columns.len() {
            return Err(format!(
                "{} values for a key of {} columns",
                bound.len(),
                self.columns.len()
            ));
        }
        let cols: Vec<String> = self.columns.iter().map(|(n, _)| quote_ident(n)).collect();
        let lits = (0..bound.len())
            .map(|i| self.literal(i, &bound[i]))
            .collect::<Result<Vec<_>, _>>()?;
        let (strict, last) = if lower { (">", ">=") } else { ("<", "<") };
        // Innermost first: c_n OP v_n, then (c_i strict v_i OR (c_i = v_i AND inner)).
        let n = cols.len();
        let mut expr = format!("{} {last} {}", cols[n - 1], lits[n - 1]);
        for i in (0..n - 1).rev() {
            expr = format!(
                "({c} {strict} {v} OR ({c} = {v} AND {expr}))",
                c = cols[i],
                v = lits[i]
            );
        }
        if n > 1 {
            // The leading column alone, so the optimizer sees the range on it directly.
            let lead = if lower { ">=" } else { "<=" };
            expr = format!("{} {lead} {} AND {expr}", cols[0], lits[0]);
        }
        Ok(expr)
    }

    /// `WHERE ...` for a range (empty for the whole table).
    pub(crate) fn where_clause(&self, range: &KeyRange) -> Result<String, String> {
        let mut parts = Vec::new();
        if let Some(start) = &range.start {
            parts.push(self.bound_predicate(start, true)?);
        }
        if let Some(end) = &range.end {
            parts.push(self.bound_predicate(end, false)?);
        }
        Ok(if parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", parts.join(" AND "))
        })
    }
}

/// Character sets and collations of a table's text columns: from introspection, or read again.
pub(crate) async fn collations(
    source: &MysqlSource,
    table: &str,
) -> Result<HashMap<String, (String, String)>, MysqlError> {
    if let Some(known) = source.lock_state().text_columns.get(table) {
        return Ok(known.clone());
    }
    let mut conn = source.conn_for_table(table).await?;
    let rows: Vec<Row> = conn
        .exec(
            "SELECT COLUMN_NAME, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLLATION_NAME IS NOT NULL",
            (table,),
        )
        .await
        .map_err(|source| MysqlError::Read {
            table: table.to_string(),
            source,
        })?;
    let mut out = HashMap::new();
    for r in rows {
        let get = |i| -> Option<String> {
            match r.as_ref(i) {
                Some(Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                _ => None,
            }
        };
        if let (Some(c), Some(cs), Some(coll)) = (get(0), get(1), get(2)) {
            out.insert(c, (cs, coll));
        }
    }
    source
        .lock_state()
        .text_columns
        .insert(table.to_string(), out.clone());
    Ok(out)
}

/// Sub-ranges of the key that are planned side by side for a big table.
const PLAN_PARALLELISM: i128 = 4;

pub(crate) async fn plan_chunks(
    source: &MysqlSource,
    table: &Table,
    chunk_size: u64,
) -> Result<Vec<KeyRange>, MysqlError> {
    if chunk_size == 0 {
        return Ok(vec![KeyRange::WHOLE]);
    }
    let collations = collations(source, &table.name).await?;
    let Some(key) = chunk_key(table, Some(&collations)) else {
        return Ok(vec![KeyRange::WHOLE]);
    };
    // A big table whose key leads with an integer is planned in a few sub-ranges at once:
    // the seeks within one sub-range depend on each other, those of different ones do not.
    let big = table.row_count.unwrap_or(0) >= 4 * chunk_size;
    let starts = if big && matches!(key.columns[0].1, KeyKind::Signed | KeyKind::Unsigned) {
        sub_range_starts(source, table, &key).await?
    } else {
        Vec::new()
    };
    let mut pieces: Vec<(Option<Vec<KeyValue>>, Option<i128>)> = Vec::new();
    let mut previous: Option<Vec<KeyValue>> = None;
    for s in &starts {
        pieces.push((previous.take(), first_int(s)));
        previous = Some(s.clone());
    }
    pieces.push((previous, None));
    let planned = futures_util::future::try_join_all(
        pieces
            .iter()
            .map(|(from, stop)| seek_bounds(source, table, &key, chunk_size, from.clone(), *stop)),
    )
    .await?;
    let mut bounds: Vec<Vec<KeyValue>> = Vec::new();
    for ((from, _), found) in pieces.into_iter().zip(planned) {
        bounds.extend(from);
        bounds.extend(found);
    }
    if bounds.is_empty() {
        return Ok(vec![KeyRange::WHOLE]);
    }
    Ok(KeyRange::split_at(bounds))
}

fn first_int(key: &[KeyValue]) -> Option<i128> {
    match key.first()? {
        KeyValue::Int(n) => Some(i128::from(*n)),
        KeyValue::UInt(n) => Some(i128::from(*n)),
        _ => None,
    }
}

/// The first existing key at or after each of `PLAN_PARALLELISM - 1` evenly spaced values
/// of the leading integer column, in order, without duplicates (each an index seek).
async fn sub_range_starts(
    source: &MysqlSource,
    table: &Table,
    key: &ChunkKey,
) -> Result<Vec<Vec<KeyValue>>, MysqlError> {
    let read_err = |source| MysqlError::Read {
        table: table.name.clone(),
        source,
    };
    let lead = quote_ident(&key.columns[0].0);
    let t = quote_ident(&table.name);
    let mut conn = source.conn_for_table(&table.name).await?;
    let row: Option<Row> = conn
        .query_first(format!("SELECT MIN({lead}), MAX({lead}) FROM {t}"))
        .await
        .map_err(read_err)?;
    let int = |row: &Row, i: usize| -> Option<i128> {
        match row.as_ref(i) {
            Some(Value::Bytes(b)) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        }
    };
    let Some((Some(min), Some(max))) = row.as_ref().map(|r| (int(r, 0), int(r, 1))) else {
        return Ok(Vec::new());
    };
    let select: Vec<String> = (0..key.columns.len()).map(|i| key.read_expr(i)).collect();
    let order: Vec<String> = key.columns.iter().map(|(n, _)| quote_ident(n)).collect();
    let mut starts: Vec<Vec<KeyValue>> = Vec::new();
    for i in 1..PLAN_PARALLELISM {
        let at = min + (max - min) * i / PLAN_PARALLELISM;
        if starts
            .last()
            .and_then(|s| first_int(s))
            .is_some_and(|last| at <= last)
        {
            continue;
        }
        let sql = format!(
            "SELECT {} FROM {t} WHERE {lead} >= {at} ORDER BY {} LIMIT 1",
            select.join(", "),
            order.join(", ")
        );
        let row: Option<Row> = conn.query_first(sql).await.map_err(read_err)?;
        let Some(row) = row else { break };
        let values = key_values(table, key, &row)?;
        if starts.last() != Some(&values) && first_int(&values) != Some(min) {
            starts.push(values);
        }
    }
    Ok(starts)
}

/// Boundaries every `chunk_size` keys after `from` (the table's start when `None`), up to the
/// first key whose leading column reaches `stop`: one ordered walk of the key index, split
/// into `LIMIT chunk_size, 1` seeks so only the boundaries cross the wire.
async fn seek_bounds(
    source: &MysqlSource,
    table: &Table,
    key: &ChunkKey,
    chunk_size: u64,
    from: Option<Vec<KeyValue>>,
    stop: Option<i128>,
) -> Result<Vec<Vec<KeyValue>>, MysqlError> {
    let read_err = |source| MysqlError::Read {
        table: table.name.clone(),
        source,
    };
    let select: Vec<String> = (0..key.columns.len()).map(|i| key.read_expr(i)).collect();
    let order: Vec<String> = key.columns.iter().map(|(n, _)| quote_ident(n)).collect();
    let mut conn = source.conn_for_table(&table.name).await?;
    let mut bounds: Vec<Vec<KeyValue>> = Vec::new();
    loop {
        let filter = match bounds.last().or(from.as_ref()) {
            Some(prev) => format!(
                " WHERE {}",
                key.bound_predicate(prev, true)
                    .map_err(|why| MysqlError::BadRange {
                        table: table.name.clone(),
                        why,
                    })?
            ),
            None => String::new(),
        };
        let sql = format!(
            "SELECT {} FROM {}{filter} ORDER BY {} LIMIT {chunk_size}, 1",
            select.join(", "),
            quote_ident(&table.name),
            order.join(", ")
        );
        let row: Option<Row> = conn.query_first(sql).await.map_err(read_err)?;
        let Some(row) = row else {
            break;
        };
        let values = key_values(table, key, &row)?;
        if let (Some(stop), Some(v)) = (stop, first_int(&values)) {
            if v >= stop {
                break;
            }
        }
        bounds.push(values);
    }
    Ok(bounds)
}

/// A boundary row read back into key values.
fn key_values(table: &Table, key: &ChunkKey, row: &Row) -> Result<Vec<KeyValue>, MysqlError> {
    let mut values = Vec::with_capacity(key.columns.len());
    for i in 0..key.columns.len() {
        let raw = match row.as_ref(i) {
            Some(Value::Bytes(b)) => b.as_slice(),
            _ => {
                return Err(MysqlError::BadRange {
                    table: table.name.clone(),
                    why: format!("key column `{}` holds NULL", key.columns[i].0),
                })
            }
        };
        let v = key
            .parse_value(i, raw)
            .ok_or_else(|| MysqlError::BadRange {
                table: table.name.clone(),
                why: format!(
                    "key value `{}` of column `{}` cannot be read back",
                    String::from_utf8_lossy(raw),
                    key.columns[i].0
                ),
            })?;
        values.push(v);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates() {
        let key = ChunkKey {
            columns: vec![
                ("a".into(), KeyKind::Signed),
                (
                    "b".into(),
                    KeyKind::Text {
                        charset: "utf8mb4".into(),
                        collation: "utf8mb4_general_ci".into(),
                    },
                ),
                ("c".into(), KeyKind::Quoted),
            ],
        };
        let bound = vec![
            KeyValue::Int(5),
            KeyValue::Bytes(b"x'y".to_vec()),
            KeyValue::Text("2024-01-02 03:04:05".into()),
        ];
        assert_eq!(
            key.bound_predicate(&bound, true).unwrap(),
            "`a` >= 5 AND (`a` > 5 OR (`a` = 5 AND (`b` > _utf8mb4 X'782779' COLLATE utf8mb4_general_ci OR (`b` = _utf8mb4 X'782779' COLLATE utf8mb4_general_ci AND `c` >= '2024-01-02 03:04:05'))))"
        );
        let single = ChunkKey {
            columns: vec![("id".into(), KeyKind::Unsigned)],
        };
        assert_eq!(
            single
                .bound_predicate(&[KeyValue::UInt(u64::MAX)], false)
                .unwrap(),
            "`id` < 18446744073709551615"
        );
        assert!(single
            .bound_predicate(&[KeyValue::Text("1; DROP".into())], true)
            .is_err());
        let q = ChunkKey {
            columns: vec![("d".into(), KeyKind::Quoted)],
        };
        assert!(q
            .bound_predicate(&[KeyValue::Text("x' OR 1".into())], true)
            .is_err());
        assert_eq!(base_type("int(10) unsigned"), "int");
        assert_eq!(base_type("bigint unsigned"), "bigint");
    }
}
