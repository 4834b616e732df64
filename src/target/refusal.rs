//! A target refused before anything was written.

use std::path::PathBuf;

/// A target refused before anything was written (exit code 2): which, and
/// why, as a sentence fragment after the target's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub target: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.target.display(), self.reason)
    }
}
