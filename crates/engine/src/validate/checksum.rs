//! `validation = "checksum"`: compare every value of every row, source against target, and
//! name the rows that differ.
//!
//! Each value is hashed with PostgreSQL's own hash functions over its canonical form, and a
//! row's hash is the XOR of its values' hashes (see `canonical`). The hash of the row's key
//! (of the whole row for a table without one) picks its bucket, about `chunk_size` rows each;
//! a bucket's checksum is its row count and the sum of its row hashes modulo 2^64. Sums do not
//! depend on row order, so barge computes the source's buckets from its plan's chunks in
//! parallel, in any order. PostgreSQL first computes only the whole table's count and sum, one
//! (parallel) sequential scan with no key hash and no grouping; only when that differs from
//! the sum of the source's buckets does a second scan compute every bucket, with a hash
//! aggregate (no sort, no index), to find which ones differ.
//!
//! Why hash buckets rather than the copy's key ranges: a range must select the same rows on
//! both sides, which fails when the sides order keys differently (MySQL's collations against
//! PostgreSQL's; an SQLite chunk is a rowid range, and the rowid does not exist in the target).
//! A bucket of the canonical key is the same set of rows everywhere.
//!
//! PostgreSQL renders and hashes in SQL, so only one row per bucket crosses the wire. The
//! source side is read through the very encoder the copy used, and rendered from its binary
//! COPY output: what barge compares is exactly what it would load (SQLite runs in process, so
//! nothing moves; a MySQL source's rows do cross the wire, as during the copy).
//!
//! When buckets differ, a second pass on both sides lists the key and row hash of every row in
//! those buckets (at most [`MAX_DRILLED_BUCKETS`]). The first differing keys (at most
//! [`MAX_LISTED_ROWS`]) are then read in full (canonical text) on both sides, which names
//! each: changed (with the columns that differ), missing in the target, or extra in the
//! target. A table without a key uses the whole row as its key, so its differences are rows
//! present on one side only.

use super::canonical::{self, Canon};
use crate::plan::MigrationPlan;
use crate::source::{ReadError, Source};
use crate::EngineError;
use barge_model::{InvalidValuePolicy, KeyRange, Table};
use barge_pg::ddl::{qualified, quote_ident};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Buckets examined row by row when a table differs; more would move too much data.
pub(crate) const MAX_DRILLED_BUCKETS: usize = 8;
/// Differing rows listed per table.
pub(crate) const MAX_LISTED_ROWS: usize = 20;
/// Upper bound on buckets per table (each is one group in PostgreSQL's aggregate).
pub(super) const MAX_BUCKETS: u64 = 4096;

/// What kind of difference a row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// The key is on both sides with different values.
    Changed,
    /// In the source, not in the target.
    MissingInTarget,
    /// In the target, not in the source.
    ExtraInTarget,
}

/// One column of a changed row.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnDifference {
    pub column: String,
    pub source: String,
    pub target: String,
}

/// One differing row, located by its key (by its values for a table without a key).
#[derive(Debug, Clone, Serialize)]
pub struct RowDifference {
    pub kind: DifferenceKind,
    /// `(id) = (7)`, or the whole row for a table without a key.
    pub row: String,
    /// For `changed`: the columns whose values differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnDifference>,
}

/// The checksum comparison of one table.
#[derive(Debug, Clone, Serialize)]
pub struct ChecksumResult {
    /// Target names of the key columns rows are located by; empty when the table has none.
    pub key: Vec<String>,
    /// Buckets the table was compared in.
    pub chunks: u64,
    /// Buckets whose row count or hash sum differ.
    pub differing_chunks: u64,
    /// The first differing rows in key order (at most 20).
    pub differences: Vec<RowDifference>,
    /// Differing rows found in the examined buckets: all of them unless `incomplete`.
    pub differing_rows: u64,
    /// Some differing buckets were not examined row by row (only the first 8 are).
    pub incomplete: bool,
    /// Who computed the source side: `barge` (its encoders' output) or `database`.
    pub source_side: &'static str,
    /// Under `checksum_source = "database"`: conversions the source side applied on purpose.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// Under `checksum_source = "database"`: columns not compared, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_compared: Vec<String>,
}

impl ChecksumResult {
    pub fn matches(&self) -> bool {
        self.differing_chunks == 0
    }
}

/// Row count and hash sum (mod 2^64) of one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Bucket {
    rows: u64,
    sum: u64,
}

impl Bucket {
    /// Both buckets' rows together: counts add, sums add modulo 2^64.
    fn plus(self, other: Bucket) -> Bucket {
        Bucket {
            rows: self.rows + other.rows,
            sum: self.sum.wrapping_add(other.sum),
        }
    }
}

/// Add `more` to `into`, bucket by bucket.
fn add_buckets(into: &mut [Bucket], more: &[Bucket]) {
    for (b, m) in into.iter_mut().zip(more) {
        *b = b.plus(*m);
    }
}

/// The source side of the checksum, gathered while the copy streams each chunk: every buffer
/// the copy sends to PostgreSQL is also hashed on its way ([`CopySums::tee`]); a chunk's sums
/// are staged before its commit ([`CopySums::stage`]) and join its table's once the commit is
/// known to have happened ([`CopySums::committed`], also after a lost acknowledgement that
/// the ledger settles). The validation after the load then reads from the source only the
/// chunks whose sums are missing (those an interrupted run had committed, or whose hashing
/// failed), so a migration does not read its source twice, and what is compared is exactly
/// what was sent, from the snapshot the copy read.
pub(crate) struct CopySums {
    tables: Vec<std::sync::Mutex<TableSums>>,
    /// Sums of chunks whose commit is under way or unsettled, by ledger key: at most one per
    /// chunk in flight, the latest attempt's.
    staged: std::sync::Mutex<std::collections::HashMap<String, (usize, ChunkSums)>>,
}

struct TableSums {
    shape: Arc<TableShape>,
    buckets: Vec<Bucket>,
    /// Ledger keys of the chunks included.
    chunks: HashSet<String>,
}

/// The bucket sums of one chunk, as the copy streamed it.
pub(crate) struct ChunkSums(Vec<Bucket>);

impl CopySums {
    pub(crate) fn new(plan: &MigrationPlan, chunk_size: u64) -> CopySums {
        let tables = plan
            .schema
            .tables
            .iter()
            .map(|t| {
                let shape = Arc::new(TableShape::of(t, chunk_size));
                std::sync::Mutex::new(TableSums {
                    buckets: vec![Bucket::default(); shape.buckets as usize],
                    shape,
                    chunks: HashSet::new(),
                })
            })
            .collect();
        CopySums {
            tables,
            staged: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// A stage between a chunk's reader and its COPY: the returned receiver gets every buffer
    /// of `rx` unchanged, and the task hashes them on the way (on a blocking thread).
    pub(crate) fn tee(
        &self,
        table: usize,
        rx: mpsc::Receiver<Bytes>,
        depth: usize,
    ) -> (
        mpsc::Receiver<Bytes>,
        tokio::task::JoinHandle<Result<ChunkSums, String>>,
    ) {
        let shape = crate::sync::lock(&self.tables[table]).shape.clone();
        let (tx, out) = mpsc::channel(depth);
        let task = tokio::task::spawn_blocking(move || {
            consume_chunk(&shape, &Want::Buckets, rx, Some(tx)).map(|c| ChunkSums(c.buckets))
        });
        (out, task)
    }

    /// The sums of an attempt at chunk `key` (its ledger key) of `table`, about to commit;
    /// they replace an earlier attempt's.
    pub(crate) fn stage(&self, table: usize, key: String, sums: ChunkSums) {
        crate::sync::lock(&self.staged).insert(key, (table, sums));
    }

    /// Chunk `key` is committed: its staged sums (if any) join its table's, once.
    pub(crate) fn committed(&self, key: &str) {
        let Some((table, sums)) = crate::sync::lock(&self.staged).remove(key) else {
            return;
        };
        let mut t = crate::sync::lock(&self.tables[table]);
        if t.chunks.insert(key.to_string()) {
            add_buckets(&mut t.buckets, &sums.0);
        }
    }

    /// The sums of `table`'s chunks copied by this run, and the ledger keys of those chunks.
    fn of(&self, table: usize) -> (Vec<Bucket>, HashSet<String>) {
        let t = crate::sync::lock(&self.tables[table]);
        (t.buckets.clone(), t.chunks.clone())
    }
}

/// How one table is rendered and bucketed, on both sides.
#[derive(Debug, Clone)]
struct TableShape {
    /// Of the compared columns: the copied ones, in table order.
    canons: Vec<Canon>,
    /// Target names of the compared columns.
    names: Vec<String>,
    /// Indexes (among the compared columns) of the key columns; empty: the whole row is the
    /// key.
    key: Vec<usize>,
    buckets: u64,
}

impl TableShape {
    fn of(table: &Table, chunk_size: u64) -> TableShape {
        // The copied columns: the source stream holds no others, and PostgreSQL computes a
        // generated column from them.
        let compared: Vec<&barge_model::Column> =
            table.columns.iter().filter(|c| c.is_copied()).collect();
        let canons = compared.iter().map(|c| Canon::of(&c.data_type)).collect();
        let names = compared.iter().map(|c| c.target_name.clone()).collect();
        let position = |name: &String| compared.iter().position(|c| &c.name == name);
        let usable = |cols: &[String]| -> Option<Vec<usize>> {
            cols.iter().map(position).collect::<Option<Vec<_>>>()
        };
        let key = table
            .primary_key
            .iter()
            .chain(table.unique_keys.iter().filter(|k| {
                k.columns
                    .iter()
                    .all(|c| table.column(c).is_some_and(|c| !c.nullable))
            }))
            .find_map(|k| usable(&k.columns).filter(|k| !k.is_empty()))
            .unwrap_or_default();
        let rows = table.row_count.unwrap_or(0);
        let buckets = if chunk_size == 0 {
            1
        } else {
            rows.div_ceil(chunk_size).clamp(1, MAX_BUCKETS)
        };
        TableShape {
            canons,
            names,
            key,
            buckets,
        }
    }

    fn key_canons(&self) -> Vec<Canon> {
        if self.key.is_empty() {
            self.canons.clone()
        } else {
            self.key.iter().map(|i| self.canons[*i]).collect()
        }
    }

    /// A row's bucket, from the hash of its key (of the row, for a table without a key), so a
    /// changed row stays in the same bucket on both sides.
    fn bucket_of(&self, key_hash: i64) -> u64 {
        if self.buckets == 1 {
            return 0;
        }
        (key_hash & 0x7fff_ffff) as u64 % self.buckets
    }
}

/// The SQL that hashes and renders a target table canonically. Subqueries are flattened by
/// PostgreSQL, so an expression referenced twice is evaluated twice: the key's hashes are
/// cheap enough, and a fence (`OFFSET 0`) would forbid a parallel plan.
struct TargetSql {
    /// `(rows, hash sum)` of the whole table: the first pass, and the only one when it matches.
    total: String,
    /// `(bucket, rows, hash sum)` per bucket.
    buckets: String,
    /// `(key, row hash)` of every row in some buckets: ends with `IN (`, for the list and `)`.
    hashes: String,
    /// `(key, row)` of the rows whose key is in `$1`, in some buckets: ends like `hashes`.
    rows: String,
}

fn target_sql(
    table: &Table,
    shape: &TableShape,
    schema: &str,
    quarantine: Option<&str>,
) -> TargetSql {
    let cols: Vec<String> = shape.names.iter().map(|c| quote_ident(c)).collect();
    let parts: Vec<String> = cols
        .iter()
        .zip(&shape.canons)
        .map(|(c, canon)| canonical::pg_expr(c, *canon))
        .collect();
    let row = canonical::pg_row_expr(&parts);
    let key = canonical::pg_row_expr(
        &shape
            .key
            .iter()
            .map(|i| parts[*i].clone())
            .collect::<Vec<_>>(),
    );
    let list = if cols.is_empty() {
        "1".to_string()
    } else {
        cols.join(", ")
    };
    // Quarantined orphans left the table on purpose: they count as present.
    let from = match quarantine {
        Some(q) => format!(
            "(SELECT {list} FROM {} UNION ALL SELECT {list} FROM {q}) t",
            qualified(schema, &table.target_name)
        ),
        None => format!("{} t", qualified(schema, &table.target_name)),
    };
    let hash_parts: Vec<String> = cols
        .iter()
        .zip(&shape.canons)
        .enumerate()
        .map(|(i, (c, canon))| canonical::pg_hash_expr(c, *canon, i as u64 + 1))
        .collect();
    let row_hash = canonical::pg_xor(&hash_parts);
    let key_hash = if shape.key.is_empty() {
        row_hash.clone()
    } else {
        canonical::pg_xor(
            &shape
                .key
                .iter()
                .map(|i| hash_parts[*i].clone())
                .collect::<Vec<_>>(),
        )
    };
    let key_text = if shape.key.is_empty() { &row } else { &key };
    let bucket = if shape.buckets == 1 {
        "0::bigint".to_string()
    } else {
        format!("(kh & 2147483647) % {}", shape.buckets)
    };
    let total = format!("SELECT count(*), sum({row_hash})::text FROM {from}");
    let buckets = format!(
        "SELECT {bucket} AS b, count(*), sum(h)::text FROM \
         (SELECT {key_hash} AS kh, {row_hash} AS h FROM {from}) s GROUP BY 1"
    );
    let hashes = format!(
        "SELECT k, h FROM (SELECT {key_text} AS k, {key_hash} AS kh, {row_hash} AS h FROM {from}) s \
         WHERE {bucket} IN ("
    );
    let rows = format!(
        "SELECT k, r FROM (SELECT {key_text} AS k, {row} AS r, {key_hash} AS kh FROM {from}) s \
         WHERE k COLLATE \"C\" = ANY($1) AND {bucket} IN ("
    );
    TargetSql {
        total,
        buckets,
        hashes,
        rows,
    }
}

/// Sums of hashes mod 2^64 from PostgreSQL's exact numeric sum.
pub(super) fn wrap_sum(text: &str) -> Option<u64> {
    text.parse::<i128>().ok().map(|n| n as u64)
}

/// What a source pass collects.
#[derive(Clone)]
enum Want {
    /// Bucket sums.
    Buckets,
    /// Key and row hash of every row in these buckets.
    Rows(Arc<HashSet<u64>>),
    /// The canonical row of these keys, which lie in these buckets.
    Full(Arc<HashSet<Vec<u8>>>, Arc<HashSet<u64>>),
}

#[derive(Default)]
struct Collected {
    buckets: Vec<Bucket>,
    rows: Vec<(Vec<u8>, i64)>,
    full: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Called with each row's fields (`None` is NULL).
type RowVisitor<'a> = dyn FnMut(&[Option<&[u8]>]) -> Result<(), String> + 'a;

/// Reads a binary COPY stream back into fields, across buffer boundaries.
struct CopyReader {
    pending: Vec<u8>,
    header_done: bool,
}

impl CopyReader {
    /// Feed one buffer; `row` is called with each complete row's fields.
    fn feed(&mut self, buf: &[u8], row: &mut RowVisitor<'_>) -> Result<(), String> {
        let owned;
        let data: &[u8] = if self.pending.is_empty() {
            buf
        } else {
            self.pending.extend_from_slice(buf);
            owned = std::mem::take(&mut self.pending);
            &owned
        };
        let mut pos = 0;
        if !self.header_done {
            if data.len() < 19 {
                self.pending = data.to_vec();
                return Ok(());
            }
            let ext = u32::from_be_bytes([data[15], data[16], data[17], data[18]]) as usize;
            pos = 19 + ext;
            self.header_done = true;
        }
        let mut fields: Vec<Option<&[u8]>> = Vec::new();
        loop {
            let start = pos;
            let Some(n) = data.get(pos..pos + 2) else {
                break;
            };
            let n = i16::from_be_bytes([n[0], n[1]]);
            if n < 0 {
                // Trailer.
                return Ok(());
            }
            pos += 2;
            fields.clear();
            let mut complete = true;
            for _ in 0..n {
                let Some(len) = data.get(pos..pos + 4) else {
                    complete = false;
                    break;
                };
                let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
                pos += 4;
                if len < 0 {
                    fields.push(None);
                    continue;
                }
                let Some(v) = data.get(pos..pos + len as usize) else {
                    complete = false;
                    break;
                };
                fields.push(Some(v));
                pos += len as usize;
            }
            if !complete {
                pos = start;
                break;
            }
            row(&fields)?;
        }
        self.pending = data[pos..].to_vec();
        Ok(())
    }
}

/// Render, hash and collect the rows of one source chunk as they arrive on `rx`, passing
/// every buffer on to `forward` first when there is one (the copy's COPY stream).
fn consume_chunk(
    shape: &TableShape,
    want: &Want,
    mut rx: mpsc::Receiver<Bytes>,
    forward: Option<mpsc::Sender<Bytes>>,
) -> Result<Collected, String> {
    let mut out = Collected {
        buckets: vec![Bucket::default(); shape.buckets as usize],
        ..Collected::default()
    };
    let mut reader = CopyReader {
        pending: Vec::new(),
        header_done: false,
    };
    let (mut row, mut key, mut scratch) = (
        Vec::with_capacity(256),
        Vec::with_capacity(64),
        Vec::with_capacity(64),
    );
    let mut on_row = |fields: &[Option<&[u8]>]| -> Result<(), String> {
        let field = |i: usize| fields.get(i).copied().flatten();
        let (mut h, mut kh) = (0i64, 0i64);
        for (i, canon) in shape.canons.iter().enumerate() {
            let ch = canonical::column_hash(*canon, field(i), i as u64 + 1, &mut scratch)?;
            h ^= ch;
            if shape.key.contains(&i) {
                kh ^= ch;
            }
        }
        if shape.key.is_empty() {
            kh = h;
        }
        let b = shape.bucket_of(kh);
        if let Want::Buckets = want {
            let slot = &mut out.buckets[b as usize];
            slot.rows += 1;
            slot.sum = slot.sum.wrapping_add(h as u64);
            return Ok(());
        }
        if matches!(want, Want::Rows(set) | Want::Full(_, set) if !set.contains(&b)) {
            return Ok(());
        }
        // Canonical texts, only for the rows of a second or third pass.
        row.clear();
        for (i, canon) in shape.canons.iter().enumerate() {
            if i > 0 {
                row.push(b'|');
            }
            canonical::render(&mut row, *canon, field(i))?;
        }
        let key_bytes: &[u8] = if shape.key.is_empty() {
            &row
        } else {
            key.clear();
            for (n, i) in shape.key.iter().enumerate() {
                if n > 0 {
                    key.push(b'|');
                }
                canonical::render(&mut key, shape.canons[*i], field(*i))?;
            }
            &key
        };
        match want {
            Want::Rows(_) => out.rows.push((key_bytes.to_vec(), h)),
            Want::Full(keys, _) if keys.contains(key_bytes) => {
                out.full.push((key_bytes.to_vec(), row.clone()))
            }
            _ => {}
        }
        Ok(())
    };
    // Behind a COPY, a failure to hash must not stop the stream (the chunk still loads): it
    // stops the hashing only, and is returned at the end.
    let mut failed: Option<String> = None;
    while let Some(buf) = rx.blocking_recv() {
        if let Some(tx) = &forward {
            // The COPY ended early (it failed, or was cancelled): its own error says why.
            tx.blocking_send(buf.clone())
                .map_err(|_| "the COPY stopped reading".to_string())?;
        }
        if failed.is_some() {
            continue;
        }
        let fed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            reader.feed(&buf, &mut on_row)
        }))
        .unwrap_or_else(|_| Err("hashing a row panicked".to_string()));
        match fed {
            Ok(()) => {}
            Err(e) if forward.is_some() => failed = Some(e),
            Err(e) => return Err(e),
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// One pass over the source table through the copy's encoder, `workers` chunks at a time.
#[allow(clippy::too_many_arguments)]
async fn source_pass(
    cx: &ChecksumContext<'_>,
    index: usize,
    chunks: &[KeyRange],
    shape: &Arc<TableShape>,
    want: Want,
) -> Result<Collected, EngineError> {
    let (plan, source, policy, workers, cancel) =
        (cx.plan, cx.source, cx.policy, cx.workers, &cx.cancel);
    let table_name = plan.schema.tables[index].name.clone();
    let fail = |why: String| {
        EngineError::Setup(format!(
            "checksum of table `{table_name}`: reading the source failed: {why}"
        ))
    };
    let mut total = Collected {
        buckets: vec![Bucket::default(); shape.buckets as usize],
        ..Collected::default()
    };
    // A sliding window of `workers` chunks: a slow chunk does not hold the others back.
    let one_chunk = |range: KeyRange| {
        let (tx, rx) = mpsc::channel::<Bytes>(4);
        let reader = source.clone().read_chunk(
            plan.clone(),
            index,
            range,
            policy,
            tx,
            cancel.clone(),
            Box::new(|_| {}),
        );
        let (shape, want) = (shape.clone(), want.clone());
        let consumer = tokio::task::spawn_blocking(move || consume_chunk(&shape, &want, rx, None));
        async move {
            let (read, _rejects) = reader.await.map_err(|e| Some(e.to_string()))?;
            let collected = consumer.await.map_err(|e| Some(e.to_string()))?;
            // A consumer that failed stops its reader, so its error comes first.
            let collected = collected.map_err(|e| Some(format!("barge's encoder produced {e}")))?;
            match read {
                Ok(_) => Ok(collected),
                // `None`: cancelled.
                Err(ReadError::Cancelled) => Err(None),
                Err(ReadError::Failed { message, .. }) => Err(Some(message)),
            }
        }
    };
    let mut results = futures_util::stream::iter(chunks.iter().cloned())
        .map(one_chunk)
        .buffer_unordered(workers.max(1));
    while let Some(result) = results.next().await {
        let collected = match result {
            Ok(c) => c,
            Err(Some(e)) if !cancel.load(Ordering::Relaxed) => return Err(fail(e)),
            Err(_) => return Err(EngineError::Interrupted),
        };
        add_buckets(&mut total.buckets, &collected.buckets);
        total.rows.extend(collected.rows);
        total.full.extend(collected.full);
    }
    Ok(total)
}

/// The rows of one checksum query on the target; `None` when the table does not exist.
async fn checksum_rows(
    client: &tokio_postgres::Client,
    query: &str,
    table: &Table,
) -> Result<Option<Vec<tokio_postgres::Row>>, EngineError> {
    match client.query(query, &[]).await {
        Ok(rows) => Ok(Some(rows)),
        Err(e) if e.code().map(|c| c.code()) == Some("42P01") => Ok(None),
        Err(e) => Err(EngineError::statement(
            &format!("computing the checksum of `{}`", table.target_name),
            query,
            &e,
        )),
    }
}

/// The row count and hash sum in columns `at` and `at + 1` of a checksum row.
fn bucket_at(row: &tokio_postgres::Row, at: usize, table: &Table) -> Result<Bucket, EngineError> {
    let bad = |e: tokio_postgres::Error| {
        EngineError::Setup(format!(
            "computing the checksum of `{}`: unexpected result: {e}",
            table.target_name
        ))
    };
    let rows: i64 = row.try_get(at).map_err(bad)?;
    let sum: Option<String> = row.try_get(at + 1).map_err(bad)?;
    Ok(Bucket {
        rows: rows as u64,
        sum: sum.as_deref().and_then(wrap_sum).unwrap_or(0),
    })
}

/// The whole table's row count and hash sum in PostgreSQL; `None` when the table does not
/// exist.
async fn target_total(
    client: &tokio_postgres::Client,
    sql: &TargetSql,
    table: &Table,
) -> Result<Option<Bucket>, EngineError> {
    let Some(rows) = checksum_rows(client, &sql.total, table).await? else {
        return Ok(None);
    };
    match rows.first() {
        Some(row) => bucket_at(row, 0, table).map(Some),
        None => Err(EngineError::Setup(format!(
            "computing the checksum of `{}`: no result row",
            table.target_name
        ))),
    }
}

/// Bucket sums in PostgreSQL; `None` when the table does not exist.
async fn target_buckets(
    client: &tokio_postgres::Client,
    sql: &TargetSql,
    shape: &TableShape,
    table: &Table,
) -> Result<Option<Vec<Bucket>>, EngineError> {
    let Some(rows) = checksum_rows(client, &sql.buckets, table).await? else {
        return Ok(None);
    };
    let mut out = vec![Bucket::default(); shape.buckets as usize];
    for r in rows {
        let b: i64 = r.try_get(0).map_err(|e| {
            EngineError::Setup(format!(
                "computing the checksum of `{}`: unexpected result: {e}",
                table.target_name
            ))
        })?;
        let slot = out
            .get_mut(b as usize)
            .ok_or_else(|| EngineError::Setup(format!("checksum bucket {b} out of range")))?;
        *slot = bucket_at(&r, 1, table)?;
    }
    Ok(Some(out))
}

async fn target_rows_of(
    client: &tokio_postgres::Client,
    sql: &TargetSql,
    table: &Table,
    buckets: &[u64],
) -> Result<Vec<(Vec<u8>, i64)>, EngineError> {
    let list: Vec<String> = buckets.iter().map(u64::to_string).collect();
    let query = format!("{}{})", sql.hashes, list.join(", "));
    let rows = client.query(&query, &[]).await.map_err(|e| {
        EngineError::statement(
            &format!("locating differing rows of `{}`", table.target_name),
            &query,
            &e,
        )
    })?;
    rows.iter()
        .map(|r| Ok((r.try_get::<_, String>(0)?.into_bytes(), r.try_get(1)?)))
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(|e| EngineError::statement("reading differing rows", &query, &e))
}

async fn target_full_rows(
    client: &tokio_postgres::Client,
    sql: &TargetSql,
    table: &Table,
    keys: &[Vec<u8>],
    buckets: &[u64],
) -> Result<Vec<(Vec<u8>, Vec<u8>)>, EngineError> {
    let keys: Vec<String> = keys
        .iter()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect();
    let list: Vec<String> = buckets.iter().map(u64::to_string).collect();
    let query = &format!("{}{})", sql.rows, list.join(", "));
    let rows = client.query(query, &[&keys]).await.map_err(|e| {
        EngineError::statement(
            &format!("reading differing rows of `{}`", table.target_name),
            query,
            &e,
        )
    })?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<_, String>(0)?.into_bytes(),
                r.try_get::<_, String>(1)?.into_bytes(),
            ))
        })
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(|e| EngineError::statement("reading differing rows", query, &e))
}

/// Everything the comparison of one table needs.
pub(crate) struct ChecksumContext<'a> {
    pub plan: &'a Arc<MigrationPlan>,
    pub source: &'a Source,
    pub client: &'a tokio_postgres::Client,
    pub schema: &'a str,
    pub policy: InvalidValuePolicy,
    pub workers: usize,
    pub chunk_size: u64,
    /// Set on Ctrl-C: stop reading the source.
    pub cancel: Arc<AtomicBool>,
    /// Sums the copy already computed; those chunks are not read again.
    pub copied: Option<&'a CopySums>,
}

/// Source and target row counts and the checksum comparison of table `index`.
pub(crate) async fn compare_table(
    cx: &ChecksumContext<'_>,
    index: usize,
    quarantine: Option<&str>,
) -> Result<(u64, Option<u64>, ChecksumResult), EngineError> {
    let table = &cx.plan.schema.tables[index];
    let shape = Arc::new(TableShape::of(table, cx.chunk_size));
    let sql = target_sql(table, &shape, cx.schema, quarantine);
    let chunks = &cx.plan.tables[index].chunks;
    let key_names: Vec<String> = shape.key.iter().map(|i| shape.names[*i].clone()).collect();
    // First the whole table: PostgreSQL skips the key hash and the grouping, which is most of
    // the cost of the buckets, and a table that matches (the usual case) needs nothing more.
    // The source side computes its buckets in the same pass anyway.
    let (copied, unread) = match cx.copied {
        Some(sums) => {
            let (buckets, keys) = sums.of(index);
            let name = &cx.plan.tables[index].source_name;
            let unread: Vec<KeyRange> = chunks
                .iter()
                .filter(|r| !keys.contains(&crate::ledger::item::copy(name, r)))
                .cloned()
                .collect();
            (buckets, unread)
        }
        None => (Vec::new(), chunks.clone()),
    };
    let (source, target) = tokio::join!(
        source_pass(cx, index, &unread, &shape, Want::Buckets),
        target_total(cx.client, &sql, table)
    );
    let mut source = source?.buckets;
    add_buckets(&mut source, &copied);
    let source_total = source.iter().fold(Bucket::default(), |t, b| t.plus(*b));
    let source_rows = source_total.rows;
    let mut result = ChecksumResult {
        key: key_names,
        chunks: shape.buckets,
        differing_chunks: 0,
        differences: Vec::new(),
        differing_rows: 0,
        incomplete: false,
        source_side: "barge",
        policies: Vec::new(),
        not_compared: Vec::new(),
    };
    let Some(target_total) = target? else {
        result.differing_chunks = shape.buckets;
        return Ok((source_rows, None, result));
    };
    let target_rows = target_total.rows;
    if target_total == source_total {
        return Ok((source_rows, Some(target_rows), result));
    }
    let Some(target) = target_buckets(cx.client, &sql, &shape, table).await? else {
        result.differing_chunks = shape.buckets;
        return Ok((source_rows, None, result));
    };
    // The result describes this later scan (a target written to meanwhile may match now).
    let target_rows = target.iter().map(|b| b.rows).sum();
    let differing: Vec<u64> = (0..shape.buckets)
        .filter(|b| source[*b as usize] != target[*b as usize])
        .collect();
    result.differing_chunks = differing.len() as u64;
    if differing.is_empty() {
        return Ok((source_rows, Some(target_rows), result));
    }
    result.incomplete = differing.len() > MAX_DRILLED_BUCKETS;
    let drilled = Arc::new(
        differing
            .into_iter()
            .take(MAX_DRILLED_BUCKETS)
            .collect::<HashSet<u64>>(),
    );
    let list: Vec<u64> = drilled.iter().copied().collect();
    let (source_rows_of, target_rows_of) = tokio::join!(
        source_pass(cx, index, chunks, &shape, Want::Rows(drilled.clone())),
        target_rows_of(cx.client, &sql, table, &list)
    );
    let key_canons = shape.key_canons();
    let diffs = diff_rows(source_rows_of?.rows, target_rows_of?);
    result.differing_rows = diffs.len() as u64;

    // The first differing keys in key order, read in full on both sides (a key's rows all
    // lie in one bucket): that gives the final kind and the columns that differ.
    let mut keys: Vec<Vec<u8>> = diffs.into_iter().map(|(_, k)| k).collect();
    keys.sort_by(|a, b| canonical::compare_keys(a, b, &key_canons));
    keys.dedup();
    keys.truncate(MAX_LISTED_ROWS);
    let wanted: HashSet<Vec<u8>> = keys.iter().cloned().collect();
    let (s, t) = tokio::join!(
        source_pass(
            cx,
            index,
            chunks,
            &shape,
            Want::Full(Arc::new(wanted), drilled)
        ),
        target_full_rows(cx.client, &sql, table, &keys, &list)
    );
    let (source_full, target_full) = (s?.full, t?);
    let row_of = |rows: &[(Vec<u8>, Vec<u8>)], key: &[u8]| -> Option<Vec<u8>> {
        rows.iter().find(|(k, _)| k == key).map(|(_, r)| r.clone())
    };
    let mut resolved = diff_rows(source_full.clone(), target_full.clone());
    resolved.sort_by(|a, b| canonical::compare_keys(&a.1, &b.1, &key_canons));
    result.differences = resolved
        .into_iter()
        .take(MAX_LISTED_ROWS)
        .map(|(kind, key)| {
            let columns = match (row_of(&source_full, &key), row_of(&target_full, &key)) {
                (Some(s), Some(t)) if kind == DifferenceKind::Changed => {
                    column_differences(&shape.names, &shape.canons, &s, &t)
                }
                _ => Vec::new(),
            };
            RowDifference {
                kind,
                row: describe_key(&shape, &key),
                columns,
            }
        })
        .collect();
    Ok((source_rows, Some(target_rows), result))
}

/// Differences between two lists of (key, row hash or row text), as (kind, key).
pub(super) fn diff_rows<V: Ord>(
    source: Vec<(Vec<u8>, V)>,
    target: Vec<(Vec<u8>, V)>,
) -> Vec<(DifferenceKind, Vec<u8>)> {
    // Multisets of rows per key: a table without a key may hold duplicate rows.
    let mut by_key: BTreeMap<Vec<u8>, (Vec<V>, Vec<V>)> = BTreeMap::new();
    for (k, h) in source {
        by_key.entry(k).or_default().0.push(h);
    }
    for (k, h) in target {
        by_key.entry(k).or_default().1.push(h);
    }
    let mut out = Vec::new();
    for (key, (mut s, mut t)) in by_key {
        s.sort_unstable();
        t.sort_unstable();
        if s == t {
            continue;
        }
        // Remove the hashes both sides share; what remains differs.
        let (mut i, mut j) = (0, 0);
        let (mut only_s, mut only_t) = (0usize, 0usize);
        while i < s.len() || j < t.len() {
            match (s.get(i), t.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a < b => {
                    only_s += 1;
                    i += 1;
                }
                (Some(_), None) => {
                    only_s += 1;
                    i += 1;
                }
                _ => {
                    only_t += 1;
                    j += 1;
                }
            }
        }
        let changed = only_s.min(only_t);
        for _ in 0..changed {
            out.push((DifferenceKind::Changed, key.clone()));
        }
        for _ in changed..only_s {
            out.push((DifferenceKind::MissingInTarget, key.clone()));
        }
        for _ in changed..only_t {
            out.push((DifferenceKind::ExtraInTarget, key.clone()));
        }
    }
    out
}

/// `(id, from_date) = (7, 2024-01-02)`, or `(a, b) = (...)` with every column for a table
/// without a key.
fn describe_key(shape: &TableShape, key: &[u8]) -> String {
    let columns: Vec<usize> = if shape.key.is_empty() {
        (0..shape.names.len()).collect()
    } else {
        shape.key.clone()
    };
    let canons: Vec<Canon> = columns.iter().map(|i| shape.canons[*i]).collect();
    let values: Vec<String> = canonical::split(key, &canons)
        .into_iter()
        .zip(&canons)
        .map(|(p, c)| canonical::display(p, *c))
        .collect();
    let names: Vec<&str> = columns.iter().map(|i| shape.names[*i].as_str()).collect();
    format!("({}) = ({})", names.join(", "), values.join(", "))
}

fn column_differences(
    names: &[String],
    canons: &[Canon],
    source: &[u8],
    target: &[u8],
) -> Vec<ColumnDifference> {
    let (s, t) = (
        canonical::split(source, canons),
        canonical::split(target, canons),
    );
    s.iter()
        .zip(&t)
        .zip(canons)
        .enumerate()
        .filter(|(_, ((a, b), _))| a != b)
        .map(|(i, ((a, b), c))| ColumnDifference {
            column: names[i].clone(),
            source: canonical::display(a, *c),
            target: canonical::display(b, *c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_stream_is_read_across_buffer_boundaries() {
        let mut buf = barge_pgcopy::CopyBuffer::new(256);
        for i in 0..3 {
            buf.begin_row(2);
            buf.i32(i);
            if i == 1 {
                buf.null();
            } else {
                buf.bytes(b"xy");
            }
        }
        buf.finish();
        let all = buf.split();
        for cut in [1, 5, 19, 20, 27, all.len() - 1] {
            let mut reader = CopyReader {
                pending: Vec::new(),
                header_done: false,
            };
            let mut seen = Vec::new();
            let mut on_row = |f: &[Option<&[u8]>]| -> Result<(), String> {
                seen.push((f[0].map(<[u8]>::to_vec), f[1].map(<[u8]>::to_vec)));
                Ok(())
            };
            reader.feed(&all[..cut], &mut on_row).unwrap();
            reader.feed(&all[cut..], &mut on_row).unwrap();
            assert_eq!(seen.len(), 3, "cut at {cut}");
            assert_eq!(seen[1].1, None);
            assert_eq!(seen[2].1.as_deref(), Some(&b"xy"[..]));
        }
    }

    /// Behind a COPY, a value the hashing cannot read stops the hashing, not the stream:
    /// every buffer still reaches the COPY, and the error comes at the end.
    #[test]
    fn a_hashing_failure_does_not_stop_the_copy_stream() {
        let shape = TableShape {
            canons: vec![Canon::Int4, Canon::Date],
            names: vec!["id".into(), "day".into()],
            key: vec![0],
            buckets: 1,
        };
        let mut buf = barge_pgcopy::CopyBuffer::new(256);
        buf.begin_row(2);
        buf.i32(1);
        buf.i32(10);
        let first = buf.split();
        // A date of 3 bytes is no date.
        buf.begin_row(2);
        buf.i32(2);
        buf.bytes(b"bad");
        let second = buf.split();
        buf.begin_row(2);
        buf.i32(3);
        buf.i32(30);
        buf.finish();
        let third = buf.split();
        let (in_tx, in_rx) = mpsc::channel(8);
        let (out_tx, mut out_rx) = mpsc::channel(8);
        for b in [&first, &second, &third] {
            in_tx.try_send(b.clone()).unwrap();
        }
        drop(in_tx);
        let result = consume_chunk(&shape, &Want::Buckets, in_rx, Some(out_tx));
        let err = result.err().expect("the malformed date is reported");
        assert!(err.contains("malformed"), "{err}");
        let mut forwarded = Vec::new();
        while let Ok(b) = out_rx.try_recv() {
            forwarded.push(b);
        }
        assert_eq!(forwarded, vec![first, second, third]);
    }

    #[test]
    fn differences_by_key() {
        let s = vec![
            (b"1".to_vec(), 10),
            (b"2".to_vec(), 20),
            (b"3".to_vec(), 30),
        ];
        let t = vec![
            (b"1".to_vec(), 10),
            (b"2".to_vec(), 21),
            (b"4".to_vec(), 40),
        ];
        let d = diff_rows(s, t);
        assert_eq!(
            d,
            [
                (DifferenceKind::Changed, b"2".to_vec()),
                (DifferenceKind::MissingInTarget, b"3".to_vec()),
                (DifferenceKind::ExtraInTarget, b"4".to_vec()),
            ]
        );
        assert_eq!(wrap_sum("-1"), Some(u64::MAX));
        assert_eq!(wrap_sum("18446744073709551617"), Some(1));
    }
}
