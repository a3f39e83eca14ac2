//! The canonical form of a row, which both sides of a checksum compute identically.
//!
//! It is defined on the *target* value (what barge loads), so a value barge converted on the
//! way (a MySQL `tinyint(1)` to boolean, a zero date to NULL, SQLite text `'42'` to an
//! integer) compares equal when the load was faithful. PostgreSQL computes it in SQL from the
//! stored value ([`pg_hash_expr`], [`pg_expr`]); barge computes it from the binary COPY field
//! its own encoder produces for the source value ([`column_hash`], [`render`]).
//!
//! Each value has a canonical text:
//!
//! | target type | canonical text |
//! | --- | --- |
//! | NULL (any type) | `\N` |
//! | boolean | `t` or `f` |
//! | smallint, integer, bigint | decimal (`-42`) |
//! | real, double precision | hex of the IEEE bits, big-endian (`-0` is `8000000000000000`); any NaN is `NaN` |
//! | numeric | decimal without trailing fractional zeros (`trim_scale`): `1.5`, `0`, `NaN`, `Infinity` |
//! | text, varchar, citext, enum, json | the text as stored |
//! | char(n) | the text, trailing spaces removed (PostgreSQL's `bpchar::text`) |
//! | jsonb | PostgreSQL's jsonb output (keys sorted and deduplicated, `", "` and `": "`, numbers as numeric) |
//! | text[] | PostgreSQL's array output (`{a,"b c",NULL}`) |
//! | bytea | lower-case hex |
//! | bit, bit varying | the bits as `0` and `1` |
//! | date, time, timestamp, timestamptz, interval, inet | hex of PostgreSQL's binary form (days or µs since 2000-01-01, µs since midnight, ...) |
//! | uuid | `8-4-4-4-12` lower-case hex |
//! | geometry | hex of its EWKB (PostGIS `ST_AsEWKB`) |
//!
//! A value's hash is PostgreSQL's own hash of it, seeded with the column's position (1, 2,
//! ...): `hashint8extended` of integers and of a date's day number (`hashint4extended` in SQL
//! for smallint, integer and the day number, which gives the same), `time_hash_extended`,
//! `timestamp_hash_extended` (timestamptz at UTC), `uuid_hash_extended`, and
//! `hashtextextended` of the canonical text for every other type (NULL has a hash of its own, seeded apart from every column position). A row's
//! hash is the XOR of its values' hashes; its key's hash, the XOR of the key columns' hashes.
//! Typed hashes spare PostgreSQL rendering numbers and dates as text, which halved the cost of
//! a checksum there.
//!
//! To show and compare rows, a row's canonical text is its values' texts joined with `|`, the
//! text-like ones (which may contain `|`) prefixed with their UTF-8 byte length and `:`.

use super::pghash::{hash_int8_extended, hash_text_extended};
use barge_model::DataType;
use std::cmp::Ordering;
use std::fmt::Write as _;

/// How one column is rendered and hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Canon {
    Bool,
    /// bigint.
    Int,
    /// smallint and integer: rendered and hashed as `Int` (PostgreSQL's integer hashes agree
    /// across widths), but hashed in SQL without widening the value first.
    Int4,
    Float4,
    Float8,
    Numeric,
    Text,
    Char,
    /// json, enum labels, citext: the text as stored.
    AsText,
    Jsonb,
    TextArray,
    Bytea,
    Bits,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Interval,
    Inet,
    Uuid,
    Geometry,
}

impl Canon {
    pub(crate) fn of(t: &DataType) -> Canon {
        match t {
            DataType::Bool => Canon::Bool,
            DataType::Int2 | DataType::Int4 => Canon::Int4,
            DataType::Int8 => Canon::Int,
            DataType::Float4 => Canon::Float4,
            DataType::Float8 => Canon::Float8,
            DataType::Numeric { .. } => Canon::Numeric,
            DataType::Text | DataType::Varchar(_) => Canon::Text,
            DataType::Char(_) => Canon::Char,
            DataType::Json | DataType::Enum { .. } | DataType::Citext => Canon::AsText,
            DataType::Jsonb => Canon::Jsonb,
            DataType::TextArray => Canon::TextArray,
            DataType::Bytea => Canon::Bytea,
            DataType::Bit(_) | DataType::Varbit(_) => Canon::Bits,
            DataType::Date => Canon::Date,
            DataType::Time(_) => Canon::Time,
            DataType::Timestamp(_) => Canon::Timestamp,
            DataType::Timestamptz(_) => Canon::Timestamptz,
            DataType::Interval => Canon::Interval,
            DataType::Inet => Canon::Inet,
            DataType::Uuid => Canon::Uuid,
            DataType::Geometry { .. } => Canon::Geometry,
        }
    }

    /// Shown with a length prefix in a row's text (the value may contain `|`).
    fn prefixed(self) -> bool {
        matches!(
            self,
            Canon::Text | Canon::Char | Canon::AsText | Canon::Jsonb | Canon::TextArray
        )
    }
}

/// The PostgreSQL expression of column `col`'s (already quoted) canonical text, NULL for NULL.
fn pg_value_expr(col: &str, canon: Canon) -> String {
    match canon {
        Canon::Bool => format!("CASE WHEN {col} THEN 't' WHEN NOT {col} THEN 'f' END"),
        Canon::Int | Canon::Int4 => format!("{col}::text"),
        Canon::Float4 => format!(
            "CASE WHEN {col} = 'NaN'::real THEN 'NaN' ELSE encode(float4send({col}), 'hex') END"
        ),
        Canon::Float8 => format!(
            "CASE WHEN {col} = 'NaN'::float8 THEN 'NaN' ELSE encode(float8send({col}), 'hex') END"
        ),
        Canon::Numeric => format!("trim_scale({col})::text"),
        Canon::Text => col.to_string(),
        Canon::Char | Canon::AsText | Canon::Jsonb | Canon::TextArray | Canon::Bits => {
            format!("{col}::text")
        }
        Canon::Bytea => format!("encode({col}, 'hex')"),
        Canon::Date => format!("encode(date_send({col}), 'hex')"),
        Canon::Time => format!("encode(time_send({col}), 'hex')"),
        Canon::Timestamp => format!("encode(timestamp_send({col}), 'hex')"),
        Canon::Timestamptz => format!("encode(timestamptz_send({col}), 'hex')"),
        Canon::Interval => format!("encode(interval_send({col}), 'hex')"),
        Canon::Inet => format!("encode(inet_send({col}), 'hex')"),
        Canon::Uuid => format!("{col}::text"),
        Canon::Geometry => format!("encode(ST_AsEWKB({col}), 'hex')"),
    }
}

/// The PostgreSQL expression of column `col`'s part of a row's canonical text (never NULL).
pub(crate) fn pg_expr(col: &str, canon: Canon) -> String {
    let value = pg_value_expr(col, canon);
    if canon.prefixed() {
        format!("COALESCE(octet_length({value})::text || ':' || {value}, E'\\\\N')")
    } else {
        format!("COALESCE({value}, E'\\\\N')")
    }
}

/// The PostgreSQL expression of column `col`'s hash (see the module docs), `seed` being its
/// position from 1.
pub(crate) fn pg_hash_expr(col: &str, canon: Canon, seed: u64) -> String {
    let hash = match canon {
        Canon::Int => format!("hashint8extended({col}, {seed})"),
        Canon::Int4 => format!("hashint4extended({col}, {seed})"),
        Canon::Date => format!(
            "CASE WHEN isfinite({col}) THEN hashint4extended({col} - DATE '2000-01-01', {seed}) \
             ELSE hashtextextended({col}::text, {seed}) END"
        ),
        Canon::Time => format!("time_hash_extended({col}, {seed})"),
        Canon::Timestamp => format!("timestamp_hash_extended({col}, {seed})"),
        Canon::Timestamptz => format!("timestamp_hash_extended({col} AT TIME ZONE 'UTC', {seed})"),
        Canon::Uuid => format!("uuid_hash_extended({col}, {seed})"),
        // A column's own collation may be case-insensitive, which would hash a sort key.
        _ => format!(
            "hashtextextended(({}) COLLATE \"C\", {seed})",
            pg_value_expr(col, canon)
        ),
    };
    format!("COALESCE({hash}, '{}'::bigint)", null_hash(seed))
}

/// The seed of NULL's hash: no column position (the seed of every value's hash) is this.
const NULL_SEED: u64 = 0x4e55_4c4c_4e55_4c4c;

/// The hash of NULL in column `seed`: `hashint8extended(seed, NULL_SEED)`. A value's hash is
/// always seeded with its column's position, NULL's never is, so no value of any type (the
/// text `\N` included, which NULL's canonical text spells) hashes like NULL but by a 64-bit
/// accident.
pub(crate) fn null_hash(seed: u64) -> i64 {
    hash_int8_extended(seed as i64, NULL_SEED)
}

/// The PostgreSQL expression of the XOR of some columns' hash expressions.
pub(crate) fn pg_xor(parts: &[String]) -> String {
    if parts.is_empty() {
        return "0::bigint".to_string();
    }
    parts
        .iter()
        .map(|p| format!("({p})"))
        .collect::<Vec<_>>()
        .join(" # ")
}

/// The PostgreSQL expression of a whole row (or key) from its columns' expressions.
pub(crate) fn pg_row_expr(parts: &[String]) -> String {
    if parts.is_empty() {
        return "''".to_string();
    }
    parts.join(" || '|' || ")
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

/// Decimal digits of `n` without allocating (this runs for every value of every row).
fn push_int(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    let mut v = n.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn be_i64(v: &[u8]) -> Option<i64> {
    Some(i64::from_be_bytes(v.try_into().ok()?))
}

fn int_value(v: &[u8]) -> Option<i64> {
    Some(match v.len() {
        2 => i64::from(i16::from_be_bytes([v[0], v[1]])),
        4 => i64::from(i32::from_be_bytes([v[0], v[1], v[2], v[3]])),
        8 => be_i64(v)?,
        _ => return None,
    })
}

fn char_text(v: &[u8]) -> &[u8] {
    let end = v.iter().rposition(|b| *b != b' ').map_or(0, |i| i + 1);
    &v[..end]
}

/// The hash of one binary COPY field (`None` is NULL), as [`pg_hash_expr`] computes it.
/// `scratch` is reused for the canonical text of types hashed as text.
pub(crate) fn column_hash(
    canon: Canon,
    field: Option<&[u8]>,
    seed: u64,
    scratch: &mut Vec<u8>,
) -> Result<i64, String> {
    let Some(v) = field else {
        return Ok(null_hash(seed));
    };
    let bad = || format!("a {canon:?} value of {} bytes is malformed", v.len());
    Ok(match canon {
        Canon::Int | Canon::Int4 => hash_int8_extended(int_value(v).ok_or_else(bad)?, seed),
        Canon::Date => {
            let days: [u8; 4] = v.try_into().map_err(|_| bad())?;
            match i32::from_be_bytes(days) {
                i32::MAX => hash_text_extended(b"infinity", seed),
                i32::MIN => hash_text_extended(b"-infinity", seed),
                d => hash_int8_extended(i64::from(d), seed),
            }
        }
        Canon::Time | Canon::Timestamp | Canon::Timestamptz => {
            hash_int8_extended(be_i64(v).ok_or_else(bad)?, seed)
        }
        Canon::Uuid if v.len() == 16 => hash_text_extended(v, seed),
        Canon::Text | Canon::AsText => hash_text_extended(v, seed),
        Canon::Char => hash_text_extended(char_text(v), seed),
        _ => {
            scratch.clear();
            render_value(scratch, canon, v)?;
            hash_text_extended(scratch, seed)
        }
    })
}

/// Append one binary COPY field's part of a row's canonical text (`None` is NULL) to `out`.
///
/// Fails only when the field is not a valid binary value of the type, which would be a bug in
/// an encoder, reported as such.
pub(crate) fn render(out: &mut Vec<u8>, canon: Canon, field: Option<&[u8]>) -> Result<(), String> {
    let Some(v) = field else {
        out.extend_from_slice(b"\\N");
        return Ok(());
    };
    if !canon.prefixed() {
        return render_value(out, canon, v);
    }
    let start = out.len();
    render_value(out, canon, v)?;
    let text = out.split_off(start);
    push_int(out, text.len() as i64);
    out.push(b':');
    out.extend_from_slice(&text);
    Ok(())
}

/// Append the canonical text of one non-NULL binary COPY field to `out`.
fn render_value(out: &mut Vec<u8>, canon: Canon, v: &[u8]) -> Result<(), String> {
    let bad = || format!("a {canon:?} value of {} bytes is malformed", v.len());
    match canon {
        Canon::Bool => out.push(if v.first().copied().unwrap_or(0) != 0 {
            b't'
        } else {
            b'f'
        }),
        Canon::Int | Canon::Int4 => push_int(out, int_value(v).ok_or_else(bad)?),
        Canon::Float4 => {
            let f = f32::from_be_bytes(v.try_into().map_err(|_| bad())?);
            if f.is_nan() {
                out.extend_from_slice(b"NaN");
            } else {
                push_hex(out, v);
            }
        }
        Canon::Float8 => {
            let f = f64::from_be_bytes(v.try_into().map_err(|_| bad())?);
            if f.is_nan() {
                out.extend_from_slice(b"NaN");
            } else {
                push_hex(out, v);
            }
        }
        Canon::Numeric => out.extend_from_slice(numeric_text(v).ok_or_else(bad)?.as_bytes()),
        Canon::Text | Canon::AsText => out.extend_from_slice(v),
        Canon::Char => out.extend_from_slice(char_text(v)),
        Canon::Jsonb => {
            let (version, text) = v.split_first().ok_or_else(bad)?;
            if *version != 1 {
                return Err(bad());
            }
            let normal = jsonb_text(text).map_err(|e| format!("a jsonb value: {e}"))?;
            out.extend_from_slice(normal.as_bytes());
        }
        Canon::TextArray => array_text(out, v).ok_or_else(bad)?,
        Canon::Bits => {
            let bits = v
                .get(..4)
                .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .filter(|n| *n >= 0 && (*n as usize).div_ceil(8) == v.len() - 4)
                .ok_or_else(bad)? as usize;
            for i in 0..bits {
                let byte = v[4 + i / 8];
                out.push(if byte & (0x80 >> (i % 8)) != 0 {
                    b'1'
                } else {
                    b'0'
                });
            }
        }
        Canon::Bytea | Canon::Interval | Canon::Inet | Canon::Geometry => push_hex(out, v),
        Canon::Date | Canon::Time | Canon::Timestamp | Canon::Timestamptz => {
            if v.len() != if canon == Canon::Date { 4 } else { 8 } {
                return Err(bad());
            }
            push_hex(out, v)
        }
        Canon::Uuid => {
            if v.len() != 16 {
                return Err(bad());
            }
            for (i, chunk) in [&v[0..4], &v[4..6], &v[6..8], &v[8..10], &v[10..16]]
                .into_iter()
                .enumerate()
            {
                if i > 0 {
                    out.push(b'-');
                }
                push_hex(out, chunk);
            }
        }
    }
    Ok(())
}

/// A binary one-dimensional `text[]` as PostgreSQL's `array_out` prints it: `{a,"b c",NULL}`.
fn array_text(out: &mut Vec<u8>, v: &[u8]) -> Option<()> {
    let int = |at: usize| -> Option<i32> {
        Some(i32::from_be_bytes(v.get(at..at + 4)?.try_into().ok()?))
    };
    let ndim = int(0)?;
    if ndim == 0 {
        out.extend_from_slice(b"{}");
        return Some(());
    }
    if ndim != 1 {
        return None;
    }
    let (count, lower) = (int(12)?, int(16)?);
    if lower != 1 {
        // PostgreSQL shows other bounds first: `[0:1]={a,b}`.
        out.extend_from_slice(format!("[{}:{}]=", lower, lower + count - 1).as_bytes());
    }
    out.push(b'{');
    let mut at = 20;
    for i in 0..count {
        if i > 0 {
            out.push(b',');
        }
        let len = int(at)?;
        at += 4;
        if len < 0 {
            out.extend_from_slice(b"NULL");
            continue;
        }
        let item = v.get(at..at + len as usize)?;
        at += len as usize;
        let quote = item.is_empty()
            || item.eq_ignore_ascii_case(b"NULL")
            || item.iter().any(|b| {
                matches!(
                    b,
                    b'{' | b'}' | b',' | b'"' | b'\\' | b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c
                )
            });
        if quote {
            out.push(b'"');
            for b in item {
                if matches!(b, b'"' | b'\\') {
                    out.push(b'\\');
                }
                out.push(*b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(item);
        }
    }
    out.push(b'}');
    Some(())
}

/// PostgreSQL's binary numeric as `trim_scale(x)::text` renders it.
fn numeric_text(v: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*v.get(i)?, *v.get(i + 1)?])) };
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(2)? as i16);
    let sign = word(4)?;
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        0x0000 | 0x4000 => {}
        _ => return None,
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|i| word(8 + 2 * i))
        .collect::<Option<_>>()?;
    if digits.iter().any(|d| *d > 9999) {
        return None;
    }
    // Digit k stands for 10000^(weight - k).
    let at = |k: i64| -> u16 {
        if k >= 0 && (k as usize) < digits.len() {
            digits[k as usize]
        } else {
            0
        }
    };
    let mut int_part = String::new();
    for k in 0..=weight {
        if int_part.is_empty() {
            if at(k) != 0 {
                int_part = at(k).to_string();
            }
        } else {
            let _ = write!(int_part, "{:04}", at(k));
        }
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let mut frac = String::new();
    let mut k = weight + 1;
    while k < digits.len() as i64 {
        let _ = write!(frac, "{:04}", at(k));
        k += 1;
    }
    let frac = frac.trim_end_matches('0');
    let zero = int_part == "0" && frac.is_empty();
    let mut s = String::new();
    if sign == 0x4000 && !zero {
        s.push('-');
    }
    s.push_str(&int_part);
    if !frac.is_empty() {
        s.push('.');
        s.push_str(frac);
    }
    Some(s)
}

/// JSON text as PostgreSQL's `jsonb` outputs it: object keys deduplicated (the last wins) and
/// sorted by length, then bytes; `", "` and `": "` separators; numbers as `numeric` prints
/// them (`1e2` is `100`, `-0` is `0`); strings re-escaped the way PostgreSQL escapes them.
pub(crate) fn jsonb_text(text: &[u8]) -> Result<String, String> {
    let mut p = JsonParser { s: text, i: 0 };
    let value = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected text at byte {}", p.i));
    }
    let mut out = String::new();
    write_json(&mut out, &value);
    Ok(out)
}

enum Json {
    Literal(&'static str),
    Number(String),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> Result<(), String> {
        self.ws();
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", b as char, self.i))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let mut pairs: Vec<(String, Json)> = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Json::Object(pairs));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.eat(b':')?;
                    let v = self.value()?;
                    match pairs.iter_mut().find(|(k, _)| *k == key) {
                        Some(pair) => pair.1 = v,
                        None => pairs.push((key, v)),
                    }
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            break;
                        }
                        _ => return Err(format!("expected `,` or `}}` at byte {}", self.i)),
                    }
                }
                pairs.sort_by(|(a, _), (b, _)| {
                    a.len()
                        .cmp(&b.len())
                        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
                });
                Ok(Json::Object(pairs))
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            break;
                        }
                        _ => return Err(format!("expected `,` or `]` at byte {}", self.i)),
                    }
                }
                Ok(Json::Array(items))
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(format!("unexpected character at byte {}", self.i)),
        }
    }

    fn literal(&mut self, word: &'static str) -> Result<Json, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(Json::Literal(word))
        } else {
            Err(format!("unexpected character at byte {}", self.i))
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("bad \\u escape at byte {}", self.i))?;
        self.i += 4;
        Ok(h)
    }

    fn string(&mut self) -> Result<String, String> {
        if self.peek() != Some(b'"') {
            return Err(format!("expected a string at byte {}", self.i));
        }
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err("unterminated string".into());
            };
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let e = self.peek().ok_or("unterminated string")?;
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or("invalid \\u escape")?
                        }
                        _ => return Err(format!("bad escape at byte {}", self.i)),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|_| "a string is not UTF-8".to_string())
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        while self.i < self.s.len()
            && matches!(
                self.s[self.i],
                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
            )
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
        numeric_in_out(text)
            .map(Json::Number)
            .ok_or_else(|| format!("bad number `{text}`"))
    }
}

/// A JSON number as PostgreSQL's `numeric` reads and prints it: the exponent applied, the
/// display scale kept (`1.50` stays `1.50`, `1.5e1` is `15`, `1e-2` is `0.01`).
fn numeric_in_out(text: &str) -> Option<String> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: String = format!("{int}{frac}");
    let point = int.len() as i64 + exp; // digits before the decimal point
    let scale = (frac.len() as i64 - exp).max(0);
    if !(-100_000..=100_000).contains(&point) {
        return None;
    }
    let digit_at = |k: i64| -> char {
        if k >= 0 && (k as usize) < digits.len() {
            digits.as_bytes()[k as usize] as char
        } else {
            '0'
        }
    };
    let mut int_part: String = (0..point.max(0)).map(digit_at).collect();
    let trimmed = int_part.trim_start_matches('0').len();
    int_part = int_part[int_part.len() - trimmed..].to_string();
    if int_part.is_empty() {
        int_part.push('0');
    }
    let frac_part: String = (point..point + scale).map(digit_at).collect();
    let zero = int_part == "0" && frac_part.bytes().all(|b| b == b'0');
    let mut s = String::new();
    if negative && !zero {
        s.push('-');
    }
    s.push_str(&int_part);
    if scale > 0 {
        s.push('.');
        s.push_str(&frac_part);
    }
    Some(s)
}

fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_json(out: &mut String, v: &Json) {
    match v {
        Json::Literal(w) => out.push_str(w),
        Json::Number(n) => out.push_str(n),
        Json::Str(s) => write_json_string(out, s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Json::Object(pairs) => {
            out.push('{');
            for (i, (k, item)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_string(out, k);
                out.push_str(": ");
                write_json(out, item);
            }
            out.push('}');
        }
    }
}

/// Split a canonical row (or key) back into its columns' canonical texts.
pub(crate) fn split<'a>(row: &'a [u8], canons: &[Canon]) -> Vec<&'a [u8]> {
    let mut parts = Vec::with_capacity(canons.len());
    let mut rest = row;
    for (i, canon) in canons.iter().enumerate() {
        let end = if canon.prefixed() && !rest.starts_with(b"\\N") {
            let colon = rest.iter().position(|b| *b == b':').unwrap_or(rest.len());
            let len: usize = std::str::from_utf8(&rest[..colon])
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            (colon + 1 + len).min(rest.len())
        } else {
            rest.iter().position(|b| *b == b'|').unwrap_or(rest.len())
        };
        parts.push(&rest[..end]);
        rest = &rest[end..];
        if i + 1 < canons.len() {
            rest = rest.strip_prefix(b"|").unwrap_or(rest);
        }
    }
    parts
}

fn unhex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

fn time_of_day(micros: i64) -> String {
    let (secs, us) = (micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
    let mut s = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if us != 0 {
        let frac = format!("{us:06}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s
}

fn date_text(days_since_2000: i64) -> String {
    let (y, m, d) = barge_pgcopy::temporal::civil_from_days(
        days_since_2000 + barge_pgcopy::temporal::PG_EPOCH_DAYS,
    );
    format!("{y:04}-{m:02}-{d:02}")
}

fn signed_hex(text: &[u8]) -> Option<i64> {
    let b = unhex(text)?;
    Some(match b.len() {
        4 => i64::from(i32::from_be_bytes(b.try_into().ok()?)),
        8 => i64::from_be_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

/// A canonical value as a person reads it in a report: `2024-01-02`, `'it''s'`, `NULL`.
pub(crate) fn display(part: &[u8], canon: Canon) -> String {
    const MAX: usize = 80;
    if part == b"\\N" {
        return "NULL".into();
    }
    let lossy = || String::from_utf8_lossy(part).into_owned();
    let s = match canon {
        Canon::Bool => if part == b"t" { "true" } else { "false" }.to_string(),
        Canon::Int | Canon::Int4 | Canon::Numeric | Canon::Uuid | Canon::Bits => lossy(),
        Canon::Interval | Canon::Inet | Canon::Geometry => format!("x'{}'", lossy()),
        Canon::Float4 | Canon::Float8 => match unhex(part) {
            Some(b) if b.len() == 4 => f32::from_be_bytes([b[0], b[1], b[2], b[3]]).to_string(),
            Some(b) if b.len() == 8 => b
                .try_into()
                .map(|b| f64::from_be_bytes(b).to_string())
                .unwrap_or_else(|_| lossy()),
            _ => lossy(),
        },
        Canon::Text | Canon::Char | Canon::AsText | Canon::Jsonb | Canon::TextArray => {
            let text = part
                .iter()
                .position(|b| *b == b':')
                .map_or(part, |i| &part[i + 1..]);
            let text: String = String::from_utf8_lossy(text)
                .chars()
                .flat_map(|c| {
                    if c.is_control() {
                        c.escape_default().collect::<Vec<_>>()
                    } else {
                        vec![c]
                    }
                })
                .collect();
            format!("'{}'", text.replace('\'', "''"))
        }
        Canon::Bytea => format!("\\x{}", lossy()),
        Canon::Date => match signed_hex(part) {
            Some(d) if d == i64::from(i32::MAX) => "infinity".into(),
            Some(d) if d == i64::from(i32::MIN) => "-infinity".into(),
            Some(d) => date_text(d),
            None => lossy(),
        },
        Canon::Time => signed_hex(part).map_or_else(lossy, time_of_day),
        Canon::Timestamp | Canon::Timestamptz => match signed_hex(part) {
            Some(i64::MAX) => "infinity".into(),
            Some(i64::MIN) => "-infinity".into(),
            Some(us) => {
                let day = us.div_euclid(86_400_000_000);
                let zone = if canon == Canon::Timestamptz {
                    "+00"
                } else {
                    ""
                };
                format!(
                    "{} {}{zone}",
                    date_text(day),
                    time_of_day(us.rem_euclid(86_400_000_000))
                )
            }
            None => lossy(),
        },
    };
    if s.chars().count() > MAX {
        s.chars().take(MAX).collect::<String>() + "…"
    } else {
        s
    }
}

/// One key column's value in an order that follows the target type, for listing differences
/// in key order.
#[derive(Debug, Clone, PartialEq)]
enum SortPart {
    Null,
    Number(f64),
    Bytes(Vec<u8>),
}

/// Compare two canonical keys in the order of their target types (NULLs first).
pub(crate) fn compare_keys(a: &[u8], b: &[u8], canons: &[Canon]) -> Ordering {
    let parts = |row| -> Vec<SortPart> {
        split(row, canons)
            .into_iter()
            .zip(canons)
            .map(|(p, c)| sort_part(p, *c))
            .collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x, y) {
            (SortPart::Null, SortPart::Null) => Ordering::Equal,
            (SortPart::Null, _) => Ordering::Less,
            (_, SortPart::Null) => Ordering::Greater,
            (SortPart::Number(x), SortPart::Number(y)) => x.total_cmp(y),
            (SortPart::Bytes(x), SortPart::Bytes(y)) => x.cmp(y),
            (SortPart::Number(_), SortPart::Bytes(_)) => Ordering::Less,
            (SortPart::Bytes(_), SortPart::Number(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.cmp(b)
}

fn sort_part(part: &[u8], canon: Canon) -> SortPart {
    if part == b"\\N" {
        return SortPart::Null;
    }
    let number = |s: &[u8]| {
        std::str::from_utf8(s)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
    };
    let n = match canon {
        Canon::Int | Canon::Int4 | Canon::Numeric => number(part),
        Canon::Date | Canon::Time | Canon::Timestamp | Canon::Timestamptz => {
            signed_hex(part).map(|v| v as f64)
        }
        _ => None,
    };
    match n {
        Some(n) => SortPart::Number(n),
        None => SortPart::Bytes(part.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(text: &str) -> Vec<u8> {
        let mut b = barge_pgcopy::CopyBuffer::new(64);
        let header = b.len();
        b.numeric(text).unwrap();
        // Skip the header and the field length.
        b.split()[header + 4..].to_vec()
    }

    #[test]
    fn numerics_render_like_trim_scale() {
        for (input, want) in [
            ("1.500", "1.5"),
            ("0.000", "0"),
            ("-0.5", "-0.5"),
            ("100", "100"),
            ("123456789.000100", "123456789.0001"),
            ("-0.00001", "-0.00001"),
            ("10000", "10000"),
        ] {
            assert_eq!(numeric_text(&numeric(input)).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn jsonb_normalizes_like_postgresql() {
        // PostgreSQL 15: '{"b":1,"a":[1.50,2e3,1.5e-3,-0,0.0,"x\u00e9\n\u001f/"],"aa":{},"a":-0}'::jsonb::text
        assert_eq!(
            jsonb_text(br#"{"b":1,"a":[1.50,2e3,1.5e-3,-0,0.0],"aa":{}, "a":-0}"#).unwrap(),
            r#"{"a": 0, "b": 1, "aa": {}}"#
        );
        assert_eq!(
            jsonb_text(br#" [1.50, 2e3, 1.5e-3, -0, 0.0, 1E+2, "x\u00e9\n\u001f\/"] "#).unwrap(),
            r#"[1.50, 2000, 0.0015, 0, 0.0, 100, "xé\n\u001f/"]"#
        );
        assert!(jsonb_text(b"{a:1}").is_err());
    }

    #[test]
    fn integers_render_in_decimal() {
        for n in [0i64, 7, -7, 1234567890, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            push_int(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn rows_split_back_into_columns() {
        let canons = [Canon::Int, Canon::Text, Canon::Date, Canon::Text];
        let mut row = Vec::new();
        render(&mut row, Canon::Int, Some(&7i32.to_be_bytes())).unwrap();
        row.push(b'|');
        render(&mut row, Canon::Text, Some(b"a|b:c")).unwrap();
        row.push(b'|');
        render(&mut row, Canon::Date, Some(&(-5i32).to_be_bytes())).unwrap();
        row.push(b'|');
        render(&mut row, Canon::Text, None).unwrap();
        assert_eq!(row, b"7|5:a|b:c|fffffffb|\\N");
        let parts = split(&row, &canons);
        assert_eq!(parts, [&b"7"[..], b"5:a|b:c", b"fffffffb", b"\\N"]);
        assert_eq!(display(parts[1], Canon::Text), "'a|b:c'");
        assert_eq!(display(parts[2], Canon::Date), "1999-12-27");
        assert_eq!(display(parts[3], Canon::Text), "NULL");
        assert_eq!(
            compare_keys(b"9", b"10", &[Canon::Int]),
            std::cmp::Ordering::Less
        );
    }
}
