//! A lean client for the MySQL/MariaDB wire protocol, used for one thing: streaming a chunk's
//! rows into the COPY encoders.
//!
//! Why it exists: with mysql_async, every row costs a trip through a codec, a pooled packet
//! buffer, two failed attempts to read the packet as an OK and an error packet (the second
//! allocating an `io::Error`), a `Row` with one heap `Value` per string, and a clock read.
//! On the employees benchmark that was about 60% of barge's CPU, on a machine where barge,
//! MariaDB and PostgreSQL share two cores. This client reads the socket into one large
//! buffer, and hands each row out as [`Cell`]s borrowed from it: no allocation per row or
//! value.
//!
//! It speaks just enough of the protocol for that: the v10 handshake with
//! `mysql_native_password` or the fast path of `caching_sha2_password` (a server that asks for
//! full authentication, or for any other plugin, is refused as [`WireError::Unsupported`]),
//! the session setup statements, `COM_QUERY` (text rows) and `COM_STMT_PREPARE`/`EXECUTE`
//! (binary rows) of one statement without parameters at a time. It never does TLS: the source
//! uses it only when its own sessions are plain TCP (see `MysqlSource::open`). Whenever it
//! cannot connect, for whatever reason, the source goes back to mysql_async for good, so the
//! worst this client can do to a run is not to speed it up.
//!
//! Protocol facts used here are from the MySQL and MariaDB client/server protocol
//! documentation (packet framing, handshake v10, HandshakeResponse41, ColumnDefinition41,
//! the text and binary result set rows).

use crate::encode::{Cell, Datum};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Payloads of this length continue in the next packet.
const MAX_PAYLOAD: usize = 0xFF_FFFF;
/// Size of the read buffer; a row larger than it grows it (up to one packet).
const READ_BUFFER: usize = 256 * 1024;

// Capability flags.
const LONG_PASSWORD: u32 = 1;
const LONG_FLAG: u32 = 1 << 2;
const CONNECT_WITH_DB: u32 = 1 << 3;
const PROTOCOL_41: u32 = 1 << 9;
const TRANSACTIONS: u32 = 1 << 13;
const SECURE_CONNECTION: u32 = 1 << 15;
const MULTI_RESULTS: u32 = 1 << 17;
const PLUGIN_AUTH: u32 = 1 << 19;
const PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 1 << 21;
const DEPRECATE_EOF: u32 = 1 << 24;

// Commands.
const COM_QUIT: u8 = 0x01;
const COM_QUERY: u8 = 0x03;
const COM_STMT_PREPARE: u8 = 0x16;
const COM_STMT_EXECUTE: u8 = 0x17;
const COM_STMT_CLOSE: u8 = 0x19;

/// utf8mb4_general_ci: known to MySQL 5.5+ and every MariaDB; `SET NAMES` follows anyway.
const UTF8MB4_GENERAL_CI: u8 = 45;
/// Column flag: an integer column is UNSIGNED.
const UNSIGNED_FLAG: u16 = 32;

#[derive(Debug)]
pub(crate) enum WireError {
    /// The server wants something this client does not do: the source uses mysql_async.
    Unsupported(String),
    /// An error packet from the server.
    Server {
        code: u16,
        state: String,
        message: String,
    },
    Io(std::io::Error),
    /// The server sent something the protocol does not allow here.
    Protocol(String),
}

impl From<std::io::Error> for WireError {
    fn from(e: std::io::Error) -> Self {
        WireError::Io(e)
    }
}

impl From<WireError> for mysql_async::Error {
    /// In mysql_async's terms, so errors read the same and lost sessions are retried alike.
    fn from(e: WireError) -> Self {
        let io = |e| mysql_async::Error::Io(mysql_async::IoError::Io(e));
        match e {
            WireError::Server {
                code,
                state,
                message,
            } => mysql_async::Error::Server(mysql_async::ServerError {
                code,
                message,
                state,
            }),
            WireError::Io(e) => io(e),
            WireError::Unsupported(m) | WireError::Protocol(m) => {
                io(std::io::Error::new(std::io::ErrorKind::InvalidData, m))
            }
        }
    }
}

type Result<T> = std::result::Result<T, WireError>;

fn protocol<T>(what: &str) -> Result<T> {
    Err(WireError::Protocol(format!(
        "malformed packet from the server: {what}"
    )))
}

/// Where to connect and what every session runs first.
#[derive(Clone)]
pub(crate) struct WireOpts {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: String,
    pub setup: Vec<String>,
    /// What [`IDENTITY_SQL`] answered on the source's own (mysql_async) session: a lean
    /// session must answer the same, or it reached another server or account.
    pub identity: Vec<Option<Vec<u8>>>,
}

/// Which server and account a session is on.
pub(crate) const IDENTITY_SQL: &str = "SELECT @@hostname, @@port, CURRENT_USER(), DATABASE()";

/// How long connecting and logging in may take before the lean reader gives up (and the
/// source reads with mysql_async).
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

impl std::fmt::Debug for WireOpts {
    /// Never the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "WireOpts({}@{}:{}/{})",
            self.user, self.host, self.port, self.database
        )
    }
}

/// Idle sessions of the lean client, and whether it is still in use for this source.
#[derive(Debug)]
pub(crate) struct WirePool {
    opts: WireOpts,
    idle: Mutex<Vec<WireConn>>,
    off: AtomicBool,
}

/// Why the pool lends no session.
#[derive(Debug)]
pub(crate) enum Off {
    /// It was turned off earlier.
    Already,
    /// It has just been turned off, for this reason (to tell the user once).
    Now(String),
}

impl WirePool {
    pub(crate) fn new(opts: WireOpts) -> Self {
        WirePool {
            opts,
            idle: Mutex::new(Vec::new()),
            off: AtomicBool::new(false),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<WireConn>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A session (an idle one, else a new one), unless the lean reader is off: any failure to
    /// connect turns it off, and mysql_async, which reports its own errors, takes over.
    pub(crate) async fn get(&self) -> std::result::Result<(WireConn, bool), Off> {
        if self.off.load(Ordering::SeqCst) {
            return Err(Off::Already);
        }
        if let Some(conn) = self.idle().pop() {
            return Ok((conn, true));
        }
        self.fresh().await.map(|c| (c, false))
    }

    /// A new session, past the idle ones (which a lost server has made useless).
    pub(crate) async fn fresh(&self) -> std::result::Result<WireConn, Off> {
        if self.off.load(Ordering::SeqCst) {
            return Err(Off::Already);
        }
        let connected = tokio::time::timeout(CONNECT_TIMEOUT, WireConn::connect(&self.opts)).await;
        match connected {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(self.turn_off(&describe(&e))),
            Err(_) => Err(self.turn_off(&format!(
                "connecting took over {} s",
                CONNECT_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Stop lending sessions; `Off::Now` for the first caller to do so.
    pub(crate) fn turn_off(&self, why: &str) -> Off {
        self.idle().clear();
        if self.off.swap(true, Ordering::SeqCst) {
            Off::Already
        } else {
            Off::Now(why.to_string())
        }
    }

    pub(crate) fn is_off(&self) -> bool {
        self.off.load(Ordering::SeqCst)
    }

    /// Forget the idle sessions (after one of them turned out dead).
    pub(crate) fn clear_idle(&self) {
        self.idle().clear();
    }

    /// Give back a session whose last result was read to the end; its buffers shrink back
    /// so idle sessions hold little memory.
    pub(crate) fn put(&self, mut conn: WireConn) {
        if conn.broken || self.off.load(Ordering::SeqCst) {
            return;
        }
        conn.big = Vec::new();
        if conn.buf.len() > READ_BUFFER {
            conn.buf.copy_within(conn.start..conn.end, 0);
            conn.end -= conn.start;
            conn.start = 0;
            conn.buf.truncate(READ_BUFFER.max(conn.end));
            conn.buf.shrink_to_fit();
        }
        self.idle().push(conn);
    }

    /// Close the idle sessions.
    pub(crate) async fn close(&self) {
        let idle: Vec<WireConn> = std::mem::take(&mut *self.idle());
        for conn in idle {
            conn.quit().await;
        }
    }
}

/// A packet's payload: in the read buffer, or reassembled from several packets.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Packet {
    Buf(usize, usize),
    Big,
}

/// How a result column's values come in the binary protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ColumnType {
    pub code: u8,
    pub unsigned: bool,
}

/// One session.
#[derive(Debug)]
pub(crate) struct WireConn {
    stream: TcpStream,
    /// Read buffer, always initialized; bytes `start..end` are read and not yet used.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// A payload of 16 MiB or more, put together from its packets.
    big: Vec<u8>,
    /// Sequence id of the next packet this side sends.
    seq: u8,
    deprecate_eof: bool,
    /// The prepared statement of the running binary query, closed at its end.
    stmt: Option<u32>,
    /// Its state is unknown (a write failed after the result was read): not to be reused.
    broken: bool,
}

/// An error in words for the user (a server's own message, never the password).
pub(crate) fn describe(e: &WireError) -> String {
    match e {
        WireError::Unsupported(m) | WireError::Protocol(m) => m.clone(),
        WireError::Server { code, message, .. } => format!("the server said ({code}): {message}"),
        WireError::Io(e) => e.to_string(),
    }
}

impl WireConn {
    async fn connect(opts: &WireOpts) -> Result<WireConn> {
        let stream = TcpStream::connect((opts.host.as_str(), opts.port)).await?;
        stream.set_nodelay(true)?;
        let mut conn = WireConn {
            stream,
            buf: vec![0; READ_BUFFER],
            start: 0,
            end: 0,
            big: Vec::new(),
            seq: 0,
            deprecate_eof: false,
            stmt: None,
            broken: false,
        };
        conn.handshake(opts).await?;
        for sql in &opts.setup {
            conn.query_drop(sql).await?;
        }
        // The same server and account as the source's own sessions (a `socket=` URL, or
        // user@localhost against user@127.0.0.1, could lead elsewhere over TCP).
        let identity = conn.row_texts(IDENTITY_SQL).await?;
        if identity != opts.identity {
            return Err(WireError::Unsupported(
                "over TCP it reaches another server or account than the source's sessions"
                    .to_string(),
            ));
        }
        Ok(conn)
    }

    /// The first row of `sql` over the text protocol, as raw values.
    async fn row_texts(&mut self, sql: &str) -> Result<Vec<Option<Vec<u8>>>> {
        let types = self.query(sql, false).await?;
        let mut first = None;
        let mut cells = Vec::new();
        while let Some(packet) = self.next_row().await? {
            if first.is_none() {
                let payload = self.payload(packet);
                text_row(payload, types.len(), &mut cells)?;
                first = Some(
                    cells
                        .iter()
                        .map(|c| match c.cell(payload) {
                            Cell::Bytes(b) => Some(b.to_vec()),
                            _ => None,
                        })
                        .collect(),
                );
            }
        }
        first.ok_or_else(|| WireError::Protocol(format!("`{sql}` returned no row")))
    }

    async fn handshake(&mut self, opts: &WireOpts) -> Result<()> {
        let hello = self.read_packet().await?;
        let hello = self.payload(hello).to_vec();
        if hello.first() == Some(&0xFF) {
            return Err(server_error(&hello));
        }
        if hello.first() != Some(&10) {
            return Err(WireError::Unsupported(
                "not protocol version 10".to_string(),
            ));
        }
        let mut r = Reader::new(&hello[1..]);
        r.nul_terminated()?; // server version
        r.take(4)?; // connection id
        let mut nonce = r.take(8)?.to_vec();
        r.take(1)?;
        let caps_low = u32::from(r.u16()?);
        r.take(1)?; // character set
        r.take(2)?; // status
        let caps = caps_low | u32::from(r.u16()?) << 16;
        let nonce_len = usize::from(r.u8()?);
        r.take(10)?;
        let required = PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH;
        if caps & required != required {
            return Err(WireError::Unsupported(
                "the server lacks protocol 4.1 authentication".to_string(),
            ));
        }
        let rest = nonce_len.saturating_sub(8).max(13).min(r.remaining());
        nonce.extend_from_slice(strip_nul(r.take(rest)?));
        let plugin = String::from_utf8_lossy(r.nul_terminated_or_rest()).into_owned();

        let mut ours = LONG_PASSWORD
            | LONG_FLAG
            | CONNECT_WITH_DB
            | PROTOCOL_41
            | TRANSACTIONS
            | SECURE_CONNECTION
            | MULTI_RESULTS
            | PLUGIN_AUTH
            | PLUGIN_AUTH_LENENC_CLIENT_DATA
            | DEPRECATE_EOF;
        ours &= caps;
        self.deprecate_eof = ours & DEPRECATE_EOF != 0;
        let auth = scramble(&plugin, &opts.password, &nonce)?;
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(&ours.to_le_bytes());
        out.extend_from_slice(&(MAX_PAYLOAD as u32 + 1).to_le_bytes());
        out.push(UTF8MB4_GENERAL_CI);
        out.extend_from_slice(&[0; 23]);
        out.extend_from_slice(opts.user.as_bytes());
        out.push(0);
        if ours & PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            put_lenenc(&mut out, auth.len() as u64);
        } else {
            out.push(auth.len() as u8);
        }
        out.extend_from_slice(&auth);
        if ours & CONNECT_WITH_DB != 0 {
            out.extend_from_slice(opts.database.as_bytes());
            out.push(0);
        }
        out.extend_from_slice(plugin.as_bytes());
        out.push(0);
        self.write_packet(&out).await?;

        let mut plugin = plugin;
        loop {
            let reply = self.read_packet().await?;
            let reply = self.payload(reply);
            match reply.first() {
                Some(0x00) => return Ok(()),
                Some(0xFF) => return Err(server_error(reply)),
                // Auth switch: another plugin, with a fresh nonce.
                Some(0xFE) => {
                    let mut r = Reader::new(&reply[1..]);
                    plugin = String::from_utf8_lossy(r.nul_terminated_or_rest()).into_owned();
                    let nonce = strip_nul(r.rest()).to_vec();
                    let auth = scramble(&plugin, &opts.password, &nonce)?;
                    self.write_packet(&auth).await?;
                }
                // caching_sha2_password: 3 = the fast path worked (an OK follows), 4 = full
                // authentication, which needs TLS or the server's RSA key.
                Some(0x01) if plugin == "caching_sha2_password" && reply.get(1) == Some(&3) => {}
                _ => {
                    return Err(WireError::Unsupported(format!(
                        "authentication step of `{plugin}` this client does not do"
                    )))
                }
            }
        }
    }

    /// Say goodbye and close.
    pub(crate) async fn quit(mut self) {
        let _ = self.command(COM_QUIT, &[]).await;
    }

    /// Run a statement that returns no rows (or whose rows do not matter).
    pub(crate) async fn query_drop(&mut self, sql: &str) -> Result<()> {
        self.command(COM_QUERY, sql.as_bytes()).await?;
        if self.result_columns().await?.is_some() {
            while self.next_row().await?.is_some() {}
        }
        Ok(())
    }

    /// Send `sql` (over the binary protocol with `binary`) and read its column definitions;
    /// then [`WireConn::next_row`] until `None`.
    pub(crate) async fn query(&mut self, sql: &str, binary: bool) -> Result<Vec<ColumnType>> {
        if binary {
            self.command(COM_STMT_PREPARE, sql.as_bytes()).await?;
            let ok = self.read_packet().await?;
            let ok = self.payload(ok);
            if ok.first() == Some(&0xFF) {
                return Err(server_error(ok));
            }
            let mut r = Reader::new(ok);
            if r.u8()? != 0 {
                return protocol("COM_STMT_PREPARE answer");
            }
            let id = r.u32()?;
            let columns = r.u16()?;
            let params = r.u16()?;
            self.stmt = Some(id);
            for _ in 0..params {
                self.read_packet().await?;
            }
            if params > 0 && !self.deprecate_eof {
                self.read_packet().await?;
            }
            for _ in 0..columns {
                self.read_packet().await?;
            }
            if columns > 0 && !self.deprecate_eof {
                self.read_packet().await?;
            }
            let mut execute = Vec::with_capacity(9);
            execute.extend_from_slice(&id.to_le_bytes());
            execute.push(0); // no cursor
            execute.extend_from_slice(&1u32.to_le_bytes());
            self.command(COM_STMT_EXECUTE, &execute).await?;
        } else {
            self.command(COM_QUERY, sql.as_bytes()).await?;
        }
        match self.result_columns().await {
            Ok(Some(types)) => Ok(types),
            Ok(None) => {
                self.close_statement().await?;
                Err(WireError::Protocol(
                    "the statement returned no result set".to_string(),
                ))
            }
            Err(e) => {
                // The statement stays prepared on a failed execution; close it.
                if !matches!(e, WireError::Io(_)) {
                    let _ = self.close_statement().await;
                }
                Err(e)
            }
        }
    }

    /// After a command: `None` for an OK packet, else the result set's column types.
    async fn result_columns(&mut self) -> Result<Option<Vec<ColumnType>>> {
        let first = self.read_packet().await?;
        let first = self.payload(first);
        let count = match first.first() {
            Some(0x00) => return Ok(None),
            Some(0xFF) => return Err(server_error(first)),
            Some(0xFB) => {
                return Err(WireError::Unsupported(
                    "the server asked for a local file".to_string(),
                ))
            }
            _ => Reader::new(first).lenenc()?,
        };
        let mut types = Vec::with_capacity(count.min(4096) as usize);
        for _ in 0..count {
            let def = self.read_packet().await?;
            let mut r = Reader::new(self.payload(def));
            for _ in 0..6 {
                r.lenenc_bytes()?; // catalog, schema, table, org_table, name, org_name
            }
            r.lenenc()?; // length of the fixed fields
            r.take(2)?; // character set
            r.take(4)?; // column length
            let code = r.u8()?;
            let flags = r.u16()?;
            types.push(ColumnType {
                code,
                unsigned: flags & UNSIGNED_FLAG != 0,
            });
        }
        if !self.deprecate_eof {
            self.read_packet().await?;
        }
        Ok(Some(types))
    }

    /// The next row of the running result, `None` at its end (the session is then free).
    pub(crate) async fn next_row(&mut self) -> Result<Option<Packet>> {
        let packet = self.read_packet().await?;
        let payload = self.payload(packet);
        let end = match payload.first() {
            Some(0xFF) => return Err(server_error(payload)),
            // The terminator (an EOF, or an OK with an EOF header): a row beginning with
            // 0xFE would be a string of 16 MiB or more, so a packet of its own size.
            Some(0xFE) if matches!(packet, Packet::Buf(..)) => {
                self.deprecate_eof || payload.len() < 9
            }
            _ => false,
        };
        if end {
            // The rows are all read; a session that cannot close its statement is not
            // reused, but the rows stand.
            if self.close_statement().await.is_err() {
                self.broken = true;
            }
            return Ok(None);
        }
        Ok(Some(packet))
    }

    async fn close_statement(&mut self) -> Result<()> {
        if let Some(id) = self.stmt.take() {
            self.command(COM_STMT_CLOSE, &id.to_le_bytes()).await?;
        }
        Ok(())
    }

    pub(crate) fn payload(&self, packet: Packet) -> &[u8] {
        match packet {
            Packet::Buf(from, to) => &self.buf[from..to],
            Packet::Big => &self.big,
        }
    }

    /// Make at least `n` unread bytes available in the buffer.
    async fn fill(&mut self, n: usize) -> Result<()> {
        while self.end - self.start < n {
            if self.buf.len() - self.start < n {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
                if self.buf.len() < n {
                    self.buf.resize(n.next_power_of_two(), 0);
                }
            }
            let read = self.stream.read(&mut self.buf[self.end..]).await?;
            if read == 0 {
                return Err(WireError::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            self.end += read;
        }
        Ok(())
    }

    async fn read_packet(&mut self) -> Result<Packet> {
        let mut len = self.header().await?;
        if len < MAX_PAYLOAD {
            self.fill(len).await?;
            let packet = Packet::Buf(self.start, self.start + len);
            self.start += len;
            return Ok(packet);
        }
        // 16 MiB or more: copied piece by piece, packet after packet, into `big`.
        self.big.clear();
        loop {
            let mut left = len;
            while left > 0 {
                self.fill(1).await?;
                let n = left.min(self.end - self.start);
                self.big
                    .extend_from_slice(&self.buf[self.start..self.start + n]);
                self.start += n;
                left -= n;
            }
            if len < MAX_PAYLOAD {
                return Ok(Packet::Big);
            }
            len = self.header().await?;
        }
    }

    /// Read a packet header: the payload length; the sequence id is followed.
    async fn header(&mut self) -> Result<usize> {
        self.fill(4).await?;
        let h = &self.buf[self.start..self.start + 4];
        let len = usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16;
        self.seq = h[3].wrapping_add(1);
        self.start += 4;
        Ok(len)
    }

    async fn write_packet(&mut self, payload: &[u8]) -> Result<()> {
        let mut out = Vec::with_capacity(payload.len() + 8);
        let mut pieces = payload.chunks(MAX_PAYLOAD).peekable();
        loop {
            let piece = pieces.next().unwrap_or(&[]);
            out.extend_from_slice(&(piece.len() as u32).to_le_bytes()[..3]);
            out.push(self.seq);
            self.seq = self.seq.wrapping_add(1);
            out.extend_from_slice(piece);
            // A payload that is a multiple of the maximum ends with an empty packet.
            if pieces.peek().is_none() && piece.len() < MAX_PAYLOAD {
                break;
            }
        }
        self.stream.write_all(&out).await?;
        Ok(())
    }

    async fn command(&mut self, command: u8, body: &[u8]) -> Result<()> {
        self.seq = 0;
        let mut payload = Vec::with_capacity(body.len() + 1);
        payload.push(command);
        payload.extend_from_slice(body);
        self.write_packet(&payload).await
    }
}

/// The authentication response of `plugin` for `password` and the server's nonce.
fn scramble(plugin: &str, password: &str, nonce: &[u8]) -> Result<Vec<u8>> {
    if password.is_empty() {
        return match plugin {
            "mysql_native_password" | "caching_sha2_password" => Ok(Vec::new()),
            other => Err(WireError::Unsupported(format!(
                "authentication plugin `{other}`"
            ))),
        };
    }
    let nonce = &nonce[..nonce.len().min(20)];
    match plugin {
        // SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password)))
        "mysql_native_password" => Ok(xor_scramble::<Sha1>(password, nonce, true)),
        // SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce)
        "caching_sha2_password" => Ok(xor_scramble::<Sha256>(password, nonce, false)),
        other => Err(WireError::Unsupported(format!(
            "authentication plugin `{other}`"
        ))),
    }
}

/// `H(password) XOR H(nonce + H(H(password)))`, the two hashed parts in the other order
/// unless `nonce_first`.
fn xor_scramble<H: Digest>(password: &str, nonce: &[u8], nonce_first: bool) -> Vec<u8> {
    let once = H::digest(password.as_bytes());
    let twice = H::digest(&once);
    let mut h = H::new();
    if nonce_first {
        h.update(nonce);
        h.update(&twice);
    } else {
        h.update(&twice);
        h.update(nonce);
    }
    let mask = h.finalize();
    once.iter().zip(mask.iter()).map(|(a, b)| a ^ b).collect()
}

fn strip_nul(b: &[u8]) -> &[u8] {
    b.strip_suffix(&[0]).unwrap_or(b)
}

fn put_lenenc(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=250 => out.push(n as u8),
        251..=0xFFFF => {
            out.push(0xFC);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xFF_FFFF => {
            out.push(0xFD);
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        }
        _ => {
            out.push(0xFE);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// An error packet: code, SQL state, message.
fn server_error(p: &[u8]) -> WireError {
    let code = p.get(1..3).map_or(0, |c| u16::from_le_bytes([c[0], c[1]]));
    let rest = p.get(3..).unwrap_or(&[]);
    let (state, message) = match rest.strip_prefix(b"#") {
        Some(r) if r.len() >= 5 => (&r[..5], &r[5..]),
        _ => (&b"HY000"[..], rest),
    };
    WireError::Server {
        code,
        state: String::from_utf8_lossy(state).into_owned(),
        message: String::from_utf8_lossy(message).into_owned(),
    }
}

/// A cursor over a payload.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Reader { b, at: 0 }
    }

    fn remaining(&self) -> usize {
        self.b.len() - self.at
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let Some(s) = self
            .at
            .checked_add(n)
            .and_then(|end| self.b.get(self.at..end))
        else {
            return protocol("shorter than its fields");
        };
        self.at += n;
        Ok(s)
    }

    fn rest(&mut self) -> &'a [u8] {
        let s = &self.b[self.at..];
        self.at = self.b.len();
        s
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }

    fn u32(&mut self) -> Result<u32> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }

    fn u64(&mut self) -> Result<u64> {
        let s = self.take(8)?;
        let mut a = [0; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }

    fn nul_terminated(&mut self) -> Result<&'a [u8]> {
        let Some(n) = self.b[self.at..].iter().position(|&c| c == 0) else {
            return protocol("a string without its NUL");
        };
        let s = &self.b[self.at..self.at + n];
        self.at += n + 1;
        Ok(s)
    }

    fn nul_terminated_or_rest(&mut self) -> &'a [u8] {
        match self.b[self.at..].iter().position(|&c| c == 0) {
            Some(n) => {
                let s = &self.b[self.at..self.at + n];
                self.at += n + 1;
                s
            }
            None => self.rest(),
        }
    }

    /// A length-encoded integer (`0xFB`, NULL in a text row, is not one).
    fn lenenc(&mut self) -> Result<u64> {
        match self.u8()? {
            n @ 0..=250 => Ok(u64::from(n)),
            0xFC => self.u16().map(u64::from),
            0xFD => {
                let s = self.take(3)?;
                Ok(u64::from(s[0]) | u64::from(s[1]) << 8 | u64::from(s[2]) << 16)
            }
            0xFE => self.u64(),
            _ => protocol("a length-encoded integer"),
        }
    }

    /// A length-encoded string, as the range of the payload it occupies.
    fn lenenc_range(&mut self) -> Result<(usize, usize)> {
        let n = usize::try_from(self.lenenc()?).unwrap_or(usize::MAX);
        let from = self.at;
        self.take(n)?;
        Ok((from, self.at))
    }

    fn lenenc_bytes(&mut self) -> Result<&'a [u8]> {
        let (from, to) = self.lenenc_range()?;
        Ok(&self.b[from..to])
    }
}

/// One value of a row, without borrowing it: strings as their range in the payload.
pub(crate) type RawCell = Datum<(usize, usize)>;

impl RawCell {
    pub(crate) fn cell(self, payload: &[u8]) -> Cell<'_> {
        self.map_bytes(|(from, to)| &payload[from..to])
    }
}

/// A text-protocol row: every value a length-encoded string, `0xFB` for NULL.
pub(crate) fn text_row(payload: &[u8], columns: usize, out: &mut Vec<RawCell>) -> Result<()> {
    out.clear();
    let mut r = Reader::new(payload);
    for _ in 0..columns {
        if r.b.get(r.at) == Some(&0xFB) {
            r.at += 1;
            out.push(RawCell::Null);
        } else {
            let (from, to) = r.lenenc_range()?;
            out.push(RawCell::Bytes((from, to)));
        }
    }
    if r.remaining() != 0 {
        return protocol("a text row longer than its columns");
    }
    Ok(())
}

/// A binary-protocol row: a 0x00 header, a NULL bitmap (offset by 2 bits), then each
/// non-NULL value in the form of its column type.
pub(crate) fn binary_row(
    payload: &[u8],
    types: &[ColumnType],
    out: &mut Vec<RawCell>,
) -> Result<()> {
    out.clear();
    let mut r = Reader::new(payload);
    if r.u8()? != 0 {
        return protocol("a binary row without its header");
    }
    let nulls = r.take((types.len() + 9) / 8)?;
    for (i, t) in types.iter().enumerate() {
        let bit = i + 2;
        if nulls[bit / 8] & (1 << (bit % 8)) != 0 {
            out.push(RawCell::Null);
            continue;
        }
        let int = |v: i64, u: u64| {
            if t.unsigned {
                RawCell::UInt(u)
            } else {
                RawCell::Int(v)
            }
        };
        let cell = match t.code {
            // TINY
            1 => {
                let b = r.u8()?;
                int(i64::from(b as i8), u64::from(b))
            }
            // SHORT, YEAR
            2 | 13 => {
                let v = r.u16()?;
                int(i64::from(v as i16), u64::from(v))
            }
            // LONG, INT24
            3 | 9 => {
                let v = r.u32()?;
                int(i64::from(v as i32), u64::from(v))
            }
            // LONGLONG
            8 => {
                let v = r.u64()?;
                int(v as i64, v)
            }
            // FLOAT, DOUBLE
            4 => RawCell::Float(f32::from_bits(r.u32()?)),
            5 => RawCell::Double(f64::from_bits(r.u64()?)),
            // NULL type
            6 => RawCell::Null,
            // TIMESTAMP, DATE, DATETIME: length 0, 4, 7 or 11.
            7 | 10 | 12 => {
                let n = usize::from(r.u8()?);
                let v = r.take(n)?;
                let at = |i: usize| v.get(i).copied().unwrap_or(0);
                let year = if n >= 4 {
                    u16::from_le_bytes([v[0], v[1]])
                } else {
                    0
                };
                let micros = if n >= 11 {
                    u32::from_le_bytes([v[7], v[8], v[9], v[10]])
                } else {
                    0
                };
                if !matches!(n, 0 | 4 | 7 | 11) {
                    return protocol("a date of an unknown length");
                }
                RawCell::Date(year, at(2), at(3), at(4), at(5), at(6), micros)
            }
            // TIME: length 0, 8 or 12.
            11 => {
                let n = usize::from(r.u8()?);
                let v = r.take(n)?;
                if !matches!(n, 0 | 8 | 12) {
                    return protocol("a time of an unknown length");
                }
                if n == 0 {
                    RawCell::Time(false, 0, 0, 0, 0, 0)
                } else {
                    let days = u32::from_le_bytes([v[1], v[2], v[3], v[4]]);
                    let micros = if n == 12 {
                        u32::from_le_bytes([v[8], v[9], v[10], v[11]])
                    } else {
                        0
                    };
                    RawCell::Time(v[0] == 1, days, v[5], v[6], v[7], micros)
                }
            }
            // Everything else (decimals, strings, blobs, BIT, ENUM, SET, JSON, geometry)
            // is a length-encoded string.
            _ => {
                let (from, to) = r.lenenc_range()?;
                RawCell::Bytes((from, to))
            }
        };
        out.push(cell);
    }
    if r.remaining() != 0 {
        return protocol("a binary row longer than its columns");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both scrambles equal mysql_common's (the reference mysql_async logs in with), for
    /// ASCII and non-ASCII passwords and the nonce with and without its trailing NUL.
    #[test]
    fn scrambles_match_the_reference_implementation() {
        let nonce: Vec<u8> = (1..=20).map(|i| i * 11).collect();
        let with_nul = [nonce.as_slice(), &[0]].concat();
        for password in ["secret", "p@ss:w/rd", "pässwörd€", "x"] {
            let native = mysql_common::scramble::scramble_native(&nonce, password.as_bytes());
            let sha2 = mysql_common::scramble::scramble_sha256(&nonce, password.as_bytes());
            for n in [&nonce, &with_nul] {
                assert_eq!(
                    scramble("mysql_native_password", password, n).unwrap(),
                    native.unwrap().to_vec(),
                    "{password}"
                );
                assert_eq!(
                    scramble("caching_sha2_password", password, n).unwrap(),
                    sha2.unwrap().to_vec(),
                    "{password}"
                );
            }
        }
        // No password, no response; another plugin is not this client's.
        assert!(scramble("mysql_native_password", "", &nonce)
            .unwrap()
            .is_empty());
        assert!(scramble("caching_sha2_password", "", &nonce)
            .unwrap()
            .is_empty());
        assert!(matches!(
            scramble("ed25519", "x", &nonce),
            Err(WireError::Unsupported(_))
        ));
    }

    /// The cells of a parsed row, as they print.
    fn shown(cells: &[RawCell], payload: &[u8]) -> Vec<String> {
        cells
            .iter()
            .map(|c| format!("{:?}", c.cell(payload)))
            .collect()
    }

    #[test]
    fn text_rows_split_into_values_and_nulls() {
        let payload = [&[3u8][..], b"abc", &[0xFB], &[0], &[0xFC, 2, 0], b"xy"].concat();
        let mut out = Vec::new();
        text_row(&payload, 4, &mut out).unwrap();
        let cells = shown(&out, &payload);
        assert_eq!(
            cells,
            [
                "Bytes([97, 98, 99])",
                "Null",
                "Bytes([])",
                "Bytes([120, 121])"
            ]
        );
        assert!(text_row(&payload, 3, &mut out).is_err());
        assert!(text_row(&payload, 5, &mut out).is_err());
    }

    #[test]
    fn binary_rows_follow_their_column_types() {
        let t = |code, unsigned| ColumnType { code, unsigned };
        let types = [
            t(3, false),
            t(3, true),
            t(10, false),
            t(12, false),
            t(253, false),
            t(8, false),
            t(11, false),
        ];
        // Header, then the NULL bitmap: 2 bytes for 7 columns, column i at bit i + 2, so
        // column 5 (NULL here) is bit 7 of the first byte.
        let mut payload = vec![0u8, 1 << 7, 0];
        payload.extend_from_slice(&(-5i32).to_le_bytes());
        payload.extend_from_slice(&u32::MAX.to_le_bytes());
        payload.extend_from_slice(&[4, 0xE8, 0x07, 2, 29]); // 2024-02-29
        payload.extend_from_slice(&[11, 0xE8, 0x07, 12, 31, 23, 59, 58]);
        payload.extend_from_slice(&123_456u32.to_le_bytes());
        payload.extend_from_slice(&[2, b'h', b'i']);
        payload.extend_from_slice(&[8, 1, 2, 0, 0, 0, 3, 4, 5]); // -2 days 03:04:05
        let mut out = Vec::new();
        binary_row(&payload, &types, &mut out).unwrap();
        let cells = shown(&out, &payload);
        assert_eq!(
            cells,
            [
                "Int(-5)",
                "UInt(4294967295)",
                "Date(2024, 2, 29, 0, 0, 0, 0)",
                "Date(2024, 12, 31, 23, 59, 58, 123456)",
                "Bytes([104, 105])",
                "Null",
                "Time(true, 2, 3, 4, 5, 0)",
            ]
        );
        payload.push(0);
        assert!(binary_row(&payload, &types, &mut out).is_err());
    }

    /// A server this client cannot talk to turns the lean reader off for the source, after
    /// one attempt: the caller reads with mysql_async instead.
    #[tokio::test]
    async fn a_server_it_cannot_talk_to_turns_it_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                // A handshake of protocol version 9.
                let _ = socket.write_all(&[1, 0, 0, 0, 9]).await;
            }
        });
        let pool = WirePool::new(WireOpts {
            host: "127.0.0.1".into(),
            port,
            user: "u".into(),
            password: "never shown".into(),
            database: "d".into(),
            setup: Vec::new(),
            identity: Vec::new(),
        });
        assert!(matches!(pool.get().await, Err(Off::Now(why)) if why == "not protocol version 10"));
        assert!(matches!(pool.get().await, Err(Off::Already)));
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "tried once, then off");
        assert!(!format!("{pool:?}").contains("never shown"), "{pool:?}");
    }

    #[test]
    fn server_errors_carry_code_state_and_message() {
        let p = [
            &[0xFF, 0x7A, 0x04][..],
            b"#42S02",
            b"Table 'x' doesn't exist",
        ]
        .concat();
        let WireError::Server {
            code,
            state,
            message,
        } = server_error(&p)
        else {
            panic!("not a server error");
        };
        assert_eq!((code, state.as_str()), (1146, "42S02"));
        assert_eq!(message, "Table 'x' doesn't exist");
    }
}
