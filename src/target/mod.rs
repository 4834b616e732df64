//! Write targets: a block device or a regular file. Safety checks before
//! anything is written, and aligned direct I/O.
