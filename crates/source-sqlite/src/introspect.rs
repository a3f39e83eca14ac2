//! Reading an SQLite schema through its PRAGMAs and `sqlite_schema`.
//!
//! Nothing in the file may be skipped unseen (issue 13, A2): what barge cannot read goes to
//! `Schema::hidden`, which stops the run unless `on_partial_visibility = "accept"`: a virtual
//! table whose module this SQLite lacks (its columns and rows are unknown), a `sqlite_schema`
//! object of a kind barge does not read, and a CREATE TABLE with more `CHECK (` clauses than
//! the table parser returned. Virtual tables that can be read, views and triggers are listed
//! as findings; `sqlite_*` tables are SQLite's own. A fresh read-only connection has no
//! attached or temporary schemas, so `main` is the whole file.

use crate::sql_expr::{parse_expr_for_table, translate_default, DefaultTranslation};
use crate::table_sql::parse_create_table;
use crate::types::{map_declared_type, MappingOptions, Placement};
use crate::{quote_ident, SqliteError};
use barge_model::Finding;
use barge_model::{
    Check, Chunking, Column, FindingKind, FkAction, ForeignKey, Index, IndexPart, Key, Schema,
    SourceObject, Table,
};
use rusqlite::Connection;

struct TableEntry {
    name: String,
    without_rowid: bool,
    sql: String,
}

pub(crate) fn read_schema(
    conn: &Connection,
    options: &MappingOptions,
) -> Result<Schema, SqliteError> {
    let mut schema = Schema::default();
    let e = SqliteError::Schema;
    let mut entries = Vec::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT l.name, l.type, l.wr, coalesce(m.sql, '') FROM pragma_table_list l \
                 LEFT JOIN sqlite_schema m ON m.name = l.name AND m.type = 'table' \
                 WHERE l.schema = 'main' ORDER BY l.name",
            )
            .map_err(e)?;
        let mut rows = stmt.query([]).map_err(e)?;
        while let Some(r) = rows.next().map_err(e)? {
            let name: String = r.get(0).map_err(e)?;
            let kind: String = r.get(1).map_err(e)?;
            let wr: i64 = r.get(2).map_err(e)?;
            let sql: String = r.get(3).map_err(e)?;
            if name.starts_with("sqlite_") || kind == "view" || kind == "shadow" {
                continue;
            }
            if kind == "virtual" {
                // A module this SQLite lacks cannot even be read: its columns and rows are
                // unknown, which is hidden, not merely not migrated.
                let probe = format!("SELECT * FROM {} LIMIT 0", quote_ident(&name));
                if let Err(err) = conn.prepare(&probe) {
                    schema.hidden.push(
                        Finding::warning(
                            FindingKind::NotVisible,
                            format!("virtual table `{name}` cannot be read ({err}): its columns and rows are unknown to barge (`{}`)", sql.trim()),
                        )
                        .on_table(&name),
                    );
                    continue;
                }
                schema.findings.push(
                    Finding::warning(
                        FindingKind::TableExcluded,
                        format!("virtual table `{name}` is not migrated (its module has no PostgreSQL equivalent)"),
                    )
                    .on_table(&name)
                    .with_hint("export it to a regular table in SQLite, or recreate it with a PostgreSQL extension"),
                );
                continue;
            }
            entries.push(TableEntry {
                name,
                without_rowid: wr != 0,
                sql,
            });
        }
    }
    // Objects of a kind barge does not read (SQLite has none today besides tables, indexes,
    // views and triggers; a newer file format could add one).
    {
        let mut stmt = conn
            .prepare("SELECT type, name FROM sqlite_schema WHERE type NOT IN ('table', 'index', 'view', 'trigger') ORDER BY name")
            .map_err(e)?;
        let mut rows = stmt.query([]).map_err(e)?;
        while let Some(r) = rows.next().map_err(e)? {
            let kind: String = r.get(0).map_err(e)?;
            let name: String = r.get(1).map_err(e)?;
            schema.hidden.push(Finding::warning(
                FindingKind::NotVisible,
                format!(
                    "`{name}` is a `{kind}` in sqlite_schema, a kind of object barge does not read"
                ),
            ));
        }
    }
    for entry in &entries {
        let table = read_table(conn, entry, options, &mut schema.findings)?;
        let declared = crate::table_sql::check_keywords(&entry.sql);
        let read = crate::table_sql::parse_create_table(&entry.sql)
            .checks
            .len();
        if declared > read {
            schema.hidden.push(
                Finding::warning(
                    FindingKind::NotVisible,
                    format!(
                        "table `{}`: its CREATE TABLE holds {declared} CHECK constraint(s), of which barge could read {read}; the others would be lost",
                        entry.name
                    ),
                )
                .on_table(&entry.name),
            );
        }
        schema.tables.push(table);
    }
    // Views and triggers: reported with their SQL, never migrated.
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema WHERE type IN ('view', 'trigger') ORDER BY type, name")
        .map_err(e)?;
    let mut rows = stmt.query([]).map_err(e)?;
    while let Some(r) = rows.next().map_err(e)? {
        let kind: String = r.get(0).map_err(e)?;
        let object = SourceObject {
            name: r.get(1).map_err(e)?,
            table: Some(r.get::<_, String>(2).map_err(e)?),
            sql: r.get(3).map_err(e)?,
        };
        if kind == "view" {
            schema.findings.push(
                Finding::warning(
                    FindingKind::ViewNotMigrated,
                    format!("view `{}` is not migrated", object.name),
                )
                .on_table(&object.name)
                .with_hint("recreate it in PostgreSQL from its source SQL (shown by `barge plan`), e.g. in an after_all hook"),
            );
            schema.views.push(SourceObject {
                table: None,
                ..object
            });
        } else {
            schema.findings.push(
                Finding::warning(
                    FindingKind::TriggerNotMigrated,
                    format!(
                        "trigger `{}` on table `{}` is not migrated",
                        object.name,
                        object.table.as_deref().unwrap_or("")
                    ),
                )
                .on_table(object.table.clone().unwrap_or_default())
                .with_hint("rewrite it as a PostgreSQL trigger function"),
            );
            schema.triggers.push(object);
        }
    }
    Ok(schema)
}

fn fk_action(text: &str) -> FkAction {
    match text.to_ascii_uppercase().as_str() {
        "CASCADE" => FkAction::Cascade,
        "SET NULL" => FkAction::SetNull,
        "SET DEFAULT" => FkAction::SetDefault,
        "RESTRICT" => FkAction::Restrict,
        _ => FkAction::NoAction,
    }
}

fn read_table(
    conn: &Connection,
    entry: &TableEntry,
    options: &MappingOptions,
    findings: &mut Vec<Finding>,
) -> Result<Table, SqliteError> {
    let e = SqliteError::Schema;
    let name = &entry.name;
    let mut table = Table::new(name);
    let mut pk: Vec<(i64, String)> = Vec::new();
    {
        let mut stmt = conn
            .prepare("SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid")
            .map_err(e)?;
        let mut rows = stmt.query([name]).map_err(e)?;
        while let Some(r) = rows.next().map_err(e)? {
            let col_name: String = r.get(0).map_err(e)?;
            let decl: String = r.get(1).map_err(e)?;
            let notnull: i64 = r.get(2).map_err(e)?;
            let default: Option<String> = r.get(3).map_err(e)?;
            let pk_pos: i64 = r.get(4).map_err(e)?;
            let hidden: i64 = r.get(5).map_err(e)?;
            let (data_type, placement) = map_declared_type(&decl, options);
            let mut column = Column::new(&col_name, &decl, data_type.clone());
            column.nullable = notnull == 0;
            match placement {
                Placement::Affinity => {
                    let mut f = Finding::warning(
                        FindingKind::UnknownType,
                        format!("declared type `{decl}` is not a known type name; SQLite's affinity rules make it `{data_type}`"),
                    )
                    .on_table(name)
                    .on_column(&col_name);
                    // Only the numeric fallback is what `unknown_as_text` changes.
                    if matches!(data_type, barge_model::DataType::Numeric { precision: None, .. }) {
                        f = f.with_hint("set `unknown_as_text = true` under [type_mapping] to load such columns as text");
                    }
                    findings.push(f);
                }
                Placement::Untyped => findings.push(
                    Finding::info(
                        FindingKind::TypeMapped,
                        "column has no declared type; loaded as text, which holds any SQLite value without loss",
                    )
                    .on_table(name)
                    .on_column(&col_name),
                ),
                Placement::Named => {}
            }
            if hidden == 2 || hidden == 3 {
                findings.push(
                    Finding::warning(
                        FindingKind::GeneratedColumn,
                        "generated column is copied as a plain column holding its current values; its expression is not recreated",
                    )
                    .on_table(name)
                    .on_column(&col_name)
                    .with_hint("recreate the expression in PostgreSQL (GENERATED ALWAYS AS ... STORED) in an after_all hook if you need it"),
                );
            }
            if let (Some(sql), true) = (default, options.preserve_defaults) {
                match translate_default(&sql, &data_type) {
                    DefaultTranslation::Value(v) => column.default = Some(v),
                    DefaultTranslation::Unsupported(why) => findings.push(
                        Finding::warning(
                            FindingKind::DefaultSkipped,
                            format!("default `{sql}` is not carried over: {why}"),
                        )
                        .on_table(name)
                        .on_column(&col_name)
                        .with_hint("set the default yourself in an after_all hook"),
                    ),
                }
            }
            if pk_pos > 0 {
                pk.push((pk_pos, col_name.clone()));
            }
            table.columns.push(column);
        }
    }
    pk.sort();
    if !pk.is_empty() {
        let columns: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
        // INTEGER PRIMARY KEY on a rowid table is the rowid itself: an auto-assigned key.
        if columns.len() == 1 && !entry.without_rowid {
            if let Some(col) = table.columns.iter_mut().find(|c| c.name == columns[0]) {
                if col.source_type.trim().eq_ignore_ascii_case("INTEGER") {
                    col.identity = true;
                    col.nullable = false;
                }
            }
        }
        table.primary_key = Some(Key {
            name: None,
            columns,
        });
    } else {
        findings.push(
            Finding::info(FindingKind::NoPrimaryKey, "table has no primary key")
                .on_table(name)
                .with_hint("it is copied in rowid ranges, but PostgreSQL will not be able to tell duplicate rows apart"),
        );
    }
    if let Some(pk) = &table.primary_key {
        for c in &mut table.columns {
            if pk.columns.contains(&c.name) {
                c.nullable = false;
            }
        }
    }
    let parts = parse_create_table(&entry.sql);
    let column_names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    for check in &parts.checks {
        match parse_expr_for_table(&check.sql, Some(&column_names)) {
            Ok(expr) => table.checks.push(Check {
                name: check.name.clone(),
                expr,
            }),
            Err(why) => {
                let mut f = Finding::warning(
                    FindingKind::CheckSkipped,
                    format!("CHECK ({}) is not migrated: {why}", check.sql),
                )
                .on_table(name)
                .with_hint("recreate it with ALTER TABLE ... ADD CHECK in an after_all hook");
                if let Some(c) = &check.column {
                    f = f.on_column(c);
                }
                findings.push(f);
            }
        }
    }
    for (column, expr_sql) in &parts.generated {
        if let Some(f) = findings.iter_mut().rev().find(|f| {
            f.kind == FindingKind::GeneratedColumn
                && f.table.as_deref() == Some(name.as_str())
                && f.column
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(column))
        }) {
            f.message = format!(
                "generated column (AS ({expr_sql})) is copied as a plain column holding its current values; its expression is not recreated"
            );
        }
    }
    // A table whose columns shadow every name of the rowid cannot be read by rowid.
    let rowid_hidden = ["rowid", "_rowid_", "oid"]
        .iter()
        .all(|a| table.columns.iter().any(|c| c.name.eq_ignore_ascii_case(a)));
    table.chunking = if entry.without_rowid || rowid_hidden {
        Chunking::Stream
    } else {
        Chunking::IntegerKey { column: None }
    };
    read_indexes(conn, &mut table, findings)?;
    read_foreign_keys(conn, &mut table)?;
    let count: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM {}", quote_ident(name)),
            [],
            |r| r.get(0),
        )
        .map_err(|source| SqliteError::Read {
            table: name.clone(),
            source,
        })?;
    table.row_count = Some(count as u64);
    Ok(table)
}

fn read_indexes(
    conn: &Connection,
    table: &mut Table,
    findings: &mut Vec<Finding>,
) -> Result<(), SqliteError> {
    let e = SqliteError::Schema;
    let mut list = Vec::new();
    {
        let mut stmt = conn
            .prepare("SELECT l.name, l.\"unique\", l.origin, l.partial, coalesce(m.sql, '') FROM pragma_index_list(?1) l LEFT JOIN sqlite_schema m ON m.type = 'index' AND m.name = l.name ORDER BY l.name")
            .map_err(e)?;
        let mut rows = stmt.query([&table.name]).map_err(e)?;
        while let Some(r) = rows.next().map_err(e)? {
            list.push((
                r.get::<_, String>(0).map_err(e)?,
                r.get::<_, i64>(1).map_err(e)? != 0,
                r.get::<_, String>(2).map_err(e)?,
                r.get::<_, i64>(3).map_err(e)? != 0,
                r.get::<_, String>(4).map_err(e)?,
            ));
        }
    }
    let column_names: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let column_refs: Vec<&str> = column_names.iter().map(String::as_str).collect();
    for (index_name, unique, origin, partial, sql) in list {
        if origin == "pk" {
            continue;
        }
        // (cid, name, desc) for each key column; cid -2 is an expression.
        let mut keys: Vec<(i64, Option<String>, bool)> = Vec::new();
        let mut collations: Vec<String> = Vec::new();
        {
            let mut stmt = conn
                .prepare("SELECT cid, name, \"desc\", coalesce(coll, 'BINARY') FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno")
                .map_err(e)?;
            let mut rows = stmt.query([&index_name]).map_err(e)?;
            while let Some(r) = rows.next().map_err(e)? {
                keys.push((
                    r.get(0).map_err(e)?,
                    r.get(1).map_err(e)?,
                    r.get::<_, i64>(2).map_err(e)? != 0,
                ));
                let coll: String = r.get(3).map_err(e)?;
                if !coll.eq_ignore_ascii_case("BINARY") && !collations.contains(&coll) {
                    collations.push(coll);
                }
            }
        }
        if !collations.is_empty() {
            findings.push(
                Finding::warning(
                    FindingKind::IndexTranslated,
                    format!(
                        "{} `{index_name}` compares with collation {}; in PostgreSQL it uses the columns' default (case-sensitive) collation{}",
                        if origin == "u" { "unique constraint" } else { "index" },
                        collations.join(", "),
                        if unique { ", so values differing only in case no longer collide" } else { "" }
                    ),
                )
                .on_table(&table.name)
                .with_hint("create a unique index on lower(column) in an after_all hook to keep case-insensitive uniqueness"),
            );
        }
        if origin == "u" {
            table.unique_keys.push(Key {
                name: Some(index_name),
                columns: keys.into_iter().filter_map(|k| k.1).collect(),
            });
            continue;
        }
        let parsed = split_index_sql(&sql);
        let skip = |why: String, findings: &mut Vec<Finding>| {
            findings.push(
                Finding::warning(
                    FindingKind::IndexSkipped,
                    format!("index `{index_name}` is not migrated: {why}"),
                )
                .on_table(&table.name)
                .with_hint("create an equivalent index yourself in an after_all hook"),
            );
        };
        let mut parts = Vec::new();
        let mut failed = None;
        for (i, (cid, col, desc)) in keys.iter().enumerate() {
            if *cid >= 0 {
                if let Some(c) = col {
                    parts.push(IndexPart::Column {
                        name: c.clone(),
                        descending: *desc,
                    });
                }
                continue;
            }
            let Some(text) = parsed.as_ref().and_then(|p| p.0.get(i)) else {
                failed = Some("its definition could not be read".to_string());
                break;
            };
            match parse_expr_for_table(strip_order(text), Some(&column_refs)) {
                Ok(expr) => parts.push(IndexPart::Expr {
                    expr,
                    descending: *desc,
                }),
                Err(why) => {
                    failed = Some(format!("expression `{text}`: {why}"));
                    break;
                }
            }
        }
        let mut predicate = None;
        if partial && failed.is_none() {
            match parsed.as_ref().and_then(|p| p.1.as_deref()) {
                Some(text) => match parse_expr_for_table(text, Some(&column_refs)) {
                    Ok(expr) => predicate = Some(expr),
                    Err(why) => failed = Some(format!("predicate `{text}`: {why}")),
                },
                None => failed = Some("its WHERE clause could not be read".to_string()),
            }
        }
        if let Some(why) = failed {
            skip(why, findings);
            continue;
        }
        let translated = partial || parts.iter().any(|p| matches!(p, IndexPart::Expr { .. }));
        if translated {
            findings.push(
                Finding::info(
                    FindingKind::IndexTranslated,
                    format!(
                        "{} index `{index_name}` is translated to PostgreSQL",
                        if partial { "partial" } else { "expression" }
                    ),
                )
                .on_table(&table.name),
            );
        }
        table.indexes.push(Index {
            target_name: index_name.clone(),
            name: index_name,
            unique,
            parts,
            predicate,
            method: Default::default(),
        });
    }
    Ok(())
}

/// Remove a trailing `ASC`/`DESC` (the direction comes from the index info) and `COLLATE x`.
fn strip_order(part: &str) -> &str {
    let mut p = part.trim();
    for suffix in [" ASC", " DESC"] {
        if p.len() > suffix.len() && p[p.len() - suffix.len()..].eq_ignore_ascii_case(suffix) {
            p = p[..p.len() - suffix.len()].trim_end();
        }
    }
    p
}

/// Split `CREATE [UNIQUE] INDEX name ON tbl (part, part) [WHERE expr]` into its key parts and
/// predicate, respecting quotes and nested parentheses.
fn split_index_sql(sql: &str) -> Option<(Vec<String>, Option<String>)> {
    let bytes = sql.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut parts = Vec::new();
    let mut part_start = 0;
    let mut end = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else {
            match c {
                b'\'' | b'"' | b'`' => quote = Some(c),
                b'[' => quote = Some(b']'),
                b'(' => {
                    if depth == 0 {
                        part_start = i + 1;
                    }
                    depth += 1;
                }
                b')' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        parts.push(sql[part_start..i].trim().to_string());
                        end = Some(i);
                        break;
                    }
                }
                b',' if depth == 1 => {
                    parts.push(sql[part_start..i].trim().to_string());
                    part_start = i + 1;
                }
                _ => {}
            }
        }
        i += 1;
    }
    let rest = sql[end? + 1..].trim();
    let predicate = if rest.len() > 5 && rest[..5].eq_ignore_ascii_case("WHERE") {
        Some(rest[5..].trim().trim_end_matches(';').to_string())
    } else {
        None
    };
    Some((parts, predicate))
}

fn read_foreign_keys(conn: &Connection, table: &mut Table) -> Result<(), SqliteError> {
    let e = SqliteError::Schema;
    let mut stmt = conn
        .prepare("SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq")
        .map_err(e)?;
    let mut rows = stmt.query([&table.name]).map_err(e)?;
    let mut fks: Vec<(i64, ForeignKey, Vec<Option<String>>)> = Vec::new();
    while let Some(r) = rows.next().map_err(e)? {
        let id: i64 = r.get(0).map_err(e)?;
        let ref_table: String = r.get(1).map_err(e)?;
        let from: String = r.get(2).map_err(e)?;
        let to: Option<String> = r.get(3).map_err(e)?;
        if fks.last().map(|f| f.0) != Some(id) {
            fks.push((
                id,
                ForeignKey {
                    name: None,
                    columns: Vec::new(),
                    ref_table,
                    ref_columns: Vec::new(),
                    on_update: fk_action(&r.get::<_, String>(4).map_err(e)?),
                    on_delete: fk_action(&r.get::<_, String>(5).map_err(e)?),
                },
                Vec::new(),
            ));
        }
        if let Some(last) = fks.last_mut() {
            last.1.columns.push(from);
            last.2.push(to);
        }
    }
    drop(rows);
    drop(stmt);
    for (_, mut fk, to) in fks {
        if to.iter().all(Option::is_some) {
            fk.ref_columns = to.into_iter().flatten().collect();
        } else {
            // `REFERENCES parent` without columns means the parent's primary key.
            fk.ref_columns = parent_primary_key(conn, &fk.ref_table)?;
        }
        table.foreign_keys.push(fk);
    }
    Ok(())
}

fn parent_primary_key(conn: &Connection, parent: &str) -> Result<Vec<String>, SqliteError> {
    let e = SqliteError::Schema;
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
        .map_err(e)?;
    let cols = stmt
        .query_map([parent], |r| r.get::<_, String>(0))
        .map_err(e)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(e)?;
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_sql_is_split() {
        let (parts, pred) = split_index_sql(
            "CREATE INDEX \"i(x\" ON t (lower(\"a,b\"), c DESC) WHERE c > 0 AND d IN (1, 2)",
        )
        .unwrap();
        assert_eq!(parts, vec!["lower(\"a,b\")", "c DESC"]);
        assert_eq!(pred.as_deref(), Some("c > 0 AND d IN (1, 2)"));
        assert_eq!(strip_order("c DESC"), "c");
    }
}
