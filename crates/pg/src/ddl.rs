//! SQL text for the target, rendered from the neutral model. Every identifier is quoted.

use barge_model::expr::Function;
use barge_model::{
    BinaryOp, Check, Column, DataType, DefaultValue, Expr, FkAction, ForeignKey, Index,
    IndexMethod, IndexPart, Key, Literal, Schema, Table, UnaryOp,
};

/// Quote an identifier for PostgreSQL, always.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quote a string literal (standard_conforming_strings, on by default since 9.1).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `"schema"."table"`.
pub fn qualified(schema: &str, table: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(table))
}

/// A type's SQL name. Native enum types live in the target schema: [`render_type_in`] names
/// them with it; here they are named alone (for plan output).
pub fn render_type(t: &DataType) -> String {
    match t {
        DataType::Enum { name, .. } => quote_ident(name),
        other => other.to_string(),
    }
}

/// A type's SQL name for a column of a table in `schema`.
pub fn render_type_in(schema: &str, t: &DataType) -> String {
    match t {
        DataType::Enum { name, .. } => qualified(schema, name),
        other => render_type(other),
    }
}

/// The case-insensitive ICU collations the columns use, created in the target schema, each
/// once. `ks-level1` compares base letters only (MySQL `_ci`: case and accents ignored),
/// `ks-level2` also accents (`_as_ci`).
pub fn create_collations(schema_name: &str, schema: &Schema) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for c in schema.tables.iter().flat_map(|t| &t.columns) {
        let Some(collation) = &c.collation else {
            continue;
        };
        let Some(name) = collation.created_name() else {
            continue;
        };
        if seen.insert(name) {
            let level = match collation {
                barge_model::Collation::CaseInsensitive { accents: true } => "level2",
                _ => "level1",
            };
            out.push(format!(
                "CREATE COLLATION {} (provider = icu, locale = 'und-u-ks-{level}', deterministic = false)",
                qualified(schema_name, name)
            ));
        }
    }
    out
}

/// Extensions the tables need (`citext`, `postgis`), by name.
pub fn required_extensions(schema: &Schema) -> Vec<&'static str> {
    let mut out = Vec::new();
    let types = || {
        schema
            .tables
            .iter()
            .flat_map(|t| &t.columns)
            .map(|c| &c.data_type)
    };
    if types().any(|t| *t == DataType::Citext) {
        out.push("citext");
    }
    if types().any(|t| matches!(t, DataType::Geometry { .. })) {
        out.push("postgis");
    }
    out
}

/// `CREATE TYPE ... AS ENUM` for every native enum type the tables use, each once.
pub fn create_enum_types(schema_name: &str, schema: &Schema) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for c in schema.tables.iter().flat_map(|t| &t.columns) {
        if let DataType::Enum { name, labels } = &c.data_type {
            if seen.insert(name.clone()) {
                out.push(format!(
                    "CREATE TYPE {} AS ENUM ({})",
                    qualified(schema_name, name),
                    labels
                        .iter()
                        .map(|l| quote_literal(l))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    out
}

fn render_literal(l: &Literal) -> String {
    match l {
        Literal::Null => "NULL".into(),
        Literal::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Literal::Integer(i) | Literal::Decimal(i) => {
            if i.starts_with('-') {
                format!("({i})")
            } else {
                i.clone()
            }
        }
        Literal::Text(t) => quote_literal(t),
        Literal::Bits(b) => format!("B'{b}'"),
        Literal::Bytes(b) => format!(
            "'\\x{}'::bytea",
            b.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

fn function_name(f: Function) -> &'static str {
    match f {
        Function::Lower => "lower",
        Function::Upper => "upper",
        Function::Length => "length",
        Function::Abs => "abs",
        Function::Coalesce => "coalesce",
        Function::Trim => "btrim",
        Function::Ltrim => "ltrim",
        Function::Rtrim => "rtrim",
        Function::Round => "round",
        Function::Substr => "substr",
        Function::ToTsvectorSimple => "to_tsvector",
    }
}

fn binary_op(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Eq => "=",
        BinaryOp::NotEq => "<>",
        BinaryOp::Lt => "<",
        BinaryOp::LtEq => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::GtEq => ">=",
        BinaryOp::And => "AND",
        BinaryOp::Or => "OR",
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Mod => "%",
        BinaryOp::Concat => "||",
        BinaryOp::Like => "LIKE",
        BinaryOp::NotLike => "NOT LIKE",
        BinaryOp::ILike => "ILIKE",
        BinaryOp::NotILike => "NOT ILIKE",
    }
}

/// Render an expression over `table`'s columns (source names become quoted target names).
/// Every sub-expression is parenthesised, so precedence never differs between dialects.
pub fn render_expr(e: &Expr, table: &Table) -> String {
    match e {
        Expr::Column(c) => quote_ident(table.target_column(c)),
        Expr::Literal(l) => render_literal(l),
        Expr::Unary(op, inner) => {
            let x = render_expr(inner, table);
            match op {
                UnaryOp::Not => format!("(NOT {x})"),
                UnaryOp::Neg => format!("(- {x})"),
                UnaryOp::IsNull => format!("({x} IS NULL)"),
                UnaryOp::IsNotNull => format!("({x} IS NOT NULL)"),
            }
        }
        Expr::Binary(op, l, r) => format!(
            "({} {} {})",
            render_expr(l, table),
            binary_op(*op),
            render_expr(r, table)
        ),
        Expr::Function(Function::ToTsvectorSimple, args) => format!(
            "to_tsvector('simple'::regconfig, {})",
            args.iter()
                .map(|a| render_expr(a, table))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::Function(f, args) => format!(
            "{}({})",
            function_name(*f),
            args.iter()
                .map(|a| render_expr(a, table))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::InList {
            expr,
            list,
            negated,
        } => format!(
            "({} {}IN ({}))",
            render_expr(expr, table),
            if *negated { "NOT " } else { "" },
            list.iter()
                .map(|a| render_expr(a, table))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => format!(
            "({} {}BETWEEN {} AND {})",
            render_expr(expr, table),
            if *negated { "NOT " } else { "" },
            render_expr(low, table),
            render_expr(high, table)
        ),
        Expr::SubsetOf { expr, members } => format!(
            "({} <@ ARRAY[{}]::text[])",
            render_expr(expr, table),
            members
                .iter()
                .map(|m| quote_literal(m))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A default's SQL. `CURRENT_TIMESTAMP`-like defaults on columns without time zone use UTC,
/// as the sources that produce them (SQLite, MySQL sessions barge opens) do.
pub fn render_default(d: &DefaultValue, column: &Column, table: &Table) -> String {
    let utc_now = "(now() AT TIME ZONE 'UTC')";
    match d {
        DefaultValue::Literal(l) => render_literal(l),
        DefaultValue::CurrentTimestamp => match column.data_type {
            DataType::Timestamptz(_) => "CURRENT_TIMESTAMP".into(),
            _ => utc_now.into(),
        },
        DefaultValue::CurrentDate => format!("({utc_now}::date)"),
        DefaultValue::CurrentTime => format!("({utc_now}::time)"),
        DefaultValue::Expr(e) => render_expr(e, table),
    }
}

fn column_sql(schema: &str, c: &Column, table: &Table) -> String {
    let mut s = format!(
        "{} {}",
        quote_ident(&c.target_name),
        render_type_in(schema, &c.data_type)
    );
    match &c.collation {
        Some(barge_model::Collation::Named(name)) => {
            s.push_str(&format!(" COLLATE {}", quote_ident(name)));
        }
        Some(created) => {
            if let Some(name) = created.created_name() {
                s.push_str(&format!(" COLLATE {}", qualified(schema, name)));
            }
        }
        None => {}
    }
    if let Some(barge_model::Generated { expr: Some(e), .. }) = &c.generated {
        s.push_str(&format!(
            " GENERATED ALWAYS AS ({}) STORED",
            render_expr(e, table)
        ));
    } else if c.identity && c.data_type.is_integer() {
        s.push_str(" GENERATED BY DEFAULT AS IDENTITY");
    } else if let Some(d) = &c.default {
        s.push_str(" DEFAULT ");
        s.push_str(&render_default(d, c, table));
    }
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    s
}

/// `CREATE [UNLOGGED] TABLE` with columns, types, defaults, NOT NULL and identity; keys come
/// after the load.
pub fn create_table(schema: &str, table: &Table, unlogged: bool) -> String {
    let cols: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("    {}", column_sql(schema, c, table)))
        .collect();
    format!(
        "CREATE {}TABLE {} (\n{}\n)",
        if unlogged { "UNLOGGED " } else { "" },
        qualified(schema, &table.target_name),
        cols.join(",\n")
    )
}

fn column_list(table: &Table, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote_ident(table.target_column(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn add_primary_key(schema: &str, table: &Table, key: &Key) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})",
        qualified(schema, &table.target_name),
        quote_ident(&primary_key_name(table)),
        column_list(table, &key.columns)
    )
}

pub fn add_unique(schema: &str, table: &Table, key: &Key) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})",
        qualified(schema, &table.target_name),
        quote_ident(&unique_key_name(table, key)),
        column_list(table, &key.columns)
    )
}

pub fn create_index(schema: &str, table: &Table, index: &Index) -> String {
    let parts: Vec<String> = index
        .parts
        .iter()
        .map(|p| match p {
            IndexPart::Column { name, descending } => format!(
                "{}{}",
                quote_ident(table.target_column(name)),
                if *descending { " DESC" } else { "" }
            ),
            IndexPart::Expr { expr, descending } => format!(
                "({}){}",
                render_expr(expr, table),
                if *descending { " DESC" } else { "" }
            ),
        })
        .collect();
    let method = match index.method {
        IndexMethod::Btree => "",
        IndexMethod::Gist => " USING gist",
        IndexMethod::Gin => " USING gin",
    };
    let mut sql = format!(
        "CREATE {}INDEX {} ON {}{method} ({})",
        if index.unique { "UNIQUE " } else { "" },
        quote_ident(&index.target_name),
        qualified(schema, &table.target_name),
        parts.join(", ")
    );
    if let Some(p) = &index.predicate {
        sql.push_str(" WHERE ");
        sql.push_str(&render_expr(p, table));
    }
    sql
}

fn fk_action(a: FkAction) -> &'static str {
    match a {
        FkAction::NoAction => "NO ACTION",
        FkAction::Restrict => "RESTRICT",
        FkAction::Cascade => "CASCADE",
        FkAction::SetNull => "SET NULL",
        FkAction::SetDefault => "SET DEFAULT",
    }
}

/// A deterministic constraint name for a foreign key: `<table>_<cols>_fkey`, fitted to 63 bytes.
pub fn foreign_key_name(table: &Table, fk: &ForeignKey) -> String {
    let cols: Vec<&str> = fk.columns.iter().map(|c| table.target_column(c)).collect();
    barge_model::naming::fit_identifier(&format!("{}_{}_fkey", table.target_name, cols.join("_")))
}

/// `ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID`: cheap to add; validated separately.
pub fn add_foreign_key(schema: &str, table: &Table, fk: &ForeignKey, parent: &Table) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON UPDATE {} ON DELETE {} NOT VALID",
        qualified(schema, &table.target_name),
        quote_ident(&foreign_key_name(table, fk)),
        column_list(table, &fk.columns),
        qualified(schema, &parent.target_name),
        column_list(parent, &fk.ref_columns),
        fk_action(fk.on_update),
        fk_action(fk.on_delete),
    )
}

pub fn drop_foreign_key(schema: &str, table: &Table, fk: &ForeignKey) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}",
        qualified(schema, &table.target_name),
        quote_ident(&foreign_key_name(table, fk))
    )
}

pub fn validate_foreign_key(schema: &str, table: &Table, fk: &ForeignKey) -> String {
    format!(
        "ALTER TABLE {} VALIDATE CONSTRAINT {}",
        qualified(schema, &table.target_name),
        quote_ident(&foreign_key_name(table, fk))
    )
}

/// The constraint name of a CHECK: its source name folded like other names, or
/// `<table>_check<n>` (1-based position) when the source gave none.
pub fn check_name(table: &Table, position: usize, check: &Check) -> String {
    match &check.name {
        Some(n) => barge_model::naming::fit_identifier(&format!("{}_{}", table.target_name, n)),
        None => barge_model::naming::fit_identifier(&format!(
            "{}_check{}",
            table.target_name,
            position + 1
        )),
    }
}

/// `ADD CONSTRAINT ... CHECK (...) NOT VALID`; validated separately so existing rows that
/// PostgreSQL judges differently are reported rather than blocking the load.
pub fn add_check(schema: &str, table: &Table, position: usize, check: &Check) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({}) NOT VALID",
        qualified(schema, &table.target_name),
        quote_ident(&check_name(table, position, check)),
        render_expr(&check.expr, table)
    )
}

pub fn validate_check(schema: &str, table: &Table, position: usize, check: &Check) -> String {
    format!(
        "ALTER TABLE {} VALIDATE CONSTRAINT {}",
        qualified(schema, &table.target_name),
        quote_ident(&check_name(table, position, check))
    )
}

/// Move an identity column's sequence past the largest loaded value: the next value is
/// `max + 1`, or the source's own counter when that is higher (MySQL's AUTO_INCREMENT,
/// which remembers deleted rows), or 1 when the table is empty or holds only values below 1.
/// At the type's maximum the sequence is left exhausted, as it was in the source.
pub fn restart_identity(schema: &str, table: &Table, column: &Column) -> String {
    let t = qualified(schema, &table.target_name);
    let c = quote_ident(&column.target_name);
    let seq = format!(
        "pg_get_serial_sequence({}, {})",
        quote_literal(&t),
        quote_literal(&column.target_name)
    );
    let floor = table
        .next_identity
        .filter(|n| *n >= 1 && *n <= i64::MAX as u64)
        .unwrap_or(1);
    format!(
        "SELECT CASE WHEN max({c}) IS NULL OR max({c}) < {floor} THEN setval({seq}, {floor}, false) \
         ELSE setval({seq}, max({c}), true) END FROM {t}"
    )
}

/// `COMMENT ON TABLE` / `COMMENT ON COLUMN` for the comments the source carries.
pub fn comments(schema: &str, table: &Table) -> Vec<String> {
    let t = qualified(schema, &table.target_name);
    let mut out = Vec::new();
    if let Some(c) = &table.comment {
        out.push(format!("COMMENT ON TABLE {t} IS {}", quote_literal(c)));
    }
    for c in &table.columns {
        if let Some(text) = &c.comment {
            out.push(format!(
                "COMMENT ON COLUMN {t}.{} IS {}",
                quote_ident(&c.target_name),
                quote_literal(text)
            ));
        }
    }
    out
}

/// The name of the trigger (and its function) that emulates MySQL's
/// `ON UPDATE CURRENT_TIMESTAMP` on a table.
pub fn on_update_trigger_name(table: &Table) -> String {
    barge_model::naming::fit_identifier(&format!("{}_on_update_now", table.target_name))
}

/// MySQL's `ON UPDATE CURRENT_TIMESTAMP`, as a `BEFORE UPDATE` trigger: when an UPDATE
/// changes the row but leaves the column as it was, the column takes the current time (in
/// the column's own precision, which the assignment rounds to). An UPDATE that sets the
/// column itself keeps its value. Returns nothing for a table without such columns.
pub fn on_update_trigger(schema: &str, table: &Table) -> Option<String> {
    let columns: Vec<&Column> = table.columns.iter().filter(|c| c.on_update_now).collect();
    if columns.is_empty() {
        return None;
    }
    let name = on_update_trigger_name(table);
    let function = qualified(schema, &name);
    let mut body = String::new();
    for c in columns {
        let col = quote_ident(&c.target_name);
        let now = render_default(&barge_model::DefaultValue::CurrentTimestamp, c, table);
        body.push_str(&format!(
            "    IF NEW.{col} IS NOT DISTINCT FROM OLD.{col} THEN\n        NEW.{col} := {now};\n    END IF;\n"
        ));
    }
    Some(format!(
        "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $barge$\nBEGIN\n    IF NEW IS NOT DISTINCT FROM OLD THEN\n        RETURN NEW;\n    END IF;\n{body}    RETURN NEW;\nEND\n$barge$;\nCREATE TRIGGER {} BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {function}()",
        quote_ident(&name),
        qualified(schema, &table.target_name),
    ))
}

/// `CREATE SEQUENCE` with the source's bounds, step and cycling.
pub fn create_sequence(schema: &str, seq: &barge_model::Sequence) -> String {
    format!(
        "CREATE SEQUENCE {} AS bigint INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} {}",
        qualified(schema, &seq.target_name),
        seq.increment,
        seq.min,
        seq.max,
        seq.start,
        if seq.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}

/// Move a sequence to where the source's stood: its next value is the source's next. A
/// sequence the source ran to its end (next past a bound, no CYCLE) is left at that bound,
/// exhausted, as it was.
pub fn restart_sequence(schema: &str, seq: &barge_model::Sequence) -> String {
    let name = qualified(schema, &seq.target_name);
    if (seq.min..=seq.max).contains(&seq.next) {
        format!("ALTER SEQUENCE {name} RESTART WITH {}", seq.next)
    } else {
        let bound = if seq.increment > 0 { seq.max } else { seq.min };
        format!("SELECT setval({}, {bound}, true)", quote_literal(&name))
    }
}

pub use barge_model::naming::{primary_key_name, unique_key_name};

/// The whole DDL for a schema, for `plan` output and snapshot tests.
pub fn schema_script(schema_name: &str, schema: &Schema, unlogged: bool) -> Vec<String> {
    let mut out: Vec<String> = required_extensions(schema)
        .into_iter()
        .map(|e| format!("CREATE EXTENSION IF NOT EXISTS {}", quote_ident(e)))
        .collect();
    out.extend(create_collations(schema_name, schema));
    out.extend(create_enum_types(schema_name, schema));
    out.extend(
        schema
            .sequences
            .iter()
            .map(|s| create_sequence(schema_name, s)),
    );
    for t in &schema.tables {
        out.push(create_table(schema_name, t, unlogged));
    }
    for t in &schema.tables {
        if let Some(pk) = &t.primary_key {
            out.push(add_primary_key(schema_name, t, pk));
        }
        for u in &t.unique_keys {
            out.push(add_unique(schema_name, t, u));
        }
        for i in &t.indexes {
            out.push(create_index(schema_name, t, i));
        }
    }
    for t in &schema.tables {
        for fk in &t.foreign_keys {
            if let Some(parent) = schema.table(&fk.ref_table) {
                out.push(add_foreign_key(schema_name, t, fk, parent));
            }
        }
        for (i, c) in t.checks.iter().enumerate() {
            out.push(add_check(schema_name, t, i, c));
        }
        out.extend(comments(schema_name, t));
        out.extend(on_update_trigger(schema_name, t));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use barge_model::{Column, Index, Key, Table};

    fn table() -> Table {
        let mut t = Table::new("Order Items");
        t.target_name = "order_items".into();
        let mut id = Column::new("Id", "INTEGER", DataType::Int8);
        id.target_name = "id".into();
        id.identity = true;
        id.nullable = false;
        let mut price = Column::new(
            "Price",
            "NUMERIC(10,2)",
            DataType::Numeric {
                precision: Some(10),
                scale: Some(2),
            },
        );
        price.target_name = "price".into();
        price.nullable = false;
        price.default = Some(DefaultValue::Literal(Literal::Decimal("0.99".into())));
        let mut added = Column::new("Added", "DATETIME", DataType::Timestamp(None));
        added.target_name = "added".into();
        added.default = Some(DefaultValue::CurrentTimestamp);
        let mut note = Column::new("user", "TEXT", DataType::Text);
        note.target_name = "user".into();
        note.default = Some(DefaultValue::Literal(Literal::Text("it's".into())));
        t.columns = vec![id, price, added, note];
        t.primary_key = Some(Key {
            name: None,
            columns: vec!["Id".into()],
        });
        t.indexes.push(Index {
            name: "ix_Lower".into(),
            target_name: "ix_lower".into(),
            unique: true,
            parts: vec![IndexPart::Expr {
                expr: Expr::Function(Function::Lower, vec![Expr::Column("user".into())]),
                descending: false,
            }],
            predicate: Some(Expr::Binary(
                BinaryOp::Gt,
                Box::new(Expr::Column("Price".into())),
                Box::new(Expr::Literal(Literal::Integer("-1".into()))),
            )),
            method: IndexMethod::Btree,
        });
        t
    }

    #[test]
    fn table_ddl() {
        let t = table();
        let sql = [
            create_table("app", &t, true),
            add_primary_key("app", &t, t.primary_key.as_ref().unwrap()),
            create_index("app", &t, &t.indexes[0]),
            restart_identity("app", &t, &t.columns[0]),
        ]
        .join(";\n");
        insta::assert_snapshot!(sql);
    }
}
