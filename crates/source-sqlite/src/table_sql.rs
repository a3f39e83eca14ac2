//! Pieces of a `CREATE TABLE` statement that SQLite's PRAGMAs do not expose: CHECK constraints
//! (column and table level, with their names) and generated-column expressions.
//!
//! The statement is split at top-level commas of its column list, respecting quotes, comments
//! and nested parentheses; each piece is then scanned for `CHECK (...)` and `AS (...)`.
//! Expression text is returned raw, for the expression parser.

/// A CHECK constraint as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckSql {
    pub name: Option<String>,
    /// Column the check was declared on, for column-level checks.
    pub column: Option<String>,
    pub sql: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TableSql {
    pub checks: Vec<CheckSql>,
    /// `(column, expression)` of generated columns.
    pub generated: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Group(String),
    Other,
}

fn unquote(raw: &str) -> String {
    let b = raw.as_bytes();
    match (b.first(), b.last()) {
        (Some(b'"'), Some(b'"')) => raw[1..raw.len() - 1].replace("\"\"", "\""),
        (Some(b'`'), Some(b'`')) => raw[1..raw.len() - 1].replace("``", "`"),
        (Some(b'['), Some(b']')) => raw[1..raw.len() - 1].to_string(),
        (Some(b'\''), Some(b'\'')) => raw[1..raw.len() - 1].replace("''", "'"),
        _ => raw.to_string(),
    }
}

/// Tokens at depth 0 of one column or constraint definition.
fn tokens(def: &str) -> Vec<Token> {
    let s = def.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && s.get(i + 1) == Some(&b'-') {
            while i < s.len() && s[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && s.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < s.len() && !(s[i] == b'*' && s[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if matches!(c, b'"' | b'`' | b'[' | b'\'') {
            let close = if c == b'[' { b']' } else { c };
            let start = i;
            i += 1;
            while i < s.len() {
                if s[i] == close {
                    if close != b']' && s.get(i + 1) == Some(&close) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(s.len());
            out.push(Token::Quoted(unquote(&def[start..i])));
        } else if c == b'(' {
            let end = matching_paren(def, i).unwrap_or(s.len() - 1);
            out.push(Token::Group(def[i + 1..end].trim().to_string()));
            i = end + 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            let start = i;
            while i < s.len()
                && (s[i].is_ascii_alphanumeric() || s[i] == b'_' || s[i] >= 0x80 || s[i] == b'$')
            {
                i += 1;
            }
            out.push(Token::Word(def[start..i].to_string()));
        } else {
            out.push(Token::Other);
            i += 1;
        }
    }
    out
}

/// If a quoted name, string or comment starts at `i`, the index just past it.
fn skip_opaque(s: &[u8], i: usize) -> Option<usize> {
    let c = s[i];
    let end = match c {
        b'"' | b'`' | b'\'' | b'[' => {
            let close = if c == b'[' { b']' } else { c };
            let mut j = i + 1;
            while j < s.len() && s[j] != close {
                j += 1;
            }
            j + 1
        }
        b'-' if s.get(i + 1) == Some(&b'-') => {
            let mut j = i;
            while j < s.len() && s[j] != b'\n' {
                j += 1;
            }
            j
        }
        b'/' if s.get(i + 1) == Some(&b'*') => {
            let mut j = i + 2;
            while j + 1 < s.len() && !(s[j] == b'*' && s[j + 1] == b'/') {
                j += 1;
            }
            j + 2
        }
        _ => return None,
    };
    Some(end.min(s.len()))
}

/// Index of the first `(` outside quotes and comments.
fn first_paren(text: &str) -> Option<usize> {
    let s = text.as_bytes();
    let mut i = 0;
    while i < s.len() {
        if let Some(next) = skip_opaque(s, i) {
            i = next;
            continue;
        }
        if s[i] == b'(' {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Index of the `)` matching the `(` at `open`, skipping quotes and comments.
fn matching_paren(text: &str, open: usize) -> Option<usize> {
    let s = text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < s.len() {
        if let Some(next) = skip_opaque(s, i) {
            i = next;
            continue;
        }
        match s[i] {
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Split the column list at top-level commas.
fn definitions(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let s = body.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        if let Some(next) = skip_opaque(s, i) {
            i = next;
            continue;
        }
        match s[i] {
            b'(' => i = matching_paren(body, i).unwrap_or(s.len()),
            b',' => {
                out.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < body.len() {
        out.push(&body[start..]);
    }
    out
}

fn is_kw(t: &Token, kw: &str) -> bool {
    matches!(t, Token::Word(w) if w.eq_ignore_ascii_case(kw))
}

/// `CHECK (` clauses in a statement outside quotes and comments, at any depth: what
/// [`parse_create_table`] should find, so a statement it misreads is noticed, not trusted.
pub(crate) fn check_keywords(sql: &str) -> usize {
    let s = sql.as_bytes();
    let mut count = 0;
    let mut i = 0;
    while i < s.len() {
        if let Some(next) = skip_opaque(s, i) {
            i = next;
            continue;
        }
        let word_start = s[i].is_ascii_alphabetic()
            && (i == 0
                || !(s[i - 1].is_ascii_alphanumeric() || s[i - 1] == b'_' || s[i - 1] >= 0x80));
        if word_start && s.len() >= i + 5 && s[i..i + 5].eq_ignore_ascii_case(b"CHECK") {
            let mut j = i + 5;
            while j < s.len() && s[j].is_ascii_whitespace() {
                j += 1;
            }
            if s.get(j) == Some(&b'(') {
                count += 1;
            }
            i += 5;
            continue;
        }
        i += 1;
    }
    count
}

/// Read CHECK constraints and generated expressions from a `CREATE TABLE` statement.
pub(crate) fn parse_create_table(sql: &str) -> TableSql {
    let mut out = TableSql::default();
    let Some(open) = first_paren(sql) else {
        return out;
    };
    let Some(close) = matching_paren(sql, open) else {
        return out;
    };
    for def in definitions(&sql[open + 1..close]) {
        let toks = tokens(def);
        let Some(first) = toks.first() else { continue };
        let table_level = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|k| is_kw(first, k));
        let column = if table_level {
            None
        } else {
            match first {
                Token::Word(w) | Token::Quoted(w) => Some(w.clone()),
                _ => None,
            }
        };
        let mut pending_name: Option<String> = None;
        let mut i = usize::from(!table_level);
        while i < toks.len() {
            if is_kw(&toks[i], "CONSTRAINT") {
                // A name applies to the clause right after it; only CHECK names are kept.
                pending_name = match (toks.get(i + 1), toks.get(i + 2)) {
                    (Some(Token::Word(n) | Token::Quoted(n)), Some(next))
                        if is_kw(next, "CHECK") =>
                    {
                        Some(n.clone())
                    }
                    _ => None,
                };
                i += 2;
                continue;
            }
            if is_kw(&toks[i], "CHECK") {
                if let Some(Token::Group(g)) = toks.get(i + 1) {
                    out.checks.push(CheckSql {
                        name: pending_name.take(),
                        column: column.clone(),
                        sql: g.clone(),
                    });
                    i += 2;
                    continue;
                }
            }
            if is_kw(&toks[i], "AS") {
                if let (Some(Token::Group(g)), Some(c)) = (toks.get(i + 1), &column) {
                    out.generated.push((c.clone(), g.clone()));
                    i += 2;
                    continue;
                }
            }
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_keywords_count_every_check_clause() {
        let sql = "CREATE TABLE t (a int CHECK (a > 0), \"check\" int, b text -- CHECK (x)\n, note text DEFAULT 'CHECK (y)', CONSTRAINT c CHECK(b <> ''), checks int)";
        assert_eq!(check_keywords(sql), 2);
        assert_eq!(parse_create_table(sql).checks.len(), 2);
    }

    #[test]
    fn checks_and_generated_columns() {
        let t = parse_create_table(
            "CREATE TABLE \"o(rders\" (\n  id INTEGER PRIMARY KEY, -- a comment, with (parens\n  qty INT NOT NULL CHECK (qty > 0),\n  \"pr,ice\" NUMERIC(10,2) CONSTRAINT price_pos CHECK (\"pr,ice\" >= 0),\n  total REAL GENERATED ALWAYS AS (qty * \"pr,ice\") STORED,\n  note TEXT AS (lower(note2)) ,\n  CONSTRAINT both_set CHECK (qty IS NOT NULL AND note <> ')'),\n  CHECK (id > 0)\n)",
        );
        assert_eq!(
            t.checks,
            vec![
                CheckSql {
                    name: None,
                    column: Some("qty".into()),
                    sql: "qty > 0".into()
                },
                CheckSql {
                    name: Some("price_pos".into()),
                    column: Some("pr,ice".into()),
                    sql: "\"pr,ice\" >= 0".into()
                },
                CheckSql {
                    name: Some("both_set".into()),
                    column: None,
                    sql: "qty IS NOT NULL AND note <> ')'".into()
                },
                CheckSql {
                    name: None,
                    column: None,
                    sql: "id > 0".into()
                },
            ]
        );
        assert_eq!(
            t.generated,
            vec![
                ("total".to_string(), "qty * \"pr,ice\"".to_string()),
                ("note".to_string(), "lower(note2)".to_string())
            ]
        );
    }
}
