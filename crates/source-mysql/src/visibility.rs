//! What the source account cannot see. MySQL and MariaDB filter `information_schema` by the
//! account's privileges without saying so: a row the account may not see is simply absent.
//! Read naively, a textbook read-only account migrates without its foreign keys, tables or
//! columns, and nothing says so. This module asks the server what the account can see and
//! compares catalog views that should agree, so introspection can name what is hidden and the
//! GRANT that shows it.
//!
//! Found by experiment on MariaDB 10.11 (accounts with one grant shape each, the same
//! database of tables with a foreign key, CHECKs, a view, a trigger, a procedure, an event):
//!
//! | account | TABLES, COLUMNS, STATISTICS | KEY_COLUMN_USAGE | REFERENTIAL_CONSTRAINTS, TABLE_CONSTRAINTS | CHECK_CONSTRAINTS | SHOW CREATE TABLE |
//! | --- | --- | --- | --- | --- | --- |
//! | `SELECT ON db.*` | all | all, FKs included | **none** | all | all |
//! | `SELECT` plus any other privilege on `db.*` (`SHOW VIEW`, `REFERENCES`, `INSERT`, ...) | all | all | all | all | all |
//! | `SELECT ON db.t` per table | granted tables only | granted tables | **none** | **none** | granted tables |
//! | `SELECT (a, b) ON db.t` | granted columns only; indexes on other columns absent | no FK of that table | none | none | refused (1142) |
//!
//! MariaDB shows REFERENTIAL_CONSTRAINTS and TABLE_CONSTRAINTS only for tables on which the
//! account has a privilege besides SELECT (PostgreSQL's rule), and CHECK_CONSTRAINTS only with
//! a database-level grant. VIEWS lists every view, with an empty VIEW_DEFINITION without
//! SHOW VIEW. TRIGGERS lists a trigger only with a privilege besides SELECT on its table, its
//! ACTION_STATEMENT only with TRIGGER. ROUTINES lists routines only with EXECUTE, CREATE
//! ROUTINE or ALTER ROUTINE, and their definition only to the definer or with SELECT on
//! `mysql.proc` (even `ALL ON db.*` sees `NULL`). EVENTS needs EVENT. The privilege views
//! (SCHEMA_PRIVILEGES, TABLE_PRIVILEGES, COLUMN_PRIVILEGES, USER_PRIVILEGES) list only grants
//! made to the account itself, not those of its default role, and show wildcard database
//! grants (`` `shop\_%`.* ``) as patterns; `SHOW GRANTS` shows the role's grants too.
//!
//! MySQL 8 (its manual; there is no MySQL server here to check against): information_schema
//! views are built on the data dictionary and show a table's rows, constraints included, to an
//! account with any privilege on it, columns only where it has a column privilege; view
//! definitions need SHOW VIEW; routines are listed with EXECUTE, CREATE ROUTINE or ALTER
//! ROUTINE, their definitions need SHOW_ROUTINE (8.0.20) or global SELECT; triggers need
//! TRIGGER; events need EVENT. Roles granted to the account appear in `SHOW GRANTS` only as
//! names, so the active roles are expanded with `SHOW GRANTS ... USING`.
//!
//! So barge does not trust any one view. What it checks:
//! - **Coverage**, asked of the server itself rather than read from grants (which roles,
//!   wildcards and partial revokes make hard to evaluate): `SELECT` from a table name that
//!   does not exist fails with "no such table" (1146) when the account's SELECT covers every
//!   table of the database, and with "SELECT command denied" (1142) when it holds only
//!   table or column grants; then tables it has no grant on are invisible. Each visible
//!   table is then read with `SELECT * ... LIMIT 0`, which fails where only some columns are
//!   granted, and its `SHOW CREATE TABLE` names the CHECKs and foreign keys the catalog
//!   views hid.
//! - **Agreement** between views: a foreign key in KEY_COLUMN_USAGE (or TABLE_CONSTRAINTS)
//!   but not REFERENTIAL_CONSTRAINTS, a CHECK in TABLE_CONSTRAINTS but not CHECK_CONSTRAINTS
//!   or the reverse, is hidden in part.
//! - **Objects barge only lists** (views, triggers, routines, events): a definition that
//!   comes back empty, or a privilege without which the class cannot be listed at all, is a
//!   warning naming the privilege; they are not migrated either way.

use crate::Flavor;
use barge_model::{Finding, FindingKind};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};
use std::collections::BTreeSet;

/// A table name no database holds: selecting from it tells whether SELECT covers the whole
/// database (1146, no such table) or only granted tables (1142, command denied).
const PROBE_TABLE: &str = "barge_visibility_probe_5f0c1e2a9d";

/// What the account may see of the database.
pub(crate) struct Access {
    /// `'user'@'host'`, as a GRANT names it.
    pub account: String,
    /// SELECT covers every table of the database (database-level or global, directly, by
    /// wildcard or through a role).
    pub covers_database: bool,
    /// The account's privileges from `SHOW GRANTS`, when they could be read.
    pub grants: Option<Grants>,
}

impl Access {
    pub(crate) async fn read(conn: &mut Conn, db: &str, flavor: Flavor) -> Access {
        let account: Option<String> = conn
            .query_first("SELECT CURRENT_USER()")
            .await
            .ok()
            .flatten();
        let account = account
            .map(|a| match a.rsplit_once('@') {
                Some((user, host)) => format!("{}@{}", sql_string(user), sql_string(host)),
                None => sql_string(&a),
            })
            .unwrap_or_else(|| "CURRENT_USER".into());
        let probe = format!(
            "SELECT 1 FROM {}.{} LIMIT 0",
            crate::quote_ident(db),
            crate::quote_ident(PROBE_TABLE)
        );
        let covers_database = match conn.query_drop(probe).await {
            // ER_TABLEACCESS_DENIED_ERROR: the account's SELECT is per table (or absent).
            Err(mysql_async::Error::Server(e)) if e.code == 1142 => false,
            // ER_NO_SUCH_TABLE (or, improbably, a table of that name it may read).
            _ => true,
        };
        let grants = read_grants(conn, flavor)
            .await
            .map(|lines| Grants::parse(&lines, db));
        Access {
            account,
            covers_database,
            grants,
        }
    }

    /// `GRANT <privileges> ON `db`.* TO <account>`, the database name escaped so the grant
    /// covers this database only (`_` and `%` are wildcards in a GRANT's database name).
    pub(crate) fn grant(&self, privileges: &[&str], db: &str) -> String {
        let pattern = db
            .replace('\\', "\\\\")
            .replace('_', "\\_")
            .replace('%', "\\%");
        format!(
            "GRANT {} ON {}.* TO {}",
            privileges.join(", "),
            crate::quote_ident(&pattern),
            self.account
        )
    }

    /// Whether the account holds `privilege` on the whole database (or globally); `None`
    /// when its grants could not be read.
    pub(crate) fn has(&self, privilege: &str) -> Option<bool> {
        self.grants.as_ref().map(|g| g.on_database(privilege))
    }
}

/// `'text'` as an SQL string literal.
fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// The lines of `SHOW GRANTS`, with MySQL's active roles expanded.
async fn read_grants(conn: &mut Conn, flavor: Flavor) -> Option<Vec<String>> {
    let texts = |rows: Vec<Row>| -> Vec<String> {
        rows.iter()
            .filter_map(|r| match r.as_ref(0) {
                Some(Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                _ => None,
            })
            .collect()
    };
    if flavor == Flavor::Mysql {
        let roles: Option<String> = conn
            .query_first("SELECT CURRENT_ROLE()")
            .await
            .ok()
            .flatten();
        if let Some(roles) = roles.filter(|r| !r.is_empty() && r != "NONE") {
            let sql = format!("SHOW GRANTS FOR CURRENT_USER() USING {roles}");
            if let Ok(rows) = conn.query::<Row, _>(sql).await {
                return Some(texts(rows));
            }
        }
    }
    conn.query::<Row, _>("SHOW GRANTS").await.ok().map(texts)
}

/// Privileges that apply to one database, read from `SHOW GRANTS` lines.
#[derive(Debug, Default, Clone)]
pub(crate) struct Grants {
    /// On `*.*`.
    global: BTreeSet<String>,
    /// On `*.*` or a database pattern matching this database, minus partial revokes.
    database: BTreeSet<String>,
    /// SELECT on `mysql.proc` (MariaDB shows routine definitions with it).
    proc_select: bool,
}

impl Grants {
    pub(crate) fn parse(lines: &[String], db: &str) -> Grants {
        let mut grants = Grants::default();
        let mut revoked = BTreeSet::new();
        for line in lines {
            let (revoke, rest) = if let Some(r) = line.strip_prefix("GRANT ") {
                (false, r)
            } else if let Some(r) = line.strip_prefix("REVOKE ") {
                (true, r)
            } else {
                continue;
            };
            let Some((privileges, rest)) = split_keyword(rest, " ON ") else {
                continue; // a role granted to the account
            };
            let scope = rest
                .split(if revoke { " FROM " } else { " TO " })
                .next()
                .unwrap_or("")
                .trim();
            let privileges = privilege_names(privileges);
            let Some((schema, object)) = split_scope(scope) else {
                continue;
            };
            let on_db = match (&schema, &object) {
                (None, None) => {
                    grants.global.extend(privileges.iter().cloned());
                    true
                }
                (Some(pattern), None) => like(pattern, db),
                (Some(s), Some(t)) => {
                    if s == "mysql" && t == "proc" && privileges.iter().any(|p| p == "SELECT") {
                        grants.proc_select = true;
                    }
                    false
                }
                (None, Some(_)) => false,
            };
            if on_db {
                if revoke {
                    revoked.extend(privileges);
                } else {
                    grants.database.extend(privileges);
                }
            }
        }
        for r in revoked {
            grants.database.remove(&r);
        }
        grants
    }

    fn holds(set: &BTreeSet<String>, privilege: &str) -> bool {
        set.contains(privilege) || set.contains("ALL PRIVILEGES") || set.contains("ALL")
    }

    /// Held on the whole database or globally.
    pub(crate) fn on_database(&self, privilege: &str) -> bool {
        Self::holds(&self.database, privilege)
    }

    pub(crate) fn global(&self, privilege: &str) -> bool {
        Self::holds(&self.global, privilege)
    }

    /// A privilege besides SELECT and USAGE on the whole database (MariaDB shows
    /// REFERENTIAL_CONSTRAINTS and TABLE_CONSTRAINTS only then).
    pub(crate) fn beyond_select(&self) -> bool {
        self.database.iter().any(|p| p != "SELECT" && p != "USAGE")
    }

    pub(crate) fn proc_select(&self) -> bool {
        self.proc_select
    }
}

/// Split at the first `keyword` outside backticks and parentheses.
fn split_keyword<'a>(text: &'a str, keyword: &str) -> Option<(&'a str, &'a str)> {
    let mut depth = 0i32;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '`' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            _ if !quoted && depth == 0 && text[i..].starts_with(keyword) => {
                return Some((&text[..i], &text[i + keyword.len()..]));
            }
            _ => {}
        }
    }
    None
}

/// `SELECT, SHOW VIEW, INSERT (`a`)` -> `["SELECT", "SHOW VIEW", "INSERT"]`; column lists
/// are dropped (a column grant is not a table or database grant).
fn privilege_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    let mut quoted = false;
    let mut columns = false;
    for c in text.chars() {
        match c {
            '`' => quoted = !quoted,
            '(' if !quoted => {
                depth += 1;
                columns = true;
            }
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                if !columns {
                    out.push(current.trim().to_ascii_uppercase());
                }
                current.clear();
                columns = false;
            }
            _ if depth == 0 && !quoted => current.push(c),
            _ => {}
        }
    }
    if !columns && !current.trim().is_empty() {
        out.push(current.trim().to_ascii_uppercase());
    }
    out
}

/// `*.*` -> (None, None); `` `db`.* `` -> (db, None); `` `db`.`t` `` -> (db, t);
/// routines (`PROCEDURE `db`.`p``) and proxies -> None.
fn split_scope(scope: &str) -> Option<(Option<String>, Option<String>)> {
    if scope.starts_with("PROCEDURE ")
        || scope.starts_with("FUNCTION ")
        || scope.starts_with("PACKAGE ")
        || scope.contains('@')
    {
        return None;
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = scope.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' if quoted && chars.peek() == Some(&'`') => {
                chars.next();
                current.push('`');
            }
            '`' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    let name = |p: &String| (p != "*").then(|| p.clone());
    match parts.as_slice() {
        [db, table] => Some((name(db), name(table))),
        _ => None,
    }
}

/// MySQL's database-name pattern of a GRANT: `%` any run, `_` one character, `\` escapes.
fn like(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('%') => (0..=n.len()).any(|i| go(&p[1..], &n[i..])),
            Some('_') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && go(&p[2..], &n[1..]),
            Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// Whether the account may read every column of `table` (`SELECT * ... LIMIT 0`, which
/// MySQL refuses where only some columns are granted).
pub(crate) async fn reads_every_column(conn: &mut Conn, table: &str) -> bool {
    let sql = format!("SELECT * FROM {} LIMIT 0", crate::quote_ident(table));
    !matches!(
        conn.query_drop(sql).await,
        Err(mysql_async::Error::Server(e)) if matches!(e.code, 1142 | 1143)
    )
}

/// The CHECK and foreign key names `SHOW CREATE TABLE` shows, when the account may run it.
pub(crate) async fn declared_constraints(
    conn: &mut Conn,
    table: &str,
) -> Option<(Vec<String>, Vec<String>)> {
    let sql = format!("SHOW CREATE TABLE {}", crate::quote_ident(table));
    let row: Row = conn.query_first(sql).await.ok().flatten()?;
    let text = match row.as_ref(1) {
        Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => return None,
    };
    Some(parse_declared_constraints(&text))
}

/// CHECK and FOREIGN KEY names in a `SHOW CREATE TABLE` text: `CONSTRAINT `n` CHECK (...)`
/// and `CONSTRAINT `n` FOREIGN KEY ...` lines, and MariaDB's column-level `CHECK (...)`,
/// which the server names after its column.
pub(crate) fn parse_declared_constraints(sql: &str) -> (Vec<String>, Vec<String>) {
    let (mut checks, mut fks) = (Vec::new(), Vec::new());
    for line in sql.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("CONSTRAINT ") {
            let Some((name, after)) = quoted_name(rest) else {
                continue;
            };
            let after = after.trim_start();
            if after.starts_with("CHECK") {
                checks.push(name);
            } else if after.starts_with("FOREIGN KEY") {
                fks.push(name);
            }
        } else if line.starts_with('`') {
            let Some((column, after)) = quoted_name(line) else {
                continue;
            };
            if has_top_level_check(after) {
                checks.push(column);
            }
        }
    }
    (checks, fks)
}

/// A leading backquoted name (`` `a``b` `` -> ``a`b``) and the text after it.
fn quoted_name(text: &str) -> Option<(String, &str)> {
    let rest = text.strip_prefix('`')?;
    let mut name = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '`' {
            if chars.peek().map(|(_, n)| *n) == Some('`') {
                chars.next();
                name.push('`');
            } else {
                return Some((name, &rest[i + 1..]));
            }
        } else {
            name.push(c);
        }
    }
    None
}

/// Whether a column definition holds a ` CHECK (` outside quoted strings and names.
fn has_top_level_check(definition: &str) -> bool {
    let mut quote: Option<char> = None;
    let bytes: Vec<char> = definition.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == '\\' && q != '`' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"' | '`') => quote = Some(c),
            None => {
                let rest: String = bytes[i..].iter().take(7).collect();
                if rest == " CHECK " || rest == " CHECK(" {
                    return true;
                }
            }
        }
        i += 1;
    }
    false
}

/// A hidden object: what the migration would miss.
pub(crate) fn hidden(message: String, table: Option<&str>) -> Finding {
    let mut f = Finding::warning(FindingKind::NotVisible, message);
    if let Some(t) = table {
        f = f.on_table(t);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_read_per_database() {
        let lines: Vec<String> = [
            "GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*AB'",
            "GRANT SELECT, SHOW VIEW ON `shop`.* TO `u`@`%`",
            "GRANT SELECT (`a`, `b`), INSERT ON `shop`.`t` TO `u`@`%`",
            "GRANT TRIGGER ON `sho\\_%`.* TO `u`@`%`",
            "GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `u`@`%`",
            "GRANT SELECT ON `mysql`.`proc` TO `u`@`%`",
            "GRANT `reader` TO `u`@`%`",
        ]
        .map(String::from)
        .to_vec();
        let g = Grants::parse(&lines, "shop");
        assert!(g.on_database("SELECT"));
        assert!(g.on_database("SHOW VIEW"));
        assert!(!g.on_database("TRIGGER"), "`sho\\_%` does not match `shop`");
        assert!(
            !g.on_database("INSERT"),
            "a table grant is not a database grant"
        );
        assert!(g.beyond_select());
        assert!(g.proc_select());
        let g = Grants::parse(&lines, "sho_x");
        assert!(g.on_database("TRIGGER"));
        assert!(!g.on_database("SELECT"));
        let all = Grants::parse(
            &["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION".into()],
            "any",
        );
        assert!(all.on_database("EVENT") && all.global("SELECT"));
        let revoked = Grants::parse(
            &[
                "GRANT SELECT, TRIGGER ON *.* TO `u`@`%`".into(),
                "REVOKE TRIGGER ON `shop`.* FROM `u`@`%`".into(),
            ],
            "shop",
        );
        assert!(revoked.on_database("SELECT") && !revoked.on_database("TRIGGER"));
    }

    #[test]
    fn grant_names_this_database_only() {
        let access = Access {
            account: "'u'@'%'".into(),
            covers_database: true,
            grants: None,
        };
        assert_eq!(
            access.grant(&["SELECT", "SHOW VIEW"], "my_db"),
            "GRANT SELECT, SHOW VIEW ON `my\\_db`.* TO 'u'@'%'"
        );
    }

    #[test]
    fn show_create_table_constraints() {
        let sql = "CREATE TABLE `child` (\n  `id` int(11) NOT NULL,\n  `note` varchar(20) DEFAULT ' CHECK (x)',\n  `qty` int(11) DEFAULT NULL CHECK (`qty` > 0),\n  PRIMARY KEY (`id`),\n  CONSTRAINT `fk``p` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`),\n  CONSTRAINT `name_ne` CHECK (`name` <> '')\n) ENGINE=InnoDB";
        let (checks, fks) = parse_declared_constraints(sql);
        assert_eq!(checks, ["qty", "name_ne"]);
        assert_eq!(fks, ["fk`p"]);
    }
}
