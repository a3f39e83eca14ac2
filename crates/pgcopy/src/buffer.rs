use crate::numeric::{self, NumericError};
use bytes::{BufMut, Bytes, BytesMut};

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// A growing binary COPY stream, emptied in pieces with [`CopyBuffer::split`].
pub struct CopyBuffer {
    buf: BytesMut,
}

impl CopyBuffer {
    /// A new stream, starting with the binary COPY header.
    pub fn new(capacity: usize) -> Self {
        let mut buf = BytesMut::with_capacity(capacity.max(64));
        buf.put_slice(SIGNATURE);
        buf.put_i32(0); // flags: no OIDs
        buf.put_i32(0); // header extension length
        CopyBuffer { buf }
    }

    /// Bytes buffered and not yet taken.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Take what is buffered, leaving the buffer empty (with the same capacity reserved).
    pub fn split(&mut self) -> Bytes {
        let cap = self.buf.capacity();
        let out = self.buf.split().freeze();
        self.buf.reserve(cap);
        out
    }

    /// Append the end-of-data trailer.
    pub fn finish(&mut self) {
        self.buf.put_i16(-1);
    }

    /// Start a row of `fields` values.
    #[inline]
    pub fn begin_row(&mut self, fields: u16) {
        self.buf.put_i16(fields as i16);
    }

    /// A position to return to with [`CopyBuffer::truncate`] when a value turns out invalid.
    #[inline]
    pub fn mark(&self) -> usize {
        self.buf.len()
    }

    #[inline]
    pub fn truncate(&mut self, mark: usize) {
        self.buf.truncate(mark);
    }

    #[inline]
    pub fn null(&mut self) {
        self.buf.put_i32(-1);
    }

    #[inline]
    pub fn bool(&mut self, v: bool) {
        self.buf.put_i32(1);
        self.buf.put_u8(u8::from(v));
    }

    #[inline]
    pub fn i16(&mut self, v: i16) {
        self.buf.put_i32(2);
        self.buf.put_i16(v);
    }

    #[inline]
    pub fn i32(&mut self, v: i32) {
        self.buf.put_i32(4);
        self.buf.put_i32(v);
    }

    #[inline]
    pub fn i64(&mut self, v: i64) {
        self.buf.put_i32(8);
        self.buf.put_i64(v);
    }

    #[inline]
    pub fn f32(&mut self, v: f32) {
        self.buf.put_i32(4);
        self.buf.put_f32(v);
    }

    #[inline]
    pub fn f64(&mut self, v: f64) {
        self.buf.put_i32(8);
        self.buf.put_f64(v);
    }

    /// Raw bytes: text (already valid UTF-8), bytea, json.
    #[inline]
    pub fn bytes(&mut self, v: &[u8]) {
        self.buf.put_i32(v.len() as i32);
        self.buf.put_slice(v);
    }

    /// A jsonb value from its JSON text (jsonb's binary form is a version byte and the text).
    #[inline]
    pub fn jsonb(&mut self, text: &[u8]) {
        self.buf.put_i32(text.len() as i32 + 1);
        self.buf.put_u8(1);
        self.buf.put_slice(text);
    }

    /// Days since 2000-01-01.
    #[inline]
    pub fn date(&mut self, days: i32) {
        self.i32(days);
    }

    /// Microseconds since midnight (time) or since 2000-01-01 00:00:00 (timestamp[tz], UTC).
    #[inline]
    pub fn micros(&mut self, v: i64) {
        self.i64(v);
    }

    #[inline]
    pub fn uuid(&mut self, v: &[u8; 16]) {
        self.bytes(v);
    }

    /// A `bit(n)` / `bit varying(n)` value: its length in bits, then the bits packed
    /// big-endian into whole bytes (the last byte padded with zero bits on the right).
    pub fn bits(&mut self, bit_len: u32, packed: &[u8]) {
        self.buf.put_i32(4 + packed.len() as i32);
        self.buf.put_i32(bit_len as i32);
        self.buf.put_slice(packed);
    }

    /// An `interval` of microseconds, days and months (PostgreSQL keeps the three apart).
    pub fn interval(&mut self, micros: i64, days: i32, months: i32) {
        self.buf.put_i32(16);
        self.buf.put_i64(micros);
        self.buf.put_i32(days);
        self.buf.put_i32(months);
    }

    /// An `inet` host address: 4 bytes for IPv4, 16 for IPv6 (full-length mask).
    pub fn inet(&mut self, addr: &[u8]) {
        let (family, bits) = if addr.len() == 4 {
            (2u8, 32u8)
        } else {
            (3u8, 128u8)
        };
        self.buf.put_i32(4 + addr.len() as i32);
        self.buf.put_u8(family);
        self.buf.put_u8(bits);
        self.buf.put_u8(0); // not cidr
        self.buf.put_u8(addr.len() as u8);
        self.buf.put_slice(addr);
    }

    /// A one-dimensional `text[]` (lower bound 1) of UTF-8 elements, none NULL.
    pub fn text_array<'a>(&mut self, items: impl ExactSizeIterator<Item = &'a [u8]> + Clone) {
        const TEXT_OID: i32 = 25;
        let count = items.len();
        if count == 0 {
            // An empty array has no dimensions.
            self.buf.put_i32(12);
            self.buf.put_i32(0);
            self.buf.put_i32(0);
            self.buf.put_i32(TEXT_OID);
            return;
        }
        let body: usize = items.clone().map(|i| 4 + i.len()).sum();
        self.buf.put_i32((20 + body) as i32);
        self.buf.put_i32(1); // dimensions
        self.buf.put_i32(0); // no NULL elements
        self.buf.put_i32(TEXT_OID);
        self.buf.put_i32(count as i32);
        self.buf.put_i32(1); // lower bound
        for i in items {
            self.buf.put_i32(i.len() as i32);
            self.buf.put_slice(i);
        }
    }

    /// A numeric from decimal text such as `-12.50`, `1e-3`, `NaN`.
    pub fn numeric(&mut self, text: &str) -> Result<(), NumericError> {
        let n = numeric::parse(text)?;
        self.buf.put_i32(8 + 2 * n.digits.len() as i32);
        self.buf.put_i16(n.digits.len() as i16);
        self.buf.put_i16(n.weight);
        self.buf.put_u16(n.sign);
        self.buf.put_u16(n.dscale);
        for d in &n.digits {
            self.buf.put_i16(*d);
        }
        Ok(())
    }
}
