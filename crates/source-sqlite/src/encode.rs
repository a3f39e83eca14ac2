//! The copy hot path: SQLite rows to binary COPY, one writer per column chosen up front.

use crate::{quote_ident, SqliteError};
use barge_model::{DataType, Table};
use barge_model::{KeyRange, KeyValue};
use barge_pgcopy::{numeric, temporal, CopyBuffer};
use bytes::Bytes;
use rusqlite::types::ValueRef;
use rusqlite::Connection;

pub use barge_model::{InvalidValuePolicy, Reject};

/// Seconds since 1970 of 9999-12-31 23:59:59: past this an epoch number is more likely
/// milliseconds than a date, and barge refuses to guess.
const MAX_EPOCH_SECONDS: i64 = 253_402_300_799;

type Encoded = Result<(), String>;

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes)
        .map_err(|e| format!("is not valid UTF-8 (at byte {})", e.valid_up_to()))
}

fn text_ok(bytes: &[u8], max_chars: Option<u32>) -> Result<(), String> {
    let s = utf8(bytes)?;
    if bytes.contains(&0) {
        return Err("contains a NUL byte, which PostgreSQL text cannot hold".into());
    }
    if let Some(n) = max_chars {
        if bytes.len() > n as usize && s.chars().count() > n as usize {
            return Err(format!("is longer than {n} characters"));
        }
    }
    Ok(())
}

/// Render an SQLite real the way SQLite's own CAST(x AS TEXT) reads: integral values keep `.0`.
fn real_text(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

fn int_in_range(v: i64, t: &DataType) -> Encoded {
    let ok = match t {
        DataType::Int2 => i16::try_from(v).is_ok(),
        DataType::Int4 => i32::try_from(v).is_ok(),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "is out of range for {}",
            match t {
                DataType::Int2 => "smallint",
                _ => "integer",
            }
        ))
    }
}

fn write_int(buf: &mut CopyBuffer, v: i64, t: &DataType) -> Encoded {
    int_in_range(v, t)?;
    match t {
        DataType::Int2 => buf.i16(v as i16),
        DataType::Int4 => buf.i32(v as i32),
        _ => buf.i64(v),
    }
    Ok(())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "y" | "yes" | "on" => Some(true),
        "0" | "f" | "false" | "n" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = text
        .trim_matches(|c| c == '{' || c == '}')
        .bytes()
        .filter(|b| *b != b'-')
        .collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

fn write_numeric(buf: &mut CopyBuffer, text: &str, t: &DataType) -> Encoded {
    if let DataType::Numeric {
        precision: Some(p),
        scale,
    } = t
    {
        numeric::check_typmod(text, *p, scale.unwrap_or(0))?;
    }
    buf.numeric(text)
        .map_err(|e| e.to_string().replacen(&format!("`{text}` "), "", 1))
}

fn epoch_micros(secs: i64) -> Result<i64, String> {
    if secs.abs() > MAX_EPOCH_SECONDS {
        return Err("is an epoch number past year 9999; if it counts milliseconds, convert it in SQLite first".into());
    }
    temporal::from_unix_seconds(secs).map_err(|e| e.to_string())
}

/// Encode one value for a column of type `t`, converting only when lossless.
fn encode(buf: &mut CopyBuffer, t: &DataType, v: ValueRef<'_>) -> Encoded {
    use DataType as T;
    use ValueRef as V;
    match (t, v) {
        (_, V::Null) => buf.null(),
        (T::Bool, V::Integer(i)) => match i {
            0 | 1 => buf.bool(i == 1),
            _ => return Err("is not a boolean (only 0 and 1 are)".into()),
        },
        (T::Bool, V::Real(f)) if f == 0.0 || f == 1.0 => buf.bool(f == 1.0),
        (T::Bool, V::Text(s)) => match parse_bool(utf8(s)?) {
            Some(b) => buf.bool(b),
            None => return Err("is not a boolean".into()),
        },
        (T::Int2 | T::Int4 | T::Int8, V::Integer(i)) => write_int(buf, i, t)?,
        (T::Int2 | T::Int4 | T::Int8, V::Real(f)) => {
            if f.fract() == 0.0 && f.abs() < 9.2e18 {
                write_int(buf, f as i64, t)?
            } else {
                return Err("is not an integer".into());
            }
        }
        (T::Int2 | T::Int4 | T::Int8, V::Text(s)) => match utf8(s)?.parse::<i64>() {
            Ok(i) => write_int(buf, i, t)?,
            Err(_) => return Err("is not a valid integer".into()),
        },
        (T::Float4, V::Real(f)) => {
            let g = f as f32;
            if f64::from(g) != f && f.is_finite() {
                return Err("does not fit a real (float4) exactly".into());
            }
            buf.f32(g)
        }
        (T::Float8, V::Real(f)) => buf.f64(f),
        (T::Float4 | T::Float8, V::Integer(i)) => {
            let f = i as f64;
            if f as i64 != i || (matches!(t, T::Float4) && f64::from(f as f32) != f) {
                return Err("is an integer too large for a float to hold exactly".into());
            }
            if matches!(t, T::Float4) {
                buf.f32(f as f32)
            } else {
                buf.f64(f)
            }
        }
        (T::Float4 | T::Float8, V::Text(s)) => {
            let text = utf8(s)?;
            match text.trim().parse::<f64>() {
                Ok(f) if text.trim() == text => {
                    // Text that overflows a double, or does not fit a real exactly, would
                    // change in PostgreSQL.
                    let finite_text = !matches!(
                        text.to_ascii_lowercase().as_str(),
                        "inf" | "-inf" | "+inf" | "infinity" | "-infinity" | "+infinity"
                    );
                    if f.is_infinite() && finite_text {
                        return Err("is too large for a floating-point column".into());
                    }
                    if matches!(t, T::Float4) {
                        let g = f as f32;
                        if f64::from(g) != f && f.is_finite() {
                            return Err("does not fit a real (float4) exactly".into());
                        }
                        buf.f32(g)
                    } else {
                        buf.f64(f)
                    }
                }
                _ => return Err("is not a valid number".into()),
            }
        }
        (T::Numeric { .. }, V::Integer(i)) => write_numeric(buf, &i.to_string(), t)?,
        (T::Numeric { .. }, V::Real(f)) => write_numeric(buf, &format!("{f}"), t)?,
        (T::Numeric { .. }, V::Text(s)) => write_numeric(buf, utf8(s)?, t)?,
        (T::Text, V::Text(s)) | (T::Text, V::Blob(s)) => {
            text_ok(s, None)?;
            buf.bytes(s)
        }
        (T::Varchar(n) | T::Char(n), V::Text(s)) | (T::Varchar(n) | T::Char(n), V::Blob(s)) => {
            text_ok(s, Some(*n))?;
            buf.bytes(s)
        }
        (T::Text | T::Varchar(_) | T::Char(_), V::Integer(i)) => {
            let s = i.to_string();
            text_ok(s.as_bytes(), t_len(t))?;
            buf.bytes(s.as_bytes())
        }
        (T::Text | T::Varchar(_) | T::Char(_), V::Real(f)) => {
            let s = real_text(f);
            text_ok(s.as_bytes(), t_len(t))?;
            buf.bytes(s.as_bytes())
        }
        (T::Bytea, V::Blob(b)) | (T::Bytea, V::Text(b)) => buf.bytes(b),
        (T::Date, V::Text(s)) => match temporal::parse_date(s) {
            Ok(d) => buf.date(d),
            Err(first) => {
                // A timestamp at midnight is a date without loss.
                let micros = temporal::parse_timestamp(s, false).map_err(|_| first.to_string())?;
                if micros.rem_euclid(86_400_000_000) != 0 {
                    return Err("has a time of day, which a date cannot keep".into());
                }
                buf.date(micros.div_euclid(86_400_000_000) as i32)
            }
        },
        (T::Date, V::Integer(secs)) => {
            let micros = epoch_micros(secs)?;
            if micros.rem_euclid(86_400_000_000) != 0 {
                return Err(
                    "is an epoch number with a time of day, which a date cannot keep".into(),
                );
            }
            buf.date(micros.div_euclid(86_400_000_000) as i32)
        }
        (T::Timestamp(_) | T::Timestamptz(_), V::Text(s)) => {
            let tz = matches!(t, T::Timestamptz(_));
            buf.micros(temporal::parse_timestamp(s, tz).map_err(|e| e.to_string())?)
        }
        (T::Timestamp(_) | T::Timestamptz(_), V::Integer(secs)) => buf.micros(epoch_micros(secs)?),
        (T::Timestamp(_) | T::Timestamptz(_), V::Real(secs)) => {
            if secs.abs() > MAX_EPOCH_SECONDS as f64 {
                return Err("is an epoch number past year 9999".into());
            }
            buf.micros(temporal::from_unix_seconds_f64(secs).map_err(|e| e.to_string())?)
        }
        (T::Time(_), V::Text(s)) => buf.micros(temporal::parse_time(s).map_err(|e| e.to_string())?),
        (T::Json | T::Jsonb, V::Text(s)) => {
            utf8(s)?;
            if serde_json::from_slice::<serde::de::IgnoredAny>(s).is_err() {
                return Err("is not valid JSON".into());
            }
            if matches!(t, T::Jsonb) {
                if s.windows(6).any(|w| w == b"\\u0000") {
                    return Err("contains \\u0000, which jsonb cannot hold".into());
                }
                buf.jsonb(s)
            } else {
                buf.bytes(s)
            }
        }
        (T::Json | T::Jsonb, V::Integer(i)) => {
            let s = i.to_string();
            if matches!(t, T::Jsonb) {
                buf.jsonb(s.as_bytes())
            } else {
                buf.bytes(s.as_bytes())
            }
        }
        (T::Json | T::Jsonb, V::Real(f)) if f.is_finite() => {
            let s = format!("{f}");
            if matches!(t, T::Jsonb) {
                buf.jsonb(s.as_bytes())
            } else {
                buf.bytes(s.as_bytes())
            }
        }
        (T::Uuid, V::Text(s)) => match parse_uuid(utf8(s)?) {
            Some(u) => buf.uuid(&u),
            None => return Err("is not a UUID".into()),
        },
        (T::Uuid, V::Blob(b)) if b.len() == 16 => {
            let mut u = [0u8; 16];
            u.copy_from_slice(b);
            buf.uuid(&u)
        }
        (_, V::Integer(_)) => {
            return Err(format!(
                "is an integer, which {} column cannot hold",
                type_word(t)
            ))
        }
        (_, V::Real(_)) => {
            return Err(format!(
                "is a real number, which {} column cannot hold",
                type_word(t)
            ))
        }
        (_, V::Blob(_)) => {
            return Err(format!(
                "is a blob, which {} column cannot hold",
                type_word(t)
            ))
        }
        // Types only MySQL-family sources produce.
        (
            T::Bit(_)
            | T::Varbit(_)
            | T::Interval
            | T::Inet
            | T::Citext
            | T::TextArray
            | T::Enum { .. }
            | T::Geometry { .. },
            _,
        ) => return Err(format!("cannot be read from SQLite as {t}")),
    }
    Ok(())
}

fn t_len(t: &DataType) -> Option<u32> {
    match t {
        DataType::Varchar(n) | DataType::Char(n) => Some(*n),
        _ => None,
    }
}

fn type_word(t: &DataType) -> &'static str {
    match t {
        DataType::Bool => "a boolean",
        DataType::Int2 | DataType::Int4 | DataType::Int8 => "an integer",
        DataType::Float4 | DataType::Float8 => "a floating-point",
        DataType::Numeric { .. } => "a numeric",
        DataType::Text | DataType::Varchar(_) | DataType::Char(_) => "a text",
        DataType::Bytea => "a bytea",
        DataType::Date => "a date",
        DataType::Time(_) => "a time",
        DataType::Timestamp(_) | DataType::Timestamptz(_) => "a timestamp",
        DataType::Json | DataType::Jsonb => "a JSON",
        DataType::Uuid => "a uuid",
        DataType::Bit(_) | DataType::Varbit(_) => "a bit string",
        DataType::Interval => "an interval",
        DataType::Inet => "an inet",
        DataType::Citext => "a citext",
        DataType::TextArray => "a text array",
        DataType::Enum { .. } => "an enum",
        DataType::Geometry { .. } => "a geometry",
    }
}

/// Show a value in an error or reject report: text as is (shortened), blobs as hex.
fn render(v: ValueRef<'_>) -> String {
    const MAX: usize = 100;
    let mut s = match v {
        ValueRef::Null => "NULL".to_string(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => real_text(f),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => s.to_string(),
            Err(_) => format!(
                "x'{}'",
                t.iter()
                    .take(MAX / 2)
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            ),
        },
        ValueRef::Blob(b) => format!(
            "x'{}'",
            b.iter()
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

/// A name SQLite accepts for the rowid that no column of the table shadows.
pub(crate) fn rowid_alias(table: &Table) -> &'static str {
    ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|a| !table.columns.iter().any(|c| c.name.eq_ignore_ascii_case(a)))
        .unwrap_or("rowid")
}

pub(crate) fn copy_rows(
    conn: &Connection,
    table: &Table,
    range: &KeyRange,
    policy: InvalidValuePolicy,
    buffer_bytes: usize,
    send: &mut dyn FnMut(Bytes, u64) -> bool,
    rejects: &mut Vec<Reject>,
) -> Result<u64, SqliteError> {
    let has_rowid = matches!(table.chunking, barge_model::Chunking::IntegerKey { .. });
    let columns: Vec<String> = table.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let rowid = rowid_alias(table);
    let mut sql = if has_rowid {
        format!(
            "SELECT {rowid}, {} FROM {}",
            columns.join(", "),
            quote_ident(&table.name)
        )
    } else {
        format!(
            "SELECT {} FROM {}",
            columns.join(", "),
            quote_ident(&table.name)
        )
    };
    let rowid_bound = |b: &Option<Vec<KeyValue>>| match b.as_deref() {
        None => Ok(None),
        Some([KeyValue::Int(v)]) => Ok(Some(*v)),
        Some(_) => Err(SqliteError::BadRange(table.name.clone())),
    };
    let (start, end) = (rowid_bound(&range.start)?, rowid_bound(&range.end)?);
    let mut params: Vec<i64> = Vec::new();
    if has_rowid {
        let mut conds = Vec::new();
        if let Some(s) = start {
            params.push(s);
            conds.push(format!("{rowid} >= ?{}", params.len()));
        }
        if let Some(e) = end {
            params.push(e);
            conds.push(format!("{rowid} < ?{}", params.len()));
        }
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
    }
    let read_err = |source| SqliteError::Read {
        table: table.name.clone(),
        source,
    };
    let mut stmt = conn.prepare(&sql).map_err(read_err)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(read_err)?;
    let offset = usize::from(has_rowid);
    let types: Vec<&DataType> = table.columns.iter().map(|c| &c.data_type).collect();
    let nfields = types.len() as u16;
    let mut buf = CopyBuffer::new(buffer_bytes + buffer_bytes / 4);
    let mut total: u64 = 0;
    let mut pending: u64 = 0;
    while let Some(row) = rows.next().map_err(read_err)? {
        buf.begin_row(nfields);
        for (i, t) in types.iter().enumerate() {
            let v = row.get_ref(i + offset).map_err(read_err)?;
            let mark = buf.mark();
            if let Err(reason) = encode(&mut buf, t, v) {
                let column = &table.columns[i];
                let location = if has_rowid {
                    format!("rowid {}", row.get::<_, i64>(0).map_err(read_err)?)
                } else {
                    key_location(table, row, 0)
                };
                let value = render(v);
                if policy == InvalidValuePolicy::Null && column.nullable {
                    buf.truncate(mark);
                    buf.null();
                    rejects.push(Reject {
                        table: table.name.clone(),
                        column: column.name.clone(),
                        row: location,
                        value,
                        reason,
                    });
                } else {
                    let reason = if policy == InvalidValuePolicy::Null {
                        format!(
                            "{reason}, and the column is NOT NULL so it cannot be loaded as NULL"
                        )
                    } else {
                        reason
                    };
                    // Control characters (a NUL byte, an escape) would act on the terminal.
                    let value = value
                        .chars()
                        .map(|c| {
                            if c.is_control() {
                                c.escape_default().to_string()
                            } else {
                                c.to_string()
                            }
                        })
                        .collect();
                    return Err(SqliteError::InvalidValue(Box::new(crate::InvalidValue {
                        table: table.name.clone(),
                        column: column.name.clone(),
                        row: location,
                        value,
                        reason,
                        hint: if policy == InvalidValuePolicy::Null {
                            "make the column nullable in the source, or fix the value there"
                        } else {
                            "set `on_invalid_value = \"null\"` to load such values as NULL and record them in the reject report"
                        },
                    })));
                }
            }
        }
        total += 1;
        pending += 1;
        if buf.len() >= buffer_bytes {
            if !send(buf.split(), pending) {
                return Err(SqliteError::Cancelled(table.name.clone()));
            }
            pending = 0;
        }
    }
    buf.finish();
    if !send(buf.split(), pending) {
        return Err(SqliteError::Cancelled(table.name.clone()));
    }
    Ok(total)
}

/// `key (a, b) = (1, 'x')` for tables without rowid.
fn key_location(table: &Table, row: &rusqlite::Row<'_>, offset: usize) -> String {
    let Some(pk) = &table.primary_key else {
        return "a table without rowid or key".into();
    };
    let mut values = Vec::new();
    for name in &pk.columns {
        if let Some(i) = table.columns.iter().position(|c| &c.name == name) {
            values.push(row.get_ref(i + offset).map(render).unwrap_or_default());
        }
    }
    format!("key ({}) = ({})", pk.columns.join(", "), values.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(t: DataType, v: ValueRef<'_>) -> Encoded {
        let mut b = CopyBuffer::new(64);
        encode(&mut b, &t, v)
    }

    #[test]
    fn lossless_conversions_and_refusals() {
        assert!(enc(DataType::Int8, ValueRef::Text(b"42")).is_ok());
        assert_eq!(
            enc(DataType::Int8, ValueRef::Text(b"lots-of-it")).unwrap_err(),
            "is not a valid integer"
        );
        assert!(enc(DataType::Int2, ValueRef::Integer(70000)).is_err());
        assert!(enc(DataType::Int8, ValueRef::Real(3.0)).is_ok());
        assert!(enc(DataType::Int8, ValueRef::Real(3.5)).is_err());
        assert!(enc(DataType::Text, ValueRef::Text(b"\xff\xfe"))
            .unwrap_err()
            .contains("UTF-8"));
        assert!(enc(DataType::Text, ValueRef::Text(b"a\0b"))
            .unwrap_err()
            .contains("NUL"));
        assert!(enc(DataType::Varchar(3), ValueRef::Text("äöü".as_bytes())).is_ok());
        assert!(enc(DataType::Varchar(3), ValueRef::Text(b"abcd")).is_err());
        assert!(enc(DataType::Timestamp(None), ValueRef::Integer(1_700_000_000)).is_ok());
        assert!(enc(
            DataType::Timestamp(None),
            ValueRef::Integer(1_700_000_000_000)
        )
        .is_err());
        assert!(enc(DataType::Date, ValueRef::Text(b"2024-01-02 00:00:00")).is_ok());
        assert!(enc(DataType::Date, ValueRef::Text(b"2024-01-02 10:00:00")).is_err());
        assert!(enc(
            DataType::Numeric {
                precision: Some(4),
                scale: Some(2)
            },
            ValueRef::Real(0.99)
        )
        .is_ok());
        assert!(enc(
            DataType::Numeric {
                precision: Some(4),
                scale: Some(2)
            },
            ValueRef::Real(0.999)
        )
        .is_err());
        assert!(enc(DataType::Jsonb, ValueRef::Text(b"{\"a\":1}")).is_ok());
        assert!(enc(DataType::Jsonb, ValueRef::Text(b"{a:1}")).is_err());
        assert!(enc(DataType::Bool, ValueRef::Integer(2)).is_err());
        assert!(enc(
            DataType::Uuid,
            ValueRef::Text(b"123e4567-e89b-12d3-a456-426614174000")
        )
        .is_ok());
        assert_eq!(real_text(1.0), "1.0");
    }
}
