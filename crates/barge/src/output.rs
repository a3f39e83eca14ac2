//! The only place that prints. Progress goes to stderr (bars on a terminal, plain lines
//! otherwise), results to stdout, so `barge ... --format json | jq` stays clean.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use crate::cli::Format;

/// `println!` that ignores a closed stdout (`barge plan | head` must not panic).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a closed stderr.
macro_rules! esay {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
use barge_config::Settings;
use barge_engine::{MigrationPlan, MigrationSummary, ProgressEvent, ProgressSink};
use barge_model::{Finding, Severity};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

pub struct Output {
    quiet: bool,
    tty: bool,
    /// The command's `--format`: with `json`, a failure is also a JSON object on stdout.
    format: Format,
    bars: MultiProgress,
    tables: Mutex<HashMap<String, ProgressBar>>,
    started: std::time::Instant,
    run: Mutex<RunState>,
}

/// What the output knows about the run and its outcome, for the resume command and the
/// JSON error object.
#[derive(Default)]
struct RunState {
    /// Set once the run is recorded in the ledger (`ProgressEvent::RunStarted`).
    run_id: Option<String>,
    /// Planned tables, `(source, target)`, to tie an error to its table.
    tables: Vec<(String, String)>,
    /// This invocation's arguments without its resume/restart flags (see
    /// `commands::resume_base`); `None` for commands that cannot be resumed.
    resume_base: Option<Vec<String>>,
    /// The first error reported, as `(message, hint)`.
    failure: Option<(String, Option<String>)>,
    /// A result (plan, summary, validation) went to stdout already.
    printed_result: bool,
    /// Post-load progress on a terminal.
    post_load_bar: Option<ProgressBar>,
}

/// The JSON object a failed command prints on stdout under `--format json`.
#[derive(serde::Serialize)]
struct JsonFailure<'a> {
    status: &'a str,
    exit_code: u8,
    message: &'a str,
    hint: Option<&'a str>,
    run_id: Option<&'a str>,
    failed_table: Option<&'a str>,
    resume_command: Option<String>,
}

impl Output {
    pub fn new(quiet: bool, format: Format) -> Self {
        let tty = std::io::stderr().is_terminal();
        let bars = if tty && !quiet {
            MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8))
        } else {
            MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
        };
        Output {
            quiet,
            tty,
            format,
            bars,
            tables: Mutex::new(HashMap::new()),
            started: std::time::Instant::now(),
            run: Mutex::new(RunState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, RunState> {
        self.run.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The arguments a resume command starts from (`migrate` only).
    pub fn set_resume_base(&self, base: Vec<String>) {
        self.state().resume_base = Some(base);
    }

    /// The run id, once the run is recorded.
    pub fn run_id(&self) -> Option<String> {
        self.state().run_id.clone()
    }

    /// The command that continues the recorded run, shell-quoted and redacted.
    pub fn resume_command(&self) -> Option<String> {
        let state = self.state();
        let (id, base) = (state.run_id.as_ref()?, state.resume_base.as_ref()?);
        Some(crate::commands::resume_command(base, id))
    }

    /// Print how the run continues, after a failure or an interrupt: its id and the full
    /// command. `failed`: a failure, whose fix may also be a changed option (which a resume
    /// refuses).
    pub fn resume_hint(&self, failed: bool) {
        let (Some(id), Some(command)) = (self.run_id(), self.resume_command()) else {
            return;
        };
        if failed {
            esay!("hint: run `{id}` keeps everything it committed; once the cause is fixed in the source data, the target or the servers, this command continues it:");
            esay!("  {command}");
            esay!("hint: a resume is refused after a change to an option that shapes the result (type mappings, `on_invalid_value`, filters, a hook file...): then run the same command with `--restart` instead of `--resume`, which discards run `{id}` and starts over");
        } else {
            esay!("hint: run `{id}` keeps everything committed so far; this command continues it:");
            esay!("  {command}");
        }
    }

    /// The table an error names (``table `x` `` or `` of `x` ``), among the planned ones.
    fn failed_table(&self, message: &str) -> Option<String> {
        let state = self.state();
        state
            .tables
            .iter()
            .find(|(source, target)| {
                message.contains(&format!("table `{source}`"))
                    || message.contains(&format!("of `{target}`"))
                    || message.contains(&format!("table `{target}`"))
            })
            .map(|(source, _)| source.clone())
    }

    /// With `--format json`, a failed command's JSON object on stdout (unless a result was
    /// printed there already): status, exit code, message, hint, run id, failed table and
    /// the resume command when there is one. Call once, with the exit code.
    pub fn finish(&self, code: u8) {
        if self.format != Format::Json || code == 0 {
            return;
        }
        let (failure, run_id, printed) = {
            let s = self.state();
            (s.failure.clone(), s.run_id.clone(), s.printed_result)
        };
        if printed {
            return;
        }
        let (message, hint) = failure.unwrap_or_else(|| ("the command failed".into(), None));
        let status = match code {
            crate::exit::CONFIG => "invalid",
            crate::exit::CONNECTION => "unreachable",
            crate::exit::NOTHING_TO_RESUME => "nothing_to_resume",
            crate::exit::INTERRUPTED => "interrupted",
            _ => "failed",
        };
        let table = self.failed_table(&message);
        let object = JsonFailure {
            status,
            exit_code: code,
            message: &message,
            hint: hint.as_deref(),
            run_id: run_id.as_deref(),
            failed_table: table.as_deref(),
            resume_command: self.resume_command(),
        };
        if let Ok(j) = serde_json::to_string_pretty(&object) {
            say!("{j}");
        }
    }

    /// `--resume` found the run complete: say so (JSON on stdout with `--format json`).
    pub fn already_complete(&self, run_id: &str, schema: &str, finished_at: &str) {
        if self.format == Format::Json {
            let object = serde_json::json!({
                "status": "already_complete",
                "exit_code": 0,
                "run_id": run_id,
                "target_schema": schema,
                "completed_at": finished_at,
            });
            say!("{object:#}");
            self.state().printed_result = true;
        }
        self.line(&format!(
            "run `{run_id}` into schema `{schema}` already completed at {finished_at}: nothing to resume, nothing changed"
        ));
    }

    fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        if self.tty {
            let _ = self.bars.println(text);
        } else {
            esay!("{text}");
        }
    }

    pub fn error(&self, message: &str, hint: Option<&str>) {
        let _ = self.bars.clear();
        esay!("error: {message}");
        if let Some(h) = hint {
            esay!("hint: {h}");
        }
        let mut state = self.state();
        if state.failure.is_none() {
            // Engine errors carry their hint in the text; the JSON object has it apart.
            let (message, inline) = match message.split_once("\nhint: ") {
                Some((m, h)) => (m.to_string(), Some(h.to_string())),
                None => (message.to_string(), None),
            };
            state.failure = Some((message, hint.map(str::to_string).or(inline)));
        }
    }

    pub fn info(&self, message: &str) {
        self.line(message);
    }

    pub fn warn(&self, message: &str) {
        self.line(&format!("warning: {message}"));
    }

    pub fn start(&self, settings: &Settings) {
        self.line(&format!(
            "barge {}: {} -> {} (schema `{}`)",
            env!("CARGO_PKG_VERSION"),
            settings.source.connection.redacted(),
            settings.target.connection.redacted(),
            settings.schema
        ));
    }

    fn finding_line(f: &Finding) -> String {
        let level = match f.severity {
            Severity::Info => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        let mut place = String::new();
        if let Some(t) = &f.table {
            place.push_str(&format!("table `{t}`"));
            if let Some(c) = &f.column {
                place.push_str(&format!(", column `{c}`"));
            }
            place.push_str(": ");
        }
        let mut s = format!("{level}: {place}{}", f.message);
        if let Some(h) = &f.hint {
            s.push_str(&format!("\n  hint: {h}"));
        }
        s
    }

    /// Print the plan; false when it could not be rendered.
    pub fn plan(&self, plan: &MigrationPlan, format: Format) -> bool {
        self.state().printed_result = true;
        if format == Format::Markdown {
            say!("{}", plan_markdown(plan));
            return true;
        }
        if format == Format::Json {
            match serde_json::to_string_pretty(plan) {
                Ok(s) => say!("{s}"),
                Err(e) => {
                    self.error(&format!("cannot render the plan as JSON: {e}"), None);
                    return false;
                }
            }
            return true;
        }
        say!("source: {}", plan.source);
        say!("target: {} (schema `{}`)", plan.target, plan.target_schema);
        say!();
        for (t, tp) in plan.schema.tables.iter().zip(&plan.tables) {
            say!(
                "table `{}` -> `{}`  ({} rows, {}){}",
                t.name,
                t.target_name,
                tp.rows,
                if tp.chunk_count == 1 {
                    "1 chunk".to_string()
                } else {
                    format!("{} chunks", tp.chunk_count)
                },
                // A copy risk: no key to split on, so one stream that restarts when interrupted.
                if tp.chunk_count == 1
                    && t.chunking == barge_model::Chunking::Stream
                    && t.primary_key.is_none()
                {
                    "  copied as one stream: no usable key to split it"
                } else {
                    ""
                }
            );
            for c in &t.columns {
                let mut extra = Vec::new();
                if !c.nullable {
                    extra.push("not null".to_string());
                }
                if c.identity {
                    extra.push("identity".to_string());
                }
                if let Some(d) = &c.default {
                    extra.push(format!("default {}", barge_pg_default(d, c, t)));
                }
                if let Some(barge_model::Generated { expr: Some(e), .. }) = &c.generated {
                    extra.push(format!(
                        "generated always as ({}) stored",
                        barge_pg::ddl::render_expr(e, t)
                    ));
                }
                match &c.collation {
                    Some(barge_model::Collation::Named(n)) => {
                        extra.push(format!("collate \"{n}\""))
                    }
                    Some(other) => extra.push(format!(
                        "collate {}",
                        other.created_name().unwrap_or_default()
                    )),
                    None => {}
                }
                if c.on_update_now {
                    extra.push("on update: now (trigger)".to_string());
                }
                if let Some(comment) = &c.comment {
                    extra.push(format!("comment {comment:?}"));
                }
                say!(
                    "    {:<28} {:<20} -> {:<24} {}",
                    c.name,
                    c.source_type,
                    barge_engine_type(&c.data_type),
                    extra.join(", ")
                );
            }
            if let Some(pk) = &t.primary_key {
                say!("    primary key ({})", pk.columns.join(", "));
            }
            for u in &t.unique_keys {
                say!("    unique ({})", u.columns.join(", "));
            }
            for i in &t.indexes {
                say!("    index `{}`", i.target_name);
            }
            for c in &t.checks {
                say!("    check `{}`", barge_pg::ddl::render_expr(&c.expr, t));
            }
            if let Some(comment) = &t.comment {
                say!("    comment {comment:?}");
            }
            for fk in &t.foreign_keys {
                say!(
                    "    foreign key ({}) references `{}` ({})",
                    fk.columns.join(", "),
                    fk.ref_table,
                    fk.ref_columns.join(", ")
                );
            }
            let identities: Vec<&str> = t
                .columns
                .iter()
                .filter(|c| c.identity)
                .map(|c| c.target_name.as_str())
                .collect();
            if !identities.is_empty() {
                say!(
                    "    sequence: identity on {} restarted past the loaded maximum",
                    identities.join(", ")
                );
            }
        }
        for seq in &plan.schema.sequences {
            say!(
                "sequence `{}` -> `{}`  (increment {}, {}..{}{}, next {})",
                seq.name,
                seq.target_name,
                seq.increment,
                seq.min,
                seq.max,
                if seq.cycle { ", cycle" } else { "" },
                seq.next
            );
        }
        if !plan.extensions.is_empty() {
            say!(
                "extensions needed in the target: {}",
                plan.extensions.join(", ")
            );
        }
        let rows: u64 = plan.tables.iter().map(|t| t.rows).sum();
        say!(
            "estimated copy time: {:.1} s for {rows} rows (at {} rows/s; keys and indexes come on top)",
            plan.estimated_copy_seconds,
            barge_engine::ESTIMATE_ROWS_PER_SECOND
        );
        if !plan.orphans.is_empty() {
            say!();
            say!("orphan rows on the source (moved to `{}_orphans` or set NULL before foreign keys, see clean_orphans):", plan.target_schema);
            for o in &plan.orphans {
                say!(
                    "    `{}` -> `{}` (foreign key `{}`): {} row(s)",
                    o.table,
                    o.parent,
                    o.foreign_key,
                    o.rows
                );
            }
        }
        let objects = &plan.schema;
        if !(objects.views.is_empty() && objects.triggers.is_empty() && objects.routines.is_empty())
        {
            say!();
            say!("objects not migrated (recreate them yourself; `--format json` has their source SQL):");
            for v in &objects.views {
                say!("    view `{}`", v.name);
            }
            for t in &objects.triggers {
                say!(
                    "    trigger `{}` on `{}`",
                    t.name,
                    t.table.as_deref().unwrap_or("")
                );
            }
            for r in &objects.routines {
                say!("    routine or event `{}`", r.name);
            }
        }
        say!();
        if plan.findings.is_empty() {
            say!("no findings");
        } else {
            say!("findings ({}):", plan.findings.len());
            for f in &plan.findings {
                say!("{}", Self::finding_line(f));
            }
        }
        true
    }

    pub fn summary(&self, s: &MigrationSummary, format: Format) {
        let _ = self.bars.clear();
        self.state().printed_result = true;
        if format == Format::Json {
            match serde_json::to_string_pretty(s) {
                Ok(j) => say!("{j}"),
                Err(e) => self.error(&format!("cannot render the summary as JSON: {e}"), None),
            }
            return;
        }
        if self.quiet {
            return;
        }
        for f in s
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
        {
            esay!("{}", Self::finding_line(f));
        }
        for w in &s.warnings {
            esay!("warning: {w}");
        }
        say!();
        say!(
            "{:<32} {:>12} {:>9} {:>12}",
            "table",
            "rows",
            "seconds",
            "rows/s"
        );
        let mut total_rows = 0;
        for t in &s.tables {
            total_rows += t.rows;
            let rate = if t.seconds > 0.0 {
                t.rows as f64 / t.seconds
            } else {
                0.0
            };
            say!(
                "{:<32} {:>12} {:>9.2} {:>12.0}",
                t.target_name,
                t.rows,
                t.seconds,
                rate
            );
        }
        say!(
            "{:<32} {:>12} {:>9.2} {:>12.0}",
            "total (with keys and indexes)",
            total_rows,
            s.seconds,
            if s.seconds > 0.0 {
                total_rows as f64 / s.seconds
            } else {
                0.0
            }
        );
        if let Some(checks) = &s.validation {
            let bad: Vec<_> = checks.iter().filter(|c| !c.matches()).collect();
            let checksum = checks.iter().any(|c| c.checksum.is_some());
            if bad.is_empty() && checksum {
                say!(
                    "validation: every value matches (checksums) in all {} table(s)",
                    checks.len()
                );
            } else if bad.is_empty() {
                say!(
                    "validation: row counts match for all {} table(s)",
                    checks.len()
                );
            } else {
                if checksum {
                    say!("validation: {} table(s) differ:", bad.len());
                } else {
                    say!("validation: {} table(s) differ in row count:", bad.len());
                }
                for c in bad {
                    say!(
                        "  {}: source {}, target {}",
                        c.target_name,
                        c.source_rows,
                        c.target_rows
                            .map_or("missing".to_string(), |n| n.to_string())
                    );
                    for line in checksum_details(c) {
                        say!("  {line}");
                    }
                }
            }
            for c in checks {
                for line in checksum_notes(c) {
                    say!("  {}: {}", c.target_name, line.trim_start());
                }
            }
        }
        if s.resumed {
            say!(
                "resumed run {}: rows include those committed before the interruption",
                s.run_id
            );
        } else {
            // The key of this run's rows in the tracking database.
            say!("run {}", s.run_id);
        }
        if s.rejected_values > 0 {
            if let Some(p) = &s.reject_file {
                say!(
                    "{} value(s) loaded as NULL; see the reject report {}",
                    s.rejected_values,
                    p.display()
                );
            }
        }
        let warnings = s.warnings.len()
            + s.findings
                .iter()
                .filter(|f| f.severity >= Severity::Warning)
                .count();
        if warnings > 0 {
            say!("{warnings} warning(s): see above, or run `barge plan` for the full list");
        }
    }
}

impl Output {
    pub fn validation(&self, checks: &[barge_engine::TableCheck], format: Format) {
        self.state().printed_result = true;
        if format == Format::Json {
            match serde_json::to_string_pretty(checks) {
                Ok(j) => say!("{j}"),
                Err(e) => self.error(&format!("cannot render the result as JSON: {e}"), None),
            }
            return;
        }
        say!(
            "{:<32} {:>14} {:>14}  result",
            "table",
            "source rows",
            "target rows"
        );
        for c in checks {
            say!(
                "{:<32} {:>14} {:>14}  {}",
                c.target_name,
                c.source_rows,
                c.target_rows
                    .map_or("missing".to_string(), |n| n.to_string()),
                if c.matches() { "ok" } else { "DIFFERS" }
            );
            for line in checksum_details(c) {
                say!("{line}");
            }
            for line in checksum_notes(c) {
                say!("{line}");
            }
        }
        if checks.iter().any(|c| c.checksum.is_some()) {
            let side = checks
                .iter()
                .filter_map(|c| c.checksum.as_ref())
                .any(|r| r.source_side == "database");
            say!(
                "checksum: every value of every row compared in canonical form{}",
                if side {
                    " (source side computed by the source database from its own values)"
                } else {
                    ""
                }
            );
        }
    }

    pub fn checkpoint_status(
        &self,
        path: &std::path::Path,
        checkpoint: Option<&barge_engine::checkpoint::Checkpoint>,
        matches: Option<bool>,
    ) {
        let Some(c) = checkpoint else {
            say!(
                "no checkpoint at {}: no interrupted run to resume",
                path.display()
            );
            return;
        };
        say!("checkpoint: {}", path.display());
        say!("run id:     {}", c.run_id);
        say!("started:    {}", c.started_at);
        say!("schema:     {}", c.target_schema);
        say!("phase:      {}", c.phase);
        say!(
            "config:     {}",
            if matches == Some(true) {
                "matches the current configuration"
            } else {
                "DIFFERS from the current configuration: resuming will be refused (use --restart)"
            }
        );
        say!();
        say!("{:<32} {:>14} {:>14}", "table", "items done", "rows copied");
        for t in &c.tables {
            say!(
                "{:<32} {:>14} {:>14}",
                t.name,
                format!("{}/{}", t.items_done, t.items_total),
                t.rows
            );
        }
    }
}

/// The plan as a Markdown cutover report: tables with their mapping, then findings by
/// severity, then the objects the user still owns with their source SQL.
fn plan_markdown(plan: &MigrationPlan) -> String {
    use std::fmt::Write as _;
    let mut md = String::new();
    let esc = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let _ = writeln!(md, "# Migration plan\n");
    let _ = writeln!(md, "- source: `{}`", plan.source);
    let _ = writeln!(
        md,
        "- target: `{}`, schema `{}`",
        plan.target, plan.target_schema
    );
    if !plan.extensions.is_empty() {
        let _ = writeln!(
            md,
            "- extensions needed in the target: {}",
            plan.extensions
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        md,
        "- estimated copy time: {:.1} s (at {} rows/s; keys and indexes come on top)\n",
        plan.estimated_copy_seconds,
        barge_engine::ESTIMATE_ROWS_PER_SECOND
    );
    if !plan.orphans.is_empty() {
        let _ = writeln!(
            md,
            "## Orphan rows\n\nCounted on the source; moved to `{}_orphans` (or their key set NULL) before foreign keys are created.\n\n| table | parent | foreign key | rows |\n| --- | --- | --- | ---: |",
            plan.target_schema
        );
        for o in &plan.orphans {
            let _ = writeln!(
                md,
                "| `{}` | `{}` | `{}` | {} |",
                esc(&o.table),
                esc(&o.parent),
                esc(&o.foreign_key),
                o.rows
            );
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "## Tables\n");
    let _ = writeln!(
        md,
        "| source table | target table | rows | chunks |\n| --- | --- | ---: | ---: |"
    );
    for tp in &plan.tables {
        let _ = writeln!(
            md,
            "| `{}` | `{}` | {} | {} |",
            esc(&tp.source_name),
            esc(&tp.target_name),
            tp.rows,
            tp.chunk_count
        );
    }
    for t in &plan.schema.tables {
        let _ = writeln!(
            md,
            "\n### `{}` -> `{}`\n",
            esc(&t.name),
            esc(&t.target_name)
        );
        let _ = writeln!(md, "| column | source type | PostgreSQL type | null | default |\n| --- | --- | --- | --- | --- |");
        for c in &t.columns {
            let default = c
                .default
                .as_ref()
                .map(|d| barge_pg::ddl::render_default(d, c, t))
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "| `{}` | `{}` | `{}` | {} | {} |",
                esc(&c.target_name),
                esc(&c.source_type),
                barge_pg::ddl::render_type(&c.data_type),
                if c.nullable { "yes" } else { "no" },
                if default.is_empty() {
                    String::new()
                } else {
                    format!("`{}`", esc(&default))
                }
            );
        }
    }
    for (title, level) in [
        ("Errors", Severity::Error),
        ("Warnings", Severity::Warning),
        ("Notes", Severity::Info),
    ] {
        let items: Vec<_> = plan
            .findings
            .iter()
            .filter(|f| f.severity == level)
            .collect();
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(md, "\n## {title}\n");
        for f in items {
            let place = match (&f.table, &f.column) {
                (Some(t), Some(c)) => format!("`{t}`.`{c}`: "),
                (Some(t), None) => format!("`{t}`: "),
                _ => String::new(),
            };
            let _ = write!(md, "- {place}{}", f.message);
            if let Some(h) = &f.hint {
                let _ = write!(md, " *({h})*");
            }
            let _ = writeln!(md);
        }
    }
    let s = &plan.schema;
    if !(s.views.is_empty() && s.triggers.is_empty() && s.routines.is_empty()) {
        let _ = writeln!(md, "\n## Objects you still own\n");
        for (kind, list) in [
            ("view", &s.views),
            ("trigger", &s.triggers),
            ("routine", &s.routines),
        ] {
            for o in list {
                let _ = writeln!(
                    md,
                    "### {kind} `{}`\n\n```sql\n{}\n```\n",
                    o.name,
                    o.sql.trim()
                );
            }
        }
    }
    md
}

fn barge_engine_type(t: &barge_model::DataType) -> String {
    barge_pg::ddl::render_type(t)
}

fn barge_pg_default(
    d: &barge_model::DefaultValue,
    c: &barge_model::Column,
    t: &barge_model::Table,
) -> String {
    barge_pg::ddl::render_default(d, c, t)
}

impl Output {
    /// Post-load progress: a bar with the current step on a terminal; otherwise a plain
    /// line on each periodic tick and when the last step ends.
    fn post_load(&self, done: usize, total: usize, running: &[(String, f64)], tick: bool) {
        let current = match running {
            [] => String::new(),
            [(what, secs)] => format!("{what} ({secs:.0} s)"),
            [(what, secs), more @ ..] => {
                format!("{what} ({secs:.0} s) and {} more", more.len())
            }
        };
        if self.tty {
            let mut state = self.state();
            let bar = state.post_load_bar.get_or_insert_with(|| {
                let bar = self.bars.add(ProgressBar::new(total as u64));
                bar.set_style(
                    ProgressStyle::with_template("{prefix:<28} {bar:30} {pos:>4}/{len:<4} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_prefix("post-load steps");
                bar.enable_steady_tick(Duration::from_millis(250));
                bar
            });
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(current);
            if done >= total && running.is_empty() {
                bar.finish_and_clear();
                self.bars.remove(bar);
                state.post_load_bar = None;
            }
            return;
        }
        if tick || (done >= total && running.is_empty()) {
            let mut line = format!(
                "[{:>7.2}s] post-load: {done}/{total} steps done",
                self.started.elapsed().as_secs_f64()
            );
            if !current.is_empty() {
                line.push_str(&format!("; running: {current}"));
            }
            self.line(&line);
        }
    }
}

impl ProgressSink for Output {
    fn event(&self, event: ProgressEvent) {
        if let ProgressEvent::RunStarted { run_id, tables, .. } = &event {
            // Kept even under --quiet: the resume command needs it.
            let mut state = self.state();
            state.run_id = Some(run_id.clone());
            state.tables = tables.clone();
        }
        if self.quiet {
            return;
        }
        match event {
            ProgressEvent::Phase(p) => self.line(&format!(
                "[{:>7.2}s] {p} ...",
                self.started.elapsed().as_secs_f64()
            )),
            ProgressEvent::TableStarted { table, rows } => {
                if self.tty {
                    let bar = self.bars.add(ProgressBar::new(rows));
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{prefix:<28} {bar:30} {pos:>10}/{len:<10} {per_sec:>12} eta {eta}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar.set_prefix(table.clone());
                    bar.enable_steady_tick(Duration::from_millis(250));
                    if let Ok(mut t) = self.tables.lock() {
                        t.insert(table, bar);
                    }
                } else {
                    self.line(&format!("copy `{table}`: started ({rows} rows)"));
                }
            }
            ProgressEvent::Rows { table, rows } => {
                if let Ok(t) = self.tables.lock() {
                    if let Some(b) = t.get(&table) {
                        b.inc(rows);
                    }
                }
            }
            ProgressEvent::TableDone {
                table,
                rows,
                seconds,
            } => {
                let bar = self.tables.lock().ok().and_then(|mut t| t.remove(&table));
                if let Some(b) = bar {
                    b.finish_and_clear();
                    self.bars.remove(&b);
                }
                let rate = if seconds > 0.0 {
                    rows as f64 / seconds
                } else {
                    0.0
                };
                self.line(&format!(
                    "copy `{table}`: {rows} rows in {seconds:.2} s ({rate:.0} rows/s)"
                ));
            }
            ProgressEvent::Step { .. } | ProgressEvent::ChunkDone { .. } => {}
            ProgressEvent::RunStarted { .. } => {}
            ProgressEvent::PostLoad {
                done,
                total,
                running,
                tick,
            } => self.post_load(done, total, &running, tick),
            ProgressEvent::Warning(w) => self.line(&format!("warning: {w}")),
            ProgressEvent::Rejected { table, column } => {
                self.line(&format!("warning: table `{table}`, column `{column}`: invalid value loaded as NULL (see the reject report)"));
            }
        }
    }
}

/// Indented lines of what a `checksum_source = "database"` comparison applied on purpose
/// (policies) and did not compare.
fn checksum_notes(c: &barge_engine::TableCheck) -> Vec<String> {
    let Some(r) = c.checksum.as_ref() else {
        return Vec::new();
    };
    r.policies
        .iter()
        .map(|p| format!("  policy applied: {p}"))
        .chain(
            r.not_compared
                .iter()
                .map(|n| format!("  not compared: {n}")),
        )
        .collect()
}

/// Indented lines naming what differs in a table's content: differing chunks, then each
/// located row (changed, missing in target, extra in target) with the columns that differ.
fn checksum_details(c: &barge_engine::TableCheck) -> Vec<String> {
    use barge_engine::DifferenceKind;
    let Some(r) = c.checksum.as_ref().filter(|r| !r.matches()) else {
        return Vec::new();
    };
    let located = if r.key.is_empty() {
        "the table has no key: rows are named by all their values".to_string()
    } else {
        format!("rows located by key ({})", r.key.join(", "))
    };
    let mut out = vec![format!(
        "  {} of {} checksum chunk(s) differ; {located}:",
        r.differing_chunks, r.chunks
    )];
    for d in &r.differences {
        let kind = match d.kind {
            DifferenceKind::Changed => "changed          ",
            DifferenceKind::MissingInTarget => "missing in target",
            DifferenceKind::ExtraInTarget => "extra in target  ",
        };
        let columns: Vec<String> = d
            .columns
            .iter()
            .map(|col| format!("`{}` {} -> {}", col.column, col.source, col.target))
            .collect();
        if columns.is_empty() {
            out.push(format!("    {kind}  {}", d.row));
        } else {
            out.push(format!("    {kind}  {}: {}", d.row, columns.join(", ")));
        }
    }
    let listed = r.differences.len() as u64;
    if r.differing_rows > listed {
        out.push(format!(
            "    ... and {} more differing row(s)",
            r.differing_rows - listed
        ));
    }
    if r.incomplete {
        out.push(
            "    more chunks differ than are examined row by row (8): fix these, then validate again"
                .to_string(),
        );
    }
    out
}
