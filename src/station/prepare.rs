//! Preparing a station: the image opened once and decoded once for every
//! drive (`engine::SharedImage`), the configuration and the identities,
//! through the same `request` path as `flash` (docs/architecture.md §10):
//! every refusal happens here, before a drive is touched.

use std::sync::Arc;

use super::{CONCURRENT_DRIVES, Shared, Station, StationError, StationOptions, Watch};
use crate::bootcfg::BootConfigError;
use crate::engine::{SharedImage, SpoolConfig};
use crate::request::per_drive;
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
        let Prepared { job, configured } = crate::request::prepare_source(source, flash)?;
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
        let patched = match &identities {
            Some(identities) => {
                let sample = identities.clone().assign("serial")?;
                let configured = crate::identity::configure(&source, &sample, wifi.as_ref())
                    .map_err(|cause| {
                        RequestError::Config(BootConfigError::InImage {
                            image: source.path().to_path_buf(),
                            cause: Box::new(cause),
                        })
                    })?;
                vec![configured.patch.range()]
            }
            None => configured.iter().map(|c| c.patch.range()).collect(),
        };
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
            verify: flash.verify,
            expected_sha256: job.expected_sha256,
            eject: flash.eject,
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
