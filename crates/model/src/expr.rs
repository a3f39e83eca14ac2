//! A small neutral expression tree for index expressions, partial-index predicates, CHECK
//! constraints and defaults.
//!
//! Sources parse their own SQL into it (and report a finding when they can't); the target
//! renders it with its own quoting and function names. Only constructs with the same meaning
//! on every supported database are representable, so a successful parse is a faithful
//! translation.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Literal {
    Null,
    Bool(bool),
    /// Integer literal, kept as written (may exceed i64).
    Integer(String),
    /// Decimal or float literal, kept as written.
    Decimal(String),
    Text(String),
    Bytes(Vec<u8>),
    /// A bit string, `B'0101'`, as its digits.
    Bits(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
    /// Case-sensitive pattern match.
    Like,
    NotLike,
    /// Pattern match that ignores case (SQLite's LIKE, MySQL's under a _ci collation).
    ILike,
    NotILike,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    Not,
    Neg,
    IsNull,
    IsNotNull,
}

/// Functions whose meaning is the same on every side; anything else is not translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    Lower,
    Upper,
    Length,
    Abs,
    Coalesce,
    Trim,
    Ltrim,
    Rtrim,
    Round,
    Substr,
    /// `to_tsvector('simple', text)`: words without stemming, as MySQL's FULLTEXT parser
    /// splits them; the expression of a FULLTEXT index carried as GIN.
    ToTsvectorSimple,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    /// A column of the table the expression belongs to, by source name.
    Column(String),
    Literal(Literal),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Function(Function, Vec<Expr>),
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    /// Every element of an array-valued expression is one of `members` (`x <@ ARRAY[...]`):
    /// the CHECK that keeps a MySQL SET column, loaded as `text[]`, to its declared members.
    SubsetOf {
        expr: Box<Expr>,
        members: Vec<String>,
    },
}

impl Expr {
    /// Source names of the columns the expression reads, in first-use order.
    pub fn columns(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit_columns(&mut out);
        out
    }

    fn visit_columns<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Column(c) => {
                if !out.contains(&c.as_str()) {
                    out.push(c);
                }
            }
            Expr::Literal(_) => {}
            Expr::Unary(_, e) => e.visit_columns(out),
            Expr::Binary(_, l, r) => {
                l.visit_columns(out);
                r.visit_columns(out);
            }
            Expr::Function(_, args) => args.iter().for_each(|a| a.visit_columns(out)),
            Expr::InList { expr, list, .. } => {
                expr.visit_columns(out);
                list.iter().for_each(|a| a.visit_columns(out));
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                expr.visit_columns(out);
                low.visit_columns(out);
                high.visit_columns(out);
            }
            Expr::SubsetOf { expr, .. } => expr.visit_columns(out),
        }
    }
}
