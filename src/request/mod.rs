//! The layer below both front ends: what a user asks for, as plain options;
//! the one place that turns them into a [`FlashJob`](crate::engine::FlashJob); the one way to run
//! the engine on a thread with events and cancellation; and the exit status
//! of a run; per-drive identities and the report ([`per_drive`]), the
//! same for `flash --each` and the station.
//!
//! The command line converts its clap arguments into these options, the app
//! builds them from its form; neither imports the other.

mod check_drive;
mod customise;
mod eject;
mod exit;
mod image_signature;
pub mod per_drive;
mod prepare;
mod record;
mod run;
mod seen;
mod signed;

pub use check_drive::{CheckedRecord, changed, load_record};
pub use customise::{CustomisePlan, plan as customise_plan};
pub use eject::eject;
pub use exit::Exit;
pub use image_signature::{require_image_signature, signature_beside};
pub use prepare::{
    BmapChoice, FlashOptions, Prepared, RequestError, configure, configure_customised, prepare,
    prepare_opened, prepare_source,
};
pub use run::{Mode, Run, download_event, spawn};

pub use record::{claim, complete, failed, new_record, release};
pub use seen::{SeenDrive, seen_at};
pub(crate) use signed::{Written, seal_drive};

pub use crate::bootcfg::ConfigOptions;
pub use crate::customise::CustomiseOptions;
pub use crate::identity::IdentityOptions;
