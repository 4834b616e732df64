//! `imprint verify-drive RECORD -t DEV [--key PUB]`: whether a drive still
//! holds what its signed record says, range by range, without the image
//! (`request::load_record`, docs/architecture.md §11 "Signed records").
//! Exit 0 it holds, 1 a range differs (named) or cannot be read, 2 the
//! record is refused (bad signature, another drive, no hashes).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use clap::Args;

use crate::humanize::bytes as format_bytes;
use crate::request::{self, Exit};

#[derive(Debug, Args)]
pub struct VerifyDriveArgs {
    /// A signed record: the .json a `flash --report FILE --sign KEY` wrote
    /// beside FILE (its signature is RECORD.minisig).
    pub record: PathBuf,
    /// The drive to check (read only).
    #[arg(short = 't', long = "target", value_name = "DEV")]
    pub target: PathBuf,
    /// The public key (`imprint key new`'s .pub) the record must be signed
    /// with; without it the signature is not checked, and that is said.
    #[arg(long, value_name = "PUB")]
    pub key: Option<PathBuf>,
}

pub(super) fn run(args: VerifyDriveArgs) -> Exit {
    let checked = match request::load_record(&args.record, args.key.as_deref(), &args.target) {
        Ok(checked) => checked,
        Err(message) => {
            eprintln!("imprint: {message}");
            return Exit::Refused;
        }
    };
    match &checked.signature {
        Some(signature) => println!("signature: {} verifies", signature.display()),
        None => eprintln!(
            "imprint: the record's signature was not checked (no --key): this proves only that the drive matches the file"
        ),
    }
    println!(
        "drive: {} is the recorded drive ({})",
        args.target.display(),
        checked.identity
    );
    let total: u64 = checked.ranges.iter().map(|r| r.len).sum();
    let changed = match request::changed(&checked, &args.target, &AtomicBool::new(false)) {
        Ok(changed) => changed,
        Err(message) => {
            eprintln!("imprint: {message}");
            return Exit::Failed;
        }
    };
    if changed.is_empty() {
        println!(
            "ok: {} holds what the record says: {} ranges, {} of used bytes, each equal",
            args.target.display(),
            checked.ranges.len(),
            format_bytes(total)
        );
        return Exit::Ok;
    }
    for range in &changed {
        println!(
            "differs: bytes {}..{} ({} at offset {}) no longer hold what the record says",
            range.start,
            range.start + range.len,
            format_bytes(range.len),
            range.start
        );
    }
    eprintln!(
        "imprint: {} differs from its record in {} of {} ranges; rewrite it from the image",
        args.target.display(),
        changed.len(),
        checked.ranges.len()
    );
    Exit::Failed
}
