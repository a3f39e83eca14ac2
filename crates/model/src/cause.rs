//! Why a database could not be reached, decided where the error is known (the PostgreSQL,
//! MySQL and SQLite crates classify their drivers' errors) so the command line only prints:
//! the exit code (a credentials or configuration problem is 2, an unreachable server or file
//! is 3) and a hint that fits the cause rather than "check that the server is running" for
//! everything. The server's own message is always shown beside it.

/// What went wrong when connecting to a server or opening a database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectCause {
    /// The server refused the login: wrong user or password, or no rule admits this client
    /// (PostgreSQL 28P01/28000, MySQL 1045).
    Authentication,
    /// The login works but may not use the database (MySQL 1044).
    DatabaseAccess,
    /// The database does not exist (PostgreSQL 3D000, MySQL 1049).
    MissingDatabase,
    /// Nothing listens at the address (connection refused).
    Refused,
    /// The host name does not resolve, or the network cannot reach it.
    Unreachable,
    /// No answer in time.
    Timeout,
    /// TLS was required by one side and refused or failed on the other.
    Tls,
    /// The file is not a database (SQLite "file is not a database": another kind of file,
    /// damaged, or encrypted).
    NotADatabase,
    /// The path is a directory.
    Directory,
    /// The file exists but may not be read.
    Permission,
    /// The file does not exist.
    MissingFile,
    /// Anything else (the server's message says what).
    Other,
}

impl ConnectCause {
    /// A mistake in the settings or credentials (exit 2), rather than a server or file that
    /// could not be reached (exit 3).
    pub fn is_configuration(self) -> bool {
        matches!(
            self,
            ConnectCause::Authentication
                | ConnectCause::DatabaseAccess
                | ConnectCause::MissingDatabase
                | ConnectCause::Tls
                | ConnectCause::NotADatabase
                | ConnectCause::Directory
        )
    }

    /// What to do, for a connection to `server` (`PostgreSQL`, `MySQL/MariaDB`) used as
    /// `role` (`target`, `source`, `tracking database`).
    pub fn hint(self, server: &str, role: &str) -> String {
        match self {
            ConnectCause::Authentication => format!(
                "check the user name and password of the {role} connection (in a URL, percent-encode reserved characters of the password: `p@ss` -> `p%40ss`); {}",
                match server {
                    "PostgreSQL" => "the server's pg_hba.conf decides which users may log in from this host, and how",
                    "MySQL/MariaDB" => "a MySQL account is `user`@`host`: it must exist for the host barge connects from",
                    _ => "the login must exist on the server and may use this database",
                }
            ),
            ConnectCause::DatabaseAccess => format!(
                "the {role} account may log in but not use this database: GRANT it access, or name a database it may use"
            ),
            ConnectCause::MissingDatabase => format!(
                "create the database on the {server} server, or correct the database name of the {role} connection"
            ),
            ConnectCause::Refused => format!(
                "nothing accepts connections at that address: check that the {server} server is running and the host and port of the {role} connection are right"
            ),
            ConnectCause::Unreachable => format!(
                "the host of the {role} connection cannot be reached: check its name, and the network or firewall between here and there"
            ),
            ConnectCause::Timeout => format!(
                "the {server} server did not answer in time: check the host and port of the {role} connection, and the network or firewall"
            ),
            ConnectCause::Tls => match server {
                "PostgreSQL" => format!(
                    "barge connects to PostgreSQL without TLS: drop `sslmode=require` (or stronger) from the {role} connection, or let the server accept a plain connection from this host (a `host` line in pg_hba.conf)"
                ),
                _ => format!(
                    "the TLS settings of the {role} connection and the server disagree: use `ssl-mode=preferred` or `disabled` with a server without TLS, `required` or `verify_ca` (with `ssl-ca`) with one that requires it"
                ),
            },
            ConnectCause::NotADatabase => format!(
                "the {role} file is not an SQLite database (another kind of file, damaged, or encrypted): check the `dsn` path"
            ),
            ConnectCause::Directory => format!(
                "the {role} path is a directory: give the path of the SQLite database file"
            ),
            ConnectCause::Permission => format!(
                "the user running barge may not read the {role} file: give it read permission (barge opens the file read-only)"
            ),
            ConnectCause::MissingFile => {
                "check the `dsn` path; relative paths start at the config file's folder".to_string()
            }
            ConnectCause::Other if server == "SQLite" => format!(
                "check that the {role} `dsn` names a readable SQLite database file"
            ),
            ConnectCause::Other => format!(
                "check that the {server} server is running and the {role} connection settings are right"
            ),
        }
    }

    /// The cause of an I/O error met while connecting.
    pub fn of_io(e: &std::io::Error) -> ConnectCause {
        use std::io::ErrorKind;
        match e.kind() {
            ErrorKind::ConnectionRefused => ConnectCause::Refused,
            ErrorKind::TimedOut => ConnectCause::Timeout,
            ErrorKind::NotFound => ConnectCause::MissingFile,
            ErrorKind::PermissionDenied => ConnectCause::Permission,
            ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => ConnectCause::Unreachable,
            // Name resolution failures come as `Other`/`Uncategorized` with this text.
            _ if e.to_string().contains("lookup address") => ConnectCause::Unreachable,
            _ => ConnectCause::Other,
        }
    }
}

/// An error with its causes, each once: `a: b: c` (drivers' `Display` often leaves the
/// cause out, e.g. tokio-postgres's "error connecting to server").
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_classified() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(ConnectCause::of_io(&refused), ConnectCause::Refused);
        assert!(!ConnectCause::Refused.is_configuration());
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(ConnectCause::of_io(&denied), ConnectCause::Permission);
        assert!(ConnectCause::Authentication.is_configuration());
        assert!(ConnectCause::Authentication
            .hint("PostgreSQL", "target")
            .contains("password of the target connection"));
    }
}
