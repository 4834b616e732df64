//! An `io::Error` that names the path and the operation that failed, so a
//! message like "No such file or directory" always says which file.
//!
//! The platform functions return `io::Result` (callers match on the error
//! kind), so the context travels inside the `io::Error` with the original
//! error as its `#[source]`.

use std::io;
use std::path::{Path, PathBuf};

/// The operation and path an `io::Error` happened on.
#[derive(Debug, thiserror::Error)]
#[error("cannot {operation} {}", path.display())]
pub(super) struct PathIoError {
    pub operation: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Wraps `source` so that it names `operation` and `path`, keeping its kind.
pub(super) fn path_error(operation: &'static str, path: &Path, source: io::Error) -> io::Error {
    io::Error::new(
        source.kind(),
        PathIoError {
            operation,
            path: path.to_path_buf(),
            source,
        },
    )
}

/// A `map_err` adapter for [`path_error`].
pub(super) fn at<'a>(
    operation: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> io::Error + 'a {
    move |source| path_error(operation, path, source)
}
