//! What `DROP SCHEMA ... CASCADE` would remove, found before barge drops anything.
//!
//! barge drops only what it owns: the target schema and its `<schema>_orphans` quarantine
//! (under `on_schema_exists = "recreate"` and `--restart`). `CASCADE` follows PostgreSQL's
//! dependency graph (`pg_depend`) out of the schema, and would silently take along views,
//! foreign keys, column defaults and triggers in other schemas, columns of other tables typed
//! with one of the schema's types, and whole extensions that have objects in it. So before a
//! drop barge computes the same closure PostgreSQL would ([`examine`]):
//!
//! - start from the schemas; every object with a dependency on a doomed object goes too
//!   (every dependency type `CASCADE` follows: normal, automatic, internal, extension,
//!   partition), a dependency on a column only when that column goes;
//! - an object that is an internal part or an extension member of another object takes that
//!   owner along (PostgreSQL turns the deletion of a part into the deletion of its owner), so
//!   an extension with objects in the schema goes whole, wherever its other objects are.
//!
//! Each doomed object is then placed in a schema: its own, or, for objects without one, the
//! schema of the relation it belongs to (defaults, triggers, rules, policies; TOAST tables
//! belong to their table). Anything placed outside the schemas being dropped, or nowhere (an
//! extension, a cast between outside types), makes the drop refused, naming each object
//! (collapsed to its owner: a view, not its rewrite rule) and what it depends on.
//!
//! The caller runs the check and the drop in one transaction, after [`lock_tables_sql`] has
//! locked every table of the schemas: a view, foreign key or trigger on them cannot be
//! created in between, since each needs a lock that conflicts with `ACCESS EXCLUSIVE`.
//!
//! [`DropPlan::inventory`] says what goes: each table with its row count (PostgreSQL's
//! estimate `reltuples` where the table was analyzed; otherwise an exact count, capped),
//! counts of views, sequences, functions and types, and the schema-level grants that are
//! lost with the schema (barge does not re-apply them: the statements are printed instead).

use crate::ddl::{qualified, quote_ident};
use crate::target::{db_message, PgError};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tokio_postgres::Client;

/// Tables without statistics are counted exactly up to this many rows.
const COUNT_CAP: i64 = 100_000;

/// An object outside the dropped schemas that the drop would remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideObject {
    /// PostgreSQL's name for the kind of object (`view`, `table constraint`, `extension`).
    pub kind: String,
    /// Schema-qualified identity, as `pg_identify_object` spells it.
    pub name: String,
    /// What it depends on among the doomed objects (`table app.t`).
    pub depends_on: Vec<String>,
}

/// How many rows a table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowCount {
    /// PostgreSQL's estimate (`reltuples`) from the last ANALYZE or VACUUM.
    Estimate(u64),
    Exact(u64),
    /// More than this many (counted up to the cap).
    MoreThan(u64),
}

impl std::fmt::Display for RowCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowCount::Estimate(n) => write!(f, "about {n} rows (PostgreSQL's estimate)"),
            RowCount::Exact(1) => f.write_str("1 row"),
            RowCount::Exact(n) => write!(f, "{n} rows"),
            RowCount::MoreThan(n) => write!(f, "more than {n} rows"),
        }
    }
}

/// What dropping some schemas with `CASCADE` would remove.
#[derive(Debug, Clone, Default)]
pub struct DropPlan {
    /// The schemas that exist, of those asked about.
    pub schemas: Vec<String>,
    /// `(schema-qualified name, rows)` of each table.
    pub tables: Vec<(String, RowCount)>,
    pub views: usize,
    pub sequences: usize,
    pub functions: usize,
    pub types: usize,
    /// `GRANT` statements on the schemas that are lost with them (the owner's own rights
    /// excepted), and a note per role whose default privileges in them are lost.
    pub grants: Vec<String>,
    /// Objects outside the schemas the drop would remove: when any, barge refuses.
    pub outside: Vec<OutsideObject>,
}

impl DropPlan {
    /// The refusal, naming each outside object, when the drop would reach outside.
    pub fn refusal(&self, what: &str) -> Option<String> {
        if self.outside.is_empty() {
            return None;
        }
        let mut text = format!(
            "{what}: dropping {} would also remove {} object(s) outside {}:",
            self.schema_list(),
            self.outside.len(),
            if self.schemas.len() == 1 {
                "it"
            } else {
                "them"
            }
        );
        for o in &self.outside {
            text.push_str(&format!("\n  {} `{}`", o.kind, o.name));
            if !o.depends_on.is_empty() {
                text.push_str(&format!(" (depends on {})", o.depends_on.join(", ")));
            }
        }
        text.push_str("\nhint: nothing was dropped. Drop or change these objects yourself (an extension can move with `ALTER EXTENSION name SET SCHEMA other`), or migrate into another schema");
        Some(text)
    }

    /// What goes, one line per table, then the other objects and the lost grants.
    pub fn inventory(&self, what: &str) -> String {
        let mut text = format!(
            "{what}: dropping {} with everything in it",
            self.schema_list()
        );
        if self.tables.is_empty() {
            text.push_str("\n  no tables");
        }
        for (name, rows) in &self.tables {
            text.push_str(&format!("\n  table `{name}`: {rows}"));
        }
        let others: Vec<String> = [
            (self.views, "view"),
            (self.sequences, "sequence"),
            (self.functions, "function"),
            (self.types, "type"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, kind)| format!("{n} {kind}{}", if *n == 1 { "" } else { "s" }))
        .collect();
        if !others.is_empty() {
            text.push_str(&format!("\n  and {}", others.join(", ")));
        }
        if !self.grants.is_empty() {
            text.push_str("\n  lost with the schema (barge does not restore them):");
            for g in &self.grants {
                text.push_str(&format!("\n    {g}"));
            }
        }
        text
    }

    fn schema_list(&self) -> String {
        let names: Vec<String> = self
            .schemas
            .iter()
            .map(|s| format!("schema `{s}`"))
            .collect();
        names.join(" and ")
    }
}

/// `LOCK TABLE` on every table of `schemas`, for the transaction that checks and drops them;
/// `None` when they hold no table.
pub async fn lock_tables_sql(client: &Client, schemas: &[&str]) -> Result<Option<String>, PgError> {
    let sql = "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p') ORDER BY 1, 2";
    let names: Vec<String> = schemas.iter().map(|s| s.to_string()).collect();
    let rows = client
        .query(sql, &[&names])
        .await
        .map_err(|e| statement("listing the tables to lock before a drop", sql, &e))?;
    if rows.is_empty() {
        return Ok(None);
    }
    let tables: Vec<String> = rows
        .iter()
        .map(|r| qualified(r.get::<_, &str>(0), r.get::<_, &str>(1)))
        .collect();
    Ok(Some(format!(
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
        tables.join(", ")
    )))
}

/// What `DROP SCHEMA ... CASCADE` of `schemas` would remove (see the module docs). Schemas
/// that do not exist are left out of the plan.
pub async fn examine(client: &Client, schemas: &[&str]) -> Result<DropPlan, PgError> {
    let names: Vec<String> = schemas.iter().map(|s| s.to_string()).collect();
    let sql = "SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[]) ORDER BY 1";
    let existing: Vec<String> = client
        .query(sql, &[&names])
        .await
        .map_err(|e| statement("looking up the schemas to drop", sql, &e))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut plan = DropPlan {
        schemas: schemas
            .iter()
            .filter(|s| existing.iter().any(|e| e == *s))
            .map(|s| s.to_string())
            .collect(),
        ..DropPlan::default()
    };
    if plan.schemas.is_empty() {
        return Ok(plan);
    }
    plan.outside = outside_objects(client, &plan.schemas).await?;
    inventory(client, &mut plan).await?;
    Ok(plan)
}

/// The dependency closure of the schemas, as edges `(object, via, deptype, direction)`; see
/// the module docs. `f`: the object depends on `via`; `r`: `via` is a part or member of the
/// object (the object is its owner).
const CLOSURE_SQL: &str = r#"
WITH RECURSIVE doomed(classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype, dir) AS (
    SELECT 'pg_namespace'::regclass::oid, n.oid, 0, 0::oid, 0::oid, 0, ' '::"char", 's'
    FROM pg_namespace n WHERE n.nspname = ANY($1::text[])
  UNION
    SELECT e.classid, e.objid, e.objsubid, x.classid, x.objid, x.objsubid, e.deptype, e.dir
    FROM doomed x
    CROSS JOIN LATERAL (
        SELECT d.classid, d.objid, d.objsubid, d.deptype, 'f' AS dir FROM pg_depend d
        WHERE d.refclassid = x.classid AND d.refobjid = x.objid
          AND (x.objsubid = 0 OR d.refobjsubid = x.objsubid)
      UNION ALL
        SELECT d.refclassid, d.refobjid, d.refobjsubid, d.deptype, 'r' FROM pg_depend d
        WHERE d.classid = x.classid AND d.objid = x.objid AND d.objsubid = x.objsubid
          AND d.deptype IN ('i', 'e')
    ) e
),
nodes AS (SELECT DISTINCT classid, objid, objsubid FROM doomed),
located AS (
    SELECT o.classid, o.objid, o.objsubid,
        CASE o.classid
            WHEN 'pg_namespace'::regclass THEN (SELECT nspname FROM pg_namespace WHERE oid = o.objid)
            WHEN 'pg_class'::regclass THEN (
                SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.oid = coalesce(
                    (SELECT t.oid FROM pg_class t WHERE t.reltoastrelid = o.objid LIMIT 1),
                    (SELECT t.oid FROM pg_class t JOIN pg_index i ON t.reltoastrelid = i.indrelid
                     WHERE i.indexrelid = o.objid LIMIT 1),
                    o.objid))
            WHEN 'pg_attrdef'::regclass THEN (
                SELECT n.nspname FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.oid = o.objid)
            WHEN 'pg_trigger'::regclass THEN (
                SELECT n.nspname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace WHERE g.oid = o.objid)
            WHEN 'pg_rewrite'::regclass THEN (
                SELECT n.nspname FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
                JOIN pg_namespace n ON n.oid = c.relnamespace WHERE r.oid = o.objid)
            WHEN 'pg_policy'::regclass THEN (
                SELECT n.nspname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace WHERE p.oid = o.objid)
            WHEN 'pg_default_acl'::regclass THEN (
                SELECT n.nspname FROM pg_default_acl a JOIN pg_namespace n ON n.oid = a.defaclnamespace
                WHERE a.oid = o.objid)
            WHEN 'pg_cast'::regclass THEN (
                SELECT n.nspname FROM pg_cast c JOIN pg_type t ON t.oid IN (c.castsource, c.casttarget)
                JOIN pg_namespace n ON n.oid = t.typnamespace WHERE c.oid = o.objid
                ORDER BY n.nspname = ANY($1::text[]) DESC LIMIT 1)
            WHEN 'pg_amop'::regclass THEN (
                SELECT n.nspname FROM pg_amop a JOIN pg_opfamily f ON f.oid = a.amopfamily
                JOIN pg_namespace n ON n.oid = f.opfnamespace WHERE a.oid = o.objid)
            WHEN 'pg_amproc'::regclass THEN (
                SELECT n.nspname FROM pg_amproc a JOIN pg_opfamily f ON f.oid = a.amprocfamily
                JOIN pg_namespace n ON n.oid = f.opfnamespace WHERE a.oid = o.objid)
            ELSE (pg_identify_object(o.classid, o.objid, o.objsubid)).schema
        END AS location,
        (pg_identify_object(o.classid, o.objid, o.objsubid)).type AS kind,
        (pg_identify_object(o.classid, o.objid, o.objsubid)).identity AS identity
    FROM nodes o
)
SELECT concat_ws('/', d.classid, d.objid, d.objsubid), l.kind, l.identity, l.location,
    concat_ws('/', d.refclassid, d.refobjid, d.refobjsubid), d.deptype::text, d.dir
FROM doomed d
JOIN located l ON (l.classid, l.objid, l.objsubid) = (d.classid, d.objid, d.objsubid)
"#;

struct Node {
    kind: String,
    identity: String,
    /// Inside the dropped schemas.
    inside: bool,
}

async fn outside_objects(
    client: &Client,
    schemas: &[String],
) -> Result<Vec<OutsideObject>, PgError> {
    let rows = client
        .query(CLOSURE_SQL, &[&schemas])
        .await
        .map_err(|e| statement("finding what the drop would remove", CLOSURE_SQL, &e))?;
    let mut nodes: HashMap<String, Node> = HashMap::new();
    // (object, via, deptype, direction)
    let mut edges: Vec<(String, String, String, String)> = Vec::new();
    for r in &rows {
        let key: String = r.get(0);
        let location: Option<String> = r.get(3);
        nodes.entry(key.clone()).or_insert_with(|| Node {
            kind: r.get::<_, Option<String>>(1).unwrap_or_default(),
            identity: r.get::<_, Option<String>>(2).unwrap_or_default(),
            inside: location.is_some_and(|l| schemas.contains(&l)),
        });
        edges.push((key, r.get(4), r.get(5), r.get(6)));
    }
    // A part (internal dependency) or extension member stands for its owner.
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for (object, via, deptype, dir) in &edges {
        if !matches!(deptype.as_str(), "i" | "e") {
            continue;
        }
        match dir.as_str() {
            "f" => owner.insert(object.as_str(), via.as_str()),
            _ => owner.insert(via.as_str(), object.as_str()),
        };
    }
    // A column stands for its table when the whole table goes.
    let whole = |key: &str| -> Option<String> {
        let (class, rest) = key.split_once('/')?;
        let (obj, sub) = rest.split_once('/')?;
        (sub != "0")
            .then(|| format!("{class}/{obj}/0"))
            .filter(|k| nodes.contains_key(k))
    };
    let top = |key: &str| -> String {
        let mut k = whole(key).unwrap_or_else(|| key.to_string());
        let mut seen = BTreeSet::new();
        while let Some(o) = owner.get(k.as_str()) {
            if !seen.insert(k.clone()) {
                break;
            }
            k = whole(o).unwrap_or_else(|| o.to_string());
        }
        k
    };
    let mut outside: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (object, via, deptype, dir) in &edges {
        let Some(node) = nodes.get(object) else {
            continue;
        };
        if node.inside {
            continue;
        }
        let reported = top(object);
        if nodes.get(&reported).is_some_and(|n| n.inside) {
            continue;
        }
        let entry = outside.entry(reported.clone()).or_default();
        // What it depends on: the doomed objects it was reached from, not its own parts.
        if dir == "f" && deptype != "i" && top(via) != reported {
            let via = whole(via).unwrap_or_else(|| via.clone());
            if let Some(v) = nodes.get(&via) {
                entry.insert(format!("{} {}", v.kind, v.identity));
            }
        }
    }
    let mut list: Vec<OutsideObject> = outside
        .into_iter()
        .filter_map(|(key, depends_on)| {
            let n = nodes.get(&key)?;
            Some(OutsideObject {
                kind: n.kind.clone(),
                name: n.identity.clone(),
                depends_on: depends_on.into_iter().collect(),
            })
        })
        .collect();
    list.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
    Ok(list)
}

async fn inventory(client: &Client, plan: &mut DropPlan) -> Result<(), PgError> {
    let schemas = &plan.schemas;
    // A sequence owned by a column (identity, serial) is part of its table.
    let sql = "SELECT n.nspname, c.relname, c.relkind::text, c.reltuples::float8 \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'S') \
                 AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d \
                     WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
                       AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('i', 'a'))) \
               ORDER BY 1, 2";
    let rows = client
        .query(sql, &[schemas])
        .await
        .map_err(|e| statement("listing what the drop removes", sql, &e))?;
    for r in &rows {
        let (schema, name, kind): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        match kind.as_str() {
            "v" | "m" => plan.views += 1,
            "S" => plan.sequences += 1,
            _ => {
                let estimate: f64 = r.get(3);
                let rows = if estimate >= 0.0 && kind == "r" {
                    RowCount::Estimate(estimate.round() as u64)
                } else {
                    // Never analyzed (or partitioned): count, up to a cap.
                    let count = format!(
                        "SELECT count(*) FROM (SELECT 1 FROM {} LIMIT {}) t",
                        qualified(&schema, &name),
                        COUNT_CAP + 1
                    );
                    let n: i64 = client
                        .query_one(&count, &[])
                        .await
                        .map_err(|e| statement("counting the rows the drop removes", &count, &e))?
                        .get(0);
                    if n > COUNT_CAP {
                        RowCount::MoreThan(COUNT_CAP as u64)
                    } else {
                        RowCount::Exact(n as u64)
                    }
                };
                plan.tables.push((format!("{schema}.{name}"), rows));
            }
        }
    }
    let sql = "SELECT \
        (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = ANY($1::text[])), \
        (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         LEFT JOIN pg_class c ON c.oid = t.typrelid \
         WHERE n.nspname = ANY($1::text[]) AND t.typcategory <> 'A' \
           AND (t.typrelid = 0 OR c.relkind = 'c'))";
    let row = client
        .query_one(sql, &[schemas])
        .await
        .map_err(|e| statement("counting the functions and types the drop removes", sql, &e))?;
    plan.functions = row.get::<_, i64>(0) as usize;
    plan.types = row.get::<_, i64>(1) as usize;
    let sql = "SELECT n.nspname, coalesce(g.rolname, 'PUBLIC'), \
                      string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type), \
                      bool_or(a.is_grantable) \
               FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a \
               LEFT JOIN pg_roles g ON g.oid = a.grantee \
               WHERE n.nspname = ANY($1::text[]) AND a.grantee <> n.nspowner \
               GROUP BY 1, 2 ORDER BY 1, 2";
    let rows = client
        .query(sql, &[schemas])
        .await
        .map_err(|e| statement("reading the grants on the schemas to drop", sql, &e))?;
    for r in &rows {
        let (schema, grantee, privileges, grantable): (String, String, String, bool) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        let grantee = if grantee == "PUBLIC" {
            grantee
        } else {
            quote_ident(&grantee)
        };
        plan.grants.push(format!(
            "GRANT {privileges} ON SCHEMA {} TO {grantee}{};",
            quote_ident(&schema),
            if grantable { " WITH GRANT OPTION" } else { "" }
        ));
    }
    let sql = "SELECT n.nspname, n.nspowner::regrole::text, current_user::text \
               FROM pg_namespace n WHERE n.nspname = ANY($1::text[]) \
               AND n.nspowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user) ORDER BY 1";
    let rows = client
        .query(sql, &[schemas])
        .await
        .map_err(|e| statement("reading the owners of the schemas to drop", sql, &e))?;
    for r in &rows {
        let (schema, owner, me): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        plan.grants.push(format!(
            "ownership: schema `{schema}` is owned by `{owner}`; the schema barge creates is owned by `{me}`"
        ));
    }
    let sql = "SELECT n.nspname, coalesce(g.rolname, '?') FROM pg_default_acl d \
               JOIN pg_namespace n ON n.oid = d.defaclnamespace \
               LEFT JOIN pg_roles g ON g.oid = d.defaclrole \
               WHERE n.nspname = ANY($1::text[]) ORDER BY 1, 2";
    let rows = client.query(sql, &[schemas]).await.map_err(|e| {
        statement(
            "reading the default privileges of the schemas to drop",
            sql,
            &e,
        )
    })?;
    for r in &rows {
        let (schema, role): (String, String) = (r.get(0), r.get(1));
        plan.grants.push(format!(
            "default privileges of role `{role}` in schema `{schema}` (ALTER DEFAULT PRIVILEGES)"
        ));
    }
    Ok(())
}

fn statement(what: &str, sql: &str, e: &tokio_postgres::Error) -> PgError {
    PgError::Statement {
        what: what.to_string(),
        statement: sql.to_string(),
        message: db_message(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_names_each_object_and_what_it_depends_on() {
        let plan = DropPlan {
            schemas: vec!["app".into(), "app_orphans".into()],
            outside: vec![OutsideObject {
                kind: "view".into(),
                name: "other.v".into(),
                depends_on: vec!["table app.t".into()],
            }],
            ..DropPlan::default()
        };
        let text = plan
            .refusal("on_schema_exists = \"recreate\"")
            .unwrap_or_default();
        assert!(text.starts_with("on_schema_exists = \"recreate\": dropping schema `app` and schema `app_orphans` would also remove 1 object(s) outside them:\n  view `other.v` (depends on table app.t)\nhint: nothing was dropped"), "{text}");
        assert!(DropPlan::default().refusal("x").is_none());
    }

    #[test]
    fn inventory_lists_tables_counts_and_grants() {
        let plan = DropPlan {
            schemas: vec!["app".into()],
            tables: vec![
                ("app.a".into(), RowCount::Estimate(1200)),
                ("app.b".into(), RowCount::Exact(1)),
            ],
            views: 2,
            functions: 1,
            grants: vec!["GRANT USAGE ON SCHEMA \"app\" TO \"reader\";".into()],
            ..DropPlan::default()
        };
        assert_eq!(
            plan.inventory("recreate"),
            "recreate: dropping schema `app` with everything in it\n  table `app.a`: about 1200 rows (PostgreSQL's estimate)\n  table `app.b`: 1 row\n  and 2 views, 1 function\n  lost with the schema (barge does not restore them):\n    GRANT USAGE ON SCHEMA \"app\" TO \"reader\";"
        );
    }
}
