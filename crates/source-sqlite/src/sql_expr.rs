//! SQLite expression text to the neutral [`Expr`] tree, and SQLite column defaults to
//! [`DefaultValue`]s.
//!
//! SQLite keeps partial-index predicates, index expressions, CHECK constraints, generated
//! columns and defaults only as SQL text. This module reads that text with SQLite's own
//! operator precedence and either returns a tree that means the same in PostgreSQL or an error
//! that names what stands in the way, so the caller can record a finding. It never guesses:
//! constructs that look alike but behave differently (`LIKE` ignores ASCII case in SQLite,
//! `round` treats a negative place count as 0, `substr` counts a negative start from the end,
//! `IS` compares any two values) are refused unless the operands rule the difference out.
//!
//! A hand-written tokenizer and precedence-climbing parser is enough: only expressions are
//! read, and everything outside the small neutral model is an error anyway.

use barge_model::expr::Function;
use barge_model::{BinaryOp, DataType, DefaultValue, Expr, Literal, UnaryOp};

/// Why an SQLite expression was not translated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    #[error("the expression is empty")]
    Empty,
    #[error("unrecognized token `{0}`")]
    BadToken(String),
    #[error("unterminated {what}: `{near}`")]
    Unterminated { what: &'static str, near: String },
    #[error("hex literal `{0}` is too big for 64 bits")]
    HexTooBig(String),
    #[error("unexpected end of expression: expected {expected}")]
    UnexpectedEnd { expected: &'static str },
    #[error("unexpected `{found}`: expected {expected}")]
    Unexpected {
        found: String,
        expected: &'static str,
    },
    #[error("unsupported syntax near `{near}`: {why}")]
    UnsupportedSyntax { near: String, why: &'static str },
    #[error("function `{name}` has no PostgreSQL equivalent")]
    NoEquivalent { name: String },
    #[error(
        "function `{name}` is not translated (barge translates lower, upper, length, abs, \
         coalesce, ifnull, trim, ltrim, rtrim, round and substr)"
    )]
    UntranslatedFunction { name: String },
    #[error("function `{name}` {why}")]
    FunctionCall { name: String, why: String },
    #[error(
        "`LIKE` pattern `{pattern}` has both ASCII letters, which SQLite's `LIKE` matches in \
         any case, and other letters, which it matches exactly; PostgreSQL has no operator that \
         does both"
    )]
    LikeMixedCase { pattern: String },
    #[error(
        "`LIKE` pattern `{pattern}` has a backslash, which PostgreSQL's `LIKE` reads as an \
         escape character and SQLite's does not"
    )]
    LikeBackslash { pattern: String },
    #[error(
        "`LIKE` pattern is not a string literal: SQLite's `LIKE` ignores the case of ASCII \
         letters only, which PostgreSQL can match only for a known pattern"
    )]
    LikeNonLiteral,
    #[error("`{0}` is not a column of the table")]
    UnknownColumn(String),
    #[error("`{0}` is SQLite's row id, which has no PostgreSQL equivalent")]
    RowId(String),
}

/// Parses one SQLite expression; the whole input must be a single expression.
///
/// Identifiers become [`Expr::Column`]s as written (a qualified `t.col` becomes `col`); use
/// [`parse_expr_for_table`] when the table's columns are known.
pub fn parse_expr(sql: &str) -> Result<Expr, ExprError> {
    parse_expr_for_table(sql, None)
}

/// Parses one SQLite expression that belongs to a table with the given columns.
///
/// With `columns`, identifiers resolve the way SQLite resolves them: ASCII case-insensitively,
/// to the column's declared name. A double-quoted identifier that names no column is SQLite's
/// string-literal fallback and becomes a text literal; any other unknown identifier is an
/// error. With `None`, identifiers are taken as columns as written.
pub fn parse_expr_for_table(sql: &str, columns: Option<&[&str]>) -> Result<Expr, ExprError> {
    let tokens = tokenize(sql)?;
    parse_tokens(&tokens, columns)
}

/// The outcome of translating one SQLite column default.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultTranslation {
    Value(DefaultValue),
    /// The default has no faithful PostgreSQL form; the text says why.
    Unsupported(String),
}

/// Translates a default as SQLite reports it in `PRAGMA table_info(...).dflt_value` for a
/// column carried as `target`.
///
/// SQLite stores a default through the column's type affinity, so a literal is checked (and
/// converted the way SQLite would convert it) against the target type: text `'1'` on an integer
/// column is the integer 1, while text `'abc'` there has no PostgreSQL form.
pub fn translate_default(sql: &str, target: &DataType) -> DefaultTranslation {
    let tokens = match tokenize(sql) {
        Ok(tokens) => tokens,
        Err(e) => return DefaultTranslation::Unsupported(e.to_string()),
    };
    let tokens = strip_outer_parens(&tokens);
    let written = tokens_text(sql, tokens);
    let Some(first) = tokens.first() else {
        return DefaultTranslation::Unsupported("the default is empty".to_string());
    };
    match current_time_default(tokens, written) {
        Some(Ok(now)) => return now_default(now, written, target),
        Some(Err(why)) => return DefaultTranslation::Unsupported(why),
        None => {}
    }
    if tokens.len() == 1 {
        // `DEFAULT word` and `DEFAULT "word"` are string literals in SQLite's grammar.
        match &first.tok {
            Tok::Word(w) if !is_kw(first, "NULL") && !is_bool_kw(w) => {
                return fit_literal(Literal::Text(w.clone()), target);
            }
            Tok::Quoted { name, .. } => return fit_literal(Literal::Text(name.clone()), target),
            _ => {}
        }
    }
    match parse_tokens(tokens, Some(&[])) {
        Ok(Expr::Literal(lit)) => fit_literal(lit, target),
        Ok(expr) if has_decimal(&expr) => DefaultTranslation::Unsupported(format!(
            "`{written}` computes with floating point in SQLite and with exact numeric in \
             PostgreSQL"
        )),
        Ok(expr) => DefaultTranslation::Value(DefaultValue::Expr(expr)),
        Err(e) => DefaultTranslation::Unsupported(e.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A keyword or an unquoted identifier, as written.
    Word(String),
    /// A quoted identifier, dequoted. `double` for `"..."`: SQLite's string-literal fallback
    /// applies to those only.
    Quoted {
        name: String,
        double: bool,
    },
    Str(String),
    Blob(Vec<u8>),
    Int(i64),
    /// A REAL literal, or an integer too big for 64 bits (which SQLite reads as REAL).
    Real(String),
    Punct(&'static str),
    Param,
}

#[derive(Debug, Clone)]
struct Token<'s> {
    tok: Tok,
    /// The token as written, for messages.
    text: &'s str,
    start: usize,
}

const PUNCTUATION: [&str; 27] = [
    "->>", "||", "->", "<=", ">=", "<>", "!=", "==", "<<", ">>", "(", ")", ",", ".", "+", "-", "*",
    "/", "%", "<", ">", "=", "&", "|", "~", ";", "!",
];

fn is_id_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_id_char(b: u8) -> bool {
    is_id_start(b) || b.is_ascii_digit() || b == b'$'
}

fn tokenize(sql: &str) -> Result<Vec<Token<'_>>, ExprError> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => {
                i += 1;
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(b.len(), |n| i + n);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
                continue;
            }
            b'\'' => {
                let (body, end) = quoted(sql, i, b'\'', "string literal")?;
                i = end;
                Tok::Str(body)
            }
            b'"' | b'`' => {
                let (name, end) = quoted(sql, i, c, "quoted identifier")?;
                i = end;
                Tok::Quoted {
                    name,
                    double: c == b'"',
                }
            }
            b'[' => {
                let Some(n) = sql[i..].find(']') else {
                    return Err(ExprError::Unterminated {
                        what: "bracketed identifier",
                        near: sql[i..].to_string(),
                    });
                };
                i += n + 1;
                Tok::Quoted {
                    name: sql[start + 1..i - 1].to_string(),
                    double: false,
                }
            }
            b'x' | b'X' if b.get(i + 1) == Some(&b'\'') => {
                let Some(n) = sql[i + 2..].find('\'') else {
                    return Err(ExprError::Unterminated {
                        what: "blob literal",
                        near: sql[i..].to_string(),
                    });
                };
                i += 2 + n + 1;
                Tok::Blob(
                    hex_bytes(&sql[start + 2..i - 1])
                        .ok_or_else(|| ExprError::BadToken(sql[start..i].to_string()))?,
                )
            }
            b'0'..=b'9' => {
                let (tok, end) = number(sql, i)?;
                i = end;
                tok
            }
            b'.' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let (tok, end) = number(sql, i)?;
                i = end;
                tok
            }
            b'?' | b':' | b'@' | b'$' => {
                i += 1;
                while i < b.len() && is_id_char(b[i]) {
                    i += 1;
                }
                Tok::Param
            }
            _ if is_id_start(c) => {
                while i < b.len() && is_id_char(b[i]) {
                    i += 1;
                }
                Tok::Word(sql[start..i].to_string())
            }
            _ => {
                let Some(p) = PUNCTUATION.iter().find(|p| sql[i..].starts_with(**p)) else {
                    let len = sql[i..].chars().next().map_or(1, char::len_utf8);
                    return Err(ExprError::BadToken(sql[i..i + len].to_string()));
                };
                if *p == "!" {
                    return Err(ExprError::BadToken("!".to_string()));
                }
                i += p.len();
                Tok::Punct(p)
            }
        };
        out.push(Token {
            tok,
            text: &sql[start..i],
            start,
        });
    }
    Ok(out)
}

/// Reads a `q`-quoted run starting at `start`, where a doubled `q` stands for one.
fn quoted(
    sql: &str,
    start: usize,
    q: u8,
    what: &'static str,
) -> Result<(String, usize), ExprError> {
    let b = sql.as_bytes();
    let mut body = Vec::new();
    let mut i = start + 1;
    loop {
        match b.get(i) {
            None => {
                return Err(ExprError::Unterminated {
                    what,
                    near: sql[start..].to_string(),
                })
            }
            Some(&c) if c == q => {
                if b.get(i + 1) == Some(&q) {
                    body.push(q);
                    i += 2;
                } else {
                    break;
                }
            }
            Some(&c) => {
                body.push(c);
                i += 1;
            }
        }
    }
    // Only whole UTF-8 sequences were copied (the quote is ASCII), so this cannot fail.
    let body =
        String::from_utf8(body).map_err(|_| ExprError::BadToken(sql[start..=i].to_string()))?;
    Ok((body, i + 1))
}

fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    let nibble = |b: &u8| char::from(*b).to_digit(16);
    hex.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => Some((nibble(high)? << 4 | nibble(low)?) as u8),
            _ => None,
        })
        .collect()
}

/// Reads a run of digits (with SQLite's `_` separators between digits) from `i`.
fn digits(b: &[u8], mut i: usize, is_digit: fn(&u8) -> bool) -> usize {
    while i < b.len() {
        if is_digit(&b[i])
            || (b[i] == b'_' && i > 0 && is_digit(&b[i - 1]) && b.get(i + 1).is_some_and(is_digit))
        {
            i += 1;
        } else {
            break;
        }
    }
    i
}

fn number(sql: &str, start: usize) -> Result<(Tok, usize), ExprError> {
    let b = sql.as_bytes();
    let bad = |end: usize| {
        let mut end = end;
        while end < b.len() && is_id_char(b[end]) {
            end += 1;
        }
        ExprError::BadToken(sql[start..end].to_string())
    };
    if b[start] == b'0'
        && matches!(b.get(start + 1), Some(b'x' | b'X'))
        && b.get(start + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        let end = digits(b, start + 2, u8::is_ascii_hexdigit);
        if b.get(end).is_some_and(|c| is_id_char(*c)) {
            return Err(bad(end));
        }
        let hex = sql[start + 2..end].replace('_', "");
        let significant = hex.trim_start_matches('0');
        if significant.len() > 16 {
            return Err(ExprError::HexTooBig(sql[start..end].to_string()));
        }
        let value = u64::from_str_radix(
            if significant.is_empty() {
                "0"
            } else {
                significant
            },
            16,
        )
        .map_err(|_| bad(end))?;
        // SQLite reads hex literals as 64-bit two's complement.
        return Ok((Tok::Int(value as i64), end));
    }
    let mut i = digits(b, start, u8::is_ascii_digit);
    let mut is_int = true;
    if b.get(i) == Some(&b'.') {
        is_int = false;
        i = digits(b, i + 1, u8::is_ascii_digit);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        if b.get(i + 1 + sign).is_some_and(u8::is_ascii_digit) {
            is_int = false;
            i = digits(b, i + 1 + sign, u8::is_ascii_digit);
        }
    }
    if b.get(i).is_some_and(|c| is_id_char(*c)) {
        return Err(bad(i));
    }
    let text = sql[start..i].replace('_', "");
    if is_int {
        if let Ok(n) = text.parse::<i64>() {
            return Ok((Tok::Int(n), i));
        }
    }
    if text.parse::<f64>().map_or(true, |v| v.is_infinite()) {
        return Err(ExprError::UnsupportedSyntax {
            near: sql[start..i].to_string(),
            why: "SQLite reads this number as infinity",
        });
    }
    Ok((Tok::Real(text), i))
}

fn is_kw(token: &Token<'_>, kw: &str) -> bool {
    matches!(&token.tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
}

fn is_bool_kw(word: &str) -> bool {
    word.eq_ignore_ascii_case("TRUE") || word.eq_ignore_ascii_case("FALSE")
}

// ---------------------------------------------------------------------------------------------
// Parser

// Binding powers, weakest first, as in SQLite's grammar (`parse.y`): `<` and friends bind
// tighter than `=` and friends, and `||` tighter than `*`.
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const EQUALITY: u8 = 4;
const COMPARISON: u8 = 5;
const ESCAPE: u8 = 6;
const BITWISE: u8 = 7;
const ADDITIVE: u8 = 8;
const MULTIPLICATIVE: u8 = 9;
const CONCAT: u8 = 10;
const COLLATE: u8 = 11;
const PREFIX: u8 = 12;

#[derive(Debug, Clone, Copy)]
enum Infix {
    Binary(BinaryOp),
    Is,
    /// `ISNULL`, `NOTNULL`, `NOT NULL`, and how many tokens they take.
    NullTest {
        not: bool,
        tokens: usize,
    },
    Like {
        negated: bool,
    },
    In {
        negated: bool,
    },
    Between {
        negated: bool,
    },
    Unsupported {
        token: usize,
        why: &'static str,
    },
}

/// Words that cannot start an operand.
const NOT_AN_OPERAND: [&str; 21] = [
    "AND", "OR", "IS", "IN", "LIKE", "GLOB", "MATCH", "REGEXP", "BETWEEN", "ESCAPE", "COLLATE",
    "ISNULL", "NOTNULL", "THEN", "ELSE", "END", "WHEN", "FROM", "WHERE", "AS", "DISTINCT",
];

/// SQLite functions that do something PostgreSQL has no function for.
const NO_EQUIVALENT: [&str; 29] = [
    "date",
    "time",
    "datetime",
    "julianday",
    "unixepoch",
    "strftime",
    "timediff",
    "typeof",
    "quote",
    "printf",
    "format",
    "glob",
    "like",
    "likelihood",
    "likely",
    "unlikely",
    "random",
    "randomblob",
    "zeroblob",
    "changes",
    "total_changes",
    "last_insert_rowid",
    "sqlite_version",
    "sqlite_source_id",
    "sqlite_compileoption_get",
    "sqlite_compileoption_used",
    "sqlite_offset",
    "load_extension",
    "soundex",
];

struct Parser<'a> {
    toks: &'a [Token<'a>],
    pos: usize,
    columns: Option<&'a [&'a str]>,
}

fn parse_tokens(toks: &[Token<'_>], columns: Option<&[&str]>) -> Result<Expr, ExprError> {
    if toks.is_empty() {
        return Err(ExprError::Empty);
    }
    let mut p = Parser {
        toks,
        pos: 0,
        columns,
    };
    let expr = p.parse_bp(0)?;
    if p.pos < toks.len() {
        return Err(p.unexpected("an operator or the end of the expression"));
    }
    Ok(expr)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Token<'a>> {
        self.toks.get(self.pos)
    }

    fn peek_nth(&self, n: usize) -> Option<&'a Token<'a>> {
        self.toks.get(self.pos + n)
    }

    fn bump(&mut self) -> Option<&'a Token<'a>> {
        let t = self.toks.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn peek_kw(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| is_kw(t, kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let found = self.peek_kw(kw);
        if found {
            self.pos += 1;
        }
        found
    }

    fn peek_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Punct(q), .. }) if *q == p)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        let found = self.peek_punct(p);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect_punct(&mut self, p: &str, expected: &'static str) -> Result<(), ExprError> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn unexpected(&self, expected: &'static str) -> ExprError {
        match self.peek() {
            Some(t) => ExprError::Unexpected {
                found: t.text.to_string(),
                expected,
            },
            None => ExprError::UnexpectedEnd { expected },
        }
    }

    fn unsupported_here(&self, why: &'static str) -> ExprError {
        ExprError::UnsupportedSyntax {
            near: self.peek().map_or("", |t| t.text).to_string(),
            why,
        }
    }

    fn starts_subquery(&self) -> bool {
        self.peek_kw("SELECT") || self.peek_kw("WITH") || self.peek_kw("VALUES")
    }

    fn parse_bp(&mut self, min: u8) -> Result<Expr, ExprError> {
        let mut lhs = self.parse_prefix()?;
        while let Some((level, infix)) = self.infix() {
            if level < min {
                break;
            }
            lhs = self.parse_infix(lhs, level, infix)?;
        }
        Ok(lhs)
    }

    fn infix(&self) -> Option<(u8, Infix)> {
        use BinaryOp as B;
        let found = match &self.peek()?.tok {
            Tok::Punct(p) => match *p {
                "||" => (CONCAT, Infix::Binary(B::Concat)),
                "->" | "->>" => (
                    CONCAT,
                    Infix::Unsupported {
                        token: 0,
                        why: "SQLite's JSON operators are not translated",
                    },
                ),
                "*" => (MULTIPLICATIVE, Infix::Binary(B::Mul)),
                "/" => (MULTIPLICATIVE, Infix::Binary(B::Div)),
                "%" => (MULTIPLICATIVE, Infix::Binary(B::Mod)),
                "+" => (ADDITIVE, Infix::Binary(B::Add)),
                "-" => (ADDITIVE, Infix::Binary(B::Sub)),
                "&" | "|" | "<<" | ">>" => (
                    BITWISE,
                    Infix::Unsupported {
                        token: 0,
                        why: "bitwise operators are not translated",
                    },
                ),
                "<" => (COMPARISON, Infix::Binary(B::Lt)),
                "<=" => (COMPARISON, Infix::Binary(B::LtEq)),
                ">" => (COMPARISON, Infix::Binary(B::Gt)),
                ">=" => (COMPARISON, Infix::Binary(B::GtEq)),
                "=" | "==" => (EQUALITY, Infix::Binary(B::Eq)),
                "!=" | "<>" => (EQUALITY, Infix::Binary(B::NotEq)),
                _ => return None,
            },
            Tok::Word(w) => match w.to_ascii_uppercase().as_str() {
                "OR" => (OR, Infix::Binary(B::Or)),
                "AND" => (AND, Infix::Binary(B::And)),
                "IS" => (EQUALITY, Infix::Is),
                "ISNULL" => (
                    EQUALITY,
                    Infix::NullTest {
                        not: false,
                        tokens: 1,
                    },
                ),
                "NOTNULL" => (
                    EQUALITY,
                    Infix::NullTest {
                        not: true,
                        tokens: 1,
                    },
                ),
                "LIKE" => (EQUALITY, Infix::Like { negated: false }),
                "IN" => (EQUALITY, Infix::In { negated: false }),
                "BETWEEN" => (EQUALITY, Infix::Between { negated: false }),
                "GLOB" | "MATCH" | "REGEXP" => (EQUALITY, pattern_operator(0)),
                "NOT" => match &self.peek_nth(1)?.tok {
                    Tok::Word(next) => match next.to_ascii_uppercase().as_str() {
                        "NULL" => (
                            EQUALITY,
                            Infix::NullTest {
                                not: true,
                                tokens: 2,
                            },
                        ),
                        "LIKE" => (EQUALITY, Infix::Like { negated: true }),
                        "IN" => (EQUALITY, Infix::In { negated: true }),
                        "BETWEEN" => (EQUALITY, Infix::Between { negated: true }),
                        "GLOB" | "MATCH" | "REGEXP" => (EQUALITY, pattern_operator(1)),
                        _ => return None,
                    },
                    _ => return None,
                },
                "ESCAPE" => (
                    ESCAPE,
                    Infix::Unsupported {
                        token: 0,
                        why: "`LIKE ... ESCAPE` is not translated",
                    },
                ),
                "COLLATE" => (
                    COLLATE,
                    Infix::Unsupported {
                        token: 0,
                        why: "`COLLATE` is not translated (SQLite's collations are not \
                              PostgreSQL's)",
                    },
                ),
                _ => return None,
            },
            _ => return None,
        };
        Some(found)
    }

    fn parse_infix(&mut self, lhs: Expr, level: u8, infix: Infix) -> Result<Expr, ExprError> {
        let lhs = Box::new(lhs);
        match infix {
            Infix::Binary(op) => {
                self.pos += 1;
                let rhs = self.parse_bp(level + 1)?;
                Ok(Expr::Binary(op, lhs, Box::new(rhs)))
            }
            Infix::Is => {
                self.pos += 1;
                let negated = self.eat_kw("NOT");
                if self.peek_kw("DISTINCT") {
                    return Err(self.unsupported_here("`IS DISTINCT FROM` is not translated"));
                }
                let near = if negated { "IS NOT" } else { "IS" };
                let rhs = self.parse_bp(EQUALITY + 1)?;
                if rhs != Expr::Literal(Literal::Null) {
                    return Err(ExprError::UnsupportedSyntax {
                        near: near.to_string(),
                        why: "`IS` compares any two values in SQLite; only `IS NULL` and \
                              `IS NOT NULL` are translated",
                    });
                }
                let op = if negated {
                    UnaryOp::IsNotNull
                } else {
                    UnaryOp::IsNull
                };
                Ok(Expr::Unary(op, lhs))
            }
            Infix::NullTest { not, tokens } => {
                self.pos += tokens;
                let op = if not {
                    UnaryOp::IsNotNull
                } else {
                    UnaryOp::IsNull
                };
                Ok(Expr::Unary(op, lhs))
            }
            Infix::Like { negated } => {
                self.pos += 1 + usize::from(negated);
                let pattern = self.parse_bp(EQUALITY + 1)?;
                let op = like_operator(&pattern, negated)?;
                Ok(Expr::Binary(op, lhs, Box::new(pattern)))
            }
            Infix::In { negated } => {
                self.pos += 1 + usize::from(negated);
                let list = self.parse_in_list()?;
                Ok(Expr::InList {
                    expr: lhs,
                    list,
                    negated,
                })
            }
            Infix::Between { negated } => {
                self.pos += 1 + usize::from(negated);
                let low = self.parse_bp(EQUALITY)?;
                if !self.eat_kw("AND") {
                    return Err(self.unexpected("`AND` of `BETWEEN`"));
                }
                let high = self.parse_bp(EQUALITY + 1)?;
                Ok(Expr::Between {
                    expr: lhs,
                    low: Box::new(low),
                    high: Box::new(high),
                    negated,
                })
            }
            Infix::Unsupported { token, why } => Err(ExprError::UnsupportedSyntax {
                near: self.peek_nth(token).map_or("", |t| t.text).to_string(),
                why,
            }),
        }
    }

    fn parse_in_list(&mut self) -> Result<Vec<Expr>, ExprError> {
        if !self.eat_punct("(") {
            return Err(self
                .unsupported_here("`IN` with a table or table-valued function is not translated"));
        }
        if self.starts_subquery() {
            return Err(self.unsupported_here("subqueries are not translated"));
        }
        if self.peek_punct(")") {
            return Err(ExprError::UnsupportedSyntax {
                near: "()".to_string(),
                why: "an empty `IN` list is not valid in PostgreSQL",
            });
        }
        let mut list = vec![self.parse_bp(0)?];
        while self.eat_punct(",") {
            list.push(self.parse_bp(0)?);
        }
        self.expect_punct(")", "`,` or `)` in the `IN` list")?;
        Ok(list)
    }

    fn parse_prefix(&mut self) -> Result<Expr, ExprError> {
        let Some(token) = self.bump() else {
            return Err(ExprError::UnexpectedEnd {
                expected: "an expression",
            });
        };
        match &token.tok {
            Tok::Punct("-") => Ok(negate(self.parse_bp(PREFIX)?)),
            // Unary plus is a no-op on every value in SQLite.
            Tok::Punct("+") => self.parse_bp(PREFIX),
            Tok::Punct("~") => Err(ExprError::UnsupportedSyntax {
                near: "~".to_string(),
                why: "bitwise operators are not translated",
            }),
            Tok::Punct("(") => {
                if self.starts_subquery() {
                    return Err(self.unsupported_here("subqueries are not translated"));
                }
                let inner = self.parse_bp(0)?;
                if self.peek_punct(",") {
                    return Err(self.unsupported_here("row values are not translated"));
                }
                self.expect_punct(")", "`)`")?;
                Ok(inner)
            }
            Tok::Punct(_) => {
                self.pos -= 1;
                Err(self.unexpected("an expression"))
            }
            Tok::Int(n) => Ok(Expr::Literal(Literal::Integer(n.to_string()))),
            Tok::Real(text) => Ok(Expr::Literal(Literal::Decimal(text.clone()))),
            Tok::Str(s) => Ok(Expr::Literal(Literal::Text(s.clone()))),
            Tok::Blob(bytes) => Ok(Expr::Literal(Literal::Bytes(bytes.clone()))),
            Tok::Param => Err(ExprError::UnsupportedSyntax {
                near: token.text.to_string(),
                why: "bind parameters have no value here",
            }),
            Tok::Quoted { name, double } => self.identifier(name, *double),
            Tok::Word(word) => self.word(token, word),
        }
    }

    fn word(&mut self, token: &Token<'_>, word: &str) -> Result<Expr, ExprError> {
        let upper = word.to_ascii_uppercase();
        let unsupported = |why| {
            Err(ExprError::UnsupportedSyntax {
                near: token.text.to_string(),
                why,
            })
        };
        match upper.as_str() {
            "NULL" => Ok(Expr::Literal(Literal::Null)),
            // A column named `true` or `false` wins over the keyword in SQLite.
            "TRUE" | "FALSE" if self.column_named(word).is_none() => {
                Ok(Expr::Literal(Literal::Bool(upper == "TRUE")))
            }
            "NOT" => {
                if self.peek_kw("EXISTS") {
                    return Err(self.unsupported_here("subqueries are not translated"));
                }
                let operand = self.parse_bp(NOT)?;
                Ok(Expr::Unary(UnaryOp::Not, Box::new(operand)))
            }
            "CASE" => unsupported("`CASE` expressions are not translated"),
            "CAST" => unsupported("`CAST` follows SQLite's affinity rules and is not translated"),
            "EXISTS" | "SELECT" | "WITH" | "VALUES" => unsupported("subqueries are not translated"),
            "RAISE" => unsupported("`RAISE` is only valid in triggers"),
            "CURRENT_TIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME" => {
                unsupported("the current time is only translated as a column default")
            }
            _ if NOT_AN_OPERAND.contains(&upper.as_str()) => {
                self.pos -= 1;
                Err(self.unexpected("an expression"))
            }
            _ => self.identifier(word, false),
        }
    }

    /// An identifier in operand position: a function call, a qualified or a plain column.
    fn identifier(&mut self, name: &str, double_quoted: bool) -> Result<Expr, ExprError> {
        if self.eat_punct("(") {
            return self.function(name);
        }
        if self.peek_punct(".") {
            // `table.column` or `schema.table.column`: the column is the last part.
            let mut column = name.to_string();
            while self.eat_punct(".") {
                match self.peek().map(|t| &t.tok) {
                    Some(Tok::Word(w)) => column.clone_from(w),
                    Some(Tok::Quoted { name, .. }) => column.clone_from(name),
                    _ => return Err(self.unexpected("a column name after `.`")),
                }
                self.pos += 1;
            }
            return self.column(column, false);
        }
        self.column(name.to_string(), double_quoted)
    }

    fn column_named(&self, name: &str) -> Option<&'a str> {
        self.columns?
            .iter()
            .copied()
            .find(|c| c.eq_ignore_ascii_case(name))
    }

    fn column(&self, name: String, double_quoted: bool) -> Result<Expr, ExprError> {
        if self.columns.is_none() {
            return Ok(Expr::Column(name));
        }
        if let Some(declared) = self.column_named(&name) {
            return Ok(Expr::Column(declared.to_string()));
        }
        if double_quoted {
            // SQLite reads a double-quoted identifier that names no column as a string.
            return Ok(Expr::Literal(Literal::Text(name)));
        }
        if ["rowid", "oid", "_rowid_"]
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&name))
        {
            return Err(ExprError::RowId(name));
        }
        Err(ExprError::UnknownColumn(name))
    }

    /// A function call; the name and `(` are consumed.
    fn function(&mut self, name: &str) -> Result<Expr, ExprError> {
        let lower = name.to_ascii_lowercase();
        let mut args = Vec::new();
        if self.peek_punct("*") {
            return Err(self.unsupported_here("aggregate functions are not translated"));
        }
        if self.peek_kw("DISTINCT") || self.peek_kw("ALL") {
            return Err(self.unsupported_here("aggregate functions are not translated"));
        }
        if !self.eat_punct(")") {
            args.push(self.parse_bp(0)?);
            while self.eat_punct(",") {
                args.push(self.parse_bp(0)?);
            }
            self.expect_punct(")", "`,` or `)` in the argument list")?;
        }
        if self.peek_kw("FILTER") || self.peek_kw("OVER") {
            return Err(self.unsupported_here("aggregate and window functions are not translated"));
        }
        let (function, min, max) = match lower.as_str() {
            "lower" => (Function::Lower, 1, 1),
            "upper" => (Function::Upper, 1, 1),
            "length" => (Function::Length, 1, 1),
            "abs" => (Function::Abs, 1, 1),
            "coalesce" => (Function::Coalesce, 2, usize::MAX),
            "ifnull" => (Function::Coalesce, 2, 2),
            "trim" => (Function::Trim, 1, 2),
            "ltrim" => (Function::Ltrim, 1, 2),
            "rtrim" => (Function::Rtrim, 1, 2),
            "round" => (Function::Round, 1, 2),
            "substr" | "substring" => (Function::Substr, 2, 3),
            _ if NO_EQUIVALENT.contains(&lower.as_str()) => {
                return Err(ExprError::NoEquivalent { name: lower });
            }
            _ => return Err(ExprError::UntranslatedFunction { name: lower }),
        };
        if args.len() < min || args.len() > max {
            let takes = match (min, max) {
                (1, 1) => "1 argument".to_string(),
                (a, usize::MAX) => format!("at least {a} arguments"),
                (a, b) if a == b => format!("{a} arguments"),
                (a, b) => format!("{a} or {b} arguments"),
            };
            return Err(ExprError::FunctionCall {
                name: lower,
                why: format!("takes {takes}, got {}", args.len()),
            });
        }
        match function {
            Function::Round => {
                if let Some(places) = args.get(1) {
                    require_literal_at_least(
                        &lower,
                        places,
                        0,
                        "number of places",
                        "SQLite treats a negative count as 0 and PostgreSQL does not",
                    )?;
                }
            }
            Function::Substr => {
                require_literal_at_least(
                    &lower,
                    &args[1],
                    0,
                    "start",
                    "SQLite counts a negative start from the end and PostgreSQL does not",
                )?;
                if let Some(length) = args.get(2) {
                    require_literal_at_least(&lower, length, 0, "length", "SQLite takes the characters before the start for a negative length and PostgreSQL rejects it")?;
                }
            }
            _ => {}
        }
        Ok(Expr::Function(function, args))
    }
}

/// Accepts an argument only when it is an integer literal of at least `min`, where other
/// values behave differently in the two databases.
fn require_literal_at_least(
    function: &str,
    arg: &Expr,
    min: i64,
    what: &str,
    difference: &str,
) -> Result<(), ExprError> {
    let value = match arg {
        Expr::Literal(Literal::Integer(n)) => n.parse::<i64>().ok(),
        _ => None,
    };
    match value {
        Some(v) if v >= min => Ok(()),
        Some(v) => Err(ExprError::FunctionCall {
            name: function.to_string(),
            why: format!("with {what} {v}: {difference}"),
        }),
        None => Err(ExprError::FunctionCall {
            name: function.to_string(),
            why: format!(
                "with a {what} that is not an integer literal: {difference}, so only literals \
                 of at least {min} are translated"
            ),
        }),
    }
}

/// The PostgreSQL operator for SQLite's `LIKE` with this pattern.
///
/// SQLite's `LIKE` ignores the case of ASCII letters and matches every other character
/// exactly. A pattern without ASCII letters therefore means the same under PostgreSQL's `LIKE`,
/// and one whose only cased letters are ASCII means the same under `ILIKE`; a pattern with a
/// backslash does not, because PostgreSQL's `LIKE` reads it as an escape character.
fn like_operator(pattern: &Expr, negated: bool) -> Result<BinaryOp, ExprError> {
    let (sensitive, insensitive) = if negated {
        (BinaryOp::NotLike, BinaryOp::NotILike)
    } else {
        (BinaryOp::Like, BinaryOp::ILike)
    };
    let p = match pattern {
        Expr::Literal(Literal::Null) => return Ok(sensitive),
        Expr::Literal(Literal::Text(p)) => p,
        _ => return Err(ExprError::LikeNonLiteral),
    };
    if p.contains('\\') {
        return Err(ExprError::LikeBackslash {
            pattern: quote_text(p),
        });
    }
    let ascii_letters = p.bytes().any(|b| b.is_ascii_alphabetic());
    let other_cased = p.chars().any(|c| !c.is_ascii() && has_case(c));
    match (ascii_letters, other_cased) {
        (false, _) => Ok(sensitive),
        (true, false) => Ok(insensitive),
        (true, true) => Err(ExprError::LikeMixedCase {
            pattern: quote_text(p),
        }),
    }
}

fn has_case(c: char) -> bool {
    !c.to_lowercase().eq(std::iter::once(c)) || !c.to_uppercase().eq(std::iter::once(c))
}

/// `-x`, folded into numeric literals.
fn negate(expr: Expr) -> Expr {
    match expr {
        Expr::Literal(Literal::Integer(n)) => match n.parse::<i64>() {
            Ok(v) => match v.checked_neg() {
                Some(v) => Expr::Literal(Literal::Integer(v.to_string())),
                // -(-9223372036854775808) overflows into a REAL in SQLite.
                None => Expr::Literal(Literal::Decimal("9223372036854775808".to_string())),
            },
            Err(_) => Expr::Unary(UnaryOp::Neg, Box::new(Expr::Literal(Literal::Integer(n)))),
        },
        // SQLite reads `-9223372036854775808` as the smallest integer, not as a REAL.
        Expr::Literal(Literal::Decimal(d)) if d == "9223372036854775808" => {
            Expr::Literal(Literal::Integer(i64::MIN.to_string()))
        }
        Expr::Literal(Literal::Decimal(d)) => {
            Expr::Literal(Literal::Decimal(match d.strip_prefix('-') {
                Some(positive) => positive.to_string(),
                None => format!("-{d}"),
            }))
        }
        other => Expr::Unary(UnaryOp::Neg, Box::new(other)),
    }
}

fn pattern_operator(token: usize) -> Infix {
    Infix::Unsupported {
        token,
        why: "`GLOB`, `MATCH` and `REGEXP` have no PostgreSQL equivalent",
    }
}

fn quote_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

// ---------------------------------------------------------------------------------------------
// Defaults

/// Which current date or time a default asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Now {
    Timestamp,
    Date,
    Time,
}

fn strip_outer_parens<'t, 's>(mut tokens: &'t [Token<'s>]) -> &'t [Token<'s>] {
    while tokens.len() >= 2
        && tokens[0].tok == Tok::Punct("(")
        && tokens[tokens.len() - 1].tok == Tok::Punct(")")
    {
        // The first `(` must close at the very end, not earlier as in `(a) + (b)`.
        let mut depth = 0usize;
        let mut closes_at_end = true;
        for (i, t) in tokens.iter().enumerate() {
            match t.tok {
                Tok::Punct("(") => depth += 1,
                Tok::Punct(")") => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 && i != tokens.len() - 1 {
                        closes_at_end = false;
                        break;
                    }
                }
                _ => {}
            }
        }
        if !closes_at_end {
            break;
        }
        tokens = &tokens[1..tokens.len() - 1];
    }
    tokens
}

fn tokens_text<'s>(sql: &'s str, tokens: &[Token<'s>]) -> &'s str {
    match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => &sql[first.start..last.start + last.text.len()],
        _ => "",
    }
}

/// Recognizes SQLite's ways of writing "now": `None` when the default is something else,
/// `Err` with the reason when it asks for a current time PostgreSQL cannot give.
fn current_time_default(tokens: &[Token<'_>], written: &str) -> Option<Result<Now, String>> {
    if let [token] = tokens {
        return match &token.tok {
            Tok::Word(w) if w.eq_ignore_ascii_case("CURRENT_TIMESTAMP") => Some(Ok(Now::Timestamp)),
            Tok::Word(w) if w.eq_ignore_ascii_case("CURRENT_DATE") => Some(Ok(Now::Date)),
            Tok::Word(w) if w.eq_ignore_ascii_case("CURRENT_TIME") => Some(Ok(Now::Time)),
            _ => None,
        };
    }
    let (Tok::Word(name), Some(Tok::Punct("(")), Some(Tok::Punct(")"))) = (
        &tokens.first()?.tok,
        tokens.get(1).map(|t| &t.tok),
        tokens.last().map(|t| &t.tok),
    ) else {
        return None;
    };
    let name = name.to_ascii_lowercase();
    if ![
        "datetime",
        "date",
        "time",
        "strftime",
        "julianday",
        "unixepoch",
    ]
    .contains(&name.as_str())
    {
        return None;
    }
    // Only calls whose arguments are all string literals: `f('a', 'b')`.
    let inner = &tokens[2..tokens.len() - 1];
    let mut args = Vec::new();
    for (i, t) in inner.iter().enumerate() {
        match (&t.tok, i % 2) {
            (Tok::Str(s), 0) => args.push(s.as_str()),
            (Tok::Punct(","), 1) if i + 1 < inner.len() => {}
            _ => return None,
        }
    }
    let (now, value, modifiers) = match name.as_str() {
        "julianday" => {
            return Some(Err(
                "`julianday` gives the current time as a Julian day number, which has no \
                 neutral default form"
                    .to_string(),
            ))
        }
        "unixepoch" => return Some(Err(unix_time_reason())),
        "strftime" => {
            let Some((format, rest)) = args.split_first() else {
                return Some(Err(
                    "`strftime` without a format is not translated".to_string()
                ));
            };
            let now = match *format {
                "%s" => return Some(Err(unix_time_reason())),
                "%Y-%m-%d %H:%M:%S" | "%Y-%m-%d %H:%M:%f" | "%Y-%m-%dT%H:%M:%S"
                | "%Y-%m-%dT%H:%M:%f" | "%Y-%m-%dT%H:%M:%SZ" | "%Y-%m-%dT%H:%M:%fZ" => {
                    Now::Timestamp
                }
                "%Y-%m-%d" => Now::Date,
                "%H:%M:%S" | "%H:%M:%f" => Now::Time,
                other => {
                    return Some(Err(format!(
                        "`strftime` format `{}` is not translated",
                        quote_text(other)
                    )))
                }
            };
            (
                now,
                rest.first().copied(),
                rest.get(1..).unwrap_or_default(),
            )
        }
        _ => {
            let now = match name.as_str() {
                "datetime" => Now::Timestamp,
                "date" => Now::Date,
                _ => Now::Time,
            };
            (
                now,
                args.first().copied(),
                args.get(1..).unwrap_or_default(),
            )
        }
    };
    if let Some(v) = value {
        if !v.eq_ignore_ascii_case("now") {
            return Some(Err(format!(
                "`{name}` of the fixed time value `{}` is not translated",
                quote_text(v)
            )));
        }
    }
    if let Some(m) = modifiers.first() {
        let why = if m.trim().eq_ignore_ascii_case("localtime") {
            format!(
                "`{written}` is the current time in the time zone of whatever machine inserts \
                 the row, which PostgreSQL cannot know"
            )
        } else {
            format!(
                "`{name}` with the modifier `{}` is not translated",
                quote_text(m)
            )
        };
        return Some(Err(why));
    }
    Some(Ok(now))
}

fn unix_time_reason() -> String {
    "the current Unix time (seconds since 1970) has no neutral default form".to_string()
}

fn now_default(now: Now, written: &str, target: &DataType) -> DefaultTranslation {
    match (now, target) {
        (Now::Timestamp, DataType::Timestamp(_) | DataType::Timestamptz(_)) => {
            DefaultTranslation::Value(DefaultValue::CurrentTimestamp)
        }
        (Now::Date, DataType::Date) => DefaultTranslation::Value(DefaultValue::CurrentDate),
        (Now::Time, DataType::Time(_)) => DefaultTranslation::Value(DefaultValue::CurrentTime),
        (_, t) if t.is_textual() => DefaultTranslation::Unsupported(format!(
            "`{written}` stores the current UTC time as SQLite-formatted text; PostgreSQL's \
             current time converted to text has another format and time zone"
        )),
        (_, t) => {
            let what = match now {
                Now::Timestamp => "date and time",
                Now::Date => "date",
                Now::Time => "time of day",
            };
            DefaultTranslation::Unsupported(format!(
                "`{written}` (the current {what} as text) cannot be a default of {}",
                column_phrase(t)
            ))
        }
    }
}

fn has_decimal(expr: &Expr) -> bool {
    match expr {
        Expr::Literal(Literal::Decimal(_)) => true,
        Expr::Literal(_) | Expr::Column(_) => false,
        Expr::Unary(_, e) => has_decimal(e),
        Expr::Binary(_, l, r) => has_decimal(l) || has_decimal(r),
        Expr::Function(_, args) => args.iter().any(has_decimal),
        Expr::SubsetOf { expr, .. } => has_decimal(expr),
        Expr::InList { expr, list, .. } => has_decimal(expr) || list.iter().any(has_decimal),
        Expr::Between {
            expr, low, high, ..
        } => has_decimal(expr) || has_decimal(low) || has_decimal(high),
    }
}

/// A value as SQLite's numeric affinity sees it.
#[derive(Debug, Clone, PartialEq)]
enum Number {
    Int(i64),
    Real { value: f64, text: String },
}

impl Number {
    /// The integer SQLite stores for this value in an INTEGER or NUMERIC column, if any: a
    /// REAL is converted only when it is integral and small enough to be exact.
    fn as_stored_integer(&self) -> Option<i64> {
        const EXACT: f64 = 2_251_799_813_685_248.0; // 2^51, SQLite's bound
        match self {
            Number::Int(i) => Some(*i),
            Number::Real { value, .. } if value.fract() == 0.0 && value.abs() < EXACT => {
                Some(*value as i64)
            }
            Number::Real { .. } => None,
        }
    }
}

fn real(text: &str) -> Option<Number> {
    let value: f64 = text.parse().ok()?;
    value.is_finite().then(|| Number::Real {
        value,
        text: text.to_string(),
    })
}

/// Is `s` an unsigned decimal number as SQLite writes one (`12`, `1.5`, `.5`, `5.`, `1e3`)?
fn is_unsigned_decimal(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && all_digits(e)
        }
    };
    (!int.is_empty() || !frac.is_empty()) && all_digits(int) && all_digits(frac) && exponent_ok
}

/// The number SQLite's numeric affinity makes of a literal, if it makes one.
fn affinity_number(lit: &Literal) -> Option<Number> {
    match lit {
        Literal::Bool(b) => Some(Number::Int(i64::from(*b))),
        Literal::Bits(_) => None,
        Literal::Integer(n) => n.parse().ok().map(Number::Int),
        Literal::Decimal(d) => real(d),
        Literal::Text(s) => {
            let t = s.trim_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
            let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
            if !is_unsigned_decimal(unsigned) {
                return None;
            }
            let t = t.strip_prefix('+').unwrap_or(t);
            if unsigned.bytes().all(|b| b.is_ascii_digit()) {
                if let Ok(i) = t.parse() {
                    return Some(Number::Int(i));
                }
            }
            real(t)
        }
        Literal::Null | Literal::Bytes(_) => None,
    }
}

/// Digits of a decimal number's value: before the point, after it, and significant.
#[derive(Debug, Clone, Copy, PartialEq)]
struct DecimalShape {
    int_digits: i64,
    frac_digits: i64,
    significant: i64,
}

fn decimal_shape(text: &str) -> Option<DecimalShape> {
    let t = text.trim_start_matches(['+', '-']);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i64>().ok()?),
        None => (t, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let first = (digits.len() - digits.trim_start_matches('0').len()) as i64;
    let end = digits.trim_end_matches('0').len() as i64;
    if end <= first {
        return Some(DecimalShape {
            int_digits: 0,
            frac_digits: 0,
            significant: 0,
        });
    }
    let point = (int.len() as i64).saturating_add(exponent);
    Some(DecimalShape {
        int_digits: (point - first).max(0),
        frac_digits: (end - point).max(0),
        significant: end - first,
    })
}

fn sql_literal(lit: &Literal) -> String {
    match lit {
        Literal::Null => "NULL".to_string(),
        Literal::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Literal::Integer(n) | Literal::Decimal(n) => n.clone(),
        Literal::Text(s) => quote_text(s),
        Literal::Bits(b) => format!("B'{b}'"),
        Literal::Bytes(b) => format!(
            "X'{}'",
            b.iter().map(|x| format!("{x:02X}")).collect::<String>()
        ),
    }
}

fn literal_kind(lit: &Literal) -> &'static str {
    match lit {
        Literal::Null => "NULL",
        Literal::Bool(_) => "boolean",
        Literal::Integer(_) => "integer",
        Literal::Decimal(_) => "number",
        Literal::Text(_) => "text",
        Literal::Bytes(_) => "blob",
        Literal::Bits(_) => "bit string",
    }
}

fn column_phrase(t: &DataType) -> String {
    match t {
        DataType::Bool => "a boolean column".to_string(),
        DataType::Int2 | DataType::Int4 | DataType::Int8 => "an integer column".to_string(),
        DataType::Float4 | DataType::Float8 => "a floating-point column".to_string(),
        DataType::Numeric {
            precision: Some(p),
            scale,
        } => format!("a `numeric({p},{})` column", scale.unwrap_or(0)),
        DataType::Numeric { .. } => "a numeric column".to_string(),
        DataType::Text => "a text column".to_string(),
        DataType::Varchar(n) => format!("a `varchar({n})` column"),
        DataType::Char(n) => format!("a `char({n})` column"),
        DataType::Bytea => "a `bytea` column".to_string(),
        DataType::Date => "a date column".to_string(),
        DataType::Time(_) => "a time column".to_string(),
        DataType::Timestamp(_) => "a timestamp column".to_string(),
        DataType::Timestamptz(_) => "a `timestamptz` column".to_string(),
        DataType::Json => "a json column".to_string(),
        DataType::Jsonb => "a `jsonb` column".to_string(),
        DataType::Uuid => "a uuid column".to_string(),
        other => format!("a `{other}` column"),
    }
}

/// Checks a literal default against the target type, converting it as SQLite's affinity would
/// when it stores the default.
fn fit_literal(lit: Literal, target: &DataType) -> DefaultTranslation {
    use DefaultTranslation::{Unsupported, Value};
    if lit == Literal::Null {
        return Value(DefaultValue::Literal(Literal::Null));
    }
    let shown = format!("{} `{}`", literal_kind(&lit), sql_literal(&lit));
    let phrase = column_phrase(target);
    let cannot = |why: &str| Unsupported(format!("{shown} cannot be a default of {phrase}{why}"));
    let ok = |l: Literal| Value(DefaultValue::Literal(l));
    match target {
        DataType::Bool => match affinity_number(&lit).map(|n| n.as_stored_integer()) {
            Some(Some(i @ (0 | 1))) => ok(Literal::Bool(i == 1)),
            Some(_) => cannot(": only 0 and 1 are booleans"),
            None => cannot(""),
        },
        DataType::Int2 | DataType::Int4 | DataType::Int8 => {
            let Some(number) = affinity_number(&lit) else {
                return cannot("");
            };
            let Some(i) = number.as_stored_integer() else {
                return cannot(
                    ": SQLite stores it as a floating-point value, which PostgreSQL would round \
                     or reject",
                );
            };
            let (min, max, name) = match target {
                DataType::Int2 => (i64::from(i16::MIN), i64::from(i16::MAX), "smallint"),
                DataType::Int4 => (i64::from(i32::MIN), i64::from(i32::MAX), "integer"),
                _ => (i64::MIN, i64::MAX, "bigint"),
            };
            if i < min || i > max {
                return Unsupported(format!("{shown} is out of range for PostgreSQL's `{name}`"));
            }
            ok(Literal::Integer(i.to_string()))
        }
        DataType::Float4 | DataType::Float8 => match affinity_number(&lit) {
            Some(Number::Int(i)) => ok(Literal::Integer(i.to_string())),
            Some(Number::Real { text, .. }) => ok(Literal::Decimal(text)),
            None => cannot(""),
        },
        DataType::Numeric { precision, scale } => {
            let Some(number) = affinity_number(&lit) else {
                return cannot("");
            };
            let (literal, text) = match (number.as_stored_integer(), number) {
                (Some(i), _) | (None, Number::Int(i)) => {
                    (Literal::Integer(i.to_string()), i.to_string())
                }
                (None, Number::Real { text, .. }) => (Literal::Decimal(text.clone()), text),
            };
            let Some(shape) = decimal_shape(&text) else {
                return cannot("");
            };
            if matches!(literal, Literal::Decimal(_)) && shape.significant > 15 {
                return cannot(
                    ": SQLite stores it as a floating-point value with fewer significant digits",
                );
            }
            if let Some(p) = precision {
                let s = i64::from(scale.unwrap_or(0));
                if shape.frac_digits > s {
                    return cannot(": it has more decimal places than the column, so PostgreSQL would round it");
                }
                if shape.int_digits > i64::from(*p) - s {
                    return cannot(": it has more digits than the column allows");
                }
            }
            ok(literal)
        }
        DataType::Text | DataType::Varchar(_) | DataType::Char(_) => {
            let text = match &lit {
                Literal::Text(s) => s.clone(),
                Literal::Integer(_) | Literal::Bool(_) => match affinity_number(&lit) {
                    Some(Number::Int(i)) => i.to_string(),
                    _ => return cannot(""),
                },
                Literal::Decimal(_) => {
                    return cannot(
                        ": SQLite stores its own text rendering of the floating-point value",
                    )
                }
                _ => return cannot(""),
            };
            if let DataType::Varchar(n) | DataType::Char(n) = target {
                if text.chars().count() > *n as usize {
                    return Unsupported(format!("{shown} is longer than {phrase} allows"));
                }
            }
            ok(Literal::Text(text))
        }
        DataType::Bytea => match lit {
            Literal::Bytes(b) => ok(Literal::Bytes(b)),
            _ => cannot(": SQLite stores it as it is, not as bytes"),
        },
        DataType::Date | DataType::Time(_) | DataType::Timestamp(_) | DataType::Timestamptz(_) => {
            let Literal::Text(s) = &lit else {
                return cannot(": SQLite stores the value itself, not a date or time");
            };
            let (body, zone) = split_zone(s);
            let (valid, form) = match target {
                DataType::Date => (is_date(s), "YYYY-MM-DD"),
                DataType::Time(_) => (is_time(s), "HH:MM:SS"),
                DataType::Timestamp(_) if zone.is_some() && is_timestamp(body) => {
                    return Unsupported(format!(
                        "{shown} has a time zone offset, which {phrase} would silently drop"
                    ));
                }
                DataType::Timestamp(_) => (is_timestamp(s), "YYYY-MM-DD HH:MM:SS"),
                _ if zone.is_none() && is_timestamp(s) => {
                    return Unsupported(format!(
                        "{shown} has no time zone offset, so as a default of {phrase} its \
                         meaning would depend on the session time zone"
                    ));
                }
                _ => (
                    zone.is_some() && is_timestamp(body),
                    "YYYY-MM-DD HH:MM:SS+HH:MM",
                ),
            };
            if valid {
                ok(lit)
            } else {
                cannot(&format!(": it is not of the form `{form}`"))
            }
        }
        DataType::Json | DataType::Jsonb => match &lit {
            Literal::Text(s) if is_json(s, matches!(target, DataType::Jsonb)) => ok(lit),
            Literal::Text(_) => cannot(": it is not valid JSON"),
            _ => cannot(""),
        },
        DataType::Uuid => match &lit {
            Literal::Text(s) if is_uuid(s) => ok(lit),
            _ => cannot(""),
        },
        // Types SQLite columns never map to.
        _ => cannot(""),
    }
}

fn two_digits(s: &str) -> Option<u32> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !s.is_ascii() {
        return false;
    }
    let (Ok(year), Some(month), Some(day)) = (
        s[..4].parse::<u32>(),
        two_digits(&s[5..7]),
        two_digits(&s[8..10]),
    ) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    s[..4].bytes().all(|b| b.is_ascii_digit()) && year >= 1 && (1..=days).contains(&day)
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`, as SQLite's date functions write times.
fn is_time(s: &str) -> bool {
    if !s.is_ascii() {
        return false;
    }
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    if s.contains('.') && (frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let parts: Vec<&str> = hms.split(':').collect();
    let ok = |i: usize, max: u32| {
        parts
            .get(i)
            .and_then(|p| two_digits(p))
            .is_some_and(|v| v < max)
    };
    match parts.len() {
        2 => frac.is_empty() && ok(0, 24) && ok(1, 60),
        3 => ok(0, 24) && ok(1, 60) && ok(2, 60),
        _ => false,
    }
}

fn is_timestamp(s: &str) -> bool {
    if s.len() == 10 {
        return is_date(s);
    }
    s.is_ascii()
        && s.len() > 11
        && is_date(&s[..10])
        && matches!(s.as_bytes()[10], b' ' | b'T')
        && is_time(&s[11..])
}

/// Splits a trailing `Z` or `+HH:MM` / `-HH:MM` offset off a timestamp.
fn split_zone(s: &str) -> (&str, Option<&str>) {
    if !s.is_ascii() || s.len() <= 10 {
        return (s, None);
    }
    if let Some(body) = s.strip_suffix(['Z', 'z']) {
        return (body, Some(&s[body.len()..]));
    }
    if s.len() > 16 {
        let (body, zone) = s.split_at(s.len() - 6);
        let z = zone.as_bytes();
        if matches!(z[0], b'+' | b'-')
            && z[3] == b':'
            && two_digits(&zone[1..3]).is_some_and(|h| h < 24)
            && two_digits(&zone[4..6]).is_some_and(|m| m < 60)
        {
            return (body, Some(zone));
        }
    }
    (s, None)
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Is `s` a JSON text PostgreSQL's `json` (or `jsonb`) input accepts?
fn is_json(s: &str, jsonb: bool) -> bool {
    let mut reader = JsonReader {
        b: s.as_bytes(),
        i: 0,
        jsonb,
    };
    reader.value(0) && {
        reader.ws();
        reader.i == reader.b.len()
    }
}

struct JsonReader<'a> {
    b: &'a [u8],
    i: usize,
    jsonb: bool,
}

impl JsonReader<'_> {
    const MAX_DEPTH: usize = 256;

    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        let found = self.b.get(self.i) == Some(&c);
        if found {
            self.i += 1;
        }
        found
    }

    fn value(&mut self, depth: usize) -> bool {
        if depth > Self::MAX_DEPTH {
            return false;
        }
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                if self.eat(b'}') {
                    return true;
                }
                loop {
                    self.ws();
                    if !(self.string() && self.eat(b':') && self.value(depth + 1)) {
                        return false;
                    }
                    if self.eat(b'}') {
                        return true;
                    }
                    if !self.eat(b',') {
                        return false;
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                if self.eat(b']') {
                    return true;
                }
                loop {
                    if !self.value(depth + 1) {
                        return false;
                    }
                    if self.eat(b']') {
                        return true;
                    }
                    if !self.eat(b',') {
                        return false;
                    }
                }
            }
            Some(b'"') => self.string(),
            Some(b't') => self.word(b"true"),
            Some(b'f') => self.word(b"false"),
            Some(b'n') => self.word(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => false,
        }
    }

    fn word(&mut self, w: &[u8]) -> bool {
        let found = self.b[self.i..].starts_with(w);
        self.i += w.len();
        found
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> bool {
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        if self.b.get(self.i) == Some(&b'0') {
            self.i += 1;
        } else if self.digits() == 0 {
            return false;
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return false;
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return false;
            }
        }
        true
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        self.i += 4;
        Some(v)
    }

    fn string(&mut self) -> bool {
        if self.b.get(self.i) != Some(&b'"') {
            return false;
        }
        self.i += 1;
        loop {
            match self.b.get(self.i) {
                None => return false,
                Some(b'"') => {
                    self.i += 1;
                    return true;
                }
                Some(c) if *c < 0x20 => return false,
                Some(b'\\') => {
                    self.i += 1;
                    match self.b.get(self.i) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            self.i += 1;
                            let Some(v) = self.hex4() else { return false };
                            if v == 0 && self.jsonb {
                                return false;
                            }
                            if (0xDC00..0xE000).contains(&v) {
                                return false;
                            }
                            if (0xD800..0xDC00).contains(&v) {
                                let low = if self.b[self.i..].starts_with(b"\\u") {
                                    self.i += 2;
                                    self.hex4()
                                } else {
                                    None
                                };
                                if !low.is_some_and(|l| (0xDC00..0xE000).contains(&l)) {
                                    return false;
                                }
                            }
                        }
                        _ => return false,
                    }
                }
                Some(_) => self.i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BinaryOp as B;

    fn col(name: &str) -> Expr {
        Expr::Column(name.to_string())
    }
    fn int(n: &str) -> Expr {
        Expr::Literal(Literal::Integer(n.to_string()))
    }
    fn dec(n: &str) -> Expr {
        Expr::Literal(Literal::Decimal(n.to_string()))
    }
    fn text(s: &str) -> Expr {
        Expr::Literal(Literal::Text(s.to_string()))
    }
    fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
        Expr::Binary(op, Box::new(l), Box::new(r))
    }
    fn un(op: UnaryOp, e: Expr) -> Expr {
        Expr::Unary(op, Box::new(e))
    }
    fn func(f: Function, args: Vec<Expr>) -> Expr {
        Expr::Function(f, args)
    }
    fn parse(sql: &str) -> Expr {
        match parse_expr(sql) {
            Ok(e) => e,
            Err(e) => panic!("`{sql}` did not parse: {e}"),
        }
    }
    fn err(sql: &str) -> String {
        match parse_expr(sql) {
            Ok(e) => panic!("`{sql}` parsed as {e:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn identifiers_in_every_quoting() {
        assert_eq!(parse("price"), col("price"));
        assert_eq!(parse(r#""my ""odd"" col""#), col(r#"my "odd" col"#));
        assert_eq!(parse("`back``tick`"), col("back`tick"));
        assert_eq!(parse("[br acket]"), col("br acket"));
        assert_eq!(parse("t.price"), col("price"));
        assert_eq!(parse(r#"main."t"."Price""#), col("Price"));
        assert_eq!(parse("prix_€"), col("prix_€"));
    }

    #[test]
    fn literals() {
        assert_eq!(parse("42"), int("42"));
        assert_eq!(parse("007"), int("7"));
        assert_eq!(parse("1_000"), int("1000"));
        assert_eq!(parse("0x1F"), int("31"));
        assert_eq!(parse("0xffffffffffffffff"), int("-1"));
        assert_eq!(parse("0x7FFFFFFFFFFFFFFF"), int("9223372036854775807"));
        assert_eq!(parse("1.5"), dec("1.5"));
        assert_eq!(parse(".5"), dec(".5"));
        assert_eq!(parse("5."), dec("5."));
        assert_eq!(parse("1e3"), dec("1e3"));
        assert_eq!(parse("2.5E-3"), dec("2.5E-3"));
        // Too big for 64 bits: SQLite reads it as a REAL.
        assert_eq!(parse("9223372036854775808"), dec("9223372036854775808"));
        assert_eq!(parse("-9223372036854775808"), int("-9223372036854775808"));
        assert_eq!(parse("'it''s'"), text("it's"));
        assert_eq!(parse("''"), text(""));
        assert_eq!(
            parse("X'00fF'"),
            Expr::Literal(Literal::Bytes(vec![0x00, 0xff]))
        );
        assert_eq!(parse("x''"), Expr::Literal(Literal::Bytes(vec![])));
        assert_eq!(parse("NULL"), Expr::Literal(Literal::Null));
        assert_eq!(parse("true"), Expr::Literal(Literal::Bool(true)));
        assert_eq!(parse("False"), Expr::Literal(Literal::Bool(false)));
    }

    #[test]
    fn negative_numbers_fold_and_other_negations_stay() {
        assert_eq!(parse("-5"), int("-5"));
        assert_eq!(parse("- -5"), int("5"));
        assert_eq!(parse("-1.5"), dec("-1.5"));
        assert_eq!(parse("-(-1.5)"), dec("1.5"));
        assert_eq!(parse("+7"), int("7"));
        assert_eq!(parse("-a"), un(UnaryOp::Neg, col("a")));
        assert_eq!(parse("+a"), col("a"));
        assert_eq!(parse("-0x8000000000000000"), dec("9223372036854775808"));
    }

    #[test]
    fn comments_and_whitespace_are_skipped() {
        assert_eq!(
            parse("a /* why */ >\n-- note\n 0"),
            bin(B::Gt, col("a"), int("0"))
        );
    }

    #[test]
    fn all_binary_operators() {
        let cases = [
            ("a || b", B::Concat),
            ("a * b", B::Mul),
            ("a / b", B::Div),
            ("a % b", B::Mod),
            ("a + b", B::Add),
            ("a - b", B::Sub),
            ("a < b", B::Lt),
            ("a <= b", B::LtEq),
            ("a > b", B::Gt),
            ("a >= b", B::GtEq),
            ("a = b", B::Eq),
            ("a == b", B::Eq),
            ("a != b", B::NotEq),
            ("a <> b", B::NotEq),
            ("a AND b", B::And),
            ("a or b", B::Or),
        ];
        for (sql, op) in cases {
            assert_eq!(parse(sql), bin(op, col("a"), col("b")), "{sql}");
        }
        assert_eq!(parse("a-1"), bin(B::Sub, col("a"), int("1")));
    }

    #[test]
    fn precedence_follows_sqlite() {
        // `||` binds tighter than `*`.
        assert_eq!(
            parse("a * b || c"),
            bin(B::Mul, col("a"), bin(B::Concat, col("b"), col("c")))
        );
        assert_eq!(
            parse("a + b * c - d"),
            bin(
                B::Sub,
                bin(B::Add, col("a"), bin(B::Mul, col("b"), col("c"))),
                col("d")
            )
        );
        // `<` binds tighter than `=`.
        assert_eq!(
            parse("a = b < c"),
            bin(B::Eq, col("a"), bin(B::Lt, col("b"), col("c")))
        );
        // NOT is weaker than comparisons, stronger than AND.
        assert_eq!(
            parse("NOT a = b AND c"),
            bin(
                B::And,
                un(UnaryOp::Not, bin(B::Eq, col("a"), col("b"))),
                col("c")
            )
        );
        assert_eq!(
            parse("a OR b AND c"),
            bin(B::Or, col("a"), bin(B::And, col("b"), col("c")))
        );
        // Left associativity.
        assert_eq!(
            parse("a - b - c"),
            bin(B::Sub, bin(B::Sub, col("a"), col("b")), col("c"))
        );
        // Unary minus binds tighter than `||`.
        assert_eq!(
            parse("-a || b"),
            bin(B::Concat, un(UnaryOp::Neg, col("a")), col("b"))
        );
        assert_eq!(
            parse("(a + b) * c"),
            bin(B::Mul, bin(B::Add, col("a"), col("b")), col("c"))
        );
        // Null tests share the equality level: `a = b IS NULL` is `(a = b) IS NULL`.
        assert_eq!(
            parse("a = b IS NULL"),
            un(UnaryOp::IsNull, bin(B::Eq, col("a"), col("b")))
        );
    }

    #[test]
    fn null_tests() {
        for sql in ["a IS NULL", "a ISNULL", "a is null"] {
            assert_eq!(parse(sql), un(UnaryOp::IsNull, col("a")), "{sql}");
        }
        for sql in ["a IS NOT NULL", "a NOTNULL", "a NOT NULL"] {
            assert_eq!(parse(sql), un(UnaryOp::IsNotNull, col("a")), "{sql}");
        }
        assert_eq!(
            parse("a + 1 IS NOT NULL AND b ISNULL"),
            bin(
                B::And,
                un(UnaryOp::IsNotNull, bin(B::Add, col("a"), int("1"))),
                un(UnaryOp::IsNull, col("b"))
            )
        );
    }

    #[test]
    fn like_in_between() {
        assert_eq!(parse("a LIKE '%@%'"), bin(B::Like, col("a"), text("%@%")));
        assert_eq!(
            parse("a NOT LIKE '___-__'"),
            bin(B::NotLike, col("a"), text("___-__"))
        );
        assert_eq!(
            parse("a IN (1, 2, 'x')"),
            Expr::InList {
                expr: Box::new(col("a")),
                list: vec![int("1"), int("2"), text("x")],
                negated: false
            }
        );
        assert_eq!(
            parse("a NOT IN (1)"),
            Expr::InList {
                expr: Box::new(col("a")),
                list: vec![int("1")],
                negated: true
            }
        );
        assert_eq!(
            parse("a BETWEEN 1 AND b + 2 AND c"),
            bin(
                B::And,
                Expr::Between {
                    expr: Box::new(col("a")),
                    low: Box::new(int("1")),
                    high: Box::new(bin(B::Add, col("b"), int("2"))),
                    negated: false
                },
                col("c")
            )
        );
        assert_eq!(
            parse("a NOT BETWEEN -1 AND 1"),
            Expr::Between {
                expr: Box::new(col("a")),
                low: Box::new(int("-1")),
                high: Box::new(int("1")),
                negated: true
            }
        );
    }

    #[test]
    fn functions() {
        assert_eq!(
            parse("lower(name)"),
            func(Function::Lower, vec![col("name")])
        );
        assert_eq!(
            parse("UPPER(name)"),
            func(Function::Upper, vec![col("name")])
        );
        assert_eq!(
            parse("length(name)"),
            func(Function::Length, vec![col("name")])
        );
        assert_eq!(parse("abs(x)"), func(Function::Abs, vec![col("x")]));
        assert_eq!(
            parse("coalesce(a, b, 0)"),
            func(Function::Coalesce, vec![col("a"), col("b"), int("0")])
        );
        assert_eq!(
            parse("ifnull(a, 0)"),
            func(Function::Coalesce, vec![col("a"), int("0")])
        );
        assert_eq!(parse("trim(a)"), func(Function::Trim, vec![col("a")]));
        assert_eq!(
            parse("ltrim(a, 'x')"),
            func(Function::Ltrim, vec![col("a"), text("x")])
        );
        assert_eq!(parse("rtrim(a)"), func(Function::Rtrim, vec![col("a")]));
        assert_eq!(parse("round(a)"), func(Function::Round, vec![col("a")]));
        assert_eq!(
            parse("round(a, 2)"),
            func(Function::Round, vec![col("a"), int("2")])
        );
        assert_eq!(
            parse("substr(a, 1, 3)"),
            func(Function::Substr, vec![col("a"), int("1"), int("3")])
        );
        assert_eq!(
            parse("substring(a, 2)"),
            func(Function::Substr, vec![col("a"), int("2")])
        );
    }

    #[test]
    fn unsupported_constructs_are_named() {
        let cases = [
            ("CASE WHEN a THEN 1 END", "unsupported syntax near `CASE`: `CASE` expressions are not translated"),
            ("CAST(a AS TEXT)", "unsupported syntax near `CAST`: `CAST` follows SQLite's affinity rules and is not translated"),
            ("julianday(a)", "function `julianday` has no PostgreSQL equivalent"),
            ("datetime(a, 'utc')", "function `datetime` has no PostgreSQL equivalent"),
            ("json_extract(a, '$.x')", "function `json_extract` is not translated (barge translates lower, upper, length, abs, coalesce, ifnull, trim, ltrim, rtrim, round and substr)"),
            ("replace(a, 'x', 'y')", "function `replace` is not translated (barge translates lower, upper, length, abs, coalesce, ifnull, trim, ltrim, rtrim, round and substr)"),
            ("a GLOB 'x*'", "unsupported syntax near `GLOB`: `GLOB`, `MATCH` and `REGEXP` have no PostgreSQL equivalent"),
            ("a NOT REGEXP 'x'", "unsupported syntax near `REGEXP`: `GLOB`, `MATCH` and `REGEXP` have no PostgreSQL equivalent"),
            ("a ->> '$.x'", "unsupported syntax near `->>`: SQLite's JSON operators are not translated"),
            ("a -> '$.x'", "unsupported syntax near `->`: SQLite's JSON operators are not translated"),
            ("a COLLATE NOCASE = 'x'", "unsupported syntax near `COLLATE`: `COLLATE` is not translated (SQLite's collations are not PostgreSQL's)"),
            ("a LIKE '%' ESCAPE '!'", "unsupported syntax near `ESCAPE`: `LIKE ... ESCAPE` is not translated"),
            ("a IN (SELECT b FROM t)", "unsupported syntax near `SELECT`: subqueries are not translated"),
            ("(SELECT 1)", "unsupported syntax near `SELECT`: subqueries are not translated"),
            ("EXISTS (SELECT 1)", "unsupported syntax near `EXISTS`: subqueries are not translated"),
            ("NOT EXISTS (SELECT 1)", "unsupported syntax near `EXISTS`: subqueries are not translated"),
            ("a IN t", "unsupported syntax near `t`: `IN` with a table or table-valued function is not translated"),
            ("a IN ()", "unsupported syntax near `()`: an empty `IN` list is not valid in PostgreSQL"),
            ("(a, b) = (1, 2)", "unsupported syntax near `,`: row values are not translated"),
            ("a & 1", "unsupported syntax near `&`: bitwise operators are not translated"),
            ("a << 1", "unsupported syntax near `<<`: bitwise operators are not translated"),
            ("~a", "unsupported syntax near `~`: bitwise operators are not translated"),
            ("a IS 1", "unsupported syntax near `IS`: `IS` compares any two values in SQLite; only `IS NULL` and `IS NOT NULL` are translated"),
            ("a IS NOT b", "unsupported syntax near `IS NOT`: `IS` compares any two values in SQLite; only `IS NULL` and `IS NOT NULL` are translated"),
            ("a IS NULL + 1", "unsupported syntax near `IS`: `IS` compares any two values in SQLite; only `IS NULL` and `IS NOT NULL` are translated"),
            ("a IS DISTINCT FROM b", "unsupported syntax near `DISTINCT`: `IS DISTINCT FROM` is not translated"),
            ("a = ?", "unsupported syntax near `?`: bind parameters have no value here"),
            ("a = :x", "unsupported syntax near `:x`: bind parameters have no value here"),
            ("count(*)", "unsupported syntax near `*`: aggregate functions are not translated"),
            ("max(DISTINCT a)", "unsupported syntax near `DISTINCT`: aggregate functions are not translated"),
            ("sum(a) OVER ()", "unsupported syntax near `OVER`: aggregate and window functions are not translated"),
            ("CURRENT_TIMESTAMP", "unsupported syntax near `CURRENT_TIMESTAMP`: the current time is only translated as a column default"),
            ("RAISE(ABORT, 'x')", "unsupported syntax near `RAISE`: `RAISE` is only valid in triggers"),
            ("1e999", "unsupported syntax near `1e999`: SQLite reads this number as infinity"),
        ];
        for (sql, message) in cases {
            assert_eq!(err(sql), message, "{sql}");
        }
    }

    #[test]
    fn like_keeps_sqlite_case_rules_or_is_refused() {
        // ASCII letters match in any case in SQLite: ILIKE.
        assert_eq!(
            parse("a LIKE 'abc%'"),
            bin(B::ILike, col("a"), text("abc%"))
        );
        assert_eq!(
            parse("a NOT LIKE 'It''s € %'"),
            bin(B::NotILike, col("a"), text("It's € %"))
        );
        // Other letters match exactly in both: LIKE.
        assert_eq!(parse("a LIKE 'é%'"), bin(B::Like, col("a"), text("é%")));
        assert_eq!(parse("a LIKE '%@_%'"), bin(B::Like, col("a"), text("%@_%")));
        assert_eq!(
            parse("a LIKE NULL"),
            bin(B::Like, col("a"), Expr::Literal(Literal::Null))
        );
        assert_eq!(
            err("a LIKE 'Ab_é%'"),
            "`LIKE` pattern `'Ab_é%'` has both ASCII letters, which SQLite's `LIKE` matches in \
             any case, and other letters, which it matches exactly; PostgreSQL has no operator \
             that does both"
        );
        assert_eq!(
            err(r"a LIKE '%\_%'"),
            r"`LIKE` pattern `'%\_%'` has a backslash, which PostgreSQL's `LIKE` reads as an escape character and SQLite's does not"
        );
        assert_eq!(
            err("a LIKE b"),
            "`LIKE` pattern is not a string literal: SQLite's `LIKE` ignores the case of ASCII \
             letters only, which PostgreSQL can match only for a known pattern"
        );
        assert_eq!(
            err("a LIKE 'a' || 'b'"),
            "`LIKE` pattern is not a string literal: SQLite's `LIKE` ignores the case of ASCII \
             letters only, which PostgreSQL can match only for a known pattern"
        );
    }

    #[test]
    fn function_arguments_that_behave_differently_are_refused() {
        let cases = [
            ("substr(a, -3)", "function `substr` with start -3: SQLite counts a negative start from the end and PostgreSQL does not"),
            ("substr(a, b)", "function `substr` with a start that is not an integer literal: SQLite counts a negative start from the end and PostgreSQL does not, so only literals of at least 0 are translated"),
            ("substr(a, 1, -2)", "function `substr` with length -2: SQLite takes the characters before the start for a negative length and PostgreSQL rejects it"),
            ("round(a, -1)", "function `round` with number of places -1: SQLite treats a negative count as 0 and PostgreSQL does not"),
            ("round(a, b)", "function `round` with a number of places that is not an integer literal: SQLite treats a negative count as 0 and PostgreSQL does not, so only literals of at least 0 are translated"),
            ("lower()", "function `lower` takes 1 argument, got 0"),
            ("lower(a, b)", "function `lower` takes 1 argument, got 2"),
            ("coalesce(a)", "function `coalesce` takes at least 2 arguments, got 1"),
            ("ifnull(a, b, c)", "function `ifnull` takes 2 arguments, got 3"),
            ("trim(a, 'x', 'y')", "function `trim` takes 1 or 2 arguments, got 3"),
            ("substr(a)", "function `substr` takes 2 or 3 arguments, got 1"),
        ];
        for (sql, message) in cases {
            assert_eq!(err(sql), message, "{sql}");
        }
    }

    #[test]
    fn syntax_errors() {
        let cases = [
            ("", "the expression is empty"),
            ("  -- only a comment", "the expression is empty"),
            (
                "a +",
                "unexpected end of expression: expected an expression",
            ),
            (
                "a b",
                "unexpected `b`: expected an operator or the end of the expression",
            ),
            ("(a", "unexpected end of expression: expected `)`"),
            (
                "a)",
                "unexpected `)`: expected an operator or the end of the expression",
            ),
            ("'abc", "unterminated string literal: `'abc`"),
            ("\"abc", "unterminated quoted identifier: `\"abc`"),
            ("[abc", "unterminated bracketed identifier: `[abc`"),
            ("X'0'", "unrecognized token `X'0'`"),
            ("X'zz'", "unrecognized token `X'zz'`"),
            ("12abc", "unrecognized token `12abc`"),
            ("1e", "unrecognized token `1e`"),
            ("0x1g", "unrecognized token `0x1g`"),
            (
                "0x10000000000000000",
                "hex literal `0x10000000000000000` is too big for 64 bits",
            ),
            ("a ! b", "unrecognized token `!`"),
            ("a # b", "unrecognized token `#`"),
            (
                "a BETWEEN 1",
                "unexpected end of expression: expected `AND` of `BETWEEN`",
            ),
            (
                "a IN (1 2)",
                "unexpected `2`: expected `,` or `)` in the `IN` list",
            ),
            ("AND a", "unexpected `AND`: expected an expression"),
            ("a = )", "unexpected `)`: expected an expression"),
            (
                "t.",
                "unexpected end of expression: expected a column name after `.`",
            ),
            (
                "a; DROP TABLE t",
                "unexpected `;`: expected an operator or the end of the expression",
            ),
        ];
        for (sql, message) in cases {
            assert_eq!(err(sql), message, "{sql}");
        }
    }

    #[test]
    fn table_columns_resolve_like_sqlite() {
        let columns = ["Name", "qty", "true"];
        let parse_t = |sql: &str| parse_expr_for_table(sql, Some(&columns));
        // Case-insensitive, to the declared name.
        assert_eq!(
            parse_t("name = 'x'"),
            Ok(bin(B::Eq, col("Name"), text("x")))
        );
        assert_eq!(parse_t("\"QTY\" > 0"), Ok(bin(B::Gt, col("qty"), int("0"))));
        assert_eq!(
            parse_t("t.NAME IS NULL"),
            Ok(un(UnaryOp::IsNull, col("Name")))
        );
        // A double-quoted identifier that names no column is a string in SQLite.
        assert_eq!(
            parse_t("name <> \"unknown\""),
            Ok(bin(B::NotEq, col("Name"), text("unknown")))
        );
        // A column named `true` wins over the keyword; `false` is still the keyword.
        assert_eq!(parse_t("true"), Ok(col("true")));
        assert_eq!(parse_t("false"), Ok(Expr::Literal(Literal::Bool(false))));
        assert_eq!(
            parse_t("price > 0").map_err(|e| e.to_string()),
            Err("`price` is not a column of the table".to_string())
        );
        assert_eq!(
            parse_t("[price] > 0").map_err(|e| e.to_string()),
            Err("`price` is not a column of the table".to_string())
        );
        assert_eq!(
            parse_t("t.\"price\" > 0").map_err(|e| e.to_string()),
            Err("`price` is not a column of the table".to_string())
        );
        assert_eq!(
            parse_t("rowid > 0").map_err(|e| e.to_string()),
            Err("`rowid` is SQLite's row id, which has no PostgreSQL equivalent".to_string())
        );
        assert_eq!(
            parse_expr_for_table("rowid > 0", Some(&["rowid"])),
            Ok(bin(B::Gt, col("rowid"), int("0")))
        );
        assert_eq!(parse_expr_for_table("\"x\"", None), Ok(col("x")));
    }

    #[test]
    fn columns_of_a_parsed_expression() {
        let e = parse("coalesce(a, b) > 0 AND lower(a) IN ('x', c)");
        assert_eq!(e.columns(), vec!["a", "b", "c"]);
    }

    /// Renders a tree back to SQLite with every operation parenthesized.
    fn to_sqlite(e: &Expr) -> String {
        match e {
            Expr::Column(c) => format!("\"{}\"", c.replace('"', "\"\"")),
            Expr::Literal(l) => format!("({})", sql_literal(l)),
            Expr::Unary(op, x) => match op {
                UnaryOp::Not => format!("(NOT {})", to_sqlite(x)),
                UnaryOp::Neg => format!("(- {})", to_sqlite(x)),
                UnaryOp::IsNull => format!("({} IS NULL)", to_sqlite(x)),
                UnaryOp::IsNotNull => format!("({} IS NOT NULL)", to_sqlite(x)),
            },
            Expr::Binary(op, l, r) => {
                let op = match op {
                    B::Eq => "=",
                    B::NotEq => "<>",
                    B::Lt => "<",
                    B::LtEq => "<=",
                    B::Gt => ">",
                    B::GtEq => ">=",
                    B::And => "AND",
                    B::Or => "OR",
                    B::Add => "+",
                    B::Sub => "-",
                    B::Mul => "*",
                    B::Div => "/",
                    B::Mod => "%",
                    B::Concat => "||",
                    B::Like => "LIKE",
                    B::NotLike => "NOT LIKE",
                    B::ILike => "LIKE",
                    B::NotILike => "NOT LIKE",
                };
                format!("({} {op} {})", to_sqlite(l), to_sqlite(r))
            }
            Expr::Function(f, args) => {
                let name = match f {
                    Function::Lower => "lower",
                    Function::Upper => "upper",
                    Function::Length => "length",
                    Function::Abs => "abs",
                    Function::Coalesce => "coalesce",
                    Function::Trim => "trim",
                    Function::Ltrim => "ltrim",
                    Function::Rtrim => "rtrim",
                    Function::Round => "round",
                    Function::Substr => "substr",
                    Function::ToTsvectorSimple => unreachable!("the SQLite parser never makes it"),
                };
                let args: Vec<String> = args.iter().map(to_sqlite).collect();
                format!("{name}({})", args.join(", "))
            }
            Expr::SubsetOf { .. } => unreachable!("the SQLite parser never makes it"),
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let list: Vec<String> = list.iter().map(to_sqlite).collect();
                let not = if *negated { "NOT " } else { "" };
                format!("({} {not}IN ({}))", to_sqlite(expr), list.join(", "))
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let not = if *negated { "NOT " } else { "" };
                format!(
                    "({} {not}BETWEEN {} AND {})",
                    to_sqlite(expr),
                    to_sqlite(low),
                    to_sqlite(high)
                )
            }
        }
    }

    /// SQLite itself is the oracle: every expression must give the same values as written and
    /// as the parsed tree, fully parenthesized, on rows chosen to tell precedences apart.
    #[test]
    fn parsed_trees_evaluate_like_sqlite() {
        let db = rusqlite::Connection::open_in_memory().expect("in-memory database");
        db.execute_batch(
            "CREATE TABLE t(a, b, c, s);
             INSERT INTO t VALUES (0, 1, 2, 'x'), (2, 1, 0, 'ab'), (NULL, 3, -1, NULL),
                                  (5, 5, 5, '5'), (1, 0, 1, ' y '), (-3, 2, 7, '%');",
        )
        .expect("fixture");
        let expressions = [
            "2 = 1 < 3",
            "1 < 2 = 2 > 1",
            "a = b < c",
            "a < b = c",
            "NOT a = b",
            "NOT a BETWEEN -1 AND 2",
            "a = b BETWEEN 0 AND 1",
            "a BETWEEN 0 AND 3 BETWEEN 1 AND 1",
            "a BETWEEN b AND c = 0",
            "a BETWEEN b - 1 AND c + 1",
            "a BETWEEN b = 1 AND 2",
            "NOT a NOT BETWEEN b AND c",
            "1 || 2 * 3",
            "- 2 || 3",
            "-a || b",
            "a * b || c",
            "a + b * c - a / 2 % 3",
            "a - b - c",
            "a / b / 2",
            "a = b IS NULL",
            "a IS NULL = 0",
            "a = b NOT NULL",
            "NOT a NOT NULL",
            "a ISNULL OR b NOTNULL AND c IS NOT NULL",
            "NOT a OR b AND NOT c",
            "a OR b AND c",
            "a AND b OR c",
            "a = NOT b = c",
            "a IN (1, b, c + 1) = 1",
            "a NOT IN (0, 5) AND b IN (1)",
            "s LIKE '%'",
            "s NOT LIKE '_' = 0",
            "s LIKE 'X%' OR s LIKE '%Y_'",
            "a < b LIKE '1'",
            "coalesce(a, b) * 2 > c",
            "ifnull(a, -1) + abs(c)",
            "length(s) + 1",
            "upper(s) || lower(s)",
            "trim(s) || ltrim(s, ' x') || rtrim(s)",
            "round(a / 3.0, 2) = round(a / 3.0)",
            "substr(s, 1, 1) || substring(s, 2)",
            "+a - -b",
            "- -a",
            "0x10 + a",
            "a = TRUE OR b = FALSE",
            "(a + b) * (c - 1)",
            "a >= 2 AND a <= 5 OR a <> b",
            "a == b AND a != c",
            "s || 'it''s'",
            "x'41' || s",
            "-9223372036854775808 < a",
            "9223372036854775807 + 0",
        ];
        for sql in expressions {
            let tree = parse(sql);
            let rendered = to_sqlite(&tree);
            let eval = |expr: &str| -> Vec<rusqlite::types::Value> {
                let mut stmt = db
                    .prepare(&format!("SELECT {expr} FROM t ORDER BY rowid"))
                    .unwrap_or_else(|e| panic!("`{expr}`: {e}"));
                stmt.query_map([], |r| r.get(0))
                    .and_then(|rows| rows.collect())
                    .unwrap_or_else(|e| panic!("`{expr}`: {e}"))
            };
            assert_eq!(eval(sql), eval(&rendered), "`{sql}` parsed as `{rendered}`");
        }
    }

    // ----- defaults

    fn value(sql: &str, target: &DataType) -> DefaultValue {
        match translate_default(sql, target) {
            DefaultTranslation::Value(v) => v,
            DefaultTranslation::Unsupported(why) => panic!("`{sql}` on {target:?}: {why}"),
        }
    }
    fn why(sql: &str, target: &DataType) -> String {
        match translate_default(sql, target) {
            DefaultTranslation::Value(v) => panic!("`{sql}` on {target:?} gave {v:?}"),
            DefaultTranslation::Unsupported(why) => why,
        }
    }
    fn lit(l: Literal) -> DefaultValue {
        DefaultValue::Literal(l)
    }
    fn int_lit(n: &str) -> DefaultValue {
        lit(Literal::Integer(n.to_string()))
    }
    fn text_lit(s: &str) -> DefaultValue {
        lit(Literal::Text(s.to_string()))
    }

    #[test]
    fn default_literals() {
        assert_eq!(value("NULL", &DataType::Int8), lit(Literal::Null));
        assert_eq!(value("(null)", &DataType::Date), lit(Literal::Null));
        assert_eq!(value("0", &DataType::Int8), int_lit("0"));
        assert_eq!(value("-1", &DataType::Int4), int_lit("-1"));
        assert_eq!(value("((42))", &DataType::Int4), int_lit("42"));
        assert_eq!(value("0x10", &DataType::Int4), int_lit("16"));
        assert_eq!(value("'abc'", &DataType::Text), text_lit("abc"));
        assert_eq!(value("'it''s'", &DataType::Varchar(4)), text_lit("it's"));
        assert_eq!(
            value("-1.5", &DataType::Float8),
            lit(Literal::Decimal("-1.5".into()))
        );
        assert_eq!(
            value("x'00ff'", &DataType::Bytea),
            lit(Literal::Bytes(vec![0, 255]))
        );
        assert_eq!(value("TRUE", &DataType::Bool), lit(Literal::Bool(true)));
        assert_eq!(value("false", &DataType::Bool), lit(Literal::Bool(false)));
    }

    #[test]
    fn default_identifiers_are_strings() {
        // `DEFAULT "quoted"` and `DEFAULT word` are string literals in SQLite's grammar.
        assert_eq!(value("\"quoted\"", &DataType::Text), text_lit("quoted"));
        assert_eq!(value("\"q\"\"x\"", &DataType::Text), text_lit("q\"x"));
        assert_eq!(value("abc", &DataType::Text), text_lit("abc"));
        assert_eq!(value("[br]", &DataType::Text), text_lit("br"));
        assert_eq!(value("\"5\"", &DataType::Int4), int_lit("5"));
        assert_eq!(
            why("abc", &DataType::Int4),
            "text `'abc'` cannot be a default of an integer column"
        );
    }

    #[test]
    fn default_literals_are_converted_like_sqlite_affinity() {
        // Integer columns take numeric text and integral reals as integers.
        assert_eq!(value("'1'", &DataType::Int8), int_lit("1"));
        assert_eq!(value("' 12 '", &DataType::Int8), int_lit("12"));
        assert_eq!(value("'+3'", &DataType::Int8), int_lit("3"));
        assert_eq!(value("'1.0'", &DataType::Int8), int_lit("1"));
        assert_eq!(value("'1e2'", &DataType::Int8), int_lit("100"));
        assert_eq!(value("1.0", &DataType::Int2), int_lit("1"));
        assert_eq!(value("TRUE", &DataType::Int4), int_lit("1"));
        // Booleans take 0 and 1 in any numeric spelling.
        assert_eq!(value("1", &DataType::Bool), lit(Literal::Bool(true)));
        assert_eq!(value("'0'", &DataType::Bool), lit(Literal::Bool(false)));
        assert_eq!(value("1.0", &DataType::Bool), lit(Literal::Bool(true)));
        // Floats take numbers and numeric text.
        assert_eq!(value("5", &DataType::Float4), int_lit("5"));
        assert_eq!(
            value("'2.5'", &DataType::Float8),
            lit(Literal::Decimal("2.5".into()))
        );
        assert_eq!(
            value("'-1e3'", &DataType::Float8),
            lit(Literal::Decimal("-1e3".into()))
        );
        // Text columns take integers as SQLite renders them.
        assert_eq!(value("007", &DataType::Text), text_lit("7"));
        assert_eq!(value("0x10", &DataType::Text), text_lit("16"));
        assert_eq!(value("TRUE", &DataType::Text), text_lit("1"));
        assert_eq!(value("'00'", &DataType::Text), text_lit("00"));
        // Numeric keeps the written decimal when SQLite's REAL holds it exactly enough.
        let money = DataType::Numeric {
            precision: Some(10),
            scale: Some(2),
        };
        assert_eq!(value("0.1", &money), lit(Literal::Decimal("0.1".into())));
        assert_eq!(
            value("'12.50'", &money),
            lit(Literal::Decimal("12.50".into()))
        );
        assert_eq!(value("100", &money), int_lit("100"));
        assert_eq!(value("2.0", &money), int_lit("2"));
        let any = DataType::Numeric {
            precision: None,
            scale: None,
        };
        assert_eq!(
            value("123456789012.345", &any),
            lit(Literal::Decimal("123456789012.345".into()))
        );
    }

    #[test]
    fn default_literals_that_do_not_fit() {
        let money = DataType::Numeric {
            precision: Some(5),
            scale: Some(2),
        };
        let cases: [(&str, DataType, &str); 24] = [
            ("'abc'", DataType::Int8, "text `'abc'` cannot be a default of an integer column"),
            ("'0x10'", DataType::Int8, "text `'0x10'` cannot be a default of an integer column"),
            ("1.5", DataType::Int8, "number `1.5` cannot be a default of an integer column: SQLite stores it as a floating-point value, which PostgreSQL would round or reject"),
            ("'1.5'", DataType::Int4, "text `'1.5'` cannot be a default of an integer column: SQLite stores it as a floating-point value, which PostgreSQL would round or reject"),
            ("1e20", DataType::Int8, "number `1e20` cannot be a default of an integer column: SQLite stores it as a floating-point value, which PostgreSQL would round or reject"),
            ("70000", DataType::Int2, "integer `70000` is out of range for PostgreSQL's `smallint`"),
            ("3000000000", DataType::Int4, "integer `3000000000` is out of range for PostgreSQL's `integer`"),
            ("x'01'", DataType::Int4, "blob `X'01'` cannot be a default of an integer column"),
            ("2", DataType::Bool, "integer `2` cannot be a default of a boolean column: only 0 and 1 are booleans"),
            ("'true'", DataType::Bool, "text `'true'` cannot be a default of a boolean column"),
            ("'abc'", DataType::Float8, "text `'abc'` cannot be a default of a floating-point column"),
            ("1.234", money.clone(), "number `1.234` cannot be a default of a `numeric(5,2)` column: it has more decimal places than the column, so PostgreSQL would round it"),
            ("1234", money.clone(), "integer `1234` cannot be a default of a `numeric(5,2)` column: it has more digits than the column allows"),
            ("0.1234567890123456789", DataType::Numeric { precision: None, scale: None }, "number `0.1234567890123456789` cannot be a default of a numeric column: SQLite stores it as a floating-point value with fewer significant digits"),
            ("1.50", DataType::Text, "number `1.50` cannot be a default of a text column: SQLite stores its own text rendering of the floating-point value"),
            ("'abcdef'", DataType::Varchar(3), "text `'abcdef'` is longer than a `varchar(3)` column allows"),
            ("x'00'", DataType::Text, "blob `X'00'` cannot be a default of a text column"),
            ("'abc'", DataType::Bytea, "text `'abc'` cannot be a default of a `bytea` column: SQLite stores it as it is, not as bytes"),
            ("'2021-02-29'", DataType::Date, "text `'2021-02-29'` cannot be a default of a date column: it is not of the form `YYYY-MM-DD`"),
            ("0", DataType::Date, "integer `0` cannot be a default of a date column: SQLite stores the value itself, not a date or time"),
            ("'25:00'", DataType::Time(None), "text `'25:00'` cannot be a default of a time column: it is not of the form `HH:MM:SS`"),
            ("'2020-01-01 10:00:00+02:00'", DataType::Timestamp(None), "text `'2020-01-01 10:00:00+02:00'` has a time zone offset, which a timestamp column would silently drop"),
            ("'{'", DataType::Jsonb, "text `'{'` cannot be a default of a `jsonb` column: it is not valid JSON"),
            ("'abc'", DataType::Uuid, "text `'abc'` cannot be a default of a uuid column"),
        ];
        for (sql, target, message) in cases {
            assert_eq!(why(sql, &target), message, "{sql} on {target:?}");
        }
        assert_eq!(
            why("'2020-01-01 10:00:00'", &DataType::Timestamptz(None)),
            "text `'2020-01-01 10:00:00'` has no time zone offset, so as a default of a \
             `timestamptz` column its meaning would depend on the session time zone"
        );
    }

    #[test]
    fn default_dates_times_json_uuid() {
        assert_eq!(
            value("'2020-02-29'", &DataType::Date),
            text_lit("2020-02-29")
        );
        assert_eq!(value("'23:59'", &DataType::Time(None)), text_lit("23:59"));
        assert_eq!(
            value("'23:59:59.123'", &DataType::Time(Some(3))),
            text_lit("23:59:59.123")
        );
        for ts in [
            "2020-01-01",
            "2020-01-01 10:00:00",
            "2020-01-01T10:00",
            "2020-01-01 10:00:00.5",
        ] {
            assert_eq!(
                value(&format!("'{ts}'"), &DataType::Timestamp(None)),
                text_lit(ts)
            );
        }
        for ts in [
            "2020-01-01 10:00:00Z",
            "2020-01-01T10:00:00.123+05:30",
            "2020-01-01 10:00-08:00",
        ] {
            assert_eq!(
                value(&format!("'{ts}'"), &DataType::Timestamptz(None)),
                text_lit(ts)
            );
        }
        for json in [
            "{}",
            "[]",
            " {\"a\": [1, -2.5e3, true, null, \"\\u00e9\\n\"]} ",
            "\"\\ud83d\\ude00\"",
            "0",
        ] {
            assert_eq!(
                value(&quote_text(json), &DataType::Jsonb),
                text_lit(json),
                "{json}"
            );
        }
        for bad in [
            "{a:1}",
            "[1,]",
            "01",
            "\"\\ud83d\"",
            "\"\u{1}\"",
            "tru",
            "[1] x",
            "1.",
        ] {
            assert!(!is_json(bad, false), "{bad}");
        }
        assert!(is_json("\"\\u0000\"", false));
        assert!(!is_json("\"\\u0000\"", true));
        assert!(!is_json(&"[".repeat(300), false));
        assert_eq!(
            value("'123e4567-E89B-12d3-a456-426614174000'", &DataType::Uuid),
            text_lit("123e4567-E89B-12d3-a456-426614174000")
        );
    }

    #[test]
    fn default_current_time() {
        let ts = DataType::Timestamp(None);
        let tstz = DataType::Timestamptz(Some(3));
        for sql in [
            "CURRENT_TIMESTAMP",
            "current_timestamp",
            "(datetime('now'))",
            "datetime('NOW')",
            "datetime()",
            "strftime('%Y-%m-%d %H:%M:%S','now')",
            "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        ] {
            assert_eq!(value(sql, &ts), DefaultValue::CurrentTimestamp, "{sql}");
            assert_eq!(value(sql, &tstz), DefaultValue::CurrentTimestamp, "{sql}");
        }
        for sql in [
            "CURRENT_DATE",
            "current_date",
            "date('now')",
            "(date())",
            "strftime('%Y-%m-%d', 'now')",
        ] {
            assert_eq!(
                value(sql, &DataType::Date),
                DefaultValue::CurrentDate,
                "{sql}"
            );
        }
        for sql in ["CURRENT_TIME", "time('now')", "strftime('%H:%M:%S', 'now')"] {
            assert_eq!(
                value(sql, &DataType::Time(None)),
                DefaultValue::CurrentTime,
                "{sql}"
            );
        }
    }

    #[test]
    fn default_current_time_that_cannot_be_translated() {
        let cases: [(&str, DataType, &str); 11] = [
            ("CURRENT_TIMESTAMP", DataType::Text, "`CURRENT_TIMESTAMP` stores the current UTC time as SQLite-formatted text; PostgreSQL's current time converted to text has another format and time zone"),
            ("(datetime('now'))", DataType::Varchar(20), "`datetime('now')` stores the current UTC time as SQLite-formatted text; PostgreSQL's current time converted to text has another format and time zone"),
            ("CURRENT_TIMESTAMP", DataType::Date, "`CURRENT_TIMESTAMP` (the current date and time as text) cannot be a default of a date column"),
            ("CURRENT_DATE", DataType::Timestamp(None), "`CURRENT_DATE` (the current date as text) cannot be a default of a timestamp column"),
            ("CURRENT_TIME", DataType::Int8, "`CURRENT_TIME` (the current time of day as text) cannot be a default of an integer column"),
            ("datetime('now','localtime')", DataType::Timestamp(None), "`datetime('now','localtime')` is the current time in the time zone of whatever machine inserts the row, which PostgreSQL cannot know"),
            ("datetime('now', '+1 day')", DataType::Timestamp(None), "`datetime` with the modifier `'+1 day'` is not translated"),
            ("(strftime('%s','now'))", DataType::Int8, "the current Unix time (seconds since 1970) has no neutral default form"),
            ("unixepoch()", DataType::Int8, "the current Unix time (seconds since 1970) has no neutral default form"),
            ("julianday('now')", DataType::Float8, "`julianday` gives the current time as a Julian day number, which has no neutral default form"),
            ("date('2020-01-01')", DataType::Date, "`date` of the fixed time value `'2020-01-01'` is not translated"),
        ];
        for (sql, target, message) in cases {
            assert_eq!(why(sql, &target), message, "{sql} on {target:?}");
        }
        assert_eq!(
            why("strftime('%d/%m/%Y', 'now')", &DataType::Text),
            "`strftime` format `'%d/%m/%Y'` is not translated"
        );
    }

    #[test]
    fn default_expressions() {
        assert_eq!(
            value("(1+2)", &DataType::Int4),
            DefaultValue::Expr(bin(B::Add, int("1"), int("2")))
        );
        assert_eq!(
            value("lower('ABC')", &DataType::Text),
            DefaultValue::Expr(func(Function::Lower, vec![text("ABC")]))
        );
        assert_eq!(
            value("('a' || 'b')", &DataType::Text),
            DefaultValue::Expr(bin(B::Concat, text("a"), text("b")))
        );
        // `(a) + (b)` keeps its parentheses' meaning when the outer ones are stripped.
        assert_eq!(
            value("(1) * (2 + 3)", &DataType::Int4),
            DefaultValue::Expr(bin(B::Mul, int("1"), bin(B::Add, int("2"), int("3"))))
        );
        assert_eq!(
            why("1.0/3", &DataType::Text),
            "`1.0/3` computes with floating point in SQLite and with exact numeric in PostgreSQL"
        );
        assert_eq!(
            why("(random())", &DataType::Int8),
            "function `random` has no PostgreSQL equivalent"
        );
        assert_eq!(
            why("(abs(x))", &DataType::Int8),
            "`x` is not a column of the table"
        );
        assert_eq!(why("", &DataType::Int8), "the default is empty");
        assert_eq!(why("()", &DataType::Int8), "the default is empty");
        assert_eq!(
            why("(1", &DataType::Int8),
            "unexpected end of expression: expected `)`"
        );
        assert_eq!(
            why("'abc", &DataType::Text),
            "unterminated string literal: `'abc`"
        );
    }

    /// The inputs are what SQLite itself reports for real tables.
    #[test]
    fn defaults_as_sqlite_reports_them() {
        let db = rusqlite::Connection::open_in_memory().expect("in-memory database");
        db.execute_batch(
            r#"CREATE TABLE d(
                 i INTEGER DEFAULT 0, n INTEGER DEFAULT -1, t TEXT DEFAULT 'it''s',
                 f REAL DEFAULT -1.5, b BLOB DEFAULT x'00ff', q TEXT DEFAULT "quoted",
                 c TIMESTAMP DEFAULT CURRENT_TIMESTAMP, dt DATETIME DEFAULT (datetime('now')),
                 dd DATE DEFAULT (date('now')), e INTEGER DEFAULT (1 + 2), z TEXT DEFAULT NULL,
                 p INTEGER DEFAULT +5, l DATETIME DEFAULT (datetime('now', 'localtime')));"#,
        )
        .expect("fixture");
        let mut stmt = db
            .prepare("SELECT name, dflt_value FROM pragma_table_info('d') ORDER BY cid")
            .expect("pragma");
        let defaults: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .expect("rows");
        let expected = [
            ("i", DataType::Int8, DefaultTranslation::Value(int_lit("0"))),
            ("n", DataType::Int8, DefaultTranslation::Value(int_lit("-1"))),
            ("t", DataType::Text, DefaultTranslation::Value(text_lit("it's"))),
            ("f", DataType::Float8, DefaultTranslation::Value(lit(Literal::Decimal("-1.5".into())))),
            ("b", DataType::Bytea, DefaultTranslation::Value(lit(Literal::Bytes(vec![0, 255])))),
            ("q", DataType::Text, DefaultTranslation::Value(text_lit("quoted"))),
            ("c", DataType::Timestamp(None), DefaultTranslation::Value(DefaultValue::CurrentTimestamp)),
            ("dt", DataType::Timestamp(None), DefaultTranslation::Value(DefaultValue::CurrentTimestamp)),
            ("dd", DataType::Date, DefaultTranslation::Value(DefaultValue::CurrentDate)),
            ("e", DataType::Int8, DefaultTranslation::Value(DefaultValue::Expr(bin(B::Add, int("1"), int("2"))))),
            ("z", DataType::Text, DefaultTranslation::Value(lit(Literal::Null))),
            ("p", DataType::Int8, DefaultTranslation::Value(int_lit("5"))),
            ("l", DataType::Timestamp(None), DefaultTranslation::Unsupported("`datetime('now', 'localtime')` is the current time in the time zone of whatever machine inserts the row, which PostgreSQL cannot know".into())),
        ];
        assert_eq!(defaults.len(), expected.len());
        for ((name, sql), (want_name, target, want)) in defaults.iter().zip(expected) {
            assert_eq!(name, want_name);
            assert_eq!(translate_default(sql, &target), want, "{name}: `{sql}`");
        }
    }

    #[test]
    fn decimal_shapes() {
        let shape =
            |t: &str| decimal_shape(t).map(|s| (s.int_digits, s.frac_digits, s.significant));
        assert_eq!(shape("123.450"), Some((3, 2, 5)));
        assert_eq!(shape("0.001"), Some((0, 3, 1)));
        assert_eq!(shape("1e3"), Some((4, 0, 1)));
        assert_eq!(shape("1.5e-2"), Some((0, 3, 2)));
        assert_eq!(shape("-0.0"), Some((0, 0, 0)));
        assert_eq!(shape(".5"), Some((0, 1, 1)));
    }
}
