//! `flash --trusted-key PUB [--signature FILE]`: the image must carry a
//! minisign signature by that key (`request::require_image_signature`).

use std::path::PathBuf;

use clap::Args;

use super::refuse;
use crate::protocol::ErrorKind;
use crate::request::{self, Exit};
use crate::source::ImageSource;
use crate::target::RunInput;

#[derive(Debug, Clone, Default, Args)]
pub struct SignedImageArgs {
    /// Flash only an image signed by this minisign public key: its
    /// signature (IMAGE.minisig beside it, or --signature) is checked over
    /// every byte as the image is read; a signature that does not verify
    /// fails every drive.
    #[arg(long, value_name = "PUB")]
    pub trusted_key: Option<PathBuf>,
    /// The image's minisign signature, when it is not IMAGE.minisig.
    #[arg(long, value_name = "FILE", requires = "trusted_key")]
    pub signature: Option<PathBuf>,
}

impl SignedImageArgs {
    /// Makes the run check the signature; a refusal is exit 2.
    pub(super) fn apply(&self, source: &mut ImageSource, json: bool) -> Result<(), Exit> {
        let Some(key) = &self.trusted_key else {
            return Ok(());
        };
        request::require_image_signature(source, self.signature.as_deref(), key)
            .map(drop)
            .map_err(|message| refuse(json, ErrorKind::Image, &message))
    }

    /// The key and the signature: files of the run that no target may be.
    pub(super) fn inputs(&self, image: &std::path::Path) -> Vec<RunInput> {
        let Some(key) = &self.trusted_key else {
            return Vec::new();
        };
        let signature = self
            .signature
            .clone()
            .unwrap_or_else(|| request::signature_beside(image));
        vec![
            RunInput::new("the --trusted-key", key),
            RunInput::new("the image's signature", &signature),
        ]
    }
}
