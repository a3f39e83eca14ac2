//! barge-tracking's integration tests: the writer against a real PostgreSQL that goes away
//! and comes back, and the SQL Server backend's protocol path against Microsoft's mock TDS
//! server. PostgreSQL must be running (BARGE_TEST_PG_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres); nothing here skips.

mod mock_tds;
mod offline;
