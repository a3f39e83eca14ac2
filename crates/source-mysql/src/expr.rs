//! MySQL and MariaDB expression text (CHECK clauses, generation expressions, functional key
//! parts) to the neutral [`Expr`] tree.
//!
//! The server hands these back normalised (`information_schema.CHECK_CONSTRAINTS`,
//! `COLUMNS.GENERATION_EXPRESSION`, `STATISTICS.EXPRESSION`): identifiers in backticks, string
//! literals possibly with a charset introducer (`_utf8mb4'x'`), and in MySQL 8's generation
//! expressions quotes escaped as `\'`. Only what means the same in PostgreSQL is translated;
//! anything else is an error naming the construct, which the caller turns into a finding:
//! - `||` and `&&` are MySQL's OR and AND (without PIPES_AS_CONCAT), read as such;
//! - `/`, `DIV` and `%` are refused: MySQL divides integers into decimals, PostgreSQL into
//!   integers, and a recomputed column would differ;
//! - `LIKE` is refused: it ignores case under MySQL's usual `_ci` collations;
//! - `length()` counts bytes in MySQL and is refused; `char_length()` is `length()`;
//! - `substr`/`substring` need a positive literal start (MySQL counts negatives from the end).

use barge_model::expr::Function;
use barge_model::{BinaryOp, Expr, Literal, UnaryOp};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Word(String),
    Str(String),
    Num(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

fn tokenize(sql: &str) -> Result<Vec<Tok>, String> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'`' => {
                let mut name = String::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err("an unterminated quoted name".into()),
                        Some(b'`') if b.get(i + 1) == Some(&b'`') => {
                            name.push('`');
                            i += 2;
                        }
                        Some(b'`') => {
                            i += 1;
                            break;
                        }
                        Some(_) => {
                            let ch = sql[i..].chars().next().unwrap_or('?');
                            name.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                out.push(Tok::Ident(name));
            }
            b'\'' | b'"' => {
                let (text, next) = string(sql, i + 1, c, false)?;
                out.push(Tok::Str(text));
                i = next;
            }
            // MySQL 8 generation expressions escape their quotes: `\'text\'`.
            b'\\' if b.get(i + 1) == Some(&b'\'') => {
                let (text, next) = string(sql, i + 2, b'\'', true)?;
                out.push(Tok::Str(text));
                i = next;
            }
            b'0'..=b'9' | b'.' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                    i += 1;
                    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                        i += 1;
                    }
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                out.push(Tok::Num(sql[start..i].to_string()));
            }
            b'(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            b')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            b',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$')
                {
                    i += 1;
                }
                let word = &sql[start..i];
                // A charset introducer directly before a string: `_utf8mb4'x'`.
                if word.starts_with('_') && matches!(b.get(i), Some(b'\'') | Some(b'\\')) {
                    continue;
                }
                out.push(Tok::Word(word.to_ascii_lowercase()));
            }
            _ => {
                let two = sql.get(i..i + 2).unwrap_or("");
                let op: &'static str = match two {
                    "<=" if sql.get(i..i + 3) == Some("<=>") => "<=>",
                    "<=" => "<=",
                    ">=" => ">=",
                    "<>" => "<>",
                    "!=" => "<>",
                    "||" => "||",
                    "&&" => "&&",
                    _ => match c {
                        b'=' => "=",
                        b'<' => "<",
                        b'>' => ">",
                        b'+' => "+",
                        b'-' => "-",
                        b'*' => "*",
                        b'/' => "/",
                        b'%' => "%",
                        b'!' => "!",
                        _ => {
                            return Err(format!(
                                "the character `{}`",
                                sql[i..].chars().next().unwrap_or('?')
                            ))
                        }
                    },
                };
                i += op.len();
                out.push(Tok::Op(op));
            }
        }
    }
    Ok(out)
}

/// A string literal body from `start` (after the opening quote) to its closing quote.
/// `escaped_quotes`: the quotes themselves are written `\'` (MySQL 8 generation expressions).
fn string(
    sql: &str,
    start: usize,
    quote: u8,
    escaped_quotes: bool,
) -> Result<(String, usize), String> {
    let b = sql.as_bytes();
    let mut out = String::new();
    let mut i = start;
    loop {
        match b.get(i) {
            None => return Err("an unterminated string".into()),
            Some(b'\\') if escaped_quotes && b.get(i + 1) == Some(&quote) => {
                return Ok((out, i + 2))
            }
            Some(&q) if q == quote && !escaped_quotes => {
                if b.get(i + 1) == Some(&quote) {
                    out.push(quote as char);
                    i += 2;
                } else {
                    return Ok((out, i + 1));
                }
            }
            Some(b'\\') => {
                // In escaped form a literal backslash is doubled once more: `\\\\`.
                let step = if escaped_quotes && b.get(i + 1) == Some(&b'\\') {
                    1
                } else {
                    0
                };
                let ch = b
                    .get(i + 1 + step)
                    .copied()
                    .ok_or("an unterminated string")?;
                out.push(match ch {
                    b'n' => '\n',
                    b't' => '\t',
                    b'r' => '\r',
                    b'0' => '\0',
                    b'Z' => '\u{1a}',
                    other => other as char,
                });
                i += 2 + step;
            }
            Some(_) => {
                let ch = sql[i..].chars().next().unwrap_or('?');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

/// Translate a MySQL expression; the error names what has no faithful PostgreSQL equivalent.
pub fn parse(sql: &str) -> Result<Expr, String> {
    let toks = tokenize(sql)?;
    let mut p = Parser { toks, pos: 0 };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected `{}`", p.describe()));
    }
    Ok(e)
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn describe(&self) -> String {
        match self.peek() {
            Some(Tok::Ident(s) | Tok::Word(s) | Tok::Num(s)) => s.clone(),
            Some(Tok::Str(s)) => format!("'{s}'"),
            Some(Tok::Op(o)) => (*o).to_string(),
            Some(Tok::LParen) => "(".into(),
            Some(Tok::RParen) => ")".into(),
            Some(Tok::Comma) => ",".into(),
            None => "end of expression".into(),
        }
    }

    fn word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(x)) if x == w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn op(&mut self, o: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(x)) if *x == o) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: Tok) -> Result<(), String> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected {t:?}, found `{}`", self.describe()))
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut l = self.and()?;
        while self.word("or") || self.op("||") {
            let r = self.and()?;
            l = Expr::Binary(BinaryOp::Or, Box::new(l), Box::new(r));
        }
        if self.word("xor") {
            return Err("XOR".into());
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut l = self.not()?;
        while self.word("and") || self.op("&&") {
            let r = self.not()?;
            l = Expr::Binary(BinaryOp::And, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.word("not") {
            let e = self.not()?;
            return Ok(Expr::Unary(UnaryOp::Not, Box::new(e)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let l = self.additive()?;
        if self.word("is") {
            let negated = self.word("not");
            if !self.word("null") {
                return Err("IS other than IS [NOT] NULL".into());
            }
            let op = if negated {
                UnaryOp::IsNotNull
            } else {
                UnaryOp::IsNull
            };
            return Ok(Expr::Unary(op, Box::new(l)));
        }
        let negated = self.word("not");
        if self.word("in") {
            self.expect(Tok::LParen)?;
            let mut list = vec![self.or()?];
            while self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
                list.push(self.or()?);
            }
            self.expect(Tok::RParen)?;
            return Ok(Expr::InList {
                expr: Box::new(l),
                list,
                negated,
            });
        }
        if self.word("between") {
            let low = self.additive()?;
            if !self.word("and") {
                return Err("BETWEEN without AND".into());
            }
            let high = self.additive()?;
            return Ok(Expr::Between {
                expr: Box::new(l),
                low: Box::new(low),
                high: Box::new(high),
                negated,
            });
        }
        if self.word("like") || self.word("regexp") || self.word("rlike") {
            return Err(
                "LIKE / REGEXP (MySQL matches them case-insensitively under _ci collations)".into(),
            );
        }
        if negated {
            return Err(format!("NOT before `{}`", self.describe()));
        }
        let op = match self.peek() {
            Some(Tok::Op("=")) => BinaryOp::Eq,
            Some(Tok::Op("<>")) => BinaryOp::NotEq,
            Some(Tok::Op("<")) => BinaryOp::Lt,
            Some(Tok::Op("<=")) => BinaryOp::LtEq,
            Some(Tok::Op(">")) => BinaryOp::Gt,
            Some(Tok::Op(">=")) => BinaryOp::GtEq,
            Some(Tok::Op("<=>")) => return Err("the NULL-safe comparison <=>".into()),
            _ => return Ok(l),
        };
        self.pos += 1;
        let r = self.additive()?;
        Ok(Expr::Binary(op, Box::new(l), Box::new(r)))
    }

    fn additive(&mut self) -> Result<Expr, String> {
        let mut l = self.multiplicative()?;
        loop {
            let op = if self.op("+") {
                BinaryOp::Add
            } else if self.op("-") {
                BinaryOp::Sub
            } else {
                return Ok(l);
            };
            let r = self.multiplicative()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, String> {
        let mut l = self.unary()?;
        loop {
            if self.op("*") {
                let r = self.unary()?;
                l = Expr::Binary(BinaryOp::Mul, Box::new(l), Box::new(r));
            } else if self.op("/") || self.op("%") || self.word("div") || self.word("mod") {
                return Err(
                    "division (MySQL divides integers into decimals, PostgreSQL into integers)"
                        .into(),
                );
            } else {
                return Ok(l);
            }
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.op("-") {
            return match self.unary()? {
                Expr::Literal(Literal::Integer(n)) => {
                    Ok(Expr::Literal(Literal::Integer(format!("-{n}"))))
                }
                Expr::Literal(Literal::Decimal(n)) => {
                    Ok(Expr::Literal(Literal::Decimal(format!("-{n}"))))
                }
                e => Ok(Expr::Unary(UnaryOp::Neg, Box::new(e))),
            };
        }
        if self.op("+") {
            return self.unary();
        }
        if self.op("!") {
            let e = self.unary()?;
            return Ok(Expr::Unary(UnaryOp::Not, Box::new(e)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let tok = self.peek().cloned().ok_or("an incomplete expression")?;
        self.pos += 1;
        match tok {
            Tok::Ident(name) => Ok(Expr::Column(name)),
            Tok::Str(s) => Ok(Expr::Literal(Literal::Text(s))),
            Tok::Num(n) if n.contains(['.', 'e', 'E']) => Ok(Expr::Literal(Literal::Decimal(n))),
            Tok::Num(n) => Ok(Expr::Literal(Literal::Integer(n))),
            Tok::LParen => {
                let e = self.or()?;
                self.expect(Tok::RParen)?;
                Ok(e)
            }
            Tok::Word(w) => match w.as_str() {
                "null" => Ok(Expr::Literal(Literal::Null)),
                "true" => Ok(Expr::Literal(Literal::Bool(true))),
                "false" => Ok(Expr::Literal(Literal::Bool(false))),
                _ if self.peek() == Some(&Tok::LParen) => {
                    self.pos += 1;
                    let mut args = Vec::new();
                    if self.peek() != Some(&Tok::RParen) {
                        args.push(self.or()?);
                        while self.peek() == Some(&Tok::Comma) {
                            self.pos += 1;
                            args.push(self.or()?);
                        }
                    }
                    self.expect(Tok::RParen)?;
                    function(&w, args)
                }
                // A bare word is a column MySQL did not quote.
                _ => Ok(Expr::Column(w)),
            },
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

fn function(name: &str, mut args: Vec<Expr>) -> Result<Expr, String> {
    let n = args.len();
    let f = match (name, n) {
        ("lower" | "lcase", 1) => Function::Lower,
        ("upper" | "ucase", 1) => Function::Upper,
        ("char_length" | "character_length", 1) => Function::Length,
        ("abs", 1) => Function::Abs,
        ("coalesce", _) if n >= 1 => Function::Coalesce,
        ("ifnull", 2) => Function::Coalesce,
        ("trim", 1) => Function::Trim,
        ("ltrim", 1) => Function::Ltrim,
        ("rtrim", 1) => Function::Rtrim,
        ("substr" | "substring", 2 | 3) => {
            match &args[1] {
                Expr::Literal(Literal::Integer(p)) if !p.starts_with('-') && p != "0" => {}
                _ => {
                    return Err(format!(
                        "{name}() with a start that is not a positive number"
                    ))
                }
            }
            Function::Substr
        }
        ("concat", _) if n >= 1 => {
            let mut it = args.into_iter();
            let first = it.next().ok_or("concat()")?;
            return Ok(it.fold(first, |acc, a| {
                Expr::Binary(BinaryOp::Concat, Box::new(acc), Box::new(a))
            }));
        }
        ("if", 3) => return Err("IF()".into()),
        _ => return Err(format!("the function {name}() with {n} argument(s)")),
    };
    if f == Function::Coalesce && n == 1 {
        return Ok(args.remove(0));
    }
    Ok(Expr::Function(f, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(c: &str) -> Box<Expr> {
        Box::new(Expr::Column(c.into()))
    }

    #[test]
    fn checks_as_servers_print_them() {
        // MariaDB
        assert_eq!(
            parse("`price` >= 0 and `price` < 1000").unwrap(),
            Expr::Binary(
                BinaryOp::And,
                Box::new(Expr::Binary(
                    BinaryOp::GtEq,
                    col("price"),
                    Box::new(Expr::Literal(Literal::Integer("0".into())))
                )),
                Box::new(Expr::Binary(
                    BinaryOp::Lt,
                    col("price"),
                    Box::new(Expr::Literal(Literal::Integer("1000".into())))
                )),
            )
        );
        // MySQL 8, with introducers
        assert_eq!(
            parse("(`s` in (_utf8mb4'a',_utf8mb4'it''s'))").unwrap(),
            Expr::InList {
                expr: col("s"),
                list: vec![
                    Expr::Literal(Literal::Text("a".into())),
                    Expr::Literal(Literal::Text("it's".into()))
                ],
                negated: false
            }
        );
        // MySQL 8 generation expressions escape quotes.
        assert_eq!(
            parse(r"concat(`a`,_utf8mb4\' \',`b`)").unwrap(),
            Expr::Binary(
                BinaryOp::Concat,
                Box::new(Expr::Binary(
                    BinaryOp::Concat,
                    col("a"),
                    Box::new(Expr::Literal(Literal::Text(" ".into())))
                )),
                col("b")
            )
        );
        assert!(matches!(
            parse("`a` || `b`").unwrap(),
            Expr::Binary(BinaryOp::Or, ..)
        ));
        assert!(parse("`a` / 2").is_err());
        assert!(parse("`a` like 'x%'").is_err());
        assert!(parse("length(`a`) > 2").is_err());
        assert!(parse("substr(`a`, -2)").is_err());
        assert!(parse("`a` between -1 and 5").is_ok());
        assert!(parse("`a` is not null").is_ok());
    }
}
