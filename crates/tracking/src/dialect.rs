//! SQL text per backend: the DDL of the tracking schema, the three modes, upserts and the
//! few reads a resume needs.
//!
//! Everything a backend sends is produced here as plain text with literals inlined (values
//! are escaped by the dialect), so the SQL Server side can be reviewed in snapshot tests
//! without a server, and each write batch is a single round trip. Identifiers are always
//! quoted. Scripts are lists of batches because SQL Server requires `CREATE VIEW` to be
//! alone in its batch; a transaction spans the batches of one script.

use crate::record::Row;
use crate::schema::{self, ColumnDef, ColumnType, TableDef, Value, TABLES};
use barge_config::TrackingMode;

/// Rendering rules of one tracking backend.
pub trait Dialect: Send + Sync {
    /// `postgres` or `mssql`.
    fn name(&self) -> &'static str;
    fn quote_ident(&self, name: &str) -> String;
    /// The schema the tracking objects live in (`public`, `dbo`).
    fn schema(&self) -> &'static str;
    fn column_type(&self, column: &ColumnDef) -> String;
    /// A literal for `value` stored in a column of type `ty`.
    fn literal(&self, value: &Value, ty: ColumnType) -> String;
    /// The batches that set up the tracking objects under `mode`, in one transaction.
    fn setup(&self, mode: TrackingMode) -> Vec<String>;
    /// One statement that writes `row` (an upsert, or an insert for append-only tables).
    fn write_row(&self, row: &Row) -> String;
    /// `statements` as one transaction, in one batch.
    fn transaction(&self, statements: &[String]) -> String;

    fn qualified(&self, table: &str) -> String {
        format!(
            "{}.{}",
            self.quote_ident(self.schema()),
            self.quote_ident(table)
        )
    }

    /// The run with this id: `runid, status, targetschema, sourcedescription,
    /// targetdescription, starttime` (as text).
    fn find_run(&self, run_id: &str) -> String {
        format!(
            "{} WHERE {} = {}",
            self.run_columns(),
            self.quote_ident("runid"),
            self.literal(&Value::Text(run_id.to_string()), ColumnType::RunId)
        )
    }

    /// Unfinished runs of this source, target and schema, newest first.
    fn unfinished_runs(&self, source: &str, target: &str, schema_name: &str) -> String {
        let q = |c: &str| self.quote_ident(c);
        let lit = |v: &str| self.literal(&Value::Text(v.to_string()), ColumnType::Text);
        format!(
            "{} WHERE {} = {} AND {} = {} AND {} = {} AND {} <> {} ORDER BY {} DESC",
            self.run_columns(),
            q("sourcedescription"),
            lit(source),
            q("targetdescription"),
            lit(target),
            q("targetschema"),
            lit(schema_name),
            q("status"),
            lit("completed"),
            q("runid")
        )
    }

    fn run_columns(&self) -> String {
        let cols = [
            "runid",
            "status",
            "targetschema",
            "sourcedescription",
            "targetdescription",
        ]
        .map(|c| self.quote_ident(c))
        .join(", ");
        format!(
            "SELECT {cols}, {}, {} FROM {}",
            self.timestamp_text("endtime"),
            self.quote_ident("project"),
            self.qualified("runs")
        )
    }

    /// A timestamp column read as text (the resume reads take every column as text).
    fn timestamp_text(&self, column: &str) -> String;

    /// `CREATE TABLE` body: columns, primary key, foreign keys.
    fn table_body(&self, t: &TableDef) -> String {
        let mut parts: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                format!(
                    "{} {}{}",
                    self.quote_ident(c.name),
                    self.column_type(c),
                    if c.not_null { " NOT NULL" } else { " NULL" }
                )
            })
            .collect();
        let list = |cols: &[&str]| {
            cols.iter()
                .map(|c| self.quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ")
        };
        parts.push(format!(
            "CONSTRAINT {} PRIMARY KEY ({})",
            self.quote_ident(&format!("pk_{}", t.name)),
            list(t.primary_key)
        ));
        if t.name == schema::SOURCETARGETLOADS.name {
            parts.push(format!(
                "CONSTRAINT {} UNIQUE ({})",
                self.quote_ident("uq_sourcetargetloads_loadid"),
                self.quote_ident("loadid")
            ));
        }
        for fk in t.foreign_keys {
            parts.push(format!(
                "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE CASCADE",
                self.quote_ident(&schema::fk_name(fk, t.name)),
                list(fk.columns),
                self.qualified(fk.references),
                list(fk.ref_columns)
            ));
        }
        format!("(\n    {}\n)", parts.join(",\n    "))
    }

    fn view_body(&self) -> String {
        schema::DIFF_VIEW_BODY
            .replace("{sourcetargetdiff}", &self.qualified("sourcetargetdiff"))
            .replace("{runs}", &self.qualified("runs"))
    }

    fn values_of(&self, row: &Row) -> Vec<(String, String)> {
        row.values
            .iter()
            .map(|(c, v)| {
                let ty = row.table.column(c).map_or(ColumnType::Text, |d| d.ty);
                (self.quote_ident(c), self.literal(v, ty))
            })
            .collect()
    }
}

/// PostgreSQL: schema `public`, native types, `IF NOT EXISTS` DDL, `ON CONFLICT` upserts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postgres;

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn quote_ident(&self, name: &str) -> String {
        barge_pg::ddl::quote_ident(name)
    }

    fn schema(&self) -> &'static str {
        "public"
    }

    fn timestamp_text(&self, column: &str) -> String {
        format!("{}::text", self.quote_ident(column))
    }

    fn column_type(&self, c: &ColumnDef) -> String {
        match c.ty {
            ColumnType::RunId => "varchar(64)".into(),
            ColumnType::Name => "varchar(256)".into(),
            ColumnType::Keyword => "varchar(32)".into(),
            ColumnType::Text => "text".into(),
            ColumnType::Timestamp => "timestamp".into(),
            ColumnType::Bool => "boolean".into(),
            ColumnType::BigInt => "bigint".into(),
            ColumnType::Seconds => "numeric(32,6)".into(),
            ColumnType::LoadId => format!(
                "bigint DEFAULT nextval({})",
                barge_pg::ddl::quote_literal(&self.qualified(schema::LOAD_SEQUENCE))
            ),
            ColumnType::Identity => "bigint GENERATED BY DEFAULT AS IDENTITY".into(),
        }
    }

    fn literal(&self, value: &Value, _ty: ColumnType) -> String {
        match value {
            Value::Null => "NULL".into(),
            Value::Text(s) => barge_pg::ddl::quote_literal(&s.replace('\0', "")),
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => if *b { "true" } else { "false" }.into(),
            Value::Timestamp(t) => format!("TIMESTAMP {}", barge_pg::ddl::quote_literal(t)),
            Value::Seconds(s) => seconds(*s),
        }
    }

    fn setup(&self, mode: TrackingMode) -> Vec<String> {
        let mut s = vec![
            "BEGIN".to_string(),
            // Two runs starting at once must not race on IF NOT EXISTS.
            "SELECT pg_advisory_xact_lock(hashtext('barge tracking schema'))".to_string(),
        ];
        match mode {
            TrackingMode::Preserve => {}
            TrackingMode::Truncate => {
                // Tables of an older barge may be missing; create first, then empty.
                s.extend(self.create());
                s.push(format!(
                    "TRUNCATE TABLE {}",
                    TABLES
                        .iter()
                        .map(|t| self.qualified(t.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                s.push("COMMIT".into());
                return s;
            }
            TrackingMode::Drop => {
                s.push(format!(
                    "DROP VIEW IF EXISTS {}",
                    self.qualified(schema::DIFF_VIEW)
                ));
                for t in TABLES.iter().rev() {
                    s.push(format!(
                        "DROP TABLE IF EXISTS {} CASCADE",
                        self.qualified(t.name)
                    ));
                }
                s.push(format!(
                    "DROP SEQUENCE IF EXISTS {}",
                    self.qualified(schema::LOAD_SEQUENCE)
                ));
            }
        }
        s.extend(self.create());
        s.push("COMMIT".into());
        s
    }

    fn write_row(&self, row: &Row) -> String {
        let values = self.values_of(row);
        let cols = values.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>();
        let lits = values.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>();
        let mut sql = format!(
            "INSERT INTO {}{} ({}) VALUES ({})",
            self.qualified(row.table.name),
            if row.table.append_only { "" } else { " AS t" },
            cols.join(", "),
            lits.join(", ")
        );
        if !row.table.append_only {
            let keys: Vec<String> = row
                .table
                .primary_key
                .iter()
                .map(|k| self.quote_ident(k))
                .collect();
            let kept: Vec<String> = row
                .table
                .keep_on_update
                .iter()
                .map(|k| self.quote_ident(k))
                .collect();
            let sets: Vec<String> = values
                .iter()
                .filter(|(c, _)| !keys.contains(c) && !kept.contains(c))
                .map(|(c, _)| {
                    if coalesced(row, c, |n| self.quote_ident(n)) {
                        format!("{c} = COALESCE(EXCLUDED.{c}, t.{c})")
                    } else {
                        format!("{c} = EXCLUDED.{c}")
                    }
                })
                .collect();
            sql.push_str(&format!(
                " ON CONFLICT ({}) DO UPDATE SET {}",
                keys.join(", "),
                sets.join(", ")
            ));
        }
        sql
    }

    fn transaction(&self, statements: &[String]) -> String {
        format!("BEGIN;\n{};\nCOMMIT", statements.join(";\n"))
    }
}

impl Postgres {
    fn create(&self) -> Vec<String> {
        let mut s = vec![format!(
            "CREATE SEQUENCE IF NOT EXISTS {}",
            self.qualified(schema::LOAD_SEQUENCE)
        )];
        for t in TABLES {
            s.push(format!(
                "CREATE TABLE IF NOT EXISTS {} {}",
                self.qualified(t.name),
                self.table_body(t)
            ));
            // An older barge's table gains the columns it lacks (nullable: rows exist).
            for c in t
                .columns
                .iter()
                .filter(|c| !t.primary_key.contains(&c.name))
            {
                s.push(format!(
                    "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}",
                    self.qualified(t.name),
                    self.quote_ident(c.name),
                    self.column_type(c)
                ));
            }
        }
        s.push(format!(
            "CREATE OR REPLACE VIEW {} AS {}",
            self.qualified(schema::DIFF_VIEW),
            self.view_body()
        ));
        s
    }
}

/// SQL Server: schema `dbo`, `IF OBJECT_ID(...) IS NULL` / `COL_LENGTH` DDL, `MERGE` upserts,
/// `CREATE OR ALTER VIEW` (SQL Server 2016 SP1 and later).
#[derive(Debug, Clone, Copy, Default)]
pub struct SqlServer;

impl Dialect for SqlServer {
    fn name(&self) -> &'static str {
        "mssql"
    }

    fn quote_ident(&self, name: &str) -> String {
        format!("[{}]", name.replace(']', "]]"))
    }

    fn schema(&self) -> &'static str {
        "dbo"
    }

    fn timestamp_text(&self, column: &str) -> String {
        format!("CONVERT(nvarchar(33), {}, 126)", self.quote_ident(column))
    }

    fn column_type(&self, c: &ColumnDef) -> String {
        match c.ty {
            ColumnType::RunId => "nvarchar(64)".into(),
            ColumnType::Name => "nvarchar(256)".into(),
            ColumnType::Keyword => "nvarchar(32)".into(),
            ColumnType::Text => "nvarchar(max)".into(),
            ColumnType::Timestamp => "datetime2(6)".into(),
            ColumnType::Bool => "bit".into(),
            ColumnType::BigInt => "bigint".into(),
            ColumnType::Seconds => "numeric(32,6)".into(),
            ColumnType::LoadId => format!(
                "bigint DEFAULT (NEXT VALUE FOR {})",
                self.qualified(schema::LOAD_SEQUENCE)
            ),
            ColumnType::Identity => "bigint IDENTITY(1,1)".into(),
        }
    }

    fn literal(&self, value: &Value, ty: ColumnType) -> String {
        // MERGE sources are typed by their values: NULL alone would be an int, so every
        // NULL and timestamp is cast to its column's type.
        let sql_type = || match ty {
            ColumnType::LoadId | ColumnType::Identity => "bigint".to_string(),
            _ => self.column_type(&ColumnDef {
                name: "",
                ty,
                not_null: false,
            }),
        };
        match value {
            Value::Null => format!("CAST(NULL AS {})", sql_type()),
            Value::Text(s) => format!("N'{}'", s.replace('\'', "''").replace('\0', "")),
            Value::Int(n) => format!("CAST({n} AS bigint)"),
            Value::Bool(b) => format!("CAST({} AS bit)", u8::from(*b)),
            Value::Timestamp(t) => format!("CAST(N'{}' AS datetime2(6))", t.replace('\'', "")),
            Value::Seconds(s) => format!("CAST({} AS numeric(32,6))", seconds(*s)),
        }
    }

    fn setup(&self, mode: TrackingMode) -> Vec<String> {
        let mut s = vec!["SET XACT_ABORT ON;\nBEGIN TRANSACTION;\n\
             EXEC sp_getapplock @Resource = N'barge tracking schema', @LockMode = N'Exclusive', \
             @LockOwner = N'Transaction', @LockTimeout = 60000"
            .to_string()];
        match mode {
            TrackingMode::Preserve => s.extend(self.create()),
            TrackingMode::Truncate => {
                s.extend(self.create());
                // TRUNCATE refuses tables that foreign keys reference: delete, children first.
                s.push(
                    TABLES
                        .iter()
                        .rev()
                        .map(|t| format!("DELETE FROM {}", self.qualified(t.name)))
                        .collect::<Vec<_>>()
                        .join(";\n"),
                );
            }
            TrackingMode::Drop => {
                let mut drops = vec![format!(
                    "DROP VIEW IF EXISTS {}",
                    self.qualified(schema::DIFF_VIEW)
                )];
                for t in TABLES.iter().rev() {
                    drops.push(format!("DROP TABLE IF EXISTS {}", self.qualified(t.name)));
                }
                drops.push(format!(
                    "DROP SEQUENCE IF EXISTS {}",
                    self.qualified(schema::LOAD_SEQUENCE)
                ));
                s.push(drops.join(";\n"));
                s.extend(self.create());
            }
        }
        s.push("COMMIT TRANSACTION".into());
        s
    }

    fn write_row(&self, row: &Row) -> String {
        let values = self.values_of(row);
        let cols = values.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>();
        if row.table.append_only {
            let lits = values.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>();
            return format!(
                "INSERT INTO {} ({}) VALUES ({})",
                self.qualified(row.table.name),
                cols.join(", "),
                lits.join(", ")
            );
        }
        let keys: Vec<String> = row
            .table
            .primary_key
            .iter()
            .map(|k| self.quote_ident(k))
            .collect();
        let source = values
            .iter()
            .map(|(c, v)| format!("{v} AS {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let on = keys
            .iter()
            .map(|k| format!("t.{k} = s.{k}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let kept: Vec<String> = row
            .table
            .keep_on_update
            .iter()
            .map(|k| self.quote_ident(k))
            .collect();
        let sets = cols
            .iter()
            .filter(|c| !keys.iter().any(|k| k == *c) && !kept.iter().any(|k| k == *c))
            .map(|c| {
                if coalesced(row, c, |n| self.quote_ident(n)) {
                    format!("t.{c} = COALESCE(s.{c}, t.{c})")
                } else {
                    format!("t.{c} = s.{c}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let inserted = cols
            .iter()
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "MERGE {} WITH (HOLDLOCK) AS t USING (SELECT {source}) AS s ON {on} \
             WHEN MATCHED THEN UPDATE SET {sets} \
             WHEN NOT MATCHED THEN INSERT ({}) VALUES ({inserted});",
            self.qualified(row.table.name),
            cols.join(", ")
        )
    }

    fn transaction(&self, statements: &[String]) -> String {
        let body = statements
            .iter()
            .map(|s| s.trim_end_matches(';'))
            .collect::<Vec<_>>()
            .join(";\n");
        format!("SET XACT_ABORT ON;\nBEGIN TRANSACTION;\n{body};\nCOMMIT TRANSACTION;")
    }
}

impl SqlServer {
    fn create(&self) -> Vec<String> {
        let object = |name: &str| {
            barge_pg::ddl::quote_literal(&self.qualified(name)).replacen('\'', "N'", 1)
        };
        // The sequence gets its own batch: a table default naming it is resolved when the
        // batch compiles.
        let mut s = vec![format!(
            "IF OBJECT_ID({}, N'SO') IS NULL CREATE SEQUENCE {} AS bigint START WITH 1 INCREMENT BY 1",
            object(schema::LOAD_SEQUENCE),
            self.qualified(schema::LOAD_SEQUENCE)
        )];
        for t in TABLES {
            let mut batch = vec![format!(
                "IF OBJECT_ID({}, N'U') IS NULL CREATE TABLE {} {}",
                object(t.name),
                self.qualified(t.name),
                self.table_body(t)
            )];
            for c in t
                .columns
                .iter()
                .filter(|c| !t.primary_key.contains(&c.name))
            {
                batch.push(format!(
                    "IF COL_LENGTH({}, N'{}') IS NULL ALTER TABLE {} ADD {} {} NULL",
                    object(t.name),
                    c.name,
                    self.qualified(t.name),
                    self.quote_ident(c.name),
                    self.column_type(c)
                ));
            }
            s.push(batch.join(";\n"));
        }
        s.push(format!(
            "CREATE OR ALTER VIEW {} AS {}",
            self.qualified(schema::DIFF_VIEW),
            self.view_body()
        ));
        s
    }
}

/// Whether quoted column `quoted` of the row's table keeps its value over a NULL.
fn coalesced(row: &Row, quoted: &str, quote: impl Fn(&str) -> String) -> bool {
    row.table
        .coalesce_on_update
        .iter()
        .any(|c| quote(c) == quoted)
}

/// Seconds as a numeric(32,6) literal; non-finite values (never expected) become 0.
fn seconds(s: f64) -> String {
    if s.is_finite() {
        format!("{s:.6}")
    } else {
        "0".into()
    }
}

/// The dialect of a tracking database kind.
pub fn for_kind(kind: barge_config::DatabaseKind) -> Option<&'static dyn Dialect> {
    match kind {
        barge_config::DatabaseKind::Postgres => Some(&Postgres),
        barge_config::DatabaseKind::Mssql => Some(&SqlServer),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::*;
    use crate::store::render_batch;

    fn script(batches: &[String]) -> String {
        batches.join("\nGO\n")
    }

    /// One record of every kind, with NULLs, quotes and a resumed task.
    fn sample() -> Vec<Record> {
        let run = "20261123-225511-22ac".to_string();
        vec![
            Record::Run(RunRecord {
                run_id: run.clone(),
                start_time: "2026-11-23 22:55:11.121491".into(),
                end_time: None,
                status: RunStatus::Running,
                source_type: "sqlite".into(),
                source_description: "sqlite:/data/o'hara.sqlite".into(),
                target_description: "postgres://app@db:5432/sales".into(),
                target_schema: "app".into(),
                barge_version: "0.1.0".into(),
                config_fingerprint: "config=1;schema=2;plan=3".into(),
                command_line: "barge migrate m.toml --project p1".into(),
                project: Some("p1".into()),
            }),
            Record::Table(TableRecord {
                run_id: run.clone(),
                side: Side::Target,
                table: "orders".into(),
                other_table: "Orders".into(),
                schema: Some("app".into()),
                rows: Some(4),
                columns: 3,
            }),
            Record::Column(ColumnRecord {
                run_id: run.clone(),
                side: Side::Source,
                table: "Orders".into(),
                column: "Amount".into(),
                position: 2,
                data_type: "DECIMAL(10,2)".into(),
                max_length: None,
                precision: Some(10),
                scale: Some(2),
                nullable: true,
                primary_key: false,
                other_table: "orders".into(),
                other_column: "amount".into(),
            }),
            Record::Load(LoadTask {
                run_id: run.clone(),
                table: "Orders".into(),
                target_table: "orders".into(),
                task: Task::Transfer,
                status: TaskStatus::Completed,
                rows_read: Some(4),
                rows_written: Some(4),
                start_time: Some("2026-11-23 22:55:16.201588".into()),
                end_time: Some("2026-11-23 22:55:16.209821".into()),
                duration: Some(0.008233),
                error: None,
            }),
            Record::Constraint(ConstraintRecord {
                run_id: run.clone(),
                table: "Orders".into(),
                kind: "foreign_key".into(),
                name: "fk_orders_customers".into(),
                target_name: "orders_customer_id_fkey".into(),
                columns: "CustomerId".into(),
                referenced_table: Some("Customers".into()),
                status: TaskStatus::Failed,
                error: Some("insert or update on table \"orders\" violates foreign key".into()),
            }),
            Record::Event(Event {
                run_id: run.clone(),
                timestamp: "2026-11-23 22:55:11.173657".into(),
                level: EventLevel::Error,
                status: "failed".into(),
                table: Some("Orders".into()),
                message: "column `qty` of table `Orders`: value `it's` is not a valid integer"
                    .into(),
                details: None,
            }),
            Record::Diff(DiffRecord {
                run_id: run,
                table: "Orders".into(),
                target_table: "orders".into(),
                source_rows: 4,
                target_rows: Some(4),
                checksum: "not_computed".into(),
                checked_at: "2026-11-23 22:55:16.352807".into(),
            }),
        ]
    }

    #[test]
    fn sqlserver_setup_preserve() {
        insta::assert_snapshot!(script(&SqlServer.setup(TrackingMode::Preserve)));
    }

    #[test]
    fn sqlserver_setup_truncate_and_drop() {
        let create = SqlServer.create();
        let strip = |mode| {
            let all = SqlServer.setup(mode);
            // The creation batches are the preserve snapshot; show what each mode adds.
            all.into_iter()
                .filter(|b| !create.contains(b))
                .collect::<Vec<_>>()
        };
        insta::assert_snapshot!(
            "sqlserver_setup_modes",
            format!(
                "-- truncate\n{}\n\n-- drop\n{}",
                script(&strip(TrackingMode::Truncate)),
                script(&strip(TrackingMode::Drop))
            )
        );
    }

    #[test]
    fn sqlserver_write_batch() {
        let statements = render_batch(&SqlServer, &sample());
        insta::assert_snapshot!(SqlServer.transaction(&statements));
    }

    #[test]
    fn sqlserver_resume_reads() {
        insta::assert_snapshot!(format!(
            "{}\n{}",
            SqlServer.find_run("20261123-225511-22ac"),
            SqlServer.unfinished_runs("sqlite:/data/a.sqlite", "db:1433/x", "app")
        ));
    }

    #[test]
    fn postgres_setup_preserve() {
        insta::assert_snapshot!(script(&Postgres.setup(TrackingMode::Preserve)));
    }

    #[test]
    fn postgres_write_batch() {
        let statements = render_batch(&Postgres, &sample());
        insta::assert_snapshot!(Postgres.transaction(&statements));
    }

    #[test]
    fn both_dialects_create_the_same_objects() {
        // Same tables, columns and view on both: every table name and column name appears
        // in both DDL scripts, quoted in each dialect's style.
        let pg = script(&Postgres.setup(TrackingMode::Preserve));
        let ms = script(&SqlServer.setup(TrackingMode::Preserve));
        for t in TABLES {
            for c in t.columns {
                assert!(
                    pg.contains(&format!("\"{}\" ", c.name)),
                    "{}.{}",
                    t.name,
                    c.name
                );
                assert!(
                    ms.contains(&format!("[{}] ", c.name)),
                    "{}.{}",
                    t.name,
                    c.name
                );
            }
        }
        for object in [schema::DIFF_VIEW, schema::LOAD_SEQUENCE] {
            assert!(pg.contains(&format!("\"public\".\"{object}\"")));
            assert!(ms.contains(&format!("[dbo].[{object}]")));
        }
    }

    #[test]
    fn superseded_records_are_dropped_in_order() {
        let mut records = sample();
        let Record::Load(mut task) = records[3].clone() else {
            panic!("sample order changed")
        };
        task.status = TaskStatus::Failed;
        records.push(Record::Load(task));
        let statements = render_batch(&Postgres, &records);
        // Seven distinct rows; the task's later version took the earlier one's place.
        assert_eq!(statements.len(), 7);
        assert!(statements[3].contains("'failed'"), "{}", statements[3]);
        assert!(
            statements[6].contains("sourcetargetdiff"),
            "{}",
            statements[6]
        );
    }

    #[test]
    fn literals_are_escaped() {
        let v = Value::Text("it's\0".into());
        assert_eq!(Postgres.literal(&v, ColumnType::Text), "'it''s'");
        assert_eq!(SqlServer.literal(&v, ColumnType::Text), "N'it''s'");
        assert_eq!(SqlServer.quote_ident("a]b"), "[a]]b]");
        assert_eq!(
            SqlServer.literal(&Value::Null, ColumnType::Timestamp),
            "CAST(NULL AS datetime2(6))"
        );
    }
}
