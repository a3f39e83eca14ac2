//! Column defaults out of `information_schema.COLUMNS.COLUMN_DEFAULT`.
//!
//! The two servers write that column differently:
//! - MariaDB (10.2.7 and later) writes SQL: string literals quoted (`'abc'`, with `''` and
//!   backslash escapes), an explicit `DEFAULT NULL` as the word `NULL`, numbers bare, and
//!   expressions as their text (`current_timestamp()`, `uuid()`, `(1 + 2)`).
//! - MySQL writes a literal's bare value (`abc`, never quoted) and marks expression defaults
//!   with `DEFAULT_GENERATED` in `EXTRA` (`CURRENT_TIMESTAMP`, `(uuid())`).
//!
//! So a MySQL default is an expression only when `EXTRA` says so (or it is the classic
//! `CURRENT_TIMESTAMP` of a temporal column): a string default is never mistaken for SQL, and an
//! expression never becomes a string literal. Expressions barge cannot translate are reported,
//! not guessed.

use barge_config::ZeroDateMode;
use barge_model::{DataType, DefaultValue, Literal};

/// Which dialect wrote the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Mysql,
    Mariadb,
}

/// A default as read from the catalog, before translation.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultTranslation {
    /// No default, or `DEFAULT NULL` (PostgreSQL's default is NULL too).
    None,
    Value(DefaultValue),
    /// A zero date under `zero_date_mode`: dropped (null) or refused (error).
    ZeroDate(String),
    /// Not carried over, with the reason.
    Unsupported(String),
}

/// What the translation needs to know about the column.
pub struct DefaultContext<'a> {
    pub flavor: Flavor,
    /// `DATA_TYPE`, lower-cased.
    pub source_data_type: &'a str,
    /// `COLUMN_TYPE` (for `bit(n)` widths).
    pub column_type: &'a str,
    pub extra: &'a str,
    pub target: &'a DataType,
}

/// Translate `COLUMN_DEFAULT` for one column.
pub fn translate_default(raw: Option<&str>, cx: &DefaultContext<'_>) -> DefaultTranslation {
    let Some(raw) = raw else {
        return DefaultTranslation::None;
    };
    let generated = cx.extra.to_ascii_uppercase().contains("DEFAULT_GENERATED");
    match cx.flavor {
        Flavor::Mariadb => {
            let t = raw.trim();
            if t.eq_ignore_ascii_case("NULL") {
                return DefaultTranslation::None;
            }
            if t.starts_with('\'') {
                return match unquote(t) {
                    Some(text) => literal_default(&text, cx),
                    None => DefaultTranslation::Unsupported(format!(
                        "`{raw}` is not a string literal barge can read"
                    )),
                };
            }
            if let Some(bits) = bit_literal(t) {
                return bit_default(&bits, cx);
            }
            if is_number(t) {
                return literal_default(t, cx);
            }
            expression_default(t, cx)
        }
        Flavor::Mysql => {
            if generated {
                return expression_default(raw.trim(), cx);
            }
            let temporal = matches!(
                cx.source_data_type,
                "datetime" | "timestamp" | "date" | "time"
            );
            // MySQL 5.7 writes CURRENT_TIMESTAMP without DEFAULT_GENERATED.
            if temporal
                && raw
                    .trim()
                    .to_ascii_uppercase()
                    .starts_with("CURRENT_TIMESTAMP")
            {
                return expression_default(raw.trim(), cx);
            }
            if cx.source_data_type == "bit" {
                if let Some(bits) = bit_literal(raw.trim()) {
                    return bit_default(&bits, cx);
                }
            }
            literal_default(raw, cx)
        }
    }
}

/// `'it''s'` -> `it's`, with MariaDB's backslash escapes.
pub fn unquote(t: &str) -> Option<String> {
    let inner = t.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                if chars.next() != Some('\'') {
                    return None;
                }
                out.push('\'');
            }
            '\\' => match chars.next()? {
                '0' => out.push('\0'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'b' => out.push('\u{8}'),
                'Z' => out.push('\u{1a}'),
                c @ ('%' | '_') => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
    Some(out)
}

/// `b'101'` -> `"101"`.
fn bit_literal(t: &str) -> Option<String> {
    let inner = t
        .strip_prefix("b'")
        .or_else(|| t.strip_prefix("B'"))?
        .strip_suffix('\'')?;
    inner
        .bytes()
        .all(|b| b == b'0' || b == b'1')
        .then(|| inner.to_string())
}

fn is_number(t: &str) -> bool {
    let s = t.strip_prefix(['-', '+']).unwrap_or(t);
    !s.is_empty()
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
}

/// The bytes a `bit(n)` value is loaded as: big-endian, in `ceil(n / 8)` bytes (what the server
/// sends for the column, so default and values agree).
fn bit_default(bits: &str, cx: &DefaultContext<'_>) -> DefaultTranslation {
    let width = crate::types::bit_width(cx.column_type).max(1);
    let nbytes = width.div_ceil(8) as usize;
    let mut value: u128 = 0;
    for b in bits.bytes() {
        value = (value << 1) | u128::from(b == b'1');
    }
    match cx.target {
        DataType::Bytea => {
            let all = value.to_be_bytes();
            let bytes = all[all.len().saturating_sub(nbytes)..].to_vec();
            DefaultTranslation::Value(DefaultValue::Literal(Literal::Bytes(bytes)))
        }
        // Loaded values carry all `width` bits, so the default does too: `b'1'` in a
        // bit(3) column is B'001'.
        DataType::Bit(_) | DataType::Varbit(_) if width >= 128 || value < (1u128 << width) => {
            DefaultTranslation::Value(DefaultValue::Literal(Literal::Bits(format!(
                "{value:0width$b}",
                width = width as usize
            ))))
        }
        DataType::Bool if value <= 1 => {
            DefaultTranslation::Value(DefaultValue::Literal(Literal::Bool(value == 1)))
        }
        t if t.is_integer() => {
            DefaultTranslation::Value(DefaultValue::Literal(Literal::Integer(value.to_string())))
        }
        _ => DefaultTranslation::Unsupported(format!(
            "bit literal `b'{bits}'` does not fit the column's type"
        )),
    }
}

/// A literal value (already unquoted) for a column of the target type.
fn literal_default(text: &str, cx: &DefaultContext<'_>) -> DefaultTranslation {
    use DataType as T;
    let lit = |l: Literal| DefaultTranslation::Value(DefaultValue::Literal(l));
    if crate::types::holds_zero_dates(cx.source_data_type) && is_zero_date(text.as_bytes()) {
        return DefaultTranslation::ZeroDate(text.to_string());
    }
    match cx.target {
        T::Bool => match text.trim() {
            "0" => lit(Literal::Bool(false)),
            "1" => lit(Literal::Bool(true)),
            other => DefaultTranslation::Unsupported(format!(
                "`{other}` is not 0 or 1, so it is not a boolean"
            )),
        },
        T::Int2 | T::Int4 | T::Int8 => {
            let t = text.trim();
            if t.parse::<i64>().is_ok() {
                lit(Literal::Integer(t.to_string()))
            } else {
                DefaultTranslation::Unsupported(format!("`{t}` is not an integer"))
            }
        }
        T::Numeric { .. } | T::Float4 | T::Float8 => {
            let t = text.trim();
            if !is_number(t) {
                return DefaultTranslation::Unsupported(format!("`{t}` is not a number"));
            }
            if t.bytes()
                .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
            {
                lit(Literal::Integer(t.to_string()))
            } else {
                lit(Literal::Decimal(t.to_string()))
            }
        }
        T::Bytea => lit(Literal::Bytes(text.as_bytes().to_vec())),
        // A SET default `'x,y'` as the array literal `{"x","y"}`.
        T::TextArray => {
            let members: Vec<String> = if text.is_empty() {
                Vec::new()
            } else {
                text.split(',')
                    .map(|m| format!("\"{}\"", m.replace('\\', "\\\\").replace('"', "\\\"")))
                    .collect()
            };
            lit(Literal::Text(format!("{{{}}}", members.join(","))))
        }
        T::Uuid if cx.source_data_type == "binary" => DefaultTranslation::Unsupported(
            "a binary(16) default is not translated to a uuid".into(),
        ),
        // Text, dates, times, timestamps, uuid and JSON: the target casts the text.
        _ => {
            if text.contains('\0') {
                return DefaultTranslation::Unsupported(
                    "it contains a NUL byte, which PostgreSQL text cannot hold".into(),
                );
            }
            lit(Literal::Text(text.to_string()))
        }
    }
}

/// Strip one pair of enclosing parentheses, if they enclose the whole text.
fn strip_parens(t: &str) -> &str {
    let t = t.trim();
    if !(t.starts_with('(') && t.ends_with(')')) {
        return t;
    }
    let mut depth = 0i32;
    for (i, c) in t.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && i != t.len() - 1 {
                    return t;
                }
            }
            _ => {}
        }
    }
    strip_parens(&t[1..t.len() - 1])
}

fn expression_default(raw: &str, cx: &DefaultContext<'_>) -> DefaultTranslation {
    let t = strip_parens(raw);
    let lower = t.to_ascii_lowercase();
    let name = lower.split('(').next().unwrap_or("").trim();
    let args = lower
        .find('(')
        .map(|i| lower[i + 1..].trim_end_matches(')').trim())
        .unwrap_or("");
    let simple_args = args.is_empty() || args.bytes().all(|b| b.is_ascii_digit());
    let is_call_or_word = !lower.contains(' ') || lower == "current_timestamp";
    if simple_args && is_call_or_word {
        match name {
            "current_timestamp" | "now" | "localtimestamp" | "localtime" => {
                return match cx.target {
                    DataType::Timestamp(_) | DataType::Timestamptz(_) => {
                        DefaultTranslation::Value(DefaultValue::CurrentTimestamp)
                    }
                    DataType::Date => DefaultTranslation::Value(DefaultValue::CurrentDate),
                    _ => DefaultTranslation::Unsupported(format!(
                        "`{raw}` does not fit the column's type"
                    )),
                };
            }
            "curdate" | "current_date" => {
                return DefaultTranslation::Value(DefaultValue::CurrentDate);
            }
            "curtime" | "current_time" if matches!(cx.target, DataType::Time(_)) => {
                return DefaultTranslation::Value(DefaultValue::CurrentTime);
            }
            _ => {}
        }
    }
    // A parenthesised literal (MySQL 8 `DEFAULT (5)`, MariaDB `DEFAULT (1)`) is still a literal.
    if is_number(t) {
        return literal_default(t, cx);
    }
    if t.starts_with('\'') {
        if let Some(text) = unquote(t) {
            return literal_default(&text, cx);
        }
    }
    let hint = match name {
        "uuid" => " (PostgreSQL's gen_random_uuid() gives a random, not a time-based, UUID)",
        _ => "",
    };
    DefaultTranslation::Unsupported(format!(
        "expression `{raw}` has no translation to PostgreSQL{hint}"
    ))
}

/// A MySQL zero date: `0000-00-00`, or any date with a zero month or day (time part ignored).
pub fn is_zero_date(text: &[u8]) -> bool {
    // YYYY-MM-DD[...]
    if text.len() < 10 || text[4] != b'-' || text[7] != b'-' {
        return false;
    }
    let month = &text[5..7];
    let day = &text[8..10];
    month == b"00" || day == b"00"
}

/// The finding text for a zero-date default.
pub fn zero_default_words(mode: ZeroDateMode) -> &'static str {
    match mode {
        ZeroDateMode::Null => {
            "is a zero date; with zero_date_mode = \"null\" the column gets no default (NULL)"
        }
        ZeroDateMode::Error => {
            "is a zero date, which PostgreSQL cannot hold (zero_date_mode = \"error\")"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(
        flavor: Flavor,
        raw: Option<&str>,
        dt: &str,
        extra: &str,
        target: DataType,
    ) -> DefaultTranslation {
        translate_default(
            raw,
            &DefaultContext {
                flavor,
                source_data_type: dt,
                column_type: if dt == "bit" { "bit(10)" } else { dt },
                extra,
                target: &target,
            },
        )
    }

    fn lit(l: Literal) -> DefaultTranslation {
        DefaultTranslation::Value(DefaultValue::Literal(l))
    }

    #[test]
    fn mariadb_defaults() {
        use Flavor::Mariadb as M;
        assert_eq!(
            tr(M, None, "int", "", DataType::Int4),
            DefaultTranslation::None
        );
        assert_eq!(
            tr(M, Some("NULL"), "varchar", "", DataType::Text),
            DefaultTranslation::None
        );
        assert_eq!(
            tr(M, Some("'NULL'"), "varchar", "", DataType::Text),
            lit(Literal::Text("NULL".into()))
        );
        assert_eq!(
            tr(M, Some("'it''s \\\\ \\n'"), "varchar", "", DataType::Text),
            lit(Literal::Text("it's \\ \n".into()))
        );
        assert_eq!(
            tr(M, Some("-5"), "int", "", DataType::Int4),
            lit(Literal::Integer("-5".into()))
        );
        assert_eq!(
            tr(
                M,
                Some("-0.50"),
                "decimal",
                "",
                DataType::Numeric {
                    precision: Some(5),
                    scale: Some(2)
                }
            ),
            lit(Literal::Decimal("-0.50".into()))
        );
        assert_eq!(
            tr(
                M,
                Some("current_timestamp(6)"),
                "timestamp",
                "",
                DataType::Timestamptz(Some(6))
            ),
            DefaultTranslation::Value(DefaultValue::CurrentTimestamp)
        );
        assert_eq!(
            tr(M, Some("curdate()"), "date", "", DataType::Date),
            DefaultTranslation::Value(DefaultValue::CurrentDate)
        );
        assert!(matches!(
            tr(M, Some("uuid()"), "char", "", DataType::Char(36)),
            DefaultTranslation::Unsupported(_)
        ));
        assert!(matches!(
            tr(M, Some("concat('a','b')"), "varchar", "", DataType::Text),
            DefaultTranslation::Unsupported(_)
        ));
        assert_eq!(
            tr(M, Some("(1)"), "int", "", DataType::Int4),
            lit(Literal::Integer("1".into()))
        );
        assert_eq!(
            tr(M, Some("b'101'"), "bit", "", DataType::Bytea),
            lit(Literal::Bytes(vec![0, 5]))
        );
        assert_eq!(
            tr(M, Some("'0000-00-00'"), "date", "", DataType::Date),
            DefaultTranslation::ZeroDate("0000-00-00".into())
        );
        assert_eq!(
            tr(M, Some("'0009-12-04'"), "date", "", DataType::Date),
            lit(Literal::Text("0009-12-04".into()))
        );
        assert_eq!(
            tr(M, Some("1"), "tinyint", "", DataType::Bool),
            lit(Literal::Bool(true))
        );
    }

    #[test]
    fn mysql_defaults() {
        use Flavor::Mysql as Y;
        // A string default that looks like SQL stays a string.
        assert_eq!(
            tr(Y, Some("uuid()"), "varchar", "", DataType::Text),
            lit(Literal::Text("uuid()".into()))
        );
        assert!(matches!(
            tr(
                Y,
                Some("uuid()"),
                "varchar",
                "DEFAULT_GENERATED",
                DataType::Text
            ),
            DefaultTranslation::Unsupported(_)
        ));
        assert!(matches!(
            tr(
                Y,
                Some("(now() + interval 1 day)"),
                "datetime",
                "DEFAULT_GENERATED",
                DataType::Timestamp(None)
            ),
            DefaultTranslation::Unsupported(_)
        ));
        assert_eq!(
            tr(
                Y,
                Some("CURRENT_TIMESTAMP"),
                "timestamp",
                "DEFAULT_GENERATED on update CURRENT_TIMESTAMP",
                DataType::Timestamptz(Some(0))
            ),
            DefaultTranslation::Value(DefaultValue::CurrentTimestamp)
        );
        assert_eq!(
            tr(
                Y,
                Some("CURRENT_TIMESTAMP(3)"),
                "datetime",
                "",
                DataType::Timestamp(Some(3))
            ),
            DefaultTranslation::Value(DefaultValue::CurrentTimestamp)
        );
        assert_eq!(
            tr(Y, Some("b'0'"), "bit", "", DataType::Bytea),
            lit(Literal::Bytes(vec![0, 0]))
        );
        assert_eq!(
            tr(Y, Some("it's"), "varchar", "", DataType::Text),
            lit(Literal::Text("it's".into()))
        );
        assert_eq!(
            tr(Y, Some(""), "varchar", "", DataType::Text),
            lit(Literal::Text(String::new()))
        );
        assert_eq!(
            tr(
                Y,
                Some("0000-00-00 00:00:00"),
                "datetime",
                "",
                DataType::Timestamp(None)
            ),
            DefaultTranslation::ZeroDate("0000-00-00 00:00:00".into())
        );
    }

    #[test]
    fn zero_dates() {
        assert!(is_zero_date(b"0000-00-00"));
        assert!(is_zero_date(b"2024-00-10 10:00:00"));
        assert!(is_zero_date(b"2024-05-00"));
        assert!(!is_zero_date(b"0009-12-04"));
        assert!(!is_zero_date(b"0000-01-01"));
    }
}
