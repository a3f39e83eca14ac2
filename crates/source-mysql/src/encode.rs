//! The copy hot path: one encoder per column, chosen up front, from a value as the server
//! sends it to binary COPY (the row loop that calls them is in `stream.rs`).
//!
//! Over the text protocol the server sends every value as text (numbers, dates) or raw bytes
//! (binary strings, BIT), so each encoder parses exactly one textual form; numbers and times
//! of the binary protocol go straight to their columns (`encode_number`), or through the
//! same text form when they need its checks. Notes on what the server sends:
//! - DOUBLE: the shortest text that reads back to the same double, so parsing it is exact.
//! - FLOAT: only 6 significant digits (`3.40282e38`), which is lossy; the column is read as
//!   `col + 0e0` instead, the exact double of the float, and narrowed back exactly.
//! - DECIMAL: exact digits, any precision up to 65.
//! - TIME: may be negative or past 24 hours (`-838:59:59`); only 00:00..24:00 fits `time`.
//! - Zero dates (`0000-00-00`, zero month or day) follow `zero_date_mode`.

use crate::chunk::base_type;
use crate::quote_ident;
use crate::types::is_spatial;
use barge_model::{DataType, Expr, Literal, Table};
use barge_pgcopy::{temporal, CopyBuffer};
use mysql_async::Value;

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
    pub(crate) fn for_column(table: &Table, column: &barge_model::Column, swap_uuid: bool) -> Self {
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
    pub(crate) fn select_expr(&self, column: &barge_model::Column) -> String {
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

pub(crate) type Encoded = Result<(), Refusal>;

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

/// One value of a row as it came off the wire, strings held as `B`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Datum<B> {
    Null,
    Bytes(B),
    Int(i64),
    UInt(u64),
    Float(f32),
    Double(f64),
    /// Year, month, day, hour, minute, second, microsecond.
    Date(u16, u8, u8, u8, u8, u8, u32),
    /// Negative, days, hours, minutes, seconds, microseconds.
    Time(bool, u32, u8, u8, u8, u32),
}

impl<B> Datum<B> {
    /// The same value with its string (if any) turned into `C`.
    pub(crate) fn map_bytes<C>(self, f: impl FnOnce(B) -> C) -> Datum<C> {
        match self {
            Datum::Null => Datum::Null,
            Datum::Bytes(b) => Datum::Bytes(f(b)),
            Datum::Int(i) => Datum::Int(i),
            Datum::UInt(u) => Datum::UInt(u),
            Datum::Float(x) => Datum::Float(x),
            Datum::Double(x) => Datum::Double(x),
            Datum::Date(y, mo, d, h, mi, s, us) => Datum::Date(y, mo, d, h, mi, s, us),
            Datum::Time(neg, days, h, mi, s, us) => Datum::Time(neg, days, h, mi, s, us),
        }
    }
}

/// A value borrowed from the row or the read buffer: the common form of mysql_async's
/// `Value` and the lean reader's cells (see `wire`), which the encoders take.
pub(crate) type Cell<'a> = Datum<&'a [u8]>;

impl<'a> From<&'a Value> for Cell<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::NULL => Cell::Null,
            Value::Bytes(b) => Cell::Bytes(b.as_slice()),
            Value::Int(i) => Cell::Int(*i),
            Value::UInt(u) => Cell::UInt(*u),
            Value::Float(f) => Cell::Float(*f),
            Value::Double(f) => Cell::Double(*f),
            Value::Date(y, mo, d, h, mi, s, us) => Cell::Date(*y, *mo, *d, *h, *mi, *s, *us),
            Value::Time(neg, days, h, mi, s, us) => Cell::Time(*neg, *days, *h, *mi, *s, *us),
        }
    }
}

/// A value as the text protocol would have sent it: strings as they are, numbers and times
/// of the binary protocol written in MySQL's text form (into `scratch`); a DATE column's
/// value (`date_only`) without a time of day. `None` for NULL.
pub(crate) fn text_of<'a>(
    value: Cell<'a>,
    date_only: bool,
    scratch: &'a mut Vec<u8>,
) -> Option<&'a [u8]> {
    use std::io::Write;
    scratch.clear();
    let written = match value {
        Cell::Null => return None,
        Cell::Bytes(b) => return Some(b),
        Cell::Int(i) => write!(scratch, "{i}"),
        Cell::UInt(u) => write!(scratch, "{u}"),
        Cell::Float(f) => write!(scratch, "{f}"),
        Cell::Double(f) => write!(scratch, "{f}"),
        Cell::Date(y, mo, d, h, mi, sec, us) => {
            write!(scratch, "{y:04}-{mo:02}-{d:02}").and_then(|()| {
                if date_only {
                    return Ok(());
                }
                write!(scratch, " {h:02}:{mi:02}:{sec:02}")?;
                if us > 0 {
                    write!(scratch, ".{us:06}")?;
                }
                Ok(())
            })
        }
        Cell::Time(neg, days, h, mi, sec, us) => {
            let hours = u64::from(days) * 24 + u64::from(h);
            let sign = if neg { "-" } else { "" };
            write!(scratch, "{sign}{hours:02}:{mi:02}:{sec:02}").and_then(|()| {
                if us > 0 {
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
pub(crate) fn encode_number(
    buf: &mut CopyBuffer,
    enc: &ColumnEncoder,
    value: Cell<'_>,
) -> Option<Encoded> {
    use ColumnEncoder as E;
    let int = match value {
        Cell::Int(i) => Some(i128::from(i)),
        Cell::UInt(u) => Some(i128::from(u)),
        _ => None,
    };
    let range = |min: i128, max: i128, name: &str| -> Result<i128, Refusal> {
        match int {
            Some(v) if v >= min && v <= max => Ok(v),
            _ => invalid(format!("is out of range for {name}")),
        }
    };
    let done = match (enc, value) {
        (E::Int2, Cell::Int(_) | Cell::UInt(_)) => {
            range(-32768, 32767, "smallint").map(|v| buf.i16(v as i16))
        }
        (E::Int4, Cell::Int(_) | Cell::UInt(_)) => {
            range(i128::from(i32::MIN), i128::from(i32::MAX), "integer").map(|v| buf.i32(v as i32))
        }
        (E::Int8, Cell::Int(_) | Cell::UInt(_)) => {
            range(i128::from(i64::MIN), i128::from(i64::MAX), "bigint").map(|v| buf.i64(v as i64))
        }
        (E::Bool, Cell::Int(_) | Cell::UInt(_)) => match int {
            Some(v @ (0 | 1)) => {
                buf.bool(v == 1);
                Ok(())
            }
            _ => invalid("is not 0 or 1, so it is not a boolean"),
        },
        (E::Date, Cell::Date(y, mo, d, ..)) => {
            let days = civil_days(y, mo, d)?;
            buf.date(i32::try_from(days).ok()?);
            Ok(())
        }
        (E::Timestamp { .. }, Cell::Date(y, mo, d, h, mi, sec, us)) => {
            if h > 23 || mi > 59 || sec > 59 || us > 999_999 {
                return None;
            }
            let day_micros =
                ((i64::from(h) * 60 + i64::from(mi)) * 60 + i64::from(sec)) * 1_000_000;
            buf.micros(civil_days(y, mo, d)? * 86_400_000_000 + day_micros + i64::from(us));
            Ok(())
        }
        (E::Time, Cell::Time(false, 0, h, mi, sec, us))
            if h < 24 && mi < 60 && sec < 60 && us < 1_000_000 =>
        {
            buf.micros(
                ((i64::from(h) * 60 + i64::from(mi)) * 60 + i64::from(sec)) * 1_000_000
                    + i64::from(us),
            );
            Ok(())
        }
        (E::Interval, Cell::Time(neg, days, h, mi, sec, us))
            if mi < 60 && sec < 60 && us < 1_000_000 =>
        {
            let hours = i64::from(days) * 24 + i64::from(h);
            let total =
                ((hours * 60 + i64::from(mi)) * 60 + i64::from(sec)) * 1_000_000 + i64::from(us);
            buf.interval(if neg { -total } else { total }, 0, 0);
            Ok(())
        }
        (E::Float8, Cell::Double(f)) => {
            buf.f64(f);
            Ok(())
        }
        (E::Float4, Cell::Double(f)) => {
            let g = f as f32;
            if f64::from(g) != f && f.is_finite() {
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
