//! `imprint verify-drive RECORD -t DEV [--key PUB]`: whether a drive still
//! holds what its signed record says, range by range, without the image
//! (`request::load_record`, docs/architecture.md §11 "Signed records").
//! Exit 0 it holds, 1 a range differs (named) or cannot be read, 2 the
//! record is refused (bad signature, another drive, no hashes).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use clap::Args;

use super::json_lines::emit;
use super::refuse;
use crate::humanize::bytes as format_bytes;
use crate::protocol::{ErrorKind, WireEvent};
use crate::report::RangeHash;
use crate::request::{self, CheckedRecord, Exit};

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
    /// JSON lines on stdout: a `range` line per range that differs, then a
    /// `verdict` line; a refusal is an `error` line.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn run(args: VerifyDriveArgs) -> Exit {
    let checked = match request::load_record(&args.record, args.key.as_deref(), &args.target) {
        Ok(checked) => checked,
        Err(message) => return refuse(args.json, ErrorKind::Refused, &message),
    };
    match &checked.signature {
        Some(signature) if !args.json => println!("signature: {} verifies", signature.display()),
        Some(_) => {}
        None => eprintln!(
            "imprint: the record's signature was not checked (no --key): this proves only that the drive matches the file"
        ),
    }
    if !args.json {
        println!(
            "drive: {} is the recorded drive ({})",
            args.target.display(),
            checked.identity
        );
    }
    let changed = match request::changed(&checked, &args.target, &AtomicBool::new(false)) {
        Ok(changed) => changed,
        Err(message) => {
            if args.json {
                emit(&WireEvent::error(ErrorKind::Image, &message));
            }
            eprintln!("imprint: {message}");
            return Exit::Failed;
        }
    };
    if args.json {
        json_verdict(&args, &checked, &changed)
    } else {
        text_verdict(&args, &checked, &changed)
    }
}

/// One `range` line per differing range, then the `verdict` line.
fn json_verdict(args: &VerifyDriveArgs, checked: &CheckedRecord, changed: &[RangeHash]) -> Exit {
    let target = args.target.display().to_string();
    for range in changed {
        emit(&WireEvent::Range {
            target: target.clone(),
            start: range.start,
            len: range.len,
            result: "differs".into(),
        });
    }
    emit(&WireEvent::Verdict {
        target,
        ok: changed.is_empty(),
        ranges: checked.ranges.len() as u64,
        differing: changed.len() as u64,
        used_bytes: checked.ranges.iter().map(|r| r.len).sum(),
        signature_checked: checked.signature.is_some(),
    });
    if changed.is_empty() {
        Exit::Ok
    } else {
        Exit::Failed
    }
}

fn text_verdict(args: &VerifyDriveArgs, checked: &CheckedRecord, changed: &[RangeHash]) -> Exit {
    let total: u64 = checked.ranges.iter().map(|r| r.len).sum();
    if changed.is_empty() {
        println!(
            "ok: {} holds what the record says: {} ranges, {} of used bytes, each equal",
            args.target.display(),
            checked.ranges.len(),
            format_bytes(total)
        );
        return Exit::Ok;
    }
    for range in changed {
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
