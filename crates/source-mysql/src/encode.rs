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
use crate::types::is_spatial;
use crate::{quote_ident, MysqlError, MysqlSource};
use barge_config::{NulByteMode, ZeroDateMode};
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
    /// BIT(n) as `bit(n)` / `bit varying(n)`: the server's right-aligned bytes, re-packed.
    Bits {
        width: u32,
    },
    /// TIME as `interval`: any MySQL TIME (`-838:59:59` .. `838:59:59`) fits.
    Interval,
    /// MariaDB INET4/INET6 display text to `inet`.
    Inet,
    /// SET's comma-separated members to `text[]`.
    TextArray,
    /// ENUM to a native enum: only declared labels pass (MySQL's `''` for invalid is refused).
    Enum {
        labels: Vec<String>,
    },
    /// A spatial value in MySQL's storage form (4-byte little-endian SRID, then WKB) to EWKB:
    /// standard WKB when the SRID is 0, EWKB carrying the SRID otherwise. PostGIS reads both.
    Ewkb,
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
            DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Citext => {
                if base == "enum" && enum_check_lacks_empty(table, &column.name) {
                    ColumnEncoder::EnumText
                } else {
                    ColumnEncoder::Text
                }
            }
            DataType::Bytea if is_spatial(&base) => ColumnEncoder::Ewkb,
            DataType::Bytea => ColumnEncoder::Bytea,
            DataType::Date => ColumnEncoder::Date,
            DataType::Timestamp(_) => ColumnEncoder::Timestamp { tz: false },
            DataType::Timestamptz(_) => ColumnEncoder::Timestamp { tz: true },
            DataType::Time(_) => ColumnEncoder::Time,
            DataType::Json => ColumnEncoder::Json,
            DataType::Jsonb => ColumnEncoder::Jsonb,
            DataType::Uuid if base == "binary" => ColumnEncoder::UuidBinary { swap: swap_uuid },
            DataType::Uuid => ColumnEncoder::UuidText,
            DataType::Geometry { .. } => ColumnEncoder::Ewkb,
            DataType::Bit(width) | DataType::Varbit(width) => ColumnEncoder::Bits { width: *width },
            DataType::Interval => ColumnEncoder::Interval,
            DataType::Inet => ColumnEncoder::Inet,
            DataType::TextArray => ColumnEncoder::TextArray,
            DataType::Enum { labels, .. } => ColumnEncoder::Enum {
                labels: labels.clone(),
            },
        }
    }

    /// The select-list expression for the column.
    fn select_expr(&self, column: &barge_model::Column) -> String {
        let q = quote_ident(&column.name);
        let base = base_type(&column.source_type);
        match self {
            ColumnEncoder::Float4 if base == "float" => format!("({q} + 0e0)"),
            ColumnEncoder::Text if is_spatial(&base) => format!("ST_AsText({q})"),
            _ => q,
        }
    }
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
    /// Text holding NUL bytes (or jsonb holding `\u0000`): what happens follows
    /// `nul_byte_mode`.
    Nul,
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
        return Err(Refusal::Nul);
    }
    Ok(())
}

/// What `nul_byte_mode` does to a value that holds NUL bytes (or `\u0000` escapes, in JSON
/// for jsonb), when it does not stop the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NulFix {
    Strip,
    Replace,
}

/// `v` with its NUL bytes removed or replaced by U+FFFD.
pub(crate) fn fix_nul_text(v: &[u8], fix: NulFix) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() + 8);
    for &b in v {
        match (b, fix) {
            (0, NulFix::Strip) => {}
            (0, NulFix::Replace) => out.extend_from_slice("\u{FFFD}".as_bytes()),
            (b, _) => out.push(b),
        }
    }
    out
}

/// JSON text with each `\u0000` escape removed or turned into `\ufffd`; other escapes
/// (`\\u0000` is a backslash and `u0000`) are left alone.
pub(crate) fn fix_nul_json(v: &[u8], fix: NulFix) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' {
            if v[i + 1..].starts_with(b"u0000") {
                if fix == NulFix::Replace {
                    out.extend_from_slice(b"\\ufffd");
                }
                i += 6;
                continue;
            }
            out.extend_from_slice(&v[i..(i + 2).min(v.len())]);
            i += 2;
            continue;
        }
        out.push(v[i]);
        i += 1;
    }
    out
}

/// Does JSON text hold a `\u0000` escape (which jsonb cannot store)?
fn json_has_nul(v: &[u8]) -> bool {
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' {
            if v[i + 1..].starts_with(b"u0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
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
                if json_has_nul(v) {
                    return Err(Refusal::Nul);
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
        E::Bits { width } => {
            let packed = pack_bits(v, *width).ok_or_else(|| {
                Refusal::Invalid(format!("has more than the column's {width} bits"))
            })?;
            buf.bits(*width, &packed)
        }
        E::Interval => {
            let micros = parse_time_span(v).ok_or_else(|| {
                Refusal::Invalid("is not a MySQL TIME value ([-]H:MM:SS[.ffffff])".into())
            })?;
            buf.interval(micros, 0, 0)
        }
        E::Inet => match utf8(v)?.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(a)) => buf.inet(&a.octets()),
            Ok(std::net::IpAddr::V6(a)) => buf.inet(&a.octets()),
            Err(_) => return invalid("is not an IPv4 or IPv6 address"),
        },
        E::TextArray => {
            text_ok(v)?;
            if v.is_empty() {
                buf.text_array(std::iter::empty::<&[u8]>());
            } else {
                let members: Vec<&[u8]> = v.split(|b| *b == b',').collect();
                buf.text_array(members.into_iter());
            }
        }
        E::Enum { labels } => {
            text_ok(v)?;
            if !labels.iter().any(|l| l.as_bytes() == v) {
                return invalid(if v.is_empty() {
                    "is the empty string MySQL stores for an invalid ENUM value, which is not a label of the enum type"
                } else {
                    "is not a label of the enum type"
                });
            }
            buf.bytes(v)
        }
        E::Ewkb => {
            let ewkb = mysql_geometry_to_ewkb(v)
                .ok_or_else(|| Refusal::Invalid("is not a MySQL geometry value".into()))?;
            buf.bytes(&ewkb)
        }
    }
    Ok(())
}

/// The server sends BIT(n) right-aligned in `ceil(n / 8)` big-endian bytes; PostgreSQL wants
/// the n bits left-aligned. `None` when a bit above the width is set.
fn pack_bits(v: &[u8], width: u32) -> Option<Vec<u8>> {
    let total = v.len() as u32 * 8;
    let bit = |i: u32| -> bool {
        // Bit i of the value counted from the most significant end of the bytes.
        let byte = v[(i / 8) as usize];
        byte & (0x80 >> (i % 8)) != 0
    };
    let skip = total.saturating_sub(width);
    if (0..skip).any(bit) {
        return None;
    }
    let mut out = vec![0u8; width.div_ceil(8) as usize];
    // A value shorter than the width (never sent, but harmless) is zero-extended on the left.
    let pad = width.saturating_sub(total);
    for i in 0..width.min(total) {
        if bit(skip + i) {
            let j = pad + i;
            out[(j / 8) as usize] |= 0x80 >> (j % 8);
        }
    }
    Some(out)
}

/// A MySQL TIME as a signed span in microseconds: `[-]H+:MM:SS[.ffffff]`.
fn parse_time_span(v: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(v).ok()?;
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let mut parts = rest.splitn(3, ':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let seconds = parts.next()?;
    let (whole, frac) = seconds.split_once('.').unwrap_or((seconds, ""));
    let whole: i64 = whole.parse().ok()?;
    if minutes > 59 || whole > 59 || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let micros: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    let total = ((hours * 60 + minutes) * 60 + whole) * 1_000_000 + micros;
    Some(if negative { -total } else { total })
}

/// MySQL stores a geometry as a little-endian SRID followed by WKB. PostGIS (and any WKB
/// reader) takes EWKB: the WKB type word with the SRID flag set, then the SRID, then the
/// rest. A zero SRID gives plain WKB.
fn mysql_geometry_to_ewkb(v: &[u8]) -> Option<Vec<u8>> {
    const SRID_FLAG: u32 = 0x2000_0000;
    if v.len() < 9 {
        return None;
    }
    let srid = u32::from_le_bytes(v[0..4].try_into().ok()?);
    let wkb = &v[4..];
    if srid == 0 {
        return Some(wkb.to_vec());
    }
    let little = match wkb[0] {
        0 => false,
        1 => true,
        _ => return None,
    };
    let word: [u8; 4] = wkb[1..5].try_into().ok()?;
    let kind = if little {
        u32::from_le_bytes(word)
    } else {
        u32::from_be_bytes(word)
    } | SRID_FLAG;
    let mut out = Vec::with_capacity(wkb.len() + 4);
    out.push(wkb[0]);
    if little {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&srid.to_le_bytes());
    } else {
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&srid.to_be_bytes());
    }
    out.extend_from_slice(&wkb[5..]);
    Some(out)
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

/// A value as the text protocol would have sent it: strings as they are, numbers and times
/// of the binary protocol written in MySQL's text form (into `scratch`); a DATE column's
/// value (`date_only`) without a time of day. `None` for NULL.
fn text_of<'a>(value: &'a Value, date_only: bool, scratch: &'a mut Vec<u8>) -> Option<&'a [u8]> {
    use std::io::Write;
    scratch.clear();
    let written = match value {
        Value::NULL => return None,
        Value::Bytes(b) => return Some(b.as_slice()),
        Value::Int(i) => write!(scratch, "{i}"),
        Value::UInt(u) => write!(scratch, "{u}"),
        Value::Float(f) => write!(scratch, "{f}"),
        Value::Double(f) => write!(scratch, "{f}"),
        Value::Date(y, mo, d, h, mi, sec, us) => {
            write!(scratch, "{y:04}-{mo:02}-{d:02}").and_then(|()| {
                if date_only {
                    return Ok(());
                }
                write!(scratch, " {h:02}:{mi:02}:{sec:02}")?;
                if *us > 0 {
                    write!(scratch, ".{us:06}")?;
                }
                Ok(())
            })
        }
        Value::Time(neg, days, h, mi, sec, us) => {
            let hours = u64::from(*days) * 24 + u64::from(*h);
            let sign = if *neg { "-" } else { "" };
            write!(scratch, "{sign}{hours:02}:{mi:02}:{sec:02}").and_then(|()| {
                if *us > 0 {
                    write!(scratch, ".{us:06}")
                } else {
                    Ok(())
                }
            })
        }
    };
    written.ok()?;
    Some(scratch.as_slice())
}

/// Integers, doubles, dates and times of the binary protocol straight into their columns,
/// with the checks of the text path; `None` sends the value down the text path (another
/// pair, or a value the text path refuses in its own words).
fn encode_number(buf: &mut CopyBuffer, enc: &ColumnEncoder, value: &Value) -> Option<Encoded> {
    use ColumnEncoder as E;
    let int = match value {
        Value::Int(i) => Some(i128::from(*i)),
        Value::UInt(u) => Some(i128::from(*u)),
        _ => None,
    };
    let range = |min: i128, max: i128, name: &str| -> Result<i128, Refusal> {
        match int {
            Some(v) if v >= min && v <= max => Ok(v),
            _ => invalid(format!("is out of range for {name}")),
        }
    };
    let done = match (enc, value) {
        (E::Int2, Value::Int(_) | Value::UInt(_)) => {
            range(-32768, 32767, "smallint").map(|v| buf.i16(v as i16))
        }
        (E::Int4, Value::Int(_) | Value::UInt(_)) => {
            range(i128::from(i32::MIN), i128::from(i32::MAX), "integer").map(|v| buf.i32(v as i32))
        }
        (E::Int8, Value::Int(_) | Value::UInt(_)) => {
            range(i128::from(i64::MIN), i128::from(i64::MAX), "bigint").map(|v| buf.i64(v as i64))
        }
        (E::Bool, Value::Int(_) | Value::UInt(_)) => match int {
            Some(v @ (0 | 1)) => {
                buf.bool(v == 1);
                Ok(())
            }
            _ => invalid("is not 0 or 1, so it is not a boolean"),
        },
        (E::Date, Value::Date(y, mo, d, ..)) => {
            let days = civil_days(*y, *mo, *d)?;
            buf.date(i32::try_from(days).ok()?);
            Ok(())
        }
        (E::Timestamp { .. }, Value::Date(y, mo, d, h, mi, sec, us)) => {
            if *h > 23 || *mi > 59 || *sec > 59 || *us > 999_999 {
                return None;
            }
            let day_micros =
                ((i64::from(*h) * 60 + i64::from(*mi)) * 60 + i64::from(*sec)) * 1_000_000;
            buf.micros(civil_days(*y, *mo, *d)? * 86_400_000_000 + day_micros + i64::from(*us));
            Ok(())
        }
        (E::Time, Value::Time(false, 0, h, mi, sec, us))
            if *h < 24 && *mi < 60 && *sec < 60 && *us < 1_000_000 =>
        {
            buf.micros(
                ((i64::from(*h) * 60 + i64::from(*mi)) * 60 + i64::from(*sec)) * 1_000_000
                    + i64::from(*us),
            );
            Ok(())
        }
        (E::Interval, Value::Time(neg, days, h, mi, sec, us))
            if *mi < 60 && *sec < 60 && *us < 1_000_000 =>
        {
            let hours = i64::from(*days) * 24 + i64::from(*h);
            let total =
                ((hours * 60 + i64::from(*mi)) * 60 + i64::from(*sec)) * 1_000_000 + i64::from(*us);
            buf.interval(if *neg { -total } else { total }, 0, 0);
            Ok(())
        }
        (E::Float8, Value::Double(f)) => {
            buf.f64(*f);
            Ok(())
        }
        (E::Float4, Value::Double(f)) => {
            let g = *f as f32;
            if f64::from(g) != *f && f.is_finite() {
                invalid("does not fit a real (float4) exactly")
            } else {
                buf.f32(g);
                Ok(())
            }
        }
        _ => return None,
    };
    Some(done)
}

/// Days since 2000-01-01 of a real calendar date; `None` for zero dates and days that do not
/// exist, which the text path refuses with its own words.
///
/// Called for every date and datetime read, so the check is a comparison with the month's
/// length rather than a round trip through the calendar.
fn civil_days(year: u16, month: u8, day: u8) -> Option<i64> {
    /// 2000-01-01 in days since 1970-01-01.
    const EPOCH_2000: i64 = 10_957;
    let (year, month, day) = (i64::from(year), u32::from(month), u32::from(day));
    let real = (1..=12).contains(&month) && day != 0 && day <= temporal::days_in_month(year, month);
    real.then(|| temporal::days_from_civil(year, month, day) - EPOCH_2000)
}

/// Whether a table's rows can come over the binary protocol and load exactly as over the
/// text one: every column is a string (sent as the same bytes either way), or a number or
/// time whose binary form the encoders take (see `text_of`, `encode_number`).
fn binary_protocol_fits(columns: &[&barge_model::Column], encoders: &[ColumnEncoder]) -> bool {
    columns.iter().zip(encoders).all(|(c, e)| {
        let base = base_type(&c.source_type);
        match base.as_str() {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => {
                matches!(
                    e,
                    ColumnEncoder::Bool
                        | ColumnEncoder::Int2
                        | ColumnEncoder::Int4
                        | ColumnEncoder::Int8
                        | ColumnEncoder::Numeric
                )
            }
            // FLOAT is read as `col + 0e0`, a DOUBLE.
            "float" => matches!(e, ColumnEncoder::Float4),
            "double" | "real" => matches!(e, ColumnEncoder::Float8),
            "date" => matches!(e, ColumnEncoder::Date),
            "datetime" | "timestamp" => matches!(e, ColumnEncoder::Timestamp { .. }),
            "time" => matches!(e, ColumnEncoder::Time | ColumnEncoder::Interval),
            "decimal" | "numeric" | "char" | "varchar" | "tinytext" | "text" | "mediumtext"
            | "longtext" | "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob"
            | "longblob" | "enum" | "set" | "bit" | "json" | "uuid" | "inet4" | "inet6" => true,
            other => is_spatial(other),
        }
    })
}

/// A chunk's rows, over the text or the binary protocol.
enum Rows<'c> {
    Text(mysql_async::QueryResult<'c, 'static, mysql_async::TextProtocol>),
    Binary(mysql_async::QueryResult<'c, 'static, mysql_async::BinaryProtocol>),
}

impl Rows<'_> {
    async fn next(&mut self) -> Result<Option<mysql_async::Row>, mysql_async::Error> {
        match self {
            Rows::Text(r) => r.next().await,
            Rows::Binary(r) => r.next().await,
        }
    }
}

/// Where a row is: `key (a, b) = (1, x)`, or its position in the chunk without a key.
fn location(
    table: &Table,
    columns: &[&barge_model::Column],
    row: &mysql_async::Row,
    position: u64,
) -> String {
    let Some(pk) = &table.primary_key else {
        return format!("row {position} of the chunk, table has no primary key");
    };
    let mut values = Vec::new();
    for name in &pk.columns {
        match columns.iter().position(|c| &c.name == name) {
            Some(i) => {
                let value = row.as_ref(i).unwrap_or(&Value::NULL);
                let date_only = base_type(&columns[i].source_type) == "date";
                values.push(render(text_of(value, date_only, &mut Vec::new())));
            }
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
    let (zero_mode, swap_uuid, nul_mode, json_nul, text_only) = {
        let state = source.lock_state();
        (
            state.zero_date_mode,
            state.binary16_swap,
            state.nul_byte_mode,
            state.sanitize_json_nul,
            state.text_protocol_only,
        )
    };
    let nul_fix = match nul_mode.unwrap_or(NulByteMode::Error) {
        NulByteMode::Error => None,
        NulByteMode::Strip => Some(NulFix::Strip),
        NulByteMode::Replace => Some(NulFix::Replace),
    };
    // Before any introspection there is no zero_date_mode: refuse zero dates.
    let zero_mode = zero_mode.unwrap_or(ZeroDateMode::Error);
    // Generated columns PostgreSQL computes itself are neither read nor sent.
    let columns: Vec<&barge_model::Column> =
        table.columns.iter().filter(|c| c.is_copied()).collect();
    let encoders: Vec<ColumnEncoder> = columns
        .iter()
        .map(|c| ColumnEncoder::for_column(table, c, swap_uuid))
        .collect();
    let select: Vec<String> = encoders
        .iter()
        .zip(&columns)
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
    // The binary protocol saves both sides turning numbers and times into text and back.
    let mut result = if !text_only && binary_protocol_fits(&columns, &encoders) {
        Rows::Binary(conn.exec_iter(sql, ()).await.map_err(read_err)?)
    } else {
        Rows::Text(conn.query_iter(sql).await.map_err(read_err)?)
    };
    let date_only: Vec<bool> = encoders
        .iter()
        .map(|e| matches!(e, ColumnEncoder::Date))
        .collect();
    let mut scratch = Vec::with_capacity(64);
    let nfields = encoders.len() as u16;
    let mut buf = CopyBuffer::new(buffer_bytes + buffer_bytes / 4);
    let mut total: u64 = 0;
    let mut pending: u64 = 0;
    let mut zero_counts: BTreeMap<usize, u64> = BTreeMap::new();
    let mut nul_counts: BTreeMap<usize, u64> = BTreeMap::new();
    while let Some(row) = result.next().await.map_err(read_err)? {
        buf.begin_row(nfields);
        for (i, enc) in encoders.iter().enumerate() {
            let value = row.as_ref(i).unwrap_or(&Value::NULL);
            let mark = buf.mark();
            match encode_number(&mut buf, enc, value) {
                Some(Ok(())) => continue,
                // Refused: the text path refuses it again, in its own words.
                Some(Err(_)) => buf.truncate(mark),
                None => {}
            }
            let Some(v) = text_of(value, date_only[i], &mut scratch) else {
                buf.null();
                continue;
            };
            let mut outcome = encode(&mut buf, enc, v);
            if outcome == Err(Refusal::Nul) {
                buf.truncate(mark);
                let json = matches!(enc, ColumnEncoder::Jsonb);
                if let Some(fix) = nul_fix.filter(|_| !json || json_nul) {
                    let fixed = if json {
                        fix_nul_json(v, fix)
                    } else {
                        fix_nul_text(v, fix)
                    };
                    outcome = encode(&mut buf, enc, &fixed);
                    if outcome.is_ok() {
                        *nul_counts.entry(i).or_default() += 1;
                    }
                }
            }
            let Err(refusal) = outcome else {
                continue;
            };
            buf.truncate(mark);
            let column = columns[i];
            // Under nul_byte_mode = "error", a NUL byte is an invalid value like any other:
            // it stops the run, or is loaded as NULL and reported under on_invalid_value.
            let refusal = match refusal {
                Refusal::Nul => Refusal::Invalid(format!(
                    "{} (set `nul_byte_mode = \"strip\"` or `\"replace\"` to remove or replace it, counted in the summary)",
                    if matches!(enc, ColumnEncoder::Jsonb) {
                        "contains \\u0000, which jsonb cannot hold"
                    } else {
                        "contains a NUL byte, which PostgreSQL text cannot hold"
                    }
                )),
                other => other,
            };
            match refusal {
                Refusal::Nul => unreachable!("turned into Invalid above"),
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
                        row: location(table, &columns, &row, total + 1),
                        value: render(Some(v)),
                        hint: hint.into(),
                    });
                }
                Refusal::Invalid(reason) => {
                    let row_at = location(table, &columns, &row, total + 1);
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
    if !nul_counts.is_empty() {
        let mut state = source.lock_state();
        for (i, n) in nul_counts {
            *state
                .nul_values
                .entry((table.name.clone(), columns[i].name.clone()))
                .or_default() += n;
        }
    }
    if !zero_counts.is_empty() {
        let mut state = source.lock_state();
        for (i, n) in zero_counts {
            *state
                .zero_dates
                .entry((table.name.clone(), columns[i].name.clone()))
                .or_default() += n;
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    /// The fast check agrees with a round trip through the calendar for every year, month
    /// and day a binary DATE can carry (days 0-31, months 0-12), including the zero and
    /// impossible dates it must refuse.
    #[test]
    fn civil_days_matches_the_calendar() {
        let base = temporal::days_from_civil(2000, 1, 1);
        assert_eq!(base, 10_957);
        for year in (0..=9999u16)
            .step_by(7)
            .chain([1900, 2000, 2024, 2100, 9999])
        {
            for month in 0..=13u8 {
                for day in 0..=32u8 {
                    let (y, m, d) = (i64::from(year), u32::from(month), u32::from(day));
                    let days = temporal::days_from_civil(y, m, d);
                    let expected =
                        (m != 0 && d != 0 && temporal::civil_from_days(days) == (y, m, d))
                            .then(|| days - base);
                    assert_eq!(
                        civil_days(year, month, day),
                        expected,
                        "{year}-{month}-{day}"
                    );
                }
            }
        }
    }

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
