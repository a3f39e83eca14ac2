//! Splitting a PostgreSQL SQL script into statements, for user hook files.
//!
//! A `;` ends a statement only outside quotes, comments and dollar-quoted bodies, so function
//! definitions (`$$ ... ; ... $$`, `$tag$ ... $tag$`), `'it;s'`, `"a;b"`, `E'\';'`, `-- ;` and
//! nested `/* /* ; */ */` comments stay whole. Each statement keeps the line it starts on, so
//! a failure can name file and line.

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    /// 1-based line where the statement starts.
    pub line: usize,
}

/// Split `text` into statements; empty ones (only blanks and comments) are dropped.
pub fn split_statements(text: &str) -> Vec<Statement> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut line = 1;
    let mut has_code = false;
    let mut start_line = 1;
    let push = |out: &mut Vec<Statement>, sql: &str, line: usize| {
        let trimmed = sql.trim();
        if !trimmed.is_empty() {
            out.push(Statement {
                sql: trimmed.to_string(),
                line,
            });
        }
    };
    while i < b.len() {
        let c = b[i];
        // Track where the statement's first real token is, for its line number.
        let mark_code = |has_code: &mut bool, start_line: &mut usize, line: usize| {
            if !*has_code {
                *has_code = true;
                *start_line = line;
                return true;
            }
            false
        };
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if b[i] == b'\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            b'\'' | b'"' => {
                if mark_code(&mut has_code, &mut start_line, line) {
                    start = i;
                }
                // E'...' strings take backslash escapes.
                let escapes = c == b'\''
                    && i > 0
                    && (b[i - 1] == b'E' || b[i - 1] == b'e')
                    && (i < 2 || !(b[i - 2].is_ascii_alphanumeric() || b[i - 2] == b'_'));
                i += 1;
                while i < b.len() {
                    if escapes && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    if b[i] == c {
                        if b.get(i + 1) == Some(&c) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'$' => {
                if mark_code(&mut has_code, &mut start_line, line) {
                    start = i;
                }
                // A dollar quote: `$tag$` where tag is empty or an identifier not starting
                // with a digit (`$1` is a parameter).
                let tag_end = b[i + 1..]
                    .iter()
                    .position(|x| !(x.is_ascii_alphanumeric() || *x == b'_'))
                    .map(|p| i + 1 + p);
                let is_quote = match tag_end {
                    Some(e) if b[e] == b'$' => e == i + 1 || !b[i + 1].is_ascii_digit(),
                    _ => false,
                };
                if let (true, Some(e)) = (is_quote, tag_end) {
                    let tag = &text[i..=e];
                    let body_start = e + 1;
                    match text[body_start..].find(tag) {
                        Some(p) => {
                            line += text[i..body_start + p].matches('\n').count();
                            i = body_start + p + tag.len();
                        }
                        None => {
                            line += text[i..].matches('\n').count();
                            i = b.len();
                        }
                    }
                } else {
                    i += 1;
                }
            }
            b';' => {
                push(&mut out, &text[start..i], start_line);
                i += 1;
                start = i;
                has_code = false;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                if mark_code(&mut has_code, &mut start_line, line) {
                    start = i;
                }
                i += 1;
            }
        }
    }
    if has_code {
        push(&mut out, &text[start..], start_line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_where_postgres_would() {
        let script = "-- setup; nothing here\nCREATE TABLE a (x text DEFAULT 'a;b');\n\n/* block ; /* nested ; */ */\nCREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1; -- inner ;\nEND;\n$$ LANGUAGE plpgsql;\nSELECT $tag$ ; $tag$, \"we;ird\", E'it\\'s;', $1\n;\n  ";
        let s = split_statements(script);
        let lines: Vec<usize> = s.iter().map(|s| s.line).collect();
        assert_eq!(lines, [2, 5, 10]);
        assert_eq!(s[0].sql, "CREATE TABLE a (x text DEFAULT 'a;b')");
        assert!(
            s[1].sql.starts_with("CREATE FUNCTION f()") && s[1].sql.ends_with("LANGUAGE plpgsql")
        );
        assert_eq!(s[2].sql, "SELECT $tag$ ; $tag$, \"we;ird\", E'it\\'s;', $1");
        assert_eq!(split_statements("  -- only a comment\n"), vec![]);
        assert_eq!(split_statements("SELECT 1").len(), 1);
    }
}
