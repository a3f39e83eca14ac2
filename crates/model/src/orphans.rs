//! The orphan-row count a source runs for `plan`: rows of a child table whose foreign key
//! names no parent row. MATCH SIMPLE, as PostgreSQL checks the key later: a NULL in any key
//! column is no reference. Identifiers are quoted by the source's own function.

use crate::{ForeignKey, Table};

/// `SELECT count(*) ...` in the source's dialect (`quote` quotes one identifier).
pub fn count_sql(
    child: &Table,
    fk: &ForeignKey,
    parent: &Table,
    quote: &dyn Fn(&str) -> String,
) -> String {
    let not_null: Vec<String> = fk
        .columns
        .iter()
        .map(|c| format!("c.{} IS NOT NULL", quote(c)))
        .collect();
    let matches: Vec<String> = fk
        .columns
        .iter()
        .zip(&fk.ref_columns)
        .map(|(c, p)| format!("p.{} = c.{}", quote(p), quote(c)))
        .collect();
    format!(
        "SELECT count(*) FROM {} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {})",
        quote(&child.name),
        not_null.join(" AND "),
        quote(&parent.name),
        matches.join(" AND ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FkAction;

    #[test]
    fn composite_key() {
        let fk = ForeignKey {
            name: None,
            columns: vec!["a".into(), "b".into()],
            ref_table: "p".into(),
            ref_columns: vec!["x".into(), "y".into()],
            on_delete: FkAction::NoAction,
            on_update: FkAction::NoAction,
        };
        let q = |n: &str| format!("`{n}`");
        assert_eq!(
            count_sql(&Table::new("c"), &fk, &Table::new("p"), &q),
            "SELECT count(*) FROM `c` c WHERE c.`a` IS NOT NULL AND c.`b` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `p` p WHERE p.`x` = c.`a` AND p.`y` = c.`b`)"
        );
    }
}
