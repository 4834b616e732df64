//! `imprint backup DEV -o FILE`: a drive saved as an image, reading only
//! its used bytes (`crate::backup`). Progress, `--json` events and exit
//! codes as for `flash` (docs/architecture.md §5): the output file is the
//! run's one target — `start`, `progress` (phase `write`, bytes read of the
//! used bytes), `target_done`, `done` with `output`; 2 when refused before
//! the output exists, 1 when the backup failed (its files removed).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{interrupt, json_lines, refuse};
use crate::backup::{self, BackupError, Finished};
use crate::engine::{FailureKind, Phase};
use crate::humanize;
use crate::protocol::{ErrorKind, Outcome, WireEvent};
use crate::request::Exit;

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The drive to back up: a block device (/dev/sdb), one of its
    /// partitions, a loop device or an image file. It must not be mounted.
    #[arg(value_name = "DEV")]
    pub device: PathBuf,
    /// The image to write (never overwritten). Its name picks the format:
    /// .img.zst (zstd, on every core), .img.xz, .img.gz, or .img (raw,
    /// free space as holes). FILE.bmap and FILE.sha256 are written beside it.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// One JSON event per line on stdout instead of progress bars.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn run(args: BackupArgs) -> Exit {
    let cancel = interrupt::install(args.json);
    let prepared = match backup::prepare(&args.device, &args.output) {
        Ok(prepared) => prepared,
        Err(e) if e.is_refusal() => return refuse(args.json, ErrorKind::Refused, &e.to_string()),
        Err(e) => return failed(&args, &e),
    };
    let output = prepared.output().display().to_string();
    let to_read = prepared.to_read();
    if args.json {
        json_lines::emit(
            &WireEvent::Start {
                image: args.device.display().to_string(),
                format: prepared.compression.name().to_string(),
                size: Some(prepared.size()),
                targets: vec![output.clone()],
                boot_partition: None,
                config_sha256: None,
                warnings: prepared.notes.clone(),
                map: None,
                mapped_bytes: None,
                customisation: None,
            }
            .with_map("filesystems", Some(to_read)),
        );
    } else {
        eprintln!(
            "Backing up {} ({}) to {} ({}): {} used",
            args.device.display(),
            humanize::bytes(prepared.size()),
            output,
            prepared.compression.name(),
            humanize::bytes(to_read)
        );
        for note in &prepared.notes {
            eprintln!("  {note}");
        }
    }
    interrupt::started_writing();
    let bar = progress_bar(args.json, to_read);
    let mut last = Instant::now();
    let mut report = |read: u64| {
        if last.elapsed() < Duration::from_millis(100) && read < to_read {
            return;
        }
        last = Instant::now();
        if args.json {
            json_lines::emit(&WireEvent::Progress {
                target: output.clone(),
                phase: Phase::Write,
                bytes: read,
                total: Some(to_read),
                drive: None,
            });
        } else {
            bar.set_position(read);
        }
    };
    let result = prepared.run(cancel, &mut report);
    bar.finish_and_clear();
    match result {
        Ok(done) => finished(&args, &done),
        Err(e) => failed(&args, &e),
    }
}

fn progress_bar(json: bool, total: u64) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(10));
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:>8} [{bar:32.cyan/blue}] {percent:>3}%  {binary_bytes_per_sec:>11}  {eta} left",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix("reading");
    bar
}

fn finished(args: &BackupArgs, done: &Finished) -> Exit {
    let output = args.output.display().to_string();
    if args.json {
        json_lines::emit(&WireEvent::TargetDone {
            target: output.clone(),
            ok: true,
            outcome: Outcome::Ok,
            kind: None,
            error: None,
            offset: None,
            sha256: Some(done.file_sha256.clone()),
            written_bytes: Some(done.file_bytes),
            verified_bytes: None,
            matched_bytes: None,
            drive: None,
        });
        json_lines::emit(&done_event(args, Some(done)));
        return Exit::Ok;
    }
    let seconds = done.elapsed.as_secs_f64().max(1e-3);
    eprintln!(
        "Backed up {} to {}: read {} of {} in {:.1} s ({}), wrote {}",
        args.device.display(),
        output,
        humanize::bytes(done.read_bytes),
        humanize::bytes(done.image_bytes),
        seconds,
        humanize::rate(done.read_bytes as f64 / seconds),
        humanize::bytes(done.file_bytes)
    );
    eprintln!(
        "  read: {} bytes ({} used, {} metadata)",
        done.read_bytes,
        done.read_bytes - done.metadata_bytes,
        done.metadata_bytes
    );
    eprintln!("  bmap:   {}", done.bmap.display());
    eprintln!(
        "  SHA-256 of {}: {} (in {})",
        output,
        done.file_sha256,
        done.sha256_file.display()
    );
    println!("{}  image", done.image_sha256);
    Exit::Ok
}

fn failed(args: &BackupArgs, error: &BackupError) -> Exit {
    let output = args.output.display().to_string();
    if args.json {
        let (outcome, kind) = match error {
            BackupError::Cancelled => (Outcome::Cancelled, FailureKind::Cancelled),
            BackupError::Read { .. } => (Outcome::Failed, FailureKind::Source),
            _ => (Outcome::Failed, FailureKind::Write),
        };
        json_lines::emit(&WireEvent::TargetDone {
            target: output,
            ok: false,
            outcome,
            kind: Some(kind),
            error: Some(error.to_string()),
            offset: error.offset(),
            sha256: None,
            written_bytes: None,
            verified_bytes: None,
            matched_bytes: None,
            drive: None,
        });
        json_lines::emit(&done_event(args, None));
    }
    eprintln!("imprint: {error}");
    Exit::Failed
}

fn done_event(args: &BackupArgs, done: Option<&Finished>) -> WireEvent {
    WireEvent::Done {
        ok: usize::from(done.is_some()),
        failed: usize::from(done.is_none()),
        image_sha256: done.map(|d| d.image_sha256.clone()),
        image_bytes: done.map(|d| d.image_bytes),
        output: Some(args.output.display().to_string()),
        boot_partition: None,
        config_sha256: None,
        warnings: Vec::new(),
        customisation: None,
    }
}
