//! PostgreSQL binary COPY encoding for the copy's hot path.
//!
//! Sources pick one writer per column before the copy starts and encode each value straight
//! from their own bytes into a [`CopyBuffer`]; no generic value type sits in between. The
//! buffer is handed to the target as `bytes::Bytes` in pieces of a few hundred KiB, so memory
//! stays bounded by the number of buffers in flight.
//!
//! Format reference: the PostgreSQL manual, COPY, "Binary Format", and each type's `*_recv`.

mod buffer;
pub mod numeric;
pub mod temporal;

pub use buffer::CopyBuffer;
pub use numeric::NumericError;
pub use temporal::TemporalError;
