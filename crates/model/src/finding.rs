//! Findings: the typed record of everything barge skips, translates or cannot carry.
//!
//! `plan` renders them, `migrate` prints and records them. A finding always says where (table,
//! column or object), what happened, and what the user can do.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Carried over, but in a translated form the user may want to review.
    Info,
    /// Not carried over, or carried with a change in behaviour.
    Warning,
    /// Blocks the migration.
    Error,
}

/// What kind of thing a finding is about; stable identifiers for JSON output and filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    TypeMapped,
    UnknownType,
    LossyType,
    DefaultTranslated,
    DefaultSkipped,
    GeneratedColumn,
    IndexTranslated,
    IndexSkipped,
    CheckSkipped,
    ForeignKeySkipped,
    ViewNotMigrated,
    TriggerNotMigrated,
    NameChanged,
    NameShortened,
    NoPrimaryKey,
    TableExcluded,
    OptionIgnored,
    /// Something the source holds that its account (or the file) does not let barge see.
    NotVisible,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub kind: FindingKind,
    /// Source table (or view/trigger) name the finding is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What happened, one sentence, lower-case start.
    pub message: String,
    /// What the user can do about it, when there is something.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Finding {
    pub fn new(severity: Severity, kind: FindingKind, message: impl Into<String>) -> Self {
        Finding {
            severity,
            kind,
            table: None,
            column: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn info(kind: FindingKind, message: impl Into<String>) -> Self {
        Self::new(Severity::Info, kind, message)
    }

    pub fn warning(kind: FindingKind, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, kind, message)
    }

    pub fn error(kind: FindingKind, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, kind, message)
    }

    pub fn on_table(mut self, table: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self
    }

    pub fn on_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }

    /// The message with `suffix` appended (a clause that explains it further).
    pub fn with_message_suffix(mut self, suffix: &str) -> Self {
        self.message.push_str(suffix);
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}
