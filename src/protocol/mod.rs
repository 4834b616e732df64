//! The JSON-lines protocol of `--json`: one event per line on stdout.
//!
//! One serde type, [`WireEvent`], is both what the command line writes and
//! what the app's privileged helper reader parses, so the two cannot drift
//! apart. Every translation between the engine's events and that type lives
//! here, both directions (docs/architecture.md §5): `from_engine` builds the
//! lines the front ends print, `to_engine` turns a line back into the
//! engine's event. Readers ignore events and fields they do not know: the
//! protocol only grows. The fields listed in the README stay.

mod from_engine;
mod to_engine;
mod wire;

pub use to_engine::RunLine;
pub use wire::{EjectOutcome, ErrorKind, Outcome, WireBootPartition, WireCustomisation, WireEvent};

#[cfg(test)]
#[path = "round_trip_tests.rs"]
mod round_trip_tests;
