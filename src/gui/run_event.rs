//! What a flash run reports to the app, whether the engine runs in this
//! process or in a privileged helper process: the engine's own events, and
//! the ways a run can end without them.

use crossbeam_channel::Receiver;

use crate::engine::FlashEvent;

/// One message from a running flash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEvent {
    /// An engine event (from the engine, or parsed from the helper's JSON).
    Flash(FlashEvent),
    /// Refused before anything was written: one message per problem.
    Refused(Vec<String>),
    /// The run could not start or stopped abnormally (helper not started,
    /// authorisation cancelled, helper crashed).
    Failed(String),
    /// The run is over; nothing follows.
    Finished,
}

/// How a run is asked to stop.
pub(super) trait Cancel: Send {
    fn cancel(&self);
}

/// A running flash: its events, and a way to cancel it.
pub(super) struct Running {
    pub events: Receiver<RunEvent>,
    pub cancel: Box<dyn Cancel>,
}
