//! SQL for orphan rows: child rows whose foreign key names a parent row that does not exist.
//!
//! MATCH SIMPLE semantics, as PostgreSQL's foreign keys use: a row with any NULL in the key
//! columns references nothing and is never an orphan.

use crate::ddl::{foreign_key_name, qualified, quote_ident, quote_literal};
use barge_model::{ForeignKey, Table};

/// The schema that receives removed rows: `<schema>_orphans`.
pub fn quarantine_schema(schema: &str) -> String {
    barge_model::naming::fit_identifier(&format!("{schema}_orphans"))
}

/// `WHERE` condition selecting the orphans of `fk` in `child` (aliased `c`).
fn orphan_condition(schema: &str, child: &Table, fk: &ForeignKey, parent: &Table) -> String {
    let not_null: Vec<String> = fk
        .columns
        .iter()
        .map(|c| format!("c.{} IS NOT NULL", quote_ident(child.target_column(c))))
        .collect();
    let matches: Vec<String> = fk
        .columns
        .iter()
        .zip(&fk.ref_columns)
        .map(|(c, p)| {
            format!(
                "p.{} = c.{}",
                quote_ident(parent.target_column(p)),
                quote_ident(child.target_column(c))
            )
        })
        .collect();
    format!(
        "{} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {})",
        not_null.join(" AND "),
        qualified(schema, &parent.target_name),
        matches.join(" AND ")
    )
}

/// Count the orphans of one foreign key.
pub fn count(schema: &str, child: &Table, fk: &ForeignKey, parent: &Table) -> String {
    format!(
        "SELECT count(*) FROM {} c WHERE {}",
        qualified(schema, &child.target_name),
        orphan_condition(schema, child, fk, parent)
    )
}

/// Set the key columns of orphans to NULL (for `ON DELETE SET NULL` keys).
pub fn set_null(schema: &str, child: &Table, fk: &ForeignKey, parent: &Table) -> String {
    let sets: Vec<String> = fk
        .columns
        .iter()
        .map(|c| format!("{} = NULL", quote_ident(child.target_column(c))))
        .collect();
    format!(
        "UPDATE {} c SET {} WHERE {}",
        qualified(schema, &child.target_name),
        sets.join(", "),
        orphan_condition(schema, child, fk, parent)
    )
}

/// Create the quarantine table of `child`: its columns, plus the foreign key that removed
/// each row and when.
pub fn create_quarantine(schema: &str, child: &Table) -> String {
    let q = quarantine_schema(schema);
    format!(
        "CREATE SCHEMA IF NOT EXISTS {qs};\n\
         CREATE TABLE IF NOT EXISTS {qt} (LIKE {src}, \"_barge_foreign_key\" text NOT NULL, \"_barge_removed_at\" timestamptz NOT NULL DEFAULT now())",
        qs = quote_ident(&q),
        qt = qualified(&q, &child.target_name),
        src = qualified(schema, &child.target_name),
    )
}

/// Move orphans into the quarantine table, in one statement.
pub fn move_rows(schema: &str, child: &Table, fk: &ForeignKey, parent: &Table) -> String {
    let q = quarantine_schema(schema);
    let cols: Vec<String> = child
        .columns
        .iter()
        .map(|c| quote_ident(&c.target_name))
        .collect();
    format!(
        "WITH moved AS (DELETE FROM {child_t} c WHERE {cond} RETURNING c.*)\n\
         INSERT INTO {qt} ({cols}, \"_barge_foreign_key\") SELECT {cols}, {fk_name} FROM moved",
        child_t = qualified(schema, &child.target_name),
        cond = orphan_condition(schema, child, fk, parent),
        qt = qualified(&q, &child.target_name),
        cols = cols.join(", "),
        fk_name = quote_literal(&foreign_key_name(child, fk)),
    )
}
