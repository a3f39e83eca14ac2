//! Target schema names barge refuses, whatever `on_schema_exists` says.
//!
//! barge drops what it owns with `DROP SCHEMA ... CASCADE` (under `on_schema_exists =
//! "recreate"`, `--restart`, and for the `<schema>_orphans` quarantine), so the target schema
//! must be one barge may own. PostgreSQL's own schemas (`pg_catalog`, `pg_toast`,
//! `pg_temp_N`, any `pg_*`, `information_schema`) never are, nor is `_barge`, where barge
//! keeps its ledger. The quarantine schema of a target is `<schema>_orphans`: a target whose
//! quarantine would be a `pg_*` name (schema `pg`) is refused too. `public` is refused for
//! `recreate` unless `allow_recreate_public = true` (checked where the options are known).

/// The schema that holds barge's ledger and its record of completed runs.
pub const LEDGER_SCHEMA: &str = "_barge";

/// Why `name` cannot be barge's target schema, if it cannot.
pub fn reserved_schema(name: &str) -> Option<String> {
    if name.starts_with("pg_") {
        return Some(format!(
            "`{name}` is a PostgreSQL system schema name (the `pg_` prefix is reserved for the system)"
        ));
    }
    if name == "information_schema" {
        return Some("`information_schema` is PostgreSQL's system catalog schema".to_owned());
    }
    if name == LEDGER_SCHEMA {
        return Some(format!(
            "`{LEDGER_SCHEMA}` is where barge keeps its progress ledger"
        ));
    }
    let quarantine = format!("{name}_orphans");
    if quarantine.starts_with("pg_") {
        return Some(format!(
            "its orphan quarantine schema would be `{quarantine}`, a PostgreSQL system schema name"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::reserved_schema;

    #[test]
    fn system_ledger_and_quarantine_names_are_reserved() {
        for name in [
            "pg_catalog",
            "pg_toast",
            "pg_temp_3",
            "pg_x",
            "information_schema",
            "_barge",
            "pg",
        ] {
            assert!(reserved_schema(name).is_some(), "{name}");
        }
        for name in [
            "app",
            "public",
            "PG_x",
            "pgx",
            "Information_Schema",
            "_barge2",
        ] {
            assert!(reserved_schema(name).is_none(), "{name}");
        }
    }
}
