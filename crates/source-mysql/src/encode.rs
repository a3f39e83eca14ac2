//! The copy hot path: text-protocol rows to binary COPY, one encoder per column chosen up front.
//!
//! The server sends every value as text (numbers, dates) or raw bytes (binary strings, BIT),
//! so each encoder parses exactly one textual form. Notes on what the server sends:
//! - DOUBLE: the shortest text that reads back to the same double, so parsing it is exact.
//! - FLOAT: only 6 significant digits (`3.40282e38`), which is lossy; the column is read as
//!   `col + 0e0` instead, the exact double of the float, and narrowed back exactly.
//! - DECIMAL: exact digits, any precision up to 65.
//! - TIME: may be negative or past 24 hours (`-838:59:59`); only 00:00..24:00 fits `time`.
//! - Zero dates (`0000-00-00`, zero month or day) follow `zero_date_mode`.

use crate::chunk::{base_type, chunk_key, collations};
use crate::{quote_ident, MysqlError, MysqlSource};
use barge_config::ZeroDateMode;
use barge_model::{DataType, Expr, InvalidValuePolicy, KeyRange, Literal, Reject, Table};
use barge_pgcopy::{temporal, CopyBuffer};
use bytes::Bytes;
use mysql_async::prelude::Queryable;
use mysql_async::Value;
use std::collections::BTreeMap;

/// How one column's bytes become a binary COPY value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ColumnEncoder {
    Bool,
    Int2,
    Int4,
    Int8,
    /// Decimal text to numeric (DECIMAL, widened BIGINT UNSIGNED).
    Numeric,
    /// Read as `col + 0e0`: the exact double of a FLOAT, narrowed back to float4.
    Float4,
    Float8,
    Text,
    /// An ENUM with a CHECK on its members that lacks `''`: the `''` MySQL stores for an
    /// invalid member is refused here, with its location, rather than by the CHECK later.
    EnumText,
    Bytea,
    Date,
    Timestamp {
        tz: bool,
    },
    Time,
    Json,
    Jsonb,
    UuidText,
    UuidBinary {
        swap: bool,
    },
}

impl ColumnEncoder {
    fn for_column(table: &Table, column: &barge_model::Column, swap_uuid: bool) -> Self {
        let base = base_type(&column.source_type);
        match &column.data_type {
            DataType::Bool => ColumnEncoder::Bool,
            DataType::Int2 => ColumnEncoder::Int2,
            DataType::Int4 => ColumnEncoder::Int4,
            DataType::Int8 => ColumnEncoder::Int8,
            DataType::Numeric { .. } => ColumnEncoder::Numeric,
            DataType::Float4 => ColumnEncoder::Float4,
            DataType::Float8 => ColumnEncoder::Float8,
            DataType::Text | DataType::Varchar(_) | DataType::Char(_) => {
                if base == "enum" && enum_check_lacks_empty(table, &column.name) {
                    ColumnEncoder::EnumText
                } else {
                    ColumnEncoder::Text
                }
            }
            DataType::Bytea => ColumnEncoder::Bytea,
            DataType::Date => ColumnEncoder::Date,
            DataType::Timestamp(_) => ColumnEncoder::Timestamp { tz: false },
            DataType::Timestamptz(_) => ColumnEncoder::Timestamp { tz: true },
            DataType::Time(_) => ColumnEncoder::Time,
            DataType::Json => ColumnEncoder::Json,
            DataType::Jsonb => ColumnEncoder::Jsonb,
            DataType::Uuid if base == "binary" => ColumnEncoder::UuidBinary { swap: swap_uuid },
            DataType::Uuid => ColumnEncoder::UuidText,
        }
    }

    /// The select-list expression for the column.
    fn select_expr(&self, column: &barge_model::Column) -> String {
        let q = quote_ident(&column.name);
        let base = base_type(&column.source_type);
        match self {
            ColumnEncoder::Float4 if base == "float" => format!("({q} + 0e0)"),
            ColumnEncoder::Bytea if is_spatial(&base) => format!("ST_AsBinary({q})"),
            ColumnEncoder::Text if is_spatial(&base) => format!("ST_AsText({q})"),
            _ => q,
        }
    }
}

fn is_spatial(base: &str) -> bool {
    matches!(
        base,
        "geometry"
            | "point"
            | "linestring"
            | "polygon"
            | "multipoint"
            | "multilinestring"
            | "multipolygon"
            | "geometrycollection"
            | "geomcollection"
    )
}

fn enum_check_lacks_empty(table: &Table, column: &str) -> bool {
    table.checks.iter().any(|c| match &c.expr {
        Expr::InList {
            expr,
            list,
            negated: false,
        } => {
            matches!(expr.as_ref(), Expr::Column(n) if n == column)
                && !list
                    .iter()
                    .any(|l| matches!(l, Expr::Literal(Literal::Text(t)) if t.is_empty()))
        }
        _ => false,
    })
}

/// Why a value could not be encoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Invalid(String),
    ZeroDate,
}

type Encoded = Result<(), Refusal>;

fn invalid<T>(reason: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal::Invalid(reason.into()))
}

/// ASCII decimal integer, optional sign.
fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(i64::from(d - b'0'))?
        } else {
            v.checked_add(i64::from(d - b'0'))?
        };
    }
    Some(v)
}

fn parse_int(b: &[u8], min: i64, max: i64, name: &str) -> Result<i64, Refusal> {
    match parse_i64(b) {
        Some(v) if v >= min && v <= max => Ok(v),
        Some(_) => invalid(format!("is out of range for {name}")),
        None if !b.is_empty() && b.iter().all(|c| c.is_ascii_digit() || *c == b'-') => {
            invalid(format!("is out of range for {name}"))
        }
        None => invalid("is not an integer"),
    }
}

fn utf8(b: &[u8]) -> Result<&str, Refusal> {
    std::str::from_utf8(b)
        .or_else(|e| invalid(format!("is not valid UTF-8 (at byte {})", e.valid_up_to())))
}

fn text_ok(b: &[u8]) -> Encoded {
    utf8(b)?;
    if b.contains(&0) {
        return invalid("contains a NUL byte, which PostgreSQL text cannot hold");
    }
    Ok(())
}

fn parse_uuid_text(b: &[u8]) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let mut n = 0;
    let mut hi: Option<u8> = None;
    for &c in b {
        if c == b'-' {
            continue;
        }
        let d = (c as char).to_digit(16)? as u8;
        match hi.take() {
            None => hi = Some(d),
            Some(h) => {
                *out.get_mut(n)? = (h << 4) | d;
                n += 1;
            }
        }
    }
    (n == 16 && hi.is_none() && (b.len() == 32 || b.len() == 36)).then_some(out)
}

/// `HH:MM:SS[.ffffff]` within a day; MySQL's wider TIME values are refused.
fn parse_time(b: &[u8]) -> Result<i64, Refusal> {
    let hours_len = b.iter().position(|c| *c == b':').unwrap_or(b.len());
    if b.first() == Some(&b'-') || hours_len > 2 {
        return invalid("is outside 00:00:00..24:00:00, which a PostgreSQL time cannot hold (set `time_mode = \"text\"` to keep it as text)");
    }
    temporal::parse_time(b).or_else(|e| match e {
        temporal::TemporalError::Syntax if b.starts_with(b"24:") => invalid(
            "is outside 00:00:00..24:00:00, which a PostgreSQL time cannot hold (set `time_mode = \"text\"` to keep it as text)",
        ),
        e => invalid(e.to_string()),
    })
}

/// Encode one non-NULL value.
pub(crate) fn encode(buf: &mut CopyBuffer, enc: &ColumnEncoder, v: &[u8]) -> Encoded {
    use ColumnEncoder as E;
    match enc {
        E::Bool => match v {
            b"0" => buf.bool(false),
            b"1" => buf.bool(true),
            _ => return invalid("is not 0 or 1, so it is not a boolean"),
        },
        E::Int2 => {
            buf.i16(parse_int(v, i64::from(i16::MIN), i64::from(i16::MAX), "smallint")? as i16)
        }
        E::Int4 => {
            buf.i32(parse_int(v, i64::from(i32::MIN), i64::from(i32::MAX), "integer")? as i32)
        }
        E::Int8 => buf.i64(parse_int(v, i64::MIN, i64::MAX, "bigint")?),
        E::Numeric => {
            let text = utf8(v)?;
            buf.numeric(text)
                .or_else(|_| invalid("is not a decimal number"))?
        }
        E::Float8 => {
            let f: f64 = utf8(v)?.parse().or_else(|_| invalid("is not a number"))?;
            buf.f64(f)
        }
        E::Float4 => {
            let f: f64 = utf8(v)?.parse().or_else(|_| invalid("is not a number"))?;
            let g = f as f32;
            if f64::from(g) != f && f.is_finite() {
                return invalid("does not fit a real (float4) exactly");
            }
            buf.f32(g)
        }
        E::Text => {
            text_ok(v)?;
            buf.bytes(v)
        }
        E::EnumText => {
            if v.is_empty() {
                return invalid("is the empty string MySQL stores for an invalid ENUM value, which the column's CHECK does not allow");
            }
            text_ok(v)?;
            buf.bytes(v)
        }
        E::Bytea => buf.bytes(v),
        E::Date => {
            if crate::defaults::is_zero_date(v) {
                return Err(Refusal::ZeroDate);
            }
            buf.date(temporal::parse_date(v).or_else(|e| invalid(e.to_string()))?)
        }
        E::Timestamp { tz } => {
            if crate::defaults::is_zero_date(v) {
                return Err(Refusal::ZeroDate);
            }
            buf.micros(temporal::parse_timestamp(v, *tz).or_else(|e| invalid(e.to_string()))?)
        }
        E::Time => buf.micros(parse_time(v)?),
        E::Json | E::Jsonb => {
            utf8(v)?;
            if serde_json::from_slice::<serde::de::IgnoredAny>(v).is_err() {
                return invalid("is not valid JSON");
            }
            if matches!(enc, E::Jsonb) {
                if v.windows(6).any(|w| w == b"\\u0000") {
                    return invalid("contains \\u0000, which jsonb cannot hold");
                }
                buf.jsonb(v)
            } else {
                buf.bytes(v)
            }
        }
        E::UuidText => match parse_uuid_text(v) {
            Some(u) => buf.uuid(&u),
            None => return invalid("is not a UUID"),
        },
        E::UuidBinary { swap } => {
            let Ok(raw) = <[u8; 16]>::try_from(v) else {
                return invalid("is not 16 bytes, so it is not a UUID");
            };
            let u = if *swap {
                // UUID_TO_BIN(u, 1) stores time-high, time-mid, time-low, rest.
                let mut u = [0u8; 16];
                u[0..4].copy_from_slice(&raw[4..8]);
                u[4..6].copy_from_slice(&raw[2..4]);
                u[6..8].copy_from_slice(&raw[0..2]);
                u[8..].copy_from_slice(&raw[8..]);
                u
            } else {
                raw
            };
            buf.uuid(&u)
        }
    }
    Ok(())
}

/// Show a value in an error or reject report: text as is (shortened), other bytes as hex.
pub(crate) fn render(v: Option<&[u8]>) -> String {
    const MAX: usize = 100;
    let Some(v) = v else {
        return "NULL".into();
    };
    let mut s = match std::str::from_utf8(v) {
        Ok(s) if !s.contains('\0') => s.to_string(),
        Ok(s) => s.replace('\0', "\\0"),
        Err(_) => format!(
            "x'{}'",
            v.iter()
                .take(MAX / 2)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ),
    };
    if s.chars().count() > MAX {
        s = s.chars().take(MAX).collect::<String>() + "…";
    }
    s
}

fn cell(row: &mysql_async::Row, i: usize) -> Option<&[u8]> {
    match row.as_ref(i) {
        Some(Value::Bytes(b)) => Some(b.as_slice()),
        _ => None,
    }
}

/// Where a row is: `key (a, b) = (1, x)`, or its position in the chunk without a key.
fn location(table: &Table, row: &mysql_async::Row, position: u64) -> String {
    let Some(pk) = &table.primary_key else {
        return format!("row {position} of the chunk, table has no primary key");
    };
    let mut values = Vec::new();
    for name in &pk.columns {
        match table.columns.iter().position(|c| &c.name == name) {
            Some(i) => values.push(render(cell(row, i))),
            None => return format!("row {position} of the chunk"),
        }
    }
    format!("key ({}) = ({})", pk.columns.join(", "), values.join(", "))
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn copy_chunk(
    source: &MysqlSource,
    table: &Table,
    range: &KeyRange,
    policy: InvalidValuePolicy,
    buffer_bytes: usize,
    out: &tokio::sync::mpsc::Sender<Bytes>,
    on_rows: &(dyn Fn(u64) + Send + Sync),
    rejects: &mut Vec<Reject>,
) -> Result<u64, MysqlError> {
    let (zero_mode, swap_uuid) = {
        let state = source.lock_state();
        (state.zero_date_mode, state.binary16_swap)
    };
    // Before any introspection there is no zero_date_mode: refuse zero dates.
    let zero_mode = zero_mode.unwrap_or(ZeroDateMode::Error);
    let encoders: Vec<ColumnEncoder> = table
        .columns
        .iter()
        .map(|c| ColumnEncoder::for_column(table, c, swap_uuid))
        .collect();
    let select: Vec<String> = encoders
        .iter()
        .zip(&table.columns)
        .map(|(e, c)| e.select_expr(c))
        .collect();
    let mut sql = format!(
        "SELECT {} FROM {}",
        select.join(", "),
        quote_ident(&table.name)
    );
    if !range.is_whole() {
        let collations = collations(source, &table.name).await?;
        let key = chunk_key(table, Some(&collations)).ok_or_else(|| MysqlError::BadRange {
            table: table.name.clone(),
            why: "the table has no key to bound a chunk by".into(),
        })?;
        let filter = key
            .where_clause(range)
            .map_err(|why| MysqlError::BadRange {
                table: table.name.clone(),
                why,
            })?;
        sql.push_str(&filter);
    }
    let read_err = |source| MysqlError::Read {
        table: table.name.clone(),
        source,
    };
    let mut conn = source.conn_for_table(&table.name).await?;
    let mut result = conn.query_iter(sql).await.map_err(read_err)?;
    let nfields = encoders.len() as u16;
    let mut buf = CopyBuffer::new(buffer_bytes + buffer_bytes / 4);
    let mut total: u64 = 0;
    let mut pending: u64 = 0;
    let mut zero_counts: BTreeMap<usize, u64> = BTreeMap::new();
    while let Some(row) = result.next().await.map_err(read_err)? {
        buf.begin_row(nfields);
        for (i, enc) in encoders.iter().enumerate() {
            let Some(v) = cell(&row, i) else {
                buf.null();
                continue;
            };
            let mark = buf.mark();
            let Err(refusal) = encode(&mut buf, enc, v) else {
                continue;
            };
            buf.truncate(mark);
            let column = &table.columns[i];
            match refusal {
                Refusal::ZeroDate => {
                    let hint = match zero_mode {
                        ZeroDateMode::Error => {
                            "set `zero_date_mode = \"null\"` under [type_mapping] to load zero dates as NULL"
                        }
                        ZeroDateMode::Null if !column.nullable => {
                            "the column is NOT NULL, so the zero date cannot be loaded as NULL; make the column nullable in the source or fix the row"
                        }
                        ZeroDateMode::Null => {
                            buf.null();
                            *zero_counts.entry(i).or_default() += 1;
                            continue;
                        }
                    };
                    return Err(MysqlError::ZeroDate {
                        table: table.name.clone(),
                        column: column.name.clone(),
                        row: location(table, &row, total + 1),
                        value: render(Some(v)),
                        hint: hint.into(),
                    });
                }
                Refusal::Invalid(reason) => {
                    let row_at = location(table, &row, total + 1);
                    if policy == InvalidValuePolicy::Null && column.nullable {
                        buf.null();
                        rejects.push(Reject {
                            table: table.name.clone(),
                            column: column.name.clone(),
                            row: row_at,
                            value: render(Some(v)),
                            reason,
                        });
                    } else {
                        let reason = if policy == InvalidValuePolicy::Null {
                            format!("{reason}, and the column is NOT NULL so it cannot be loaded as NULL")
                        } else {
                            reason
                        };
                        return Err(MysqlError::InvalidValue {
                            table: table.name.clone(),
                            column: column.name.clone(),
                            row: row_at,
                            value: render(Some(v)),
                            reason,
                        });
                    }
                }
            }
        }
        total += 1;
        pending += 1;
        if buf.len() >= buffer_bytes {
            if out.send(buf.split()).await.is_err() {
                return Err(MysqlError::Cancelled(table.name.clone()));
            }
            on_rows(pending);
            pending = 0;
        }
    }
    drop(result);
    drop(conn);
    buf.finish();
    if out.send(buf.split()).await.is_err() {
        return Err(MysqlError::Cancelled(table.name.clone()));
    }
    on_rows(pending);
    if !zero_counts.is_empty() {
        let mut state = source.lock_state();
        for (i, n) in zero_counts {
            *state
                .zero_dates
                .entry((table.name.clone(), table.columns[i].name.clone()))
                .or_default() += n;
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(e: ColumnEncoder, v: &[u8]) -> Encoded {
        let mut b = CopyBuffer::new(64);
        encode(&mut b, &e, v)
    }

    #[test]
    fn refusals() {
        assert!(enc(ColumnEncoder::Int8, b"-9223372036854775808").is_ok());
        assert!(enc(ColumnEncoder::Int8, b"18446744073709551615").is_err());
        assert!(enc(ColumnEncoder::Int4, b"4294967295").is_err());
        assert!(enc(ColumnEncoder::Int2, b"-32768").is_ok());
        assert!(enc(ColumnEncoder::Bool, b"2").is_err());
        assert!(enc(ColumnEncoder::Text, b"a\0b").is_err());
        assert!(enc(ColumnEncoder::Time, b"24:00:00").is_ok());
        assert!(enc(ColumnEncoder::Time, b"838:59:59").is_err());
        assert!(enc(ColumnEncoder::Time, b"-00:00:01").is_err());
        assert!(enc(ColumnEncoder::Time, b"25:00:00").is_err());
        assert_eq!(
            enc(ColumnEncoder::Date, b"0000-00-00"),
            Err(Refusal::ZeroDate)
        );
        assert!(enc(ColumnEncoder::Date, b"0009-12-04").is_ok());
        assert_eq!(
            enc(
                ColumnEncoder::Timestamp { tz: true },
                b"2024-00-01 00:00:00"
            ),
            Err(Refusal::ZeroDate)
        );
        assert!(enc(ColumnEncoder::Float4, b"0.10000000149011612").is_ok());
        assert!(enc(ColumnEncoder::Float4, b"0.1").is_err());
        assert!(enc(
            ColumnEncoder::UuidText,
            b"123e4567-e89b-12d3-a456-426614174000"
        )
        .is_ok());
        assert!(enc(
            ColumnEncoder::UuidText,
            b"123e4567-e89b-12d3-a456-42661417400"
        )
        .is_err());
        assert!(enc(ColumnEncoder::Jsonb, b"{\"a\":\"\\u0000\"}").is_err());
        assert!(enc(ColumnEncoder::EnumText, b"").is_err());
        assert_eq!(render(Some(b"\xff\x00")), "x'ff00'");
    }
}
