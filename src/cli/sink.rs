//! Where a run's events go: progress bars on a terminal, or JSON lines for
//! machines. Both read the same engine events.

use crate::bootcfg::Configured;
use crate::engine::{FlashEvent, FlashReport, Refusal};

/// What the front end knows before the engine starts.
pub(super) struct RunInfo<'a> {
    pub image: String,
    pub format: &'static str,
    pub size: Option<u64>,
    pub targets: Vec<String>,
    pub configured: Option<&'a Configured>,
    /// `--full`: every byte is written and verified, not only used ones.
    pub full: bool,
    /// The bmap file whose ranges join the map (`crate::map::bmap`).
    pub bmap: Option<String>,
}

pub(super) trait EventSink {
    /// The run is about to start.
    fn start(&mut self, info: &RunInfo<'_>);
    /// One engine event.
    fn event(&mut self, event: &FlashEvent);
    /// The run is over.
    fn finish(&mut self, info: &RunInfo<'_>, report: &FlashReport);
    /// Targets refused before anything was written.
    fn refused(&mut self, refusals: &[Refusal]);
}
