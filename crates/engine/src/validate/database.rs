//! `checksum_source = "database"`: both sides of the checksum computed by the databases, each
//! from its own values, so what is compared is the conversion, not only the load.
//!
//! The source renders each value to its canonical text in its own SQL (`checksum.rs` of each
//! source crate), PostgreSQL renders the loaded value to the same text here, and both hash the
//! framed row text the same way (`barge_model::checksum`): MD5, which both PostgreSQL and
//! MySQL have built in, the first 8 bytes summed per bucket modulo 2^64. MD5 costs more than
//! the default mode's typed hashes (about 2 µs a row in PostgreSQL), which is the price of a
//! hash both servers compute. The canonical form is the target type's; where the source
//! holds a value of another kind (a number in a date column), its canonical text is its own
//! kind's, framed apart, so it differs: conversions barge guessed are reported. Conversions
//! that are policy (a zero date loaded as NULL, `tinyint(1)` as boolean) are applied by the
//! source side on purpose and listed with the result.
//!
//! The comparison runs like the default mode's: whole-table sums first (a MySQL source sums
//! its plan's chunks in parallel), then, for a table that differs, per-bucket sums, the keys
//! and hashes of the rows of the first differing buckets, and the first differing rows in full.

use super::checksum::{diff_rows, wrap_sum, ChecksumContext, ChecksumResult, ColumnDifference};
use super::checksum::{
    DifferenceKind, RowDifference, MAX_BUCKETS, MAX_DRILLED_BUCKETS, MAX_LISTED_ROWS,
};
use crate::source::Source;
use crate::EngineError;
use barge_model::checksum::{self, CanonicalTable, ChecksumAnswer, ChecksumAsk};
use barge_model::{DataType, KeyRange, Table};
use barge_pg::ddl::{qualified, quote_ident};
use futures_util::StreamExt;
use std::collections::HashSet;

/// Session settings and the functions the PostgreSQL side's canonical texts use (temporary,
/// in this session's `pg_temp`): `barge_num` lays a decimal out as MariaDB's `JSON_NORMALIZE`
/// does (`1.5E0`; PL/pgSQL, as an SQL function with a FROM clause it cost ten times more a
/// call), `barge_jsonb` writes jsonb in `JSON_NORMALIZE`'s form (keys in byte order,
/// no spaces). `check_function_bodies` is off because `barge_jsonb` calls itself.
const SETUP: &str = r#"
SET extra_float_digits = 1;
SET DateStyle = 'ISO, YMD';
SET TimeZone = 'UTC';
SET IntervalStyle = 'postgres';
SET check_function_bodies = off;
CREATE OR REPLACE FUNCTION pg_temp.barge_num(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE
  m text[];
  d text;
  lz int;
BEGIN
  m := regexp_match(t, '^(-?)([0-9]*)\.?([0-9]*)(?:e([-+]?[0-9]+))?$');
  IF m IS NULL THEN
    RETURN NULL;
  END IF;
  d := ltrim(m[2] || m[3], '0');
  lz := length(m[2] || m[3]) - length(d);
  d := rtrim(d, '0');
  IF d = '' THEN
    RETURN '0.0E0';
  END IF;
  RETURN m[1] || left(d, 1) || '.' || CASE WHEN length(d) > 1 THEN substr(d, 2) ELSE '0' END
    || 'E' || (coalesce(m[4]::int, 0) + length(m[2]) - lz - 1)::text;
END
$f$;
CREATE OR REPLACE FUNCTION pg_temp.barge_jsonb(j jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
SELECT CASE jsonb_typeof(j)
  WHEN 'object' THEN '{' || coalesce((SELECT string_agg(to_jsonb(k)::text || ':' || pg_temp.barge_jsonb(v), ',' ORDER BY k COLLATE "C") FROM jsonb_each(j) AS e(k, v)), '') || '}'
  WHEN 'array' THEN '[' || coalesce((SELECT string_agg(pg_temp.barge_jsonb(v), ',' ORDER BY n) FROM jsonb_array_elements(j) WITH ORDINALITY AS a(v, n)), '') || ']'
  WHEN 'number' THEN pg_temp.barge_num(j::text)
  ELSE j::text END
$f$;
"#;

/// The PostgreSQL expression of column `c`'s canonical text (see the README's table).
fn pg_value(c: &str, t: &DataType) -> String {
    use DataType as T;
    let float = |e: String| {
        format!("CASE WHEN {e} IN ('NaN', 'Infinity', '-Infinity') THEN {e}::text ELSE pg_temp.barge_num({e}::text) END")
    };
    match t {
        T::Bool => format!("CASE WHEN {c} THEN 't' WHEN NOT {c} THEN 'f' END"),
        T::Int2 | T::Int4 | T::Int8 => format!("{c}::text"),
        T::Numeric { .. } => format!("pg_temp.barge_num({c}::text)"),
        T::Float4 => float(format!("{c}::float8")),
        T::Float8 => float(c.to_string()),
        T::Text
        | T::Varchar(_)
        | T::Char(_)
        | T::Citext
        | T::Enum { .. }
        | T::Json
        | T::Bit(_)
        | T::Varbit(_)
        | T::Date
        | T::Uuid => format!("({c})::text COLLATE \"C\""),
        T::Jsonb => format!("pg_temp.barge_jsonb({c})"),
        T::TextArray => {
            format!("coalesce(cardinality({c}), 0)::text || ':' || array_to_string({c}, ',')")
        }
        T::Bytea => format!("encode({c}, 'hex')"),
        T::Time(_) => format!("to_char(DATE '2000-01-01' + {c}, 'HH24:MI:SS.US')"),
        T::Timestamp(_) => format!("to_char({c}, 'YYYY-MM-DD HH24:MI:SS.US')"),
        T::Timestamptz(_) => format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"),
        T::Interval => format!("(extract(epoch FROM {c}) * 1000000)::numeric(40, 0)::text"),
        T::Inet => format!("host({c})"),
        T::Geometry { .. } => format!("encode(ST_AsEWKB({c}), 'hex')"),
    }
}

/// The framed value of column `c` (never NULL: a value without canonical text is foreign).
fn pg_framed(c: &str, t: &DataType) -> String {
    let v = pg_value(c, t);
    format!(
        "CASE WHEN {c} IS NULL THEN E'\\\\N' ELSE coalesce(octet_length({v})::text || ':' || {v}, \
         '!' || octet_length({c}::text)::text || ':' || {c}::text) END"
    )
}

struct TargetSql {
    total: String,
    /// Ends with `GROUP BY 1`; `{N}` is the bucket count.
    buckets: String,
    /// `(key, hash)` of the rows in some buckets: ends with `IN (`.
    hashes: String,
    /// `(key, row)` of the rows in some buckets: ends with `IN (`.
    rows: String,
}

fn target_sql(
    table: &Table,
    canon: &CanonicalTable,
    schema: &str,
    quarantine: Option<&str>,
    buckets: u64,
) -> TargetSql {
    let names: Vec<String> = canon
        .compared
        .iter()
        .map(|i| quote_ident(&table.columns[*i].target_name))
        .collect();
    let parts: Vec<String> = canon
        .compared
        .iter()
        .zip(&names)
        .map(|(i, c)| pg_framed(c, &table.columns[*i].data_type))
        .collect();
    let join = |p: &[String]| {
        if p.is_empty() {
            "''".to_string()
        } else {
            p.join(" || '|' || ")
        }
    };
    let row = join(&parts);
    let key = if canon.key.is_empty() {
        row.clone()
    } else {
        join(
            &canon
                .key
                .iter()
                .map(|k| parts[*k].clone())
                .collect::<Vec<_>>(),
        )
    };
    let list = if names.is_empty() {
        "1".to_string()
    } else {
        names.join(", ")
    };
    let from = match quarantine {
        Some(q) => format!(
            "(SELECT {list} FROM {} UNION ALL SELECT {list} FROM {q}) t",
            qualified(schema, &table.target_name)
        ),
        None => format!("{} t", qualified(schema, &table.target_name)),
    };
    let hash = "('x' || left(md5(r), 16))::bit(64)::bigint";
    let bucket = if buckets <= 1 {
        "0::bigint".to_string()
    } else {
        format!("(('x' || left(md5(k), 8))::bit(32)::bigint % {buckets})")
    };
    let inner = format!("SELECT {key} AS k, {row} AS r FROM {from}");
    TargetSql {
        total: format!("SELECT count(*), coalesce(sum({hash}), 0)::text FROM (SELECT {row} AS r FROM {from}) s"),
        buckets: format!(
            "SELECT {bucket} AS b, count(*), sum({hash})::text FROM ({inner}) s GROUP BY 1"
        ),
        hashes: format!("SELECT k, ({hash})::text FROM ({inner}) s WHERE {bucket} IN ("),
        rows: format!("SELECT k, r FROM ({inner}) s WHERE {bucket} IN ("),
    }
}

/// How the source renders `table`.
async fn canonical(source: &Source, table: &Table) -> Result<CanonicalTable, EngineError> {
    match source {
        Source::Sqlite(_) => Ok(barge_source_sqlite::checksum::canonical_table(table)),
        Source::Mysql(m) => m.canonical_table(table).map_err(EngineError::Setup),
    }
}

/// One question to the source; `range` bounds a MySQL query (SQLite reads the whole file).
async fn ask_source(
    source: &Source,
    table: &Table,
    canon: &CanonicalTable,
    range: &KeyRange,
    ask: ChecksumAsk,
) -> Result<ChecksumAnswer, EngineError> {
    match source {
        Source::Sqlite(s) => {
            let (s, table, canon) = (s.clone(), table.clone(), canon.clone());
            tokio::task::spawn_blocking(move || s.checksum(&table, &canon, &ask))
                .await
                .map_err(|e| EngineError::Setup(format!("a checksum task failed: {e}")))?
                .map_err(EngineError::from)
        }
        Source::Mysql(m) => m
            .checksum(table, canon, range, &ask)
            .await
            .map_err(|e| EngineError::Mysql(Box::new(e))),
    }
}

/// Bucket sums of the source: a MySQL source's chunks in parallel, added up.
async fn source_buckets(
    cx: &ChecksumContext<'_>,
    index: usize,
    canon: &CanonicalTable,
    buckets: u64,
) -> Result<Vec<(u64, u64)>, EngineError> {
    let table = &cx.plan.schema.tables[index];
    let ranges: Vec<KeyRange> = match cx.source {
        Source::Mysql(_) => cx.plan.tables[index].chunks.clone(),
        Source::Sqlite(_) => vec![KeyRange::WHOLE],
    };
    let mut out = vec![(0u64, 0u64); buckets as usize];
    let mut answers = futures_util::stream::iter(ranges)
        .map(|r| async move {
            ask_source(cx.source, table, canon, &r, ChecksumAsk::Buckets(buckets)).await
        })
        .buffer_unordered(cx.workers.max(1));
    while let Some(a) = answers.next().await {
        if cx.cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(EngineError::Interrupted);
        }
        for (b, n, s) in a?.buckets {
            let slot = out
                .get_mut(b as usize)
                .ok_or_else(|| EngineError::Setup(format!("checksum bucket {b} out of range")))?;
            slot.0 += n;
            slot.1 = slot.1.wrapping_add(s);
        }
    }
    Ok(out)
}

async fn target_query(
    client: &tokio_postgres::Client,
    sql: &str,
    table: &Table,
) -> Result<Option<Vec<tokio_postgres::Row>>, EngineError> {
    match client.query(sql, &[]).await {
        Ok(rows) => Ok(Some(rows)),
        Err(e) if e.code().map(|c| c.code()) == Some("42P01") => Ok(None),
        Err(e) => Err(EngineError::statement(
            &format!("computing the checksum of `{}`", table.target_name),
            sql,
            &e,
        )),
    }
}

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    r: &'a tokio_postgres::Row,
    i: usize,
) -> Result<T, EngineError> {
    r.try_get(i)
        .map_err(|e| EngineError::Setup(format!("unexpected checksum result: {e}")))
}

/// Source and target row counts and the comparison of table `index`.
pub(crate) async fn compare_table(
    cx: &ChecksumContext<'_>,
    index: usize,
    quarantine: Option<&str>,
) -> Result<(u64, Option<u64>, ChecksumResult), EngineError> {
    let table = &cx.plan.schema.tables[index];
    let canon = canonical(cx.source, table).await?;
    cx.client
        .batch_execute(SETUP)
        .await
        .map_err(|e| EngineError::statement("preparing the checksum session", SETUP, &e))?;
    let rows_estimate = table.row_count.unwrap_or(0);
    let buckets = if cx.chunk_size == 0 {
        1
    } else {
        rows_estimate.div_ceil(cx.chunk_size).clamp(1, MAX_BUCKETS)
    };
    let sql = target_sql(table, &canon, cx.schema, quarantine, buckets);
    let key_names: Vec<String> = canon
        .key
        .iter()
        .map(|k| table.columns[canon.compared[*k]].target_name.clone())
        .collect();
    let mut result = ChecksumResult {
        key: key_names.clone(),
        chunks: buckets,
        differing_chunks: 0,
        differences: Vec::new(),
        differing_rows: 0,
        incomplete: false,
        source_side: "database",
        policies: canon.policies.clone(),
        not_compared: canon.not_compared.clone(),
    };
    let (source_total, target_total) = tokio::join!(
        source_buckets(cx, index, &canon, 1),
        target_query(cx.client, &sql.total, table)
    );
    let (source_rows, source_sum) = source_total?.first().copied().unwrap_or_default();
    let Some(target_total) = target_total? else {
        result.differing_chunks = buckets;
        return Ok((source_rows, None, result));
    };
    let first = target_total
        .first()
        .ok_or_else(|| EngineError::Setup("no checksum result row".into()))?;
    let target_rows = get::<i64>(first, 0)? as u64;
    let target_sum = wrap_sum(&get::<String>(first, 1)?).unwrap_or(0);
    if (source_rows, source_sum) == (target_rows, target_sum) {
        return Ok((source_rows, Some(target_rows), result));
    }
    // Per bucket, to find which differ.
    let (source, target) = tokio::join!(
        source_buckets(cx, index, &canon, buckets),
        target_query(cx.client, &sql.buckets, table)
    );
    let source = source?;
    let mut target_b = vec![(0u64, 0u64); buckets as usize];
    for r in target?.unwrap_or_default() {
        let b = get::<i64>(&r, 0)? as usize;
        if let Some(slot) = target_b.get_mut(b) {
            *slot = (
                get::<i64>(&r, 1)? as u64,
                wrap_sum(&get::<String>(&r, 2)?).unwrap_or(0),
            );
        }
    }
    let target_rows: u64 = target_b.iter().map(|b| b.0).sum();
    let differing: Vec<u64> = (0..buckets)
        .filter(|b| source[*b as usize] != target_b[*b as usize])
        .collect();
    result.differing_chunks = differing.len() as u64;
    if differing.is_empty() {
        return Ok((source_rows, Some(target_rows), result));
    }
    result.incomplete = differing.len() > MAX_DRILLED_BUCKETS;
    let drilled: Vec<u64> = differing.into_iter().take(MAX_DRILLED_BUCKETS).collect();
    let list = drilled
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let whole = KeyRange::WHOLE;
    let hashes_sql = format!("{}{list})", sql.hashes);
    let (s, t) = tokio::join!(
        ask_source(
            cx.source,
            table,
            &canon,
            &whole,
            ChecksumAsk::Hashes {
                buckets,
                of: drilled.clone()
            }
        ),
        target_query(cx.client, &hashes_sql, table)
    );
    let target_hashes = t?
        .unwrap_or_default()
        .iter()
        .map(|r| {
            Ok((
                get::<String>(r, 0)?.into_bytes(),
                wrap_sum(&get::<String>(r, 1)?).unwrap_or(0),
            ))
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    let diffs = diff_rows(s?.hashes, target_hashes);
    result.differing_rows = diffs.len() as u64;
    let mut keys: Vec<Vec<u8>> = diffs.into_iter().map(|(_, k)| k).collect();
    keys.sort_by(|a, b| key_order(a, b));
    keys.dedup();
    keys.truncate(MAX_LISTED_ROWS);
    let wanted: HashSet<&Vec<u8>> = keys.iter().collect();
    let rows_sql = format!("{}{list})", sql.rows);
    let (s, t) = tokio::join!(
        ask_source(
            cx.source,
            table,
            &canon,
            &whole,
            ChecksumAsk::Rows {
                buckets,
                of: drilled
            }
        ),
        target_query(cx.client, &rows_sql, table)
    );
    let source_full: Vec<(Vec<u8>, Vec<u8>)> = s?
        .rows
        .into_iter()
        .filter(|(k, _)| wanted.contains(k))
        .collect();
    let target_full: Vec<(Vec<u8>, Vec<u8>)> = t?
        .unwrap_or_default()
        .iter()
        .map(|r| {
            Ok((
                get::<String>(r, 0)?.into_bytes(),
                get::<String>(r, 1)?.into_bytes(),
            ))
        })
        .collect::<Result<Vec<_>, EngineError>>()?
        .into_iter()
        .filter(|(k, _)| wanted.contains(k))
        .collect();
    let names: Vec<String> = canon
        .compared
        .iter()
        .map(|i| table.columns[*i].target_name.clone())
        .collect();
    let row_of = |rows: &[(Vec<u8>, Vec<u8>)], key: &[u8]| {
        rows.iter().find(|(k, _)| k == key).map(|(_, r)| r.clone())
    };
    let mut resolved = diff_rows(source_full.clone(), target_full.clone());
    resolved.sort_by(|a, b| key_order(&a.1, &b.1));
    result.differences = resolved
        .into_iter()
        .take(MAX_LISTED_ROWS)
        .map(|(kind, key)| {
            let columns = match (row_of(&source_full, &key), row_of(&target_full, &key)) {
                (Some(s), Some(t)) if kind == DifferenceKind::Changed => {
                    let (s, t) = (checksum::split_framed(&s), checksum::split_framed(&t));
                    s.iter()
                        .zip(&t)
                        .enumerate()
                        .filter(|(_, (a, b))| a != b)
                        .map(|(i, (a, b))| ColumnDifference {
                            column: names.get(i).cloned().unwrap_or_default(),
                            source: checksum::display_framed(a),
                            target: checksum::display_framed(b),
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
            let shown: Vec<usize> = if canon.key.is_empty() {
                (0..names.len()).collect()
            } else {
                canon.key.clone()
            };
            let values: Vec<String> = checksum::split_framed(&key)
                .into_iter()
                .map(|p| plain(checksum::display_framed(p)))
                .collect();
            let shown: Vec<&str> = shown.iter().map(|i| names[*i].as_str()).collect();
            RowDifference {
                kind,
                row: format!("({}) = ({})", shown.join(", "), values.join(", ")),
                columns,
            }
        })
        .collect();
    Ok((source_rows, Some(target_rows), result))
}

/// A key value as the default mode shows it: numbers bare (`(id) = (7)`), text quoted.
fn plain(shown: String) -> String {
    let inner = shown
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(&shown);
    if !inner.is_empty()
        && inner
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        inner.to_string()
    } else {
        shown
    }
}

/// Keys in a person's order: numbers by value, then text.
fn key_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let parts = |k: &[u8]| -> Vec<(Option<f64>, Vec<u8>)> {
        checksum::split_framed(k)
            .into_iter()
            .map(|p| {
                let text = p.iter().position(|c| *c == b':').map_or(p, |i| &p[i + 1..]);
                let n = std::str::from_utf8(text)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok());
                (n, text.to_vec())
            })
            .collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x.0, y.0) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => x.1.cmp(&y.1),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    a.cmp(b)
}
