//! Reading a MySQL or MariaDB schema from `information_schema`, one query per catalog table
//! for the whole database (not one per table), so a schema of thousands of tables reads in a
//! few round trips.
//!
//! The catalog shows only what the account may see, silently; constraint views are read
//! apart (not joined) and compared, and what one shows and another hides, or what the
//! account's privileges keep out of sight, goes to `Schema::hidden` with the GRANT that
//! shows it (see `visibility`). Only an account without database-wide SELECT costs extra
//! round trips (two per visible table).

use crate::defaults::{translate_default, zero_default_words, DefaultContext, DefaultTranslation};
use crate::types::{enum_values, map_column_type, ColumnTypeInfo};
use crate::visibility::{self, Access};
use crate::{Flavor, IntrospectOptions, MysqlError, MysqlSource};
use barge_config::{EnumMode, SetMode, ZeroDateMode};
use barge_model::{
    Check, Chunking, Column, DataType, Expr, Finding, FindingKind, FkAction, ForeignKey, Generated,
    Index, IndexMethod, IndexPart, Key, Literal, Schema, Severity, SourceObject, Table, UnaryOp,
};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(crate) struct ReadSchema {
    pub schema: Schema,
    pub text_columns: HashMap<String, HashMap<String, (String, String)>>,
}

/// A text cell of a catalog row (the text protocol sends everything as bytes).
fn text(row: &Row, i: usize) -> Option<String> {
    match row.as_ref(i) {
        Some(Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        Some(Value::Int(v)) => Some(v.to_string()),
        Some(Value::UInt(v)) => Some(v.to_string()),
        _ => None,
    }
}

fn text_or_empty(row: &Row, i: usize) -> String {
    text(row, i).unwrap_or_default()
}

fn number(row: &Row, i: usize) -> Option<u64> {
    text(row, i).and_then(|s| s.trim().parse().ok())
}

async fn rows(conn: &mut Conn, sql: &str, database: &str) -> Result<Vec<Row>, MysqlError> {
    conn.query(sql).await.map_err(|source| MysqlError::Schema {
        database: database.to_string(),
        source,
    })
}

struct ColumnRow {
    name: String,
    default: Option<String>,
    nullable: bool,
    info: ColumnTypeInfo,
    charset: Option<String>,
    collation: Option<String>,
    extra: String,
    comment: String,
    generation: String,
}

struct IndexRow {
    name: String,
    non_unique: bool,
    column: Option<String>,
    sub_part: Option<u64>,
    index_type: String,
    descending: bool,
    expression: Option<String>,
}

fn fk_action(rule: &str) -> FkAction {
    match rule.to_ascii_uppercase().as_str() {
        "CASCADE" => FkAction::Cascade,
        "SET NULL" => FkAction::SetNull,
        "SET DEFAULT" => FkAction::SetDefault,
        "RESTRICT" => FkAction::Restrict,
        _ => FkAction::NoAction,
    }
}

pub(crate) async fn read_schema(
    conn: &mut Conn,
    source: &MysqlSource,
    opts: &IntrospectOptions,
) -> Result<ReadSchema, MysqlError> {
    let db = source.database();
    let flavor = source.flavor();
    let mut schema = Schema {
        // MySQL index names are unique per table only.
        index_names_per_table: true,
        ..Schema::default()
    };
    let findings = &mut schema.findings;
    // What the account may see, before reading what it sees (see `visibility`).
    let access = Access::read(conn, db, flavor).await;
    let mut hidden: Vec<Finding> = Vec::new();

    // Tables.
    let table_rows = rows(
        conn,
        "SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, TABLE_COMMENT, CREATE_OPTIONS, AUTO_INCREMENT \
         FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
        db,
    )
    .await?;
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let mut sequence_names = Vec::new();
    for r in &table_rows {
        let name = text_or_empty(r, 0);
        let kind = text_or_empty(r, 1).to_ascii_uppercase();
        match kind.as_str() {
            "VIEW" => continue,
            "SEQUENCE" => {
                sequence_names.push(name);
                continue;
            }
            "SYSTEM VERSIONED" => findings.push(
                Finding::warning(
                    FindingKind::OptionIgnored,
                    "table is system-versioned; only its current rows are copied, not its history",
                )
                .on_table(&name),
            ),
            _ => {}
        }
        let mut table = Table::new(&name);
        table.row_count = number(r, 2);
        table.next_identity = number(r, 5);
        table.comment = text(r, 3).filter(|c| !c.is_empty());
        if text_or_empty(r, 4)
            .to_ascii_lowercase()
            .contains("partitioned")
        {
            findings.push(
                Finding::info(
                    FindingKind::OptionIgnored,
                    "table is partitioned in the source; it is created as one table in PostgreSQL",
                )
                .on_table(&name),
            );
        }
        tables.insert(name, table);
    }

    // CHECK constraints: MariaDB's JSON columns are longtext with a json_valid check.
    // MySQL's CHECK_CONSTRAINTS has no table name: TABLE_CONSTRAINTS gives it. Each view is
    // read alone, so one that hides rows the other shows is noticed (see `visibility`).
    let check_sql = match flavor {
        Flavor::Mariadb => {
            "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME"
        }
        Flavor::Mysql => {
            "SELECT NULL, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY CONSTRAINT_NAME"
        }
    };
    let check_rows: Vec<Row> = match conn.query(check_sql).await {
        Ok(rows) => rows,
        // ER_UNKNOWN_TABLE: a server before CHECK support (MySQL 5.7, MariaDB 10.1) has no
        // such view, and no checks.
        Err(mysql_async::Error::Server(e)) if e.code == 1109 => Vec::new(),
        Err(source) => {
            return Err(MysqlError::Schema {
                database: db.to_string(),
                source,
            })
        }
    };
    let constraint_rows = rows(
        conn,
        "SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS \
         WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_TYPE IN ('CHECK', 'FOREIGN KEY') \
         ORDER BY TABLE_NAME, CONSTRAINT_NAME",
        db,
    )
    .await?;
    let mut listed_checks: BTreeSet<(String, String)> = BTreeSet::new();
    let mut listed_fks: BTreeSet<(String, String)> = BTreeSet::new();
    let mut check_tables: HashMap<String, String> = HashMap::new();
    for r in &constraint_rows {
        let (table, name) = (text_or_empty(r, 0), text_or_empty(r, 1));
        if text_or_empty(r, 2).eq_ignore_ascii_case("CHECK") {
            check_tables.insert(name.clone(), table.clone());
            listed_checks.insert((table, name));
        } else {
            listed_fks.insert((table, name));
        }
    }
    let mut json_columns: HashMap<(String, String), ()> = HashMap::new();
    let mut other_checks: Vec<(String, String, String)> = Vec::new();
    let mut read_checks: BTreeSet<(String, String)> = BTreeSet::new();
    for r in &check_rows {
        let name = text_or_empty(r, 1);
        let clause = text_or_empty(r, 2);
        let table = match text(r, 0) {
            Some(t) => t,
            None => match check_tables.get(&name) {
                Some(t) => t.clone(),
                None => {
                    hidden.push(visibility::hidden(
                        format!(
                            "CHECK constraint `{name}` (`{clause}`) is listed in CHECK_CONSTRAINTS, but TABLE_CONSTRAINTS hides which table it belongs to"
                        ),
                        None,
                    ));
                    continue;
                }
            },
        };
        read_checks.insert((table.clone(), name.clone()));
        let compact: String = clause.chars().filter(|c| !c.is_whitespace()).collect();
        let lower = compact.to_lowercase();
        if let Some(col) = lower
            .strip_prefix("json_valid(`")
            .and_then(|s| s.strip_suffix("`)"))
        {
            json_columns.insert((table, col.to_string()), ());
        } else {
            other_checks.push((table, name, clause));
        }
    }
    for (table, name) in listed_checks.difference(&read_checks) {
        hidden.push(visibility::hidden(
            format!(
                "CHECK constraint `{name}` of table `{table}` is listed in TABLE_CONSTRAINTS, but CHECK_CONSTRAINTS hides its clause"
            ),
            Some(table),
        ));
    }

    // Columns. MySQL 8 records a spatial column's declared SRID; MariaDB does not.
    let srs_id = match flavor {
        Flavor::Mysql if !source.server_version().starts_with("5.") => "SRS_ID",
        _ => "NULL",
    };
    let column_rows = rows(
        conn,
        &format!(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_DEFAULT, IS_NULLABLE, DATA_TYPE, COLUMN_TYPE, \
                    CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, \
                    CHARACTER_SET_NAME, COLLATION_NAME, EXTRA, COLUMN_COMMENT, GENERATION_EXPRESSION, \
                    {srs_id} \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
             ORDER BY TABLE_NAME, ORDINAL_POSITION"
        ),
        db,
    )
    .await?;
    let mut columns: BTreeMap<String, Vec<ColumnRow>> = BTreeMap::new();
    for r in &column_rows {
        let table = text_or_empty(r, 0);
        let name = text_or_empty(r, 1);
        let data_type = text_or_empty(r, 4).to_ascii_lowercase();
        let json_check = json_columns.contains_key(&(table.clone(), name.to_lowercase()));
        columns.entry(table).or_default().push(ColumnRow {
            default: text(r, 2),
            nullable: text_or_empty(r, 3).eq_ignore_ascii_case("YES"),
            info: ColumnTypeInfo {
                data_type,
                column_type: text_or_empty(r, 5),
                char_max_length: number(r, 6),
                numeric_precision: number(r, 7),
                numeric_scale: number(r, 8),
                datetime_precision: number(r, 9),
                json_check,
                srid: number(r, 15).map(|n| n as u32),
                collation: text(r, 11),
            },
            charset: text(r, 10),
            collation: text(r, 11),
            extra: text_or_empty(r, 12),
            comment: text_or_empty(r, 13),
            generation: text_or_empty(r, 14),
            name,
        });
    }

    // Indexes (the primary key among them).
    let expression = match flavor {
        Flavor::Mysql if !source.server_version().starts_with("5.") => "EXPRESSION",
        _ => "NULL",
    };
    let index_rows = rows(
        conn,
        &format!(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE, \
                    COLLATION, {expression} \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
        ),
        db,
    )
    .await?;
    let mut indexes: BTreeMap<String, Vec<IndexRow>> = BTreeMap::new();
    for r in &index_rows {
        indexes
            .entry(text_or_empty(r, 0))
            .or_default()
            .push(IndexRow {
                name: text_or_empty(r, 1),
                non_unique: number(r, 2).unwrap_or(1) != 0,
                column: text(r, 3),
                sub_part: number(r, 4),
                index_type: text_or_empty(r, 5).to_ascii_uppercase(),
                descending: text(r, 6).as_deref() == Some("D"),
                expression: text(r, 7).filter(|e| !e.is_empty()),
            });
    }

    // Foreign keys: KEY_COLUMN_USAGE has their columns, REFERENTIAL_CONSTRAINTS their rules;
    // MariaDB shows the second only to accounts with a privilege besides SELECT, so a key
    // found in the first alone is hidden in part (the last column says which).
    let fk_rows = rows(
        conn,
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, \
                k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE, \
                r.CONSTRAINT_NAME IS NOT NULL \
         FROM information_schema.KEY_COLUMN_USAGE k \
         LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
          AND r.TABLE_NAME = k.TABLE_NAME \
         WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        db,
    )
    .await?;
    let rule_rows = rows(
        conn,
        "SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = DATABASE()",
        db,
    )
    .await?;
    listed_fks.extend(
        rule_rows
            .iter()
            .map(|r| (text_or_empty(r, 0), text_or_empty(r, 1))),
    );
    let mut column_fks: BTreeSet<(String, String)> = BTreeSet::new();
    let mut rules_hidden: BTreeSet<(String, String)> = BTreeSet::new();
    for r in &fk_rows {
        let key = (text_or_empty(r, 0), text_or_empty(r, 1));
        if number(r, 8) == Some(0) {
            rules_hidden.insert(key.clone());
        }
        column_fks.insert(key);
    }
    for (table, name) in &rules_hidden {
        hidden.push(visibility::hidden(
            format!(
                "foreign key `{name}` of table `{table}` is listed in KEY_COLUMN_USAGE, but REFERENTIAL_CONSTRAINTS hides its ON UPDATE/ON DELETE rules{}",
                if flavor == Flavor::Mariadb {
                    " (MariaDB shows them only to an account with a privilege besides SELECT on the table)"
                } else {
                    ""
                }
            ),
            Some(table),
        ));
    }
    for (table, name) in listed_fks.difference(&column_fks) {
        hidden.push(visibility::hidden(
            format!(
                "foreign key `{name}` of table `{table}` is listed in TABLE_CONSTRAINTS or REFERENTIAL_CONSTRAINTS, but KEY_COLUMN_USAGE hides its columns"
            ),
            Some(table),
        ));
    }

    let mut text_columns: HashMap<String, HashMap<String, (String, String)>> = HashMap::new();
    for (name, table) in tables.iter_mut() {
        let cols = columns.remove(name).unwrap_or_default();
        for c in cols {
            if let (Some(cs), Some(coll)) = (&c.charset, &c.collation) {
                text_columns
                    .entry(name.clone())
                    .or_default()
                    .insert(c.name.clone(), (cs.clone(), coll.clone()));
            }
            let column = build_column(&c, table, opts, flavor, findings);
            table.columns.push(column);
        }
        let idx = indexes.remove(name).unwrap_or_default();
        apply_indexes(table, idx, &text_columns, findings);
        if table.primary_key.is_none() {
            findings.push(
                Finding::info(FindingKind::NoPrimaryKey, "table has no primary key")
                    .on_table(name)
                    .with_hint(
                        "without a primary key (or a NOT NULL unique key) the table is copied as one stream, and PostgreSQL cannot tell duplicate rows apart",
                    ),
            );
        }
        table.chunking = match &table.primary_key {
            Some(pk)
                if pk.columns.len() == 1
                    && table
                        .column(&pk.columns[0])
                        .is_some_and(|c| c.data_type.is_integer()) =>
            {
                Chunking::IntegerKey {
                    column: Some(pk.columns[0].clone()),
                }
            }
            _ => Chunking::Stream,
        };
    }

    // Foreign keys, grouped by constraint.
    let mut current: Option<(String, String)> = None;
    for r in &fk_rows {
        let (table, name) = (text_or_empty(r, 0), text_or_empty(r, 1));
        if rules_hidden.contains(&(table.clone(), name.clone())) {
            continue; // reported above: its rules are unknown
        }
        let ref_schema = text_or_empty(r, 3);
        let ref_table = text_or_empty(r, 4);
        if !ref_schema.is_empty() && ref_schema != db {
            if current.as_ref() != Some(&(table.clone(), name.clone())) {
                findings.push(
                    Finding::warning(
                        FindingKind::ForeignKeySkipped,
                        format!(
                            "foreign key `{name}` references `{ref_schema}`.`{ref_table}` in another database and is not created"
                        ),
                    )
                    .on_table(&table),
                );
                current = Some((table, name));
            }
            continue;
        }
        let Some(t) = tables.get_mut(&table) else {
            continue;
        };
        if current.as_ref() != Some(&(table.clone(), name.clone())) {
            t.foreign_keys.push(ForeignKey {
                name: Some(name.clone()),
                columns: Vec::new(),
                ref_table,
                ref_columns: Vec::new(),
                on_update: fk_action(&text_or_empty(r, 6)),
                on_delete: fk_action(&text_or_empty(r, 7)),
            });
            current = Some((table.clone(), name));
        }
        if let Some(fk) = t.foreign_keys.last_mut() {
            fk.columns.push(text_or_empty(r, 2));
            fk.ref_columns.push(text_or_empty(r, 5));
        }
    }

    for (table, name, clause) in other_checks {
        let Some(t) = tables.get_mut(&table) else {
            continue;
        };
        let translated = crate::expr::parse(&clause).and_then(|e| {
            match e.columns().into_iter().find(|c| t.column(c).is_none()) {
                Some(c) => Err(format!(
                    "it names `{c}`, which is not a column of the table"
                )),
                None => Ok(e),
            }
        });
        match translated {
            Ok(expr) => t.checks.push(Check {
                name: Some(name),
                expr,
            }),
            Err(why) => findings.push(
                Finding::warning(
                    FindingKind::CheckSkipped,
                    format!("CHECK constraint `{name}` (`{clause}`) is not migrated: {why} has no faithful PostgreSQL translation"),
                )
                .on_table(&table)
                .with_hint("recreate it with ALTER TABLE ... ADD CHECK in an after_all hook"),
            ),
        }
    }

    // Coverage: with only table or column grants, tables the account has no grant on are
    // invisible, columns may be too, and the catalog hides CHECKs that SHOW CREATE TABLE
    // still shows (see `visibility`).
    let mut limited_columns = false;
    if !access.covers_database {
        let names: Vec<String> = tables.keys().map(|t| format!("`{t}`")).collect();
        hidden.push(visibility::hidden(
            format!(
                "the account has SELECT on only some tables of `{db}` (it sees {}): tables and views it holds no grant on are invisible to it, so they would not be migrated",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            ),
            None,
        ));
        for (name, table) in &tables {
            if !visibility::reads_every_column(conn, name).await {
                limited_columns = true;
                let cols: Vec<String> = table
                    .columns
                    .iter()
                    .map(|c| format!("`{}`", c.name))
                    .collect();
                hidden.push(visibility::hidden(
                    format!(
                        "table `{name}`: the account may read only columns {} (column grants); its other columns, and the keys, indexes, foreign keys and CHECKs on them, are invisible to it",
                        cols.join(", ")
                    ),
                    Some(name),
                ));
                continue;
            }
            let Some((checks, fks)) = visibility::declared_constraints(conn, name).await else {
                continue;
            };
            for check in checks {
                if !read_checks.contains(&(name.clone(), check.clone())) {
                    hidden.push(visibility::hidden(
                        format!(
                            "CHECK constraint `{check}` of table `{name}` is in SHOW CREATE TABLE, but CHECK_CONSTRAINTS hides it"
                        ),
                        Some(name),
                    ));
                }
            }
            for fk in fks {
                let key = (name.clone(), fk.clone());
                if !column_fks.contains(&key) && !listed_fks.contains(&key) {
                    hidden.push(visibility::hidden(
                        format!(
                            "foreign key `{fk}` of table `{name}` is in SHOW CREATE TABLE, but KEY_COLUMN_USAGE hides it"
                        ),
                        Some(name),
                    ));
                }
            }
        }
    }
    if !hidden.is_empty() {
        // One GRANT that shows everything: SELECT on the whole database, and on MariaDB a
        // privilege besides SELECT (SHOW VIEW: read-only, and it shows view definitions) for
        // the constraint views.
        let mut privileges = Vec::new();
        if !access.covers_database || limited_columns {
            privileges.push("SELECT");
        }
        let beyond_select = access.grants.as_ref().is_some_and(|g| g.beyond_select());
        if flavor == Flavor::Mariadb && !beyond_select || privileges.is_empty() {
            privileges.push("SHOW VIEW");
        }
        schema.visibility_fix = Some(access.grant(&privileges, db));
    }

    // MariaDB sequences: their definition and where they stand, read off the sequence
    // itself (one small query each).
    for name in sequence_names {
        let sql = format!(
            "SELECT next_not_cached_value, minimum_value, maximum_value, start_value, increment, cycle_option FROM {}",
            crate::quote_ident(&name)
        );
        let r = rows(conn, &sql, db).await?;
        let Some(r) = r.first() else { continue };
        let int = |i: usize| text(r, i).and_then(|t| t.trim().parse::<i64>().ok());
        match (int(0), int(1), int(2), int(3), int(4), int(5)) {
            (Some(next), Some(min), Some(max), Some(start), Some(increment), Some(cycle)) => {
                schema.sequences.push(barge_model::Sequence {
                    target_name: name.clone(),
                    name,
                    start,
                    increment,
                    min,
                    max,
                    cycle: cycle != 0,
                    next,
                })
            }
            _ => schema.findings.push(
                Finding::warning(
                    FindingKind::TableExcluded,
                    format!(
                        "MariaDB sequence `{name}` has bounds outside bigint and is not migrated"
                    ),
                )
                .on_table(&name)
                .with_hint("create it in PostgreSQL with CREATE SEQUENCE in an after_all hook"),
            ),
        }
    }
    schema.tables = tables.into_values().collect();
    read_objects(conn, db, flavor, &access, &mut schema).await?;
    schema.hidden = hidden;
    Ok(ReadSchema {
        schema,
        text_columns,
    })
}

fn build_column(
    c: &ColumnRow,
    table: &mut Table,
    opts: &IntrospectOptions,
    flavor: Flavor,
    findings: &mut Vec<Finding>,
) -> Column {
    let options = &opts.type_mapping;
    let tname = table.name.clone();
    let mapped = map_column_type(&c.info, options, opts.postgis, &tname, &c.name);
    findings.extend(mapped.findings);
    let mut column = Column::new(&c.name, &c.info.column_type, mapped.data_type);
    column.nullable = c.nullable;
    column.collation = target_collation(c, &column.data_type, options, &tname, findings);
    column.comment = (!c.comment.is_empty()).then(|| c.comment.clone());
    let extra = c.extra.to_ascii_lowercase();
    let dt = c.info.data_type.as_str();

    if extra.contains("auto_increment") {
        if column.data_type.is_integer() {
            column.identity = true;
        } else {
            findings.push(
                Finding::warning(
                    FindingKind::LossyType,
                    format!(
                        "auto_increment `{}` is loaded as {:?}, which cannot be an identity column; values are copied but new rows get no number",
                        c.info.column_type, column.data_type
                    ),
                )
                .on_table(&tname)
                .on_column(&c.name)
                .with_hint("set `widen_unsigned_integers = false` to keep it bigint, or add a sequence in an after_all hook"),
            );
        }
    }
    if extra.contains("generated") && !c.generation.is_empty() {
        let stored = extra.contains("stored") || extra.contains("persistent");
        let translated = crate::expr::parse(&c.generation)
            .and_then(|e| generated_expr_fits(&e, table, &column.data_type).map(|()| e));
        match &translated {
            Ok(_) => findings.push(
                Finding::info(
                    FindingKind::GeneratedColumn,
                    format!(
                        "generated column (`{}`) becomes GENERATED ALWAYS AS (...) STORED; PostgreSQL computes its values",
                        c.generation
                    ),
                )
                .on_table(&tname)
                .on_column(&c.name),
            ),
            Err(why) => findings.push(
                Finding::warning(
                    FindingKind::GeneratedColumn,
                    format!(
                        "generated column (`{}`) is copied as a plain column holding its current values: {why} has no faithful PostgreSQL translation",
                        c.generation
                    ),
                )
                .on_table(&tname)
                .on_column(&c.name)
                .with_hint("recreate it in PostgreSQL (GENERATED ALWAYS AS (...) STORED) in an after_all hook if you need it"),
            ),
        }
        column.generated = Some(Generated {
            expr: translated.ok(),
            source_sql: c.generation.clone(),
            stored,
        });
    }
    if extra.contains("on update") {
        if opts.on_update_triggers
            && matches!(
                column.data_type,
                DataType::Timestamp(_) | DataType::Timestamptz(_)
            )
        {
            column.on_update_now = true;
            findings.push(
                Finding::info(
                    FindingKind::DefaultTranslated,
                    format!(
                        "`{}` is emulated by a BEFORE UPDATE trigger (replicate_on_update_current_timestamp)",
                        c.extra.trim()
                    ),
                )
                .on_table(&tname)
                .on_column(&c.name),
            );
        } else {
            findings.push(
                Finding::warning(
                    FindingKind::DefaultSkipped,
                    format!("`{}` is not replicated", c.extra.trim()),
                )
                .on_table(&tname)
                .on_column(&c.name)
                .with_hint("set `replicate_on_update_current_timestamp = true` to emulate it with a trigger"),
            );
        }
    }

    // UNSIGNED: a CHECK keeps negative values out, as the source did.
    if opts.unsigned_checks
        && c.info.unsigned()
        && (column.data_type.is_integer()
            || matches!(
                column.data_type,
                DataType::Numeric { .. } | DataType::Float4 | DataType::Float8
            ))
    {
        table.checks.push(Check {
            name: Some(format!("{}_unsigned", c.name)),
            expr: Expr::Binary(
                barge_model::BinaryOp::GtEq,
                Box::new(Expr::Column(c.name.clone())),
                Box::new(Expr::Literal(Literal::Integer("0".into()))),
            ),
        });
    }

    // SET members as text[]: a CHECK keeps them to the declared members.
    if dt == "set" && options.set_mode == SetMode::TextArrayCheck {
        table.checks.push(Check {
            name: None,
            expr: Expr::SubsetOf {
                expr: Box::new(Expr::Column(c.name.clone())),
                members: enum_values(&c.info.column_type),
            },
        });
    }

    // Enums: a CHECK on the member list under enum_mode = "check".
    if dt == "enum" && options.enum_mode == EnumMode::Check {
        let values = enum_values(&c.info.column_type);
        table.checks.push(Check {
            name: None,
            expr: Expr::InList {
                expr: Box::new(Expr::Column(c.name.clone())),
                list: values
                    .into_iter()
                    .map(|v| Expr::Literal(Literal::Text(v)))
                    .collect(),
                negated: false,
            },
        });
    }

    if opts.preserve_defaults && column.generated.is_none() {
        let cx = DefaultContext {
            flavor,
            source_data_type: dt,
            column_type: &c.info.column_type,
            extra: &c.extra,
            target: &column.data_type,
        };
        let raw = c.default.as_deref();
        match translate_default(raw, &cx) {
            DefaultTranslation::None => {}
            DefaultTranslation::Value(v) => column.default = Some(v),
            DefaultTranslation::ZeroDate(text) => {
                let severity = match options.zero_date_mode {
                    ZeroDateMode::Null => Severity::Warning,
                    ZeroDateMode::Error => Severity::Error,
                };
                findings.push(
                    Finding::new(
                        severity,
                        FindingKind::DefaultSkipped,
                        format!("default `{text}` {}", zero_default_words(options.zero_date_mode)),
                    )
                    .on_table(&tname)
                    .on_column(&c.name)
                    .with_hint(match options.zero_date_mode {
                        ZeroDateMode::Null => "zero dates in this column load as NULL",
                        ZeroDateMode::Error => "set `zero_date_mode = \"null\"` under [type_mapping], or change the default in the source",
                    }),
                );
                // A zero-date default says zero dates are expected: under "null" they load as
                // NULL, so the column must accept NULL.
                if options.zero_date_mode == ZeroDateMode::Null && !column.nullable {
                    column.nullable = true;
                    findings.push(
                        Finding::warning(
                            FindingKind::TypeMapped,
                            "column is NOT NULL in the source but its zero dates load as NULL (zero_date_mode = \"null\"), so it is created nullable",
                        )
                        .on_table(&tname)
                        .on_column(&c.name),
                    );
                }
            }
            DefaultTranslation::Unsupported(why) => findings.push(
                Finding::warning(
                    FindingKind::DefaultSkipped,
                    format!(
                        "default `{}` is not carried over: {why}",
                        raw.unwrap_or_default()
                    ),
                )
                .on_table(&tname)
                .on_column(&c.name)
                .with_hint("set the default yourself in an after_all hook"),
            ),
        }
    }
    column
}

fn apply_indexes(
    table: &mut Table,
    rows: Vec<IndexRow>,
    text_columns: &HashMap<String, HashMap<String, (String, String)>>,
    findings: &mut Vec<Finding>,
) {
    let tname = table.name.clone();
    let mut groups: Vec<(String, Vec<IndexRow>)> = Vec::new();
    for r in rows {
        match groups.last_mut() {
            Some((name, parts)) if *name == r.name => parts.push(r),
            _ => groups.push((r.name.clone(), vec![r])),
        }
    }
    // Columns that compare case-insensitively in the source but not in PostgreSQL (citext
    // and barge's ICU collations keep the source's behaviour).
    let kept: Vec<String> = table
        .columns
        .iter()
        .filter(|c| {
            c.data_type == DataType::Citext
                || matches!(
                    c.collation,
                    Some(barge_model::Collation::CaseInsensitive { .. })
                )
        })
        .map(|c| c.name.clone())
        .collect();
    let case_insensitive = |cols: &[String]| -> Vec<String> {
        cols.iter()
            .filter(|c| !kept.contains(c))
            .filter(|c| {
                text_columns
                    .get(&tname)
                    .and_then(|m| m.get(*c))
                    .is_some_and(|(_, coll)| coll.ends_with("_ci"))
            })
            .cloned()
            .collect()
    };
    for (name, parts) in groups {
        let unique = !parts[0].non_unique;
        let index_type = parts[0].index_type.clone();
        let skip = |why: String, findings: &mut Vec<Finding>| {
            findings.push(
                Finding::warning(
                    FindingKind::IndexSkipped,
                    format!("index `{name}` is not migrated: {why}"),
                )
                .on_table(&tname)
                .with_hint("create an equivalent index yourself in an after_all hook"),
            );
        };
        if name == "PRIMARY" {
            let cols: Vec<String> = parts.iter().filter_map(|p| p.column.clone()).collect();
            if parts.iter().any(|p| p.sub_part.is_some()) {
                findings.push(
                    Finding::info(
                        FindingKind::IndexTranslated,
                        "primary key on column prefixes becomes a primary key on the whole columns (values unique by prefix are unique whole)",
                    )
                    .on_table(&tname),
                );
            }
            let ci = case_insensitive(&cols);
            if !ci.is_empty() {
                findings.push(ci_finding("primary key", &ci, &tname));
            }
            for c in &mut table.columns {
                if cols.contains(&c.name) {
                    c.nullable = false;
                }
            }
            table.primary_key = Some(Key {
                name: None,
                columns: cols,
            });
            continue;
        }
        match index_type.as_str() {
            "FULLTEXT" => {
                let columns: Vec<String> = parts.iter().filter_map(|p| p.column.clone()).collect();
                findings.push(
                    Finding::info(
                        FindingKind::IndexTranslated,
                        format!(
                            "FULLTEXT index `{name}` becomes a GIN index on to_tsvector('simple', ...) of ({}); queries use it through that same expression with @@",
                            columns.join(", ")
                        ),
                    )
                    .on_table(&tname),
                );
                table.indexes.push(fulltext_index(name, columns));
                continue;
            }
            "SPATIAL" => {
                let column = parts.first().and_then(|p| p.column.clone());
                let geometry = column
                    .as_deref()
                    .and_then(|c| table.column(c))
                    .is_some_and(|c| matches!(c.data_type, DataType::Geometry { .. }));
                match column {
                    Some(column) if geometry => table.indexes.push(Index {
                        target_name: name.clone(),
                        name,
                        unique: false,
                        parts: vec![IndexPart::Column {
                            name: column,
                            descending: false,
                        }],
                        predicate: None,
                        method: IndexMethod::Gist,
                    }),
                    _ => skip(
                        "a SPATIAL index needs PostGIS geometry columns ([postgis] enabled = true)"
                            .into(),
                        findings,
                    ),
                }
                continue;
            }
            _ => {}
        }
        // Functional key parts (MySQL 8): translated, or the whole index is skipped.
        let mut functional: HashMap<usize, Expr> = HashMap::new();
        let mut refused = None;
        for (i, p) in parts.iter().enumerate() {
            if p.column.is_some() && p.expression.is_none() {
                continue;
            }
            let sql = p.expression.clone().unwrap_or_default();
            match crate::expr::parse(&sql) {
                Ok(e) if e.columns().iter().all(|c| table.column(c).is_some()) => {
                    functional.insert(i, e);
                }
                Ok(_) => {
                    refused = Some(format!(
                        "functional key part `{sql}` names an unknown column"
                    ))
                }
                Err(why) => {
                    refused = Some(format!(
                        "functional key part `{sql}`: {why} has no faithful PostgreSQL translation"
                    ))
                }
            }
        }
        if let Some(why) = refused {
            skip(why, findings);
            continue;
        }
        if !functional.is_empty() {
            findings.push(
                Finding::info(
                    FindingKind::IndexTranslated,
                    format!("functional index `{name}` becomes an expression index"),
                )
                .on_table(&tname),
            );
        }
        let columns: Vec<String> = parts.iter().filter_map(|p| p.column.clone()).collect();
        let prefix = parts.iter().any(|p| p.sub_part.is_some());
        if unique {
            let ci = case_insensitive(&columns);
            if !ci.is_empty() {
                findings.push(ci_finding(&format!("unique index `{name}`"), &ci, &tname));
            }
        }
        if unique && !prefix && functional.is_empty() && parts.iter().all(|p| !p.descending) {
            table.unique_keys.push(Key {
                name: Some(name),
                columns,
            });
            continue;
        }
        if prefix {
            findings.push(
                Finding::info(
                    FindingKind::IndexTranslated,
                    format!("prefix index `{name}` becomes an index on substr(column, 1, n)"),
                )
                .on_table(&tname),
            );
        }
        let index_parts = parts
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                if let Some(expr) = functional.remove(&i) {
                    return Some(IndexPart::Expr {
                        expr,
                        descending: p.descending,
                    });
                }
                let col = p.column.clone()?;
                Some(match p.sub_part {
                    Some(n) => IndexPart::Expr {
                        expr: Expr::Function(
                            barge_model::expr::Function::Substr,
                            vec![
                                Expr::Column(col),
                                Expr::Literal(Literal::Integer("1".into())),
                                Expr::Literal(Literal::Integer(n.to_string())),
                            ],
                        ),
                        descending: p.descending,
                    },
                    None => IndexPart::Column {
                        name: col,
                        descending: p.descending,
                    },
                })
            })
            .collect();
        table.indexes.push(Index {
            target_name: name.clone(),
            name,
            unique,
            parts: index_parts,
            predicate: None,
            method: IndexMethod::Btree,
        });
    }
}

/// The PostgreSQL collation of a text column under `collation_mode` / `collation_map`:
/// a mapped name first; under `auto`, `_bin` -> `C` (code point order), `_ci` -> barge's
/// case- and accent-insensitive ICU collation, `_as_ci` -> case-insensitive only; anything
/// else keeps the database default. citext columns keep theirs (citext is the comparison).
fn target_collation(
    c: &ColumnRow,
    data_type: &DataType,
    options: &barge_config::TypeMapping,
    table: &str,
    findings: &mut Vec<Finding>,
) -> Option<barge_model::Collation> {
    use barge_model::Collation;
    let source = c.collation.as_deref()?;
    if !matches!(
        data_type,
        DataType::Text | DataType::Varchar(_) | DataType::Char(_)
    ) {
        return None;
    }
    if let Some(name) = options.collation_map.get(source) {
        return Some(Collation::Named(name.clone()));
    }
    if options.collation_mode != barge_config::CollationMode::Auto {
        return None;
    }
    let lower = source.to_ascii_lowercase();
    if lower.ends_with("_bin") {
        return Some(Collation::Named("C".into()));
    }
    if lower.ends_with("_ci") {
        findings.push(
            Finding::info(
                FindingKind::TypeMapped,
                format!(
                    "collation `{source}` becomes a nondeterministic ICU collation: equality, keys and uniqueness ignore case{} as in the source; PostgreSQL 15 refuses LIKE on such columns",
                    if lower.contains("_as_") { "" } else { " and accents" }
                ),
            )
            .on_table(table)
            .on_column(&c.name),
        );
        return Some(Collation::CaseInsensitive {
            accents: lower.contains("_as_"),
        });
    }
    None
}

/// Can PostgreSQL compute a generated column from this expression with the same result?
/// Only columns that come before (PostgreSQL cannot read other generated columns), text
/// concatenation of text, and `+ - *` over numbers are accepted, so the CREATE TABLE cannot
/// fail over a type mismatch and the values equal the stored ones.
fn generated_expr_fits(e: &Expr, table: &Table, target: &DataType) -> Result<(), String> {
    fn kind(e: &Expr, table: &Table) -> Result<char, String> {
        use barge_model::expr::Function as F;
        match e {
            Expr::Column(c) => {
                let col = table
                    .column(c)
                    .ok_or_else(|| format!("the column `{c}` (not before this one)"))?;
                if col.generated.is_some() {
                    return Err(format!("a reference to the generated column `{c}`"));
                }
                if col.data_type.is_textual() {
                    Ok('t')
                } else if col.data_type.is_integer()
                    || matches!(col.data_type, DataType::Numeric { .. })
                {
                    Ok('n')
                } else {
                    Err(format!("the `{}` column `{c}`", col.data_type))
                }
            }
            Expr::Literal(Literal::Text(_)) => Ok('t'),
            Expr::Literal(Literal::Integer(_) | Literal::Decimal(_)) => Ok('n'),
            Expr::Binary(barge_model::BinaryOp::Concat, l, r) => {
                if kind(l, table)? == 't' && kind(r, table)? == 't' {
                    Ok('t')
                } else {
                    Err("concat() of values that are not all text".into())
                }
            }
            Expr::Binary(
                barge_model::BinaryOp::Add
                | barge_model::BinaryOp::Sub
                | barge_model::BinaryOp::Mul,
                l,
                r,
            ) => {
                if kind(l, table)? == 'n' && kind(r, table)? == 'n' {
                    Ok('n')
                } else {
                    Err("arithmetic on values that are not all exact numbers".into())
                }
            }
            Expr::Unary(UnaryOp::Neg, x) if kind(x, table)? == 'n' => Ok('n'),
            Expr::Function(F::Lower | F::Upper | F::Trim | F::Ltrim | F::Rtrim, a)
                if a.len() == 1 && kind(&a[0], table)? == 't' =>
            {
                Ok('t')
            }
            Expr::Function(F::Coalesce, a) => {
                let kinds = a
                    .iter()
                    .map(|x| kind(x, table))
                    .collect::<Result<Vec<_>, _>>()?;
                match kinds.first() {
                    Some(k) if kinds.iter().all(|x| x == k) => Ok(*k),
                    _ => Err("coalesce() of mixed types".into()),
                }
            }
            other => Err(format!("`{other:?}`")),
        }
    }
    let want = if target.is_textual() {
        't'
    } else if target.is_integer() || matches!(target, DataType::Numeric { .. }) {
        'n'
    } else {
        return Err(format!("a generated `{target}` column"));
    };
    if kind(e, table)? != want {
        return Err("an expression of another type than its column".into());
    }
    Ok(())
}

/// A FULLTEXT index as GIN over `to_tsvector('simple', coalesce(a, '') || ' ' || ...)`.
fn fulltext_index(name: String, columns: Vec<String>) -> Index {
    let text = |c: String| {
        Expr::Function(
            barge_model::expr::Function::Coalesce,
            vec![Expr::Column(c), Expr::Literal(Literal::Text(String::new()))],
        )
    };
    let mut columns = columns.into_iter();
    let first = columns
        .next()
        .map(text)
        .unwrap_or(Expr::Literal(Literal::Text(String::new())));
    let document = columns.fold(first, |acc, c| {
        let spaced = Expr::Binary(
            barge_model::BinaryOp::Concat,
            Box::new(acc),
            Box::new(Expr::Literal(Literal::Text(" ".into()))),
        );
        Expr::Binary(
            barge_model::BinaryOp::Concat,
            Box::new(spaced),
            Box::new(text(c)),
        )
    });
    Index {
        target_name: name.clone(),
        name,
        unique: false,
        parts: vec![IndexPart::Expr {
            expr: Expr::Function(
                barge_model::expr::Function::ToTsvectorSimple,
                vec![document],
            ),
            descending: false,
        }],
        predicate: None,
        method: IndexMethod::Gin,
    }
}

fn ci_finding(what: &str, columns: &[String], table: &str) -> Finding {
    Finding::warning(
        FindingKind::IndexTranslated,
        format!(
            "{what} compares {} case-insensitively in the source; in PostgreSQL it is case-sensitive, so values differing only in case no longer collide",
            columns
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .on_table(table)
    .with_hint("create a unique index on lower(column) in an after_all hook to keep case-insensitive uniqueness")
}

/// Views, routines, triggers and events: reported with their SQL, never migrated. What the
/// account cannot read of them (a definition, or the whole class for want of a privilege) is
/// a warning naming the privilege: the user owns these objects, so they must know of them.
async fn read_objects(
    conn: &mut Conn,
    db: &str,
    flavor: Flavor,
    access: &Access,
    schema: &mut Schema,
) -> Result<(), MysqlError> {
    let cannot = |what: String, privilege: &str, grant: String| {
        Finding::warning(
            FindingKind::NotVisible,
            format!("{what}: the account lacks the {privilege} privilege"),
        )
        .with_hint(format!(
            "{grant} (run by an administrator) shows them; or read them in the source with an account that may"
        ))
    };
    let unlisted = |objects: &str| {
        format!(
            ", without which information_schema does not list {objects}; one it hides is neither listed here nor migrated"
        )
    };
    for r in rows(
        conn,
        "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
        db,
    )
    .await?
    {
        let name = text_or_empty(&r, 0);
        let sql = text_or_empty(&r, 1);
        schema.findings.push(
            Finding::warning(FindingKind::ViewNotMigrated, format!("view `{name}` is not migrated"))
                .on_table(&name)
                .with_hint("recreate it in PostgreSQL from its source SQL (shown by `barge plan`), e.g. in an after_all hook"),
        );
        if sql.trim().is_empty() {
            schema.findings.push(
                cannot(
                    format!("the definition of view `{name}` cannot be read"),
                    "SHOW VIEW",
                    access.grant(&["SHOW VIEW"], db),
                )
                .on_table(&name),
            );
        }
        schema.views.push(SourceObject {
            name,
            table: None,
            sql,
        });
    }
    for r in rows(
        conn,
        "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT \
         FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME",
        db,
    )
    .await?
    {
        let (name, table) = (text_or_empty(&r, 0), text_or_empty(&r, 1));
        schema.findings.push(
            Finding::warning(
                FindingKind::TriggerNotMigrated,
                format!("trigger `{name}` on table `{table}` is not migrated"),
            )
            .on_table(&table)
            .with_hint("rewrite it as a PostgreSQL trigger function"),
        );
        let body = text_or_empty(&r, 4);
        if body.trim().is_empty() {
            schema.findings.push(
                cannot(
                    format!("the body of trigger `{name}` on table `{table}` cannot be read"),
                    "TRIGGER",
                    access.grant(&["TRIGGER"], db),
                )
                .on_table(&table),
            );
        }
        schema.triggers.push(SourceObject {
            name,
            table: Some(table),
            sql: format!("{} {} {body}", text_or_empty(&r, 2), text_or_empty(&r, 3)),
        });
    }
    if access.has("TRIGGER") == Some(false) {
        schema.findings.push(
            cannot(
                format!("triggers of `{db}` may be hidden"),
                "TRIGGER",
                access.grant(&["TRIGGER"], db),
            )
            .with_message_suffix(&unlisted("them")),
        );
    }
    for r in rows(
        conn,
        "SELECT ROUTINE_NAME, ROUTINE_TYPE, ROUTINE_DEFINITION FROM information_schema.ROUTINES \
         WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
        db,
    )
    .await?
    {
        let name = text_or_empty(&r, 0);
        let kind = text_or_empty(&r, 1).to_ascii_lowercase();
        schema.findings.push(
            Finding::warning(
                FindingKind::TriggerNotMigrated,
                format!("{kind} `{name}` is not migrated"),
            )
            .with_hint("rewrite it in PL/pgSQL"),
        );
        let sql = text(&r, 2);
        if sql.is_none() {
            schema.findings.push(routine_privilege(
                format!("the definition of {kind} `{name}` cannot be read"),
                access,
                flavor,
            ));
        }
        schema.routines.push(SourceObject {
            name,
            table: None,
            sql: sql.unwrap_or_default(),
        });
    }
    let all_routines = access.grants.as_ref().map(|g| {
        g.global("SELECT")
            || match flavor {
                Flavor::Mariadb => g.proc_select(),
                Flavor::Mysql => g.global("SHOW_ROUTINE"),
            }
    });
    if all_routines == Some(false) {
        schema.findings.push(
            routine_privilege(
                format!("stored procedures and functions of `{db}` may be hidden"),
                access,
                flavor,
            )
            .with_message_suffix(&unlisted(
                "those it did not define and may not run or alter",
            )),
        );
    }
    // Events are listed only with the EVENT privilege: without it, a warning says so.
    let events: Result<Vec<Row>, _> = conn
        .query(
            "SELECT EVENT_NAME, EVENT_DEFINITION FROM information_schema.EVENTS \
             WHERE EVENT_SCHEMA = DATABASE() ORDER BY EVENT_NAME",
        )
        .await;
    match events {
        Ok(events) => {
            for r in events {
                let name = text_or_empty(&r, 0);
                schema.findings.push(
                    Finding::warning(
                        FindingKind::TriggerNotMigrated,
                        format!("event `{name}` is not migrated"),
                    )
                    .with_hint("schedule it with pg_cron or an external scheduler"),
                );
                schema.routines.push(SourceObject {
                    name,
                    table: None,
                    sql: text_or_empty(&r, 1),
                });
            }
        }
        Err(e) => schema.findings.push(Finding::warning(
            FindingKind::NotVisible,
            format!("events of `{db}` cannot be listed: {e}"),
        )),
    }
    if access.has("EVENT") == Some(false) {
        schema.findings.push(
            cannot(
                format!("events of `{db}` may be hidden"),
                "EVENT",
                access.grant(&["EVENT"], db),
            )
            .with_message_suffix(&unlisted("them")),
        );
    }
    if access.grants.is_none() {
        schema.findings.push(Finding::warning(
            FindingKind::NotVisible,
            "the account's privileges could not be read (SHOW GRANTS failed): triggers, routines and events it may not see are not listed",
        ));
    }
    Ok(())
}

/// A warning about routines the account cannot read, naming the privilege of its server.
fn routine_privilege(what: String, access: &Access, flavor: Flavor) -> Finding {
    let (privilege, grant) = match flavor {
        Flavor::Mariadb => (
            "SELECT privilege on `mysql`.`proc`",
            format!("GRANT SELECT ON `mysql`.`proc` TO {}", access.account),
        ),
        Flavor::Mysql => (
            "SHOW_ROUTINE privilege",
            format!("GRANT SHOW_ROUTINE ON *.* TO {}", access.account),
        ),
    };
    Finding::warning(
        FindingKind::NotVisible,
        format!("{what}: the account lacks the {privilege}"),
    )
    .with_hint(format!(
        "{grant} (run by an administrator) shows them; or read them in the source with an account that may"
    ))
}
