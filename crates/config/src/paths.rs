//! Path resolution: relative paths in a config file are relative to that file's folder.

use std::path::{Component, Path, PathBuf};

/// `base.join(path)` without `.` components; absolute paths are returned as they are.
///
/// Purely lexical (no file system access, `..` kept) so that settings can be built for files
/// that do not exist yet, such as the reject file.
pub(crate) fn join_clean(base: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    joined
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_join_the_base() {
        assert_eq!(
            join_clean(Path::new("/cfg"), Path::new("./a/./b.sql")),
            PathBuf::from("/cfg/a/b.sql")
        );
        assert_eq!(
            join_clean(Path::new("/cfg"), Path::new("/abs/x.db")),
            PathBuf::from("/abs/x.db")
        );
        assert_eq!(
            join_clean(Path::new("/cfg"), Path::new("../x.db")),
            PathBuf::from("/cfg/../x.db")
        );
    }
}
