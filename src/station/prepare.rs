//! Preparing a station: the image opened once and decoded once for every
//! drive (`engine::SharedImage`), the configuration and the identities,
//! through the same `request` path as `flash` (docs/architecture.md §10):
//! every refusal happens here, before a drive is touched.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use super::{CONCURRENT_DRIVES, Shared, Station, StationError, StationOptions, Watch};
use crate::bootcfg::BootConfigError;
use crate::engine::{SharedImage, SpoolConfig};
use crate::request::per_drive::{self, PerDriveError};
use crate::request::{Prepared, RequestError};
use crate::source::{ImageSource, InputKind};

impl Station {
    /// Opens the image and the report, prepares the configuration and the
    /// identities: every refusal comes here, before a drive is touched.
    pub(crate) fn prepare(options: StationOptions) -> Result<Station, StationError> {
        let flash = &options.flash;
        let source = ImageSource::open(&flash.image).map_err(RequestError::Image)?;
        if source.input_kind() == InputKind::Stream {
            return Err(StationError::StreamImage(flash.image.clone()));
        }
        // The same preparation as `flash`: the expected SHA-256, a bmap
        // beside the image, the configuration (docs/architecture.md §10).
        let Prepared {
            job,
            configured,
            customise,
        } = crate::request::prepare_source(source, flash)?;
        let source = job.source;
        let wifi = flash.config.check_wifi().map_err(RequestError::Config)?;
        let (report, identities) = per_drive::identities(
            flash.config.config.as_deref(),
            &options.identity,
            options.report.as_deref(),
        )?;
        // The region every drive's configuration covers: with identities,
        // one drive's configuration is made now, so an image whose boot
        // partition cannot take it is refused before any drive.
        let template = flash.config.config.is_some();
        let per_drive = customise.as_ref().is_some_and(|c| c.model.is_per_drive());
        let patched = if identities.is_some() || per_drive {
            let sample = identities
                .clone()
                .map(|mut i| i.assign("serial"))
                .transpose()?;
            let own = per_drive::own_configuration(
                &source,
                customise.as_ref(),
                sample.as_ref(),
                template,
                wifi.as_ref(),
                1,
                "serial",
            )
            .map_err(|e| in_image(e, &source))?;
            own.iter().map(|c| c.patch.range()).collect()
        } else {
            configured.iter().map(|c| c.patch.range()).collect()
        };
        let bmap_ranges = job
            .bmap
            .as_ref()
            .map(|b| b.byte_ranges())
            .unwrap_or_default();
        let image = SharedImage::start(
            source.clone(),
            patched,
            flash.full,
            job.bmap,
            SpoolConfig::for_targets(CONCURRENT_DRIVES),
        )
        .map_err(|refusal| StationError::Spool(refusal.reason))?;
        let shared = Shared {
            source,
            image,
            configured,
            wifi,
            customise,
            template,
            drives_started: AtomicU64::new(0),
            verify: flash.verify,
            expected_sha256: job.expected_sha256,
            eject: flash.eject,
            bmap_ranges,
            full: flash.full,
            signer: None,
            probe: options.probe,
        };
        // Last: the drives present now are the ones the station will not
        // flash.
        let watch = Watch::start().map_err(StationError::Drives)?;
        Ok(Station {
            options,
            watch,
            shared: Arc::new(shared),
            identities,
            report,
        })
    }
}

/// A sample drive's configuration error, naming the image when the boot
/// partition could not take it.
fn in_image(error: PerDriveError, source: &ImageSource) -> StationError {
    match error {
        PerDriveError::Config(cause) => RequestError::Config(BootConfigError::InImage {
            image: source.path().to_path_buf(),
            cause: Box::new(cause),
        })
        .into(),
        other => other.into(),
    }
}
