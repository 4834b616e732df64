//! Drives: the whole-disk block devices a user may flash, classified
//! (system, removable, read-only, size, bus), and a watcher for hot-plug.
