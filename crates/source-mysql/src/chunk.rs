//! Key-range chunks for any primary key: single or composite, integer or not.
//!
//! Boundaries are keys that exist, so no chunk is ever empty however sparse the keys. A big
//! table whose key leads with an integer is cut by value from the server's range estimates,
//! each cut moved to the first existing key at or after it (see `estimated_bounds`). Other
//! keys are walked in one ordered pass over the key index, split into seeks
//! (`WHERE key >= previous ORDER BY key LIMIT chunk_size, 1`): the server walks the index and
//! only one key per chunk crosses the wire.
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
    /// The index holding the key (`PRIMARY` for the primary key), named to the optimizer
    /// when estimating ranges.
    pub index: String,
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
        let index = key.name.clone().unwrap_or_else(|| "PRIMARY".into());
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
            return Some(ChunkKey { index, columns });
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

/// The estimated planner's first cut of a key's range, in equal-width pieces.
const FIRST_PIECES: i128 = 16;

/// A piece estimated at more than this many chunks is cut again, in `SUB_PIECES` pieces:
/// within a piece the keys are taken as evenly spread, so pieces are kept small.
const SPLIT_OVER: u64 = 2;
const SUB_PIECES: i128 = 8;

/// Pieces the estimated planner may look at (a guard against a pathological key
/// distribution; past it, pieces are taken as they are).
const MAX_ESTIMATES: usize = 20_000;

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
    // A big table whose key leads with an integer is cut by value, guided by the server's
    // range estimates, instead of walking the whole key index.
    let big = table.row_count.unwrap_or(0) >= 4 * chunk_size;
    let bounds = if big && matches!(key.columns[0].1, KeyKind::Signed | KeyKind::Unsigned) {
        estimated_bounds(source, table, &key, chunk_size).await?
    } else {
        seek_bounds(source, table, &key, chunk_size, None, None).await?
    };
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

/// Chunk boundaries of a table whose key leads with an integer column, without reading the
/// key index through (that walk costs about a third of a second per 3 million rows before
/// the first row is copied):
///
/// 1. The leading column's values `[MIN, MAX]` are cut in `FIRST_PIECES` pieces of equal
///    width, and each piece the server estimates at more than `SPLIT_OVER` chunks (keys
///    crowd there) in `SUB_PIECES` again, until every piece fits or is a single value.
/// 2. The estimate is `EXPLAIN`'s row count over the key index. InnoDB reads it from the
///    index pages themselves, so an unchanged table gets the same plan on every run and a
///    resumed run finds the chunks it left (statistics only cap an estimate at half the
///    table's estimated rows, which the first cut stays under unless the table is heavily
///    skewed). Over a range of more
///    than a few pages InnoDB reports about twice the rows there are; the planner halves it.
/// 3. Each piece is cut in as many equal-width parts as it holds chunks; consecutive parts
///    are then packed into chunks of at most `chunk_size` estimated rows.
/// 4. Each cut becomes the first existing key at or after it (one index seek), duplicates
///    dropped: every chunk starts at a real key, so none is empty however sparse the keys.
/// 5. A single leading value holding more than a couple of chunks (a composite key with few
///    distinct leading values) is walked exactly, `LIMIT chunk_size, 1` at a time.
///
/// Chunks therefore hold about `chunk_size` rows, as closely as the server's estimates go.
async fn estimated_bounds(
    source: &MysqlSource,
    table: &Table,
    key: &ChunkKey,
    chunk_size: u64,
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
    // Pieces [from, to) with their estimates, refined until each fits; then in key order.
    let mut todo = equal_pieces(min, max + 1, FIRST_PIECES);
    let mut pieces: Vec<(i128, i128, u64)> = Vec::new();
    let mut estimates = 0;
    while let Some((from, to)) = todo.pop() {
        let rows = if estimates < MAX_ESTIMATES {
            estimates += 1;
            estimate(&mut conn, table, key, from, to).await? / 2
        } else {
            chunk_size
        };
        // Past the guard a piece counts as one chunk, so it is not cut again.
        if rows > SPLIT_OVER * chunk_size && to - from > 1 {
            todo.extend(equal_pieces(from, to, SUB_PIECES));
        } else {
            pieces.push((from, to, rows));
        }
    }
    pieces.sort_unstable();
    // Parts of about one chunk each, packed: a cut wherever the next part would overflow.
    let mut cuts: Vec<i128> = Vec::new();
    let mut crowded: Vec<i128> = Vec::new();
    let mut packed = u64::MAX;
    for (from, to, rows) in pieces {
        if to - from == 1 && rows > SPLIT_OVER * chunk_size {
            crowded.push(from);
        }
        // Rounded: parts of between 2/3 and 2 chunks' worth, about one on average.
        let parts = i128::from(((rows + chunk_size / 2) / chunk_size).max(1)).min(to - from);
        let part_rows = rows / parts.unsigned_abs() as u64;
        for (at, _) in equal_pieces(from, to, parts) {
            if packed.saturating_add(part_rows) > chunk_size {
                cuts.push(at);
                packed = part_rows;
            } else {
                packed += part_rows;
            }
        }
    }
    // Each cut as the first key at or after it; the table's first key starts chunk 0.
    let select: Vec<String> = (0..key.columns.len()).map(|i| key.read_expr(i)).collect();
    let order: Vec<String> = key.columns.iter().map(|(n, _)| quote_ident(n)).collect();
    let mut bounds: Vec<Vec<KeyValue>> = Vec::new();
    let mut walks = Vec::new();
    for cut in cuts {
        let walk = crowded.contains(&cut);
        if bounds
            .last()
            .and_then(|b| first_int(b))
            .is_some_and(|last| cut <= last)
        {
            // The previous cut's key is already past this one: nothing between them.
            if walk {
                walks.push((bounds.last().cloned(), cut + 1));
            }
            continue;
        }
        let sql = format!(
            "SELECT {} FROM {t} WHERE {lead} >= {cut} ORDER BY {} LIMIT 1",
            select.join(", "),
            order.join(", ")
        );
        let row: Option<Row> = conn.query_first(sql).await.map_err(read_err)?;
        let Some(row) = row else { break };
        let values = key_values(table, key, &row)?;
        let table_start = cut == min;
        if walk && first_int(&values) == Some(cut) {
            walks.push(((!table_start).then(|| values.clone()), cut + 1));
        }
        if !table_start && bounds.last() != Some(&values) {
            bounds.push(values);
        }
    }
    drop(conn);
    // Crowded leading values are walked side by side; their boundaries fall between the cuts.
    let walked = futures_util::future::try_join_all(
        walks
            .into_iter()
            .map(|(from, stop)| seek_bounds(source, table, key, chunk_size, from, Some(stop))),
    )
    .await?;
    for found in walked {
        bounds.extend(found);
    }
    // Walked boundaries share their leading value with the cut before them and follow it
    // in key order: a stable sort on the leading value puts each in place.
    bounds.sort_by_key(|b| first_int(b));
    bounds.dedup();
    Ok(bounds)
}

/// `[from, to)` cut in `n` pieces of equal width (fewer when narrower than `n`), in order.
fn equal_pieces(from: i128, to: i128, n: i128) -> Vec<(i128, i128)> {
    let n = n.clamp(1, (to - from).max(1));
    (0..n)
        .map(|i| (from + (to - from) * i / n, from + (to - from) * (i + 1) / n))
        .filter(|(a, b)| b > a)
        .collect()
}

/// The server's estimate of the rows whose leading key column is in `[from, to)`, read
/// from the key index (`FORCE INDEX`, so a range covering most of the table is still
/// estimated from the index rather than from table statistics).
async fn estimate(
    conn: &mut mysql_async::Conn,
    table: &Table,
    key: &ChunkKey,
    from: i128,
    to: i128,
) -> Result<u64, MysqlError> {
    let sql = format!(
        "EXPLAIN SELECT 1 FROM {} FORCE INDEX ({}) WHERE {lead} >= {from} AND {lead} < {to}",
        quote_ident(&table.name),
        quote_ident(&key.index),
        lead = quote_ident(&key.columns[0].0),
    );
    let row: Option<Row> = conn
        .query_first(sql)
        .await
        .map_err(|source| MysqlError::Read {
            table: table.name.clone(),
            source,
        })?;
    let rows = row.and_then(|r| {
        let i = r
            .columns_ref()
            .iter()
            .position(|c| c.name_str().eq_ignore_ascii_case("rows"))?;
        match r.as_ref(i) {
            Some(Value::Bytes(b)) => std::str::from_utf8(b).ok()?.parse().ok(),
            Some(Value::Int(n)) => u64::try_from(*n).ok(),
            Some(Value::UInt(n)) => Some(*n),
            _ => None,
        }
    });
    // No estimate (an empty range shows none): nothing to split.
    Ok(rows.unwrap_or(0))
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
            index: "PRIMARY".into(),
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
            index: "PRIMARY".into(),
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
            index: "PRIMARY".into(),
            columns: vec![("d".into(), KeyKind::Quoted)],
        };
        assert!(q
            .bound_predicate(&[KeyValue::Text("x' OR 1".into())], true)
            .is_err());
        assert_eq!(base_type("int(10) unsigned"), "int");
        assert_eq!(base_type("bigint unsigned"), "bigint");
    }
}
