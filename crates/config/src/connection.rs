//! Database kinds, connections and their redacted descriptions.
//!
//! A connection comes from a DSN (TOML, command line or `BARGE_*_DSN`) or from a credentials
//! entry. Either way the password stays inside a [`Secret`]; [`Connection::redacted`] gives the
//! text logs and `plan` output may show. Redaction errs on the side of hiding: a DSN whose shape
//! is not recognised is shown as `***`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, Origin};
use crate::paths::join_clean;
use crate::secret::Secret;

/// The database barge migrates from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Sqlite,
    Mysql,
    Mariadb,
    Mssql,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Sqlite => "sqlite",
            SourceKind::Mysql => "mysql",
            SourceKind::Mariadb => "mariadb",
            SourceKind::Mssql => "mssql",
        }
    }

    /// MySQL and MariaDB share most options (charset, enum/set modes, unsigned integers).
    pub fn is_mysql_family(self) -> bool {
        matches!(self, SourceKind::Mysql | SourceKind::Mariadb)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every database kind a credentials entry (`ds_type`) may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    Postgres,
    Sqlite,
    Mysql,
    Mariadb,
    Mssql,
}

impl DatabaseKind {
    pub const ALL: [DatabaseKind; 5] = [
        DatabaseKind::Postgres,
        DatabaseKind::Mysql,
        DatabaseKind::Mariadb,
        DatabaseKind::Sqlite,
        DatabaseKind::Mssql,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseKind::Postgres => "postgres",
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Mysql => "mysql",
            DatabaseKind::Mariadb => "mariadb",
            DatabaseKind::Mssql => "mssql",
        }
    }

    /// The kind named by a credentials entry's `ds_type`.
    pub fn from_ds_type(ds_type: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == ds_type)
    }

    pub(crate) fn accepted_ds_types() -> String {
        let names: Vec<String> = Self::ALL
            .iter()
            .map(|k| format!("`{}`", k.as_str()))
            .collect();
        names.join(", ")
    }

    /// The source kind, when this kind can be a migration source.
    pub fn as_source(self) -> Option<SourceKind> {
        match self {
            DatabaseKind::Postgres => None,
            DatabaseKind::Sqlite => Some(SourceKind::Sqlite),
            DatabaseKind::Mysql => Some(SourceKind::Mysql),
            DatabaseKind::Mariadb => Some(SourceKind::Mariadb),
            DatabaseKind::Mssql => Some(SourceKind::Mssql),
        }
    }
}

impl From<SourceKind> for DatabaseKind {
    fn from(kind: SourceKind) -> Self {
        match kind {
            SourceKind::Sqlite => DatabaseKind::Sqlite,
            SourceKind::Mysql => DatabaseKind::Mysql,
            SourceKind::Mariadb => DatabaseKind::Mariadb,
            SourceKind::Mssql => DatabaseKind::Mssql,
        }
    }
}

impl fmt::Display for DatabaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to reach one database. `Debug` never shows a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// An SQLite database file, absolute (resolved against the config or credentials folder).
    SqliteFile(PathBuf),
    /// A URL (`postgres://`, `mysql://`, `sqlserver://`), a go-mysql DSN (`user:pw@tcp(h)/db`)
    /// or a key=value DSN, with `$env{}` references already replaced.
    Url(Secret),
    /// Separate fields, from a credentials entry.
    Fields {
        server: String,
        port: Option<u16>,
        username: String,
        password: Secret,
        database: String,
    },
}

impl Connection {
    /// A description safe for logs and plans: the connection without its password.
    ///
    /// `postgres://app:pw@db.example:5432/sales` gives `postgres://app@db.example:5432/sales`;
    /// `host=db password=pw dbname=sales` gives `host=db dbname=sales`; credential fields give
    /// `user@server:port/database`.
    pub fn redacted(&self) -> String {
        match self {
            Connection::SqliteFile(path) => path.display().to_string(),
            Connection::Url(dsn) => redact_dsn(dsn.expose()),
            Connection::Fields {
                server,
                port,
                username,
                database,
                ..
            } => {
                let user = if username.is_empty() {
                    String::new()
                } else {
                    format!("{username}@")
                };
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                format!("{user}{server}{port}/{database}")
            }
        }
    }
}

/// Query and key=value parameter names whose values are secrets.
const SECRET_KEYS: &[&str] = &[
    "password",
    "pwd",
    "passwd",
    "pass",
    "sslpassword",
    "secret",
    "token",
    "access_token",
    "client_secret",
];

fn is_secret_key(key: &str) -> bool {
    let key = key.trim().to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str())
}

/// Removes passwords from any DSN shape barge accepts; unknown shapes become `***`.
pub(crate) fn redact_dsn(dsn: &str) -> String {
    let dsn = dsn.trim();
    if let Some(idx) = dsn.find("://") {
        return redact_url(&dsn[..idx], &dsn[idx + 3..]);
    }
    if let Some(redacted) = redact_go_mysql(dsn) {
        return redacted;
    }
    let parsed = if dsn.contains(';') {
        redact_ado(dsn)
    } else if dsn.contains('=') {
        redact_libpq(dsn)
    } else {
        None
    };
    parsed.unwrap_or_else(|| "***".to_owned())
}

/// `scheme://[user[:password]@]host[:port][/path][?query]`.
fn redact_url(scheme: &str, rest: &str) -> String {
    // The password may itself contain `@`, `/` or `?` when not percent-encoded, so the
    // user-info ends at the last `@`. When the query holds an `@` too, less is shown than
    // could be, but nothing before the last `@` leaks except the user name.
    let (user, host_and_rest) = match rest.rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            (user, &rest[at + 1..])
        }
        None => ("", rest),
    };
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    format!("{scheme}://{user}{}", filter_query(host_and_rest))
}

/// Drops secret parameters from a `?a=1&password=x` query, keeping the rest.
fn filter_query(text: &str) -> String {
    match text.split_once('?') {
        None => text.to_owned(),
        Some((base, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|pair| !pair.is_empty())
                .filter(|pair| !is_secret_key(pair.split('=').next().unwrap_or_default()))
                .collect();
            if kept.is_empty() {
                base.to_owned()
            } else {
                format!("{base}?{}", kept.join("&"))
            }
        }
    }
}

/// go-mysql's `[user[:password]@][net[(addr)]]/dbname[?params]`, as pgferry configs use.
fn redact_go_mysql(dsn: &str) -> Option<String> {
    // Parsed like the Go driver: the last `/` starts the database name, the last `@` before it
    // ends the user info.
    let slash = dsn.rfind('/')?;
    let at = dsn[..slash].rfind('@')?;
    let between = &dsn[at + 1..slash];
    if between.contains('=') || between.contains(';') || between.contains(' ') {
        return None;
    }
    let user = dsn[..at].split(':').next().unwrap_or_default();
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    Some(format!("{user}{}", filter_query(&dsn[at + 1..])))
}

/// ADO / SQL Server style: `server=h;user id=u;password={p;w};database=d`.
fn redact_ado(dsn: &str) -> Option<String> {
    let mut kept = Vec::new();
    let mut rest = dsn;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ';' || c.is_whitespace());
        if rest.is_empty() {
            break;
        }
        let eq = rest.find('=')?;
        let key = &rest[..eq];
        if key.contains(';') {
            return None;
        }
        let value_start = eq + 1;
        let value_text = rest[value_start..].trim_start();
        let skipped = rest.len() - value_start - value_text.len();
        let value_len = ado_value_len(value_text)?;
        let end = value_start + skipped + value_len;
        if !is_secret_key(key) {
            kept.push(rest[..end].trim().to_owned());
        }
        rest = &rest[end..];
    }
    Some(kept.join(";"))
}

/// Length of one ADO value: `{...}` (with `}}` escapes), `"..."`/`'...'` (doubled quotes) or up
/// to the next `;`.
fn ado_value_len(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    let close = match text.chars().next() {
        Some('{') => '}',
        Some('"') => '"',
        Some('\'') => '\'',
        _ => return Some(text.find(';').unwrap_or(text.len())),
    };
    chars.next();
    while let Some((i, c)) = chars.next() {
        if c == close {
            if chars.peek().map(|&(_, n)| n) == Some(close) {
                chars.next();
                continue;
            }
            return Some(i + c.len_utf8());
        }
    }
    None
}

/// libpq style: `host=db user=app password='p w' dbname=sales`.
fn redact_libpq(dsn: &str) -> Option<String> {
    let mut kept = Vec::new();
    let mut rest = dsn.trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return None;
        }
        let after = rest[eq + 1..].trim_start();
        let value_len = libpq_value_len(after)?;
        if !is_secret_key(key) {
            kept.push(format!("{key}={}", &after[..value_len]));
        }
        rest = after[value_len..].trim_start();
    }
    Some(kept.join(" "))
}

fn libpq_value_len(text: &str) -> Option<usize> {
    let quoted = text.starts_with('\'');
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if quoted && c == '\'' && i > 0 {
            return Some(i + 1);
        } else if !quoted && c.is_whitespace() {
            return Some(i);
        }
    }
    if quoted {
        None
    } else {
        Some(text.len())
    }
}

/// Turns an SQLite DSN (plain path, `file:` URI or `sqlite://` URL) into an absolute file path.
pub(crate) fn sqlite_file(
    dsn: &str,
    base_dir: &Path,
    field: &str,
    origin: &Origin,
) -> Result<PathBuf, ConfigError> {
    let in_memory = || ConfigError::SqliteInMemory {
        field: field.to_owned(),
        origin: origin.clone(),
    };
    let invalid = |message: &str| ConfigError::Invalid {
        key: field.to_owned(),
        origin: origin.clone(),
        message: message.to_owned(),
        hint_text: None,
    };
    let dsn = dsn.trim();
    let uri =
        strip_prefix_ignore_case(dsn, "sqlite:").or_else(|| strip_prefix_ignore_case(dsn, "file:"));
    let path = match uri {
        None => dsn.to_owned(),
        Some(rest) => {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            let memory_mode = query
                .split('&')
                .any(|p| p.eq_ignore_ascii_case("mode=memory"));
            if memory_mode {
                return Err(in_memory());
            }
            let path = match path.strip_prefix("//") {
                // `file:///abs` and `file://localhost/abs`; `sqlite://rel.db` stays relative.
                Some(after) if after.starts_with('/') => after.to_owned(),
                Some(after) => match after.strip_prefix("localhost/") {
                    Some(abs) => format!("/{abs}"),
                    None => after.to_owned(),
                },
                None => path.to_owned(),
            };
            percent_decode(&path).ok_or_else(|| invalid("the file URI has a bad `%` escape"))?
        }
    };
    if path == ":memory:" || path.is_empty() && uri.is_some() {
        return Err(in_memory());
    }
    if path.is_empty() {
        return Err(invalid("the SQLite database path is empty"));
    }
    Ok(join_clean(base_dir, Path::new(&path)))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The reserved character a `postgres://` or `mysql://` URL's password holds unencoded, if
/// it holds one. Drivers split such a URL differently (tokio-postgres ends the user info at
/// the first `@`, so `p@ss@host` connects to host `ss@host` and prints part of the password
/// in its error; a `/`, `?` or `#` ends the host early), so barge refuses it before any
/// connection and never prints the password.
pub(crate) fn unencoded_in_password(dsn: &str) -> Option<char> {
    let dsn = dsn.trim();
    let lower = dsn.to_ascii_lowercase();
    let scheme_end = ["postgres://", "postgresql://", "mysql://", "mariadb://"]
        .iter()
        .find(|p| lower.starts_with(*p))?
        .len();
    let rest = &dsn[scheme_end..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.matches('@').count() > 1 {
        return Some('@');
    }
    // `user:pa/ss@host`: the authority seems to end at `user:pa`, whose "port" is not a
    // number, and the user info's `@` comes later.
    if !authority.contains('@') && !authority.starts_with('[') && rest[end..].contains('@') {
        if let Some((_, port)) = authority.rsplit_once(':') {
            if !port.chars().all(|c| c.is_ascii_digit()) {
                return rest[end..].chars().next();
            }
        }
    }
    None
}

/// The configuration error for a URL whose password holds `c` unencoded.
pub(crate) fn password_error(key: &str, origin: &Origin, dsn: &str, c: char) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        origin: origin.clone(),
        message: format!(
            "the password in URL `{}` holds an unencoded `{c}`, so the URL cannot be split into user, password and host reliably",
            redact_dsn(dsn)
        ),
        hint_text: Some(format!(
            "percent-encode reserved characters in the password: `{c}` as `%{:02X}` (for example `p@ss` -> `p%40ss`), or put the password in a credentials file",
            c as u32
        )),
    }
}

/// Whether a DSN looks like a PostgreSQL connection string (URL or key=value).
pub(crate) fn looks_like_postgres(dsn: &str) -> bool {
    let dsn = dsn.trim();
    let lower = dsn.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return true;
    }
    // key=value form: starts with a bare keyword and `=`, as in `host=db dbname=sales`.
    let key = dsn.split('=').next().unwrap_or_default().trim();
    dsn.contains('=')
        && !dsn.contains(';')
        && !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_url_loses_its_password() {
        assert_eq!(
            redact_dsn("postgres://app:pw@db.example:5432/sales"),
            "postgres://app@db.example:5432/sales"
        );
        assert_eq!(
            redact_dsn("postgresql://app:p@ss/w?rd@db:5432/sales?sslmode=require&password=x"),
            "postgresql://app@db:5432/sales?sslmode=require"
        );
        assert_eq!(
            redact_dsn("postgres://db.example/sales"),
            "postgres://db.example/sales"
        );
    }

    #[test]
    fn go_mysql_dsn_loses_its_password() {
        assert_eq!(
            redact_dsn("root:s3cret@tcp(127.0.0.1:3306)/shop?parseTime=true"),
            "root@tcp(127.0.0.1:3306)/shop?parseTime=true"
        );
        assert_eq!(redact_dsn("root:a@b@tcp(h)/db"), "root@tcp(h)/db");
    }

    #[test]
    fn key_value_dsns_lose_their_password() {
        assert_eq!(
            redact_dsn("host=db user=app password='p w\\' x' dbname=sales"),
            "host=db user=app dbname=sales"
        );
        assert_eq!(
            redact_dsn("server=h,1433;user id=sa;Password={p;w=}}x};database=shop"),
            "server=h,1433;user id=sa;database=shop"
        );
        assert_eq!(
            redact_dsn("sqlserver://sa:pw@h:1433?database=shop&password=x"),
            "sqlserver://sa@h:1433?database=shop"
        );
    }

    #[test]
    fn unknown_shapes_are_hidden() {
        assert_eq!(redact_dsn("something opaque"), "***");
        assert_eq!(redact_dsn("host=db password='unterminated"), "***");
    }

    #[test]
    fn fields_are_shown_without_password() {
        let connection = Connection::Fields {
            server: "db.example".into(),
            port: Some(5432),
            username: "app".into(),
            password: Secret::new("pw"),
            database: "sales".into(),
        };
        assert_eq!(connection.redacted(), "app@db.example:5432/sales");
        assert!(!format!("{connection:?}").contains("pw\""));
    }

    #[test]
    fn sqlite_dsn_forms() {
        let base = Path::new("/cfg");
        let origin = Origin::CommandLine;
        let file = |dsn: &str| sqlite_file(dsn, base, "source.dsn", &origin);
        assert_eq!(file("./app.db").unwrap(), PathBuf::from("/cfg/app.db"));
        assert_eq!(file("/data/app.db").unwrap(), PathBuf::from("/data/app.db"));
        assert_eq!(
            file("file:/data/app.db?cache=shared").unwrap(),
            PathBuf::from("/data/app.db")
        );
        assert_eq!(
            file("file:///data/my%20app.db").unwrap(),
            PathBuf::from("/data/my app.db")
        );
        assert_eq!(file("file:rel.db").unwrap(), PathBuf::from("/cfg/rel.db"));
        assert_eq!(
            file("sqlite:///data/app.db").unwrap(),
            PathBuf::from("/data/app.db")
        );
        assert_eq!(
            file("sqlite://app.db").unwrap(),
            PathBuf::from("/cfg/app.db")
        );
        for memory in [
            ":memory:",
            "file::memory:",
            "file:x?mode=memory&cache=shared",
            "sqlite::memory:",
        ] {
            assert!(
                matches!(file(memory), Err(ConfigError::SqliteInMemory { .. })),
                "{memory}"
            );
        }
    }

    #[test]
    fn reserved_characters_in_url_passwords() {
        for (dsn, c) in [
            ("postgres://app:p@ss@db:5432/x", Some('@')),
            ("postgresql://app:p@ss@word@db/x", Some('@')),
            ("mysql://root:p@ss@127.0.0.1:3306/shop", Some('@')),
            ("postgres://app:pa/ss@db/x", Some('/')),
            ("mysql://app:pa?ss@db/x", Some('?')),
            ("postgres://app:pa#ss@db/x", Some('#')),
            ("postgres://app:p%40ss@db:5432/x", None),
            ("postgres://db:5432/x?options=a@b", None),
            ("postgres://db/x?sslrootcert=/a@b/ca.pem", None),
            ("postgres://[::1]/x?user=a@b", None),
            ("host=db password=p@ss@x", None),
            ("root:p@ss@tcp(h:3306)/db", None),
        ] {
            assert_eq!(unencoded_in_password(dsn), c, "{dsn}");
        }
        let e = password_error(
            "target.dsn",
            &Origin::CommandLine,
            "postgres://app:p@ss@db/x",
            '@',
        );
        let text = e.to_string();
        assert!(text.contains("%40") && !text.contains("p@ss@"), "{text}");
    }

    #[test]
    fn postgres_shapes() {
        assert!(looks_like_postgres("postgres://a@b/c"));
        assert!(looks_like_postgres("host=db dbname=x"));
        assert!(!looks_like_postgres("mysql://a@b/c"));
        assert!(!looks_like_postgres("root:pw@tcp(h)/db"));
        assert!(!looks_like_postgres("root:pw@tcp(h)/db?parseTime=true"));
        assert!(!looks_like_postgres("server=h;database=x"));
    }
}
