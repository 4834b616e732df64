//! balenaOS configuration: find the boot partition of an image, and produce
//! the configured bytes of that partition (`/config.json`, optional WiFi
//! profile) as a [`crate::engine::Patch`] that the engine streams in place
//! of the original bytes.
