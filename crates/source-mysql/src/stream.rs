//! Streaming one chunk: its SELECT, the protocol it is read over, and the row loop that
//! feeds each value to its column's encoder (see `encode`) into binary COPY buffers.
//!
//! Rows come from the lean reader (`wire`) when the source uses it, else from mysql_async;
//! both hand the loop the same borrowed [`Cell`]s, so what lands in PostgreSQL and every
//! refusal and its wording do not depend on the reader.

use crate::chunk::{base_type, chunk_key, collations};
use crate::encode::{
    encode, encode_number, fix_nul_json, fix_nul_text, render, text_of, Cell, ColumnEncoder,
    NulFix, Refusal,
};
use crate::types::is_spatial;
use crate::wire::{self, RawCell};
use crate::{quote_ident, LeanConn, MysqlError, MysqlSource};
use barge_config::{NulByteMode, ZeroDateMode};
use barge_model::{Column, InvalidValuePolicy, KeyRange, Reject, Table};
use barge_pgcopy::CopyBuffer;
use bytes::Bytes;
use mysql_async::prelude::Queryable;
use mysql_async::Value;
use std::collections::BTreeMap;

/// Whether a table's rows can come over the binary protocol and load exactly as over the
/// text one: every column is a string (sent as the same bytes either way), or a number or
/// time whose binary form the encoders take (see `text_of`, `encode_number`).
fn binary_protocol_fits(columns: &[&Column], encoders: &[ColumnEncoder]) -> bool {
    columns.iter().zip(encoders).all(|(c, e)| {
        let base = base_type(&c.source_type);
        match base.as_str() {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => {
                matches!(
                    e,
                    ColumnEncoder::Bool
                        | ColumnEncoder::Int2
                        | ColumnEncoder::Int4
                        | ColumnEncoder::Int8
                        | ColumnEncoder::Numeric
                )
            }
            // FLOAT is read as `col + 0e0`, a DOUBLE.
            "float" => matches!(e, ColumnEncoder::Float4),
            "double" | "real" => matches!(e, ColumnEncoder::Float8),
            "date" => matches!(e, ColumnEncoder::Date),
            "datetime" | "timestamp" => matches!(e, ColumnEncoder::Timestamp { .. }),
            "time" => matches!(e, ColumnEncoder::Time | ColumnEncoder::Interval),
            "decimal" | "numeric" | "char" | "varchar" | "tinytext" | "text" | "mediumtext"
            | "longtext" | "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob"
            | "longblob" | "enum" | "set" | "bit" | "json" | "uuid" | "inet4" | "inet6" => true,
            other => is_spatial(other),
        }
    })
}

/// A chunk's rows over mysql_async, with the text or the binary protocol.
enum Rows<'c> {
    Text(mysql_async::QueryResult<'c, 'static, mysql_async::TextProtocol>),
    Binary(mysql_async::QueryResult<'c, 'static, mysql_async::BinaryProtocol>),
}

impl Rows<'_> {
    async fn next(&mut self) -> Result<Option<mysql_async::Row>, mysql_async::Error> {
        match self {
            Rows::Text(r) => r.next().await,
            Rows::Binary(r) => r.next().await,
        }
    }
}

/// The row loop's state for one chunk: the encoders, the buffer being filled, and what the
/// chunk has counted (NUL fixes, zero dates) and refused.
struct ChunkEncoder<'t> {
    table: &'t Table,
    columns: Vec<&'t Column>,
    encoders: Vec<ColumnEncoder>,
    date_only: Vec<bool>,
    policy: InvalidValuePolicy,
    zero_mode: ZeroDateMode,
    nul_fix: Option<NulFix>,
    json_nul: bool,
    scratch: Vec<u8>,
    buf: CopyBuffer,
    rows: u64,
    zero_counts: BTreeMap<usize, u64>,
    nul_counts: BTreeMap<usize, u64>,
}

impl ChunkEncoder<'_> {
    /// Encode one row; `cell(i)` is its value in column `i`.
    fn row<'r>(
        &mut self,
        cell: impl Fn(usize) -> Cell<'r>,
        rejects: &mut Vec<Reject>,
    ) -> Result<(), MysqlError> {
        let table = self.table;
        self.buf.begin_row(self.encoders.len() as u16);
        for (i, enc) in self.encoders.iter().enumerate() {
            let value = cell(i);
            let buf = &mut self.buf;
            let mark = buf.mark();
            match encode_number(buf, enc, value) {
                Some(Ok(())) => continue,
                // Refused: the text path refuses it again, in its own words.
                Some(Err(_)) => buf.truncate(mark),
                None => {}
            }
            let Some(v) = text_of(value, self.date_only[i], &mut self.scratch) else {
                buf.null();
                continue;
            };
            let mut outcome = encode(buf, enc, v);
            if outcome == Err(Refusal::Nul) {
                buf.truncate(mark);
                let json = matches!(enc, ColumnEncoder::Jsonb);
                if let Some(fix) = self.nul_fix.filter(|_| !json || self.json_nul) {
                    let fixed = if json {
                        fix_nul_json(v, fix)
                    } else {
                        fix_nul_text(v, fix)
                    };
                    outcome = encode(buf, enc, &fixed);
                    if outcome.is_ok() {
                        *self.nul_counts.entry(i).or_default() += 1;
                    }
                }
            }
            let Err(refusal) = outcome else {
                continue;
            };
            buf.truncate(mark);
            let column = self.columns[i];
            let position = self.rows + 1;
            // Under nul_byte_mode = "error", a NUL byte is an invalid value like any other:
            // it stops the run, or is loaded as NULL and reported under on_invalid_value.
            let refusal = match refusal {
                Refusal::Nul => Refusal::Invalid(format!(
                    "{} (set `nul_byte_mode = \"strip\"` or `\"replace\"` to remove or replace it, counted in the summary)",
                    if matches!(enc, ColumnEncoder::Jsonb) {
                        "contains \\u0000, which jsonb cannot hold"
                    } else {
                        "contains a NUL byte, which PostgreSQL text cannot hold"
                    }
                )),
                other => other,
            };
            match refusal {
                Refusal::Nul => unreachable!("turned into Invalid above"),
                Refusal::ZeroDate => {
                    let hint = match self.zero_mode {
                        ZeroDateMode::Error => {
                            "set `zero_date_mode = \"null\"` under [type_mapping] to load zero dates as NULL"
                        }
                        ZeroDateMode::Null if !column.nullable => {
                            "the column is NOT NULL, so the zero date cannot be loaded as NULL; make the column nullable in the source or fix the row"
                        }
                        ZeroDateMode::Null => {
                            buf.null();
                            *self.zero_counts.entry(i).or_default() += 1;
                            continue;
                        }
                    };
                    return Err(MysqlError::ZeroDate {
                        table: table.name.clone(),
                        column: column.name.clone(),
                        row: location(table, &self.columns, &cell, position),
                        value: render(Some(v)),
                        hint: hint.into(),
                    });
                }
                Refusal::Invalid(reason) => {
                    let row_at = location(table, &self.columns, &cell, position);
                    if self.policy == InvalidValuePolicy::Null && column.nullable {
                        buf.null();
                        rejects.push(Reject {
                            table: table.name.clone(),
                            column: column.name.clone(),
                            row: row_at,
                            value: render(Some(v)),
                            reason,
                        });
                    } else {
                        let reason = if self.policy == InvalidValuePolicy::Null {
                            format!("{reason}, and the column is NOT NULL so it cannot be loaded as NULL")
                        } else {
                            reason
                        };
                        return Err(MysqlError::InvalidValue {
                            table: table.name.clone(),
                            column: column.name.clone(),
                            row: row_at,
                            value: render(Some(v)),
                            reason,
                            hint: crate::InvalidValueHint::for_column(column),
                        });
                    }
                }
            }
        }
        self.rows += 1;
        Ok(())
    }
}

/// Where a row is: `key (a, b) = (1, x)`, or its position in the chunk without a key.
fn location<'r>(
    table: &Table,
    columns: &[&Column],
    cell: &impl Fn(usize) -> Cell<'r>,
    position: u64,
) -> String {
    let Some(pk) = &table.primary_key else {
        return format!("row {position} of the chunk, table has no primary key");
    };
    let mut values = Vec::new();
    for name in &pk.columns {
        match columns.iter().position(|c| &c.name == name) {
            Some(i) => {
                let date_only = base_type(&columns[i].source_type) == "date";
                values.push(render(text_of(cell(i), date_only, &mut Vec::new())));
            }
            None => return format!("row {position} of the chunk"),
        }
    }
    format!("key ({}) = ({})", pk.columns.join(", "), values.join(", "))
}

/// Sends full buffers on, and hears of the rows they carry.
struct Sender<'o> {
    out: &'o tokio::sync::mpsc::Sender<Bytes>,
    on_rows: &'o (dyn Fn(u64) + Send + Sync),
    buffer_bytes: usize,
    /// Rows encoded and not yet reported.
    reported: u64,
}

impl Sender<'_> {
    /// Send the buffer once it is full (or always, with `last`).
    async fn flush(&mut self, enc: &mut ChunkEncoder<'_>, last: bool) -> Result<(), MysqlError> {
        if !last && enc.buf.len() < self.buffer_bytes {
            return Ok(());
        }
        if last {
            enc.buf.finish();
        }
        if self.out.send(enc.buf.split()).await.is_err() {
            return Err(MysqlError::Cancelled(enc.table.name.clone()));
        }
        (self.on_rows)(enc.rows - self.reported);
        self.reported = enc.rows;
        Ok(())
    }
}

/// Encode the rows of one chunk into one complete binary COPY stream (see
/// [`MysqlSource::copy_chunk`]); returns the number of rows read.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn copy_chunk(
    source: &MysqlSource,
    table: &Table,
    range: &KeyRange,
    policy: InvalidValuePolicy,
    buffer_bytes: usize,
    out: &tokio::sync::mpsc::Sender<Bytes>,
    on_rows: &(dyn Fn(u64) + Send + Sync),
    rejects: &mut Vec<Reject>,
) -> Result<u64, MysqlError> {
    let (zero_mode, swap_uuid, nul_mode, json_nul, text_only) = {
        let state = source.lock_state();
        (
            state.zero_date_mode,
            state.binary16_swap,
            state.nul_byte_mode,
            state.sanitize_json_nul,
            state.text_protocol_only,
        )
    };
    let nul_fix = match nul_mode.unwrap_or(NulByteMode::Error) {
        NulByteMode::Error => None,
        NulByteMode::Strip => Some(NulFix::Strip),
        NulByteMode::Replace => Some(NulFix::Replace),
    };
    // Generated columns PostgreSQL computes itself are neither read nor sent.
    let columns: Vec<&Column> = table.columns.iter().filter(|c| c.is_copied()).collect();
    let encoders: Vec<ColumnEncoder> = columns
        .iter()
        .map(|c| ColumnEncoder::for_column(table, c, swap_uuid))
        .collect();
    let select: Vec<String> = encoders
        .iter()
        .zip(&columns)
        .map(|(e, c)| e.select_expr(c))
        .collect();
    let mut sql = format!(
        "SELECT {} FROM {}",
        select.join(", "),
        quote_ident(&table.name)
    );
    if !range.is_whole() {
        let collations = collations(source, &table.name).await?;
        let key = chunk_key(table, Some(&collations)).ok_or_else(|| MysqlError::BadRange {
            table: table.name.clone(),
            why: "the table has no key to bound a chunk by".into(),
        })?;
        let filter = key
            .where_clause(range)
            .map_err(|why| MysqlError::BadRange {
                table: table.name.clone(),
                why,
            })?;
        sql.push_str(&filter);
    }
    // The binary protocol saves both sides turning numbers and times into text and back.
    let binary = !text_only && binary_protocol_fits(&columns, &encoders);
    let mut enc = ChunkEncoder {
        table,
        date_only: encoders
            .iter()
            .map(|e| matches!(e, ColumnEncoder::Date))
            .collect(),
        columns,
        encoders,
        policy,
        // Before any introspection there is no zero_date_mode: refuse zero dates.
        zero_mode: zero_mode.unwrap_or(ZeroDateMode::Error),
        nul_fix,
        json_nul,
        scratch: Vec::with_capacity(64),
        buf: CopyBuffer::new(buffer_bytes + buffer_bytes / 4),
        rows: 0,
        zero_counts: BTreeMap::new(),
        nul_counts: BTreeMap::new(),
    };
    let mut sender = Sender {
        out,
        on_rows,
        buffer_bytes,
        reported: 0,
    };
    match source.wire_conn().await? {
        Some(conn) => {
            read_wire(source, conn, &sql, binary, &mut enc, &mut sender, rejects).await?;
        }
        None => read_pooled(source, &sql, binary, &mut enc, &mut sender, rejects).await?,
    }
    sender.flush(&mut enc, true).await?;
    let mut guard = source.lock_state();
    let state = &mut *guard;
    for (counts, into) in [
        (&enc.nul_counts, &mut state.nul_values),
        (&enc.zero_counts, &mut state.zero_dates),
    ] {
        for (i, n) in counts {
            *into
                .entry((table.name.clone(), enc.columns[*i].name.clone()))
                .or_default() += n;
        }
    }
    drop(guard);
    Ok(enc.rows)
}

/// The rows over a mysql_async session (a snapshot's, or the pool's).
async fn read_pooled(
    source: &MysqlSource,
    sql: &str,
    binary: bool,
    enc: &mut ChunkEncoder<'_>,
    sender: &mut Sender<'_>,
    rejects: &mut Vec<Reject>,
) -> Result<(), MysqlError> {
    let table = enc.table;
    let read_err = |source| MysqlError::Read {
        table: table.name.clone(),
        source,
    };
    let mut conn = source.conn_for_table(&table.name).await?;
    let mut result = if binary {
        Rows::Binary(conn.exec_iter(sql, ()).await.map_err(read_err)?)
    } else {
        Rows::Text(conn.query_iter(sql).await.map_err(read_err)?)
    };
    while let Some(row) = result.next().await.map_err(read_err)? {
        enc.row(|i| row.as_ref(i).unwrap_or(&Value::NULL).into(), rejects)?;
        sender.flush(enc, false).await?;
    }
    Ok(())
}

/// The rows over a session of the lean reader; the session goes back to its pool only once
/// the result is read to its end. An idle pooled session found dead before any row is
/// replaced once by a new one; a protocol fault of the lean reader turns it off for the run,
/// so the chunk's retry reads with mysql_async.
async fn read_wire(
    source: &MysqlSource,
    mut conn: LeanConn,
    sql: &str,
    binary: bool,
    enc: &mut ChunkEncoder<'_>,
    sender: &mut Sender<'_>,
    rejects: &mut Vec<Reject>,
) -> Result<(), MysqlError> {
    let table = enc.table;
    let read_err = |e: wire::WireError| {
        if matches!(
            e,
            wire::WireError::Protocol(_) | wire::WireError::Unsupported(_)
        ) {
            source.wire_fault(&wire::describe(&e));
        }
        MysqlError::Read {
            table: table.name.clone(),
            source: e.into(),
        }
    };
    let types = match conn.query(sql, binary).await {
        Ok(types) => types,
        Err(wire::WireError::Io(e)) => match source.wire_reconnect(&mut conn).await {
            Some(fresh) => {
                conn = fresh;
                conn.query(sql, binary).await.map_err(read_err)?
            }
            None => return Err(read_err(wire::WireError::Io(e))),
        },
        Err(e) => return Err(read_err(e)),
    };
    if types.len() != enc.encoders.len() {
        return Err(read_err(wire::WireError::Protocol(format!(
            "a result of {} columns for {} selected",
            types.len(),
            enc.encoders.len()
        ))));
    }
    let mut cells: Vec<RawCell> = Vec::with_capacity(types.len());
    while let Some(packet) = conn.next_row().await.map_err(read_err)? {
        let payload = conn.payload(packet);
        let parsed = if binary {
            wire::binary_row(payload, &types, &mut cells)
        } else {
            wire::text_row(payload, types.len(), &mut cells)
        };
        parsed.map_err(read_err)?;
        enc.row(|i| cells[i].cell(payload), rejects)?;
        sender.flush(enc, false).await?;
    }
    source.wire_done(conn);
    Ok(())
}
