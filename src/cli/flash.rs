//! `imprint flash`, `verify` and `hash`.

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use sha2::{Digest, Sha256};

use super::args::{FlashArgs, IdentityArgs, VerifyArgs};
use super::json_lines::JsonLines;
use super::sink::{EventSink, RunInfo};
use super::terminal::Terminal;
use super::{flash_each, interrupt, refuse};
use crate::bootcfg::{BootConfigError, Configured};
use crate::disk::StreamEnd;
use crate::engine::{self, FlashEvent, FlashJob, FlashReport, Refusal, hex};
use crate::humanize;
use crate::protocol::{ErrorKind, WireEvent};
use crate::request::{self, Exit, FlashOptions, Mode, Prepared, RequestError};
use crate::source::{ImageSource, STDIN_NAME};
use crate::target::{self, RunInput, TargetInfo};

/// Opens the image and builds the configured boot partition, if asked.
fn prepare(options: &FlashOptions, json: bool) -> Result<Prepared, Exit> {
    let prepared =
        request::prepare(options).map_err(|e| refuse(json, e.kind(), &message_for_cli(&e)))?;
    interrupt::watch(&prepared.job.source);
    Ok(prepared)
}

/// The error as the command line says it: naming its options.
fn message_for_cli(error: &RequestError) -> String {
    match error {
        RequestError::Config(BootConfigError::WifiWithoutConfig) => format!(
            "--wifi-ssid needs --config FILE: {}",
            BootConfigError::WifiWithoutConfig
        ),
        RequestError::Sha256(hex) => format!("--sha256 wants 64 hexadecimal digits, got {hex:?}"),
        other => other.to_string(),
    }
}

fn sink(json: bool) -> Box<dyn EventSink> {
    if json {
        Box::new(JsonLines::new())
    } else {
        Box::new(Terminal::new())
    }
}

pub(super) fn run(args: FlashArgs) -> Exit {
    let cancel = interrupt::install(args.json);
    if let Err(exit) = refuse_files_under_elevation(&args.targets, args.json) {
        return exit;
    }
    let mut config = (&args.config).into();
    let customise = match args.customisation.to_options(&mut config) {
        Ok(customise) => customise,
        Err(message) => return refuse(args.json, ErrorKind::Config, &message),
    };
    let options = FlashOptions {
        image: args.image.clone(),
        targets: args.targets.clone(),
        config,
        customise,
        verify: !args.no_verify,
        expected_sha256: args.sha256.clone(),
        full: args.full,
        eject: args.eject,
        bmap: (&args.bmap).into(),
    };
    let Prepared {
        mut job,
        configured,
        customise,
    } = match prepare(&options, args.json) {
        Ok(prepared) => prepared,
        Err(exit) => return exit,
    };
    job.probe = args.probe_mode();
    if let Err(exit) = args.signed.apply(&mut job.source, args.json) {
        return exit;
    }
    let per_target = match flash_each::prepare(
        &args.identity,
        &options,
        &mut job,
        configured.as_ref(),
        customise.as_ref(),
        args.json,
    ) {
        Ok(per_target) => per_target,
        Err(exit) => return exit,
    };
    job.inputs.extend(identity_inputs(&args.identity));
    job.inputs.extend(args.signed.inputs(&args.image));
    // The image's SHA-256 costs a pass over every byte: taken when compared
    // (`--sha256`), asked for, or kept in a report record, else `done` has
    // none (docs/architecture.md §2).
    job.hash_image = args.image_sha256 || per_target.is_some();
    let mut sink = sink(args.json);
    let checked = match engine::check(&job) {
        Ok(checked) => checked,
        Err(refusals) => {
            sink.refused(&refusals);
            return Exit::Refused;
        }
    };
    if args.dry_run {
        describe_dry_run(&job, &checked, args.json);
        return Exit::Ok;
    }
    if !args.yes {
        let Some(mut answers) = confirmation_input(&job) else {
            return refuse(
                args.json,
                ErrorKind::Refused,
                "not asking for confirmation on a non-terminal: pass --yes to write the targets",
            );
        };
        if !confirm(&job, &checked, answers.as_mut()) {
            return refuse(
                args.json,
                ErrorKind::Cancelled,
                "cancelled, nothing was written",
            );
        }
    }
    if let Some(per_target) = per_target {
        return per_target.run(&job, configured.as_ref(), sink.as_mut(), cancel, args.eject);
    }
    run_to_end(
        &job,
        configured.as_ref(),
        sink.as_mut(),
        Mode::Flash,
        cancel,
        args.eject,
    )
}

/// Under pkexec only drives are targets: said before anything is opened
/// (docs/architecture.md §3).
fn refuse_files_under_elevation(targets: &[std::path::PathBuf], json: bool) -> Result<(), Exit> {
    let refusals = target::refuse_files_under_elevation(targets);
    if refusals.is_empty() {
        return Ok(());
    }
    sink(json).refused(&refusals);
    Err(Exit::Refused)
}

/// `--each`, `--report` and `--sign`: files of the run that no target may be.
fn identity_inputs(args: &IdentityArgs) -> Vec<RunInput> {
    let each = args
        .each
        .as_deref()
        .map(|p| RunInput::new("the --each CSV", p));
    let report = args
        .report
        .as_deref()
        .map(|p| RunInput::new("the --report file", p));
    let key = args
        .sign
        .as_deref()
        .map(|p| RunInput::new("the --sign key", p));
    each.into_iter().chain(report).chain(key).collect()
}

pub(super) fn verify(args: VerifyArgs) -> Exit {
    let cancel = interrupt::install(args.json);
    if let Err(exit) = refuse_files_under_elevation(&args.targets, args.json) {
        return exit;
    }
    if let Some(message) = per_drive_refusal(&args) {
        return refuse(args.json, ErrorKind::Usage, &message);
    }
    let options = FlashOptions {
        image: args.image.clone(),
        targets: args.targets.clone(),
        config: (&args.config).into(),
        customise: Default::default(),
        verify: true,
        expected_sha256: None,
        full: args.full,
        eject: false,
        bmap: (&args.bmap).into(),
    };
    let Prepared {
        job, configured, ..
    } = match prepare(&options, args.json) {
        Ok(prepared) => prepared,
        Err(exit) => return exit,
    };
    let mut sink = sink(args.json);
    run_to_end(
        &job,
        configured.as_ref(),
        sink.as_mut(),
        Mode::Verify,
        cancel,
        false,
    )
}

/// Why `verify` cannot check drives that each got their own config.json
/// (`--each`, `--new-uuid`, placeholders in `--config`): one template
/// matches none of them, and a good card would fail. Says how to verify
/// one: with the config.json that drive got.
fn per_drive_refusal(args: &VerifyArgs) -> Option<String> {
    const HOW: &str = "verify one drive at a time with the config.json it was given: the template with that drive's values filled in (its row, uuid, n and hostname are in the --report record of the flash), as --config FILE";
    if args.each.is_some() || args.new_uuid {
        return Some(format!(
            "verify does not take --each or --new-uuid: each drive was written with its own config.json, which no single run can compare; {HOW}"
        ));
    }
    let template = args.config.config.as_deref()?;
    let per_drive = request::per_drive::is_per_drive_template(template);
    per_drive.then(|| {
        format!(
            "{} uses {{serial}}, {{n}} or {{uuid}}: each drive was written with those filled in, so the template itself matches none of them; {HOW}",
            template.display()
        )
    })
}

/// Runs `job` to its end, its events to `sink`; the exit status.
fn run_to_end(
    job: &FlashJob,
    configured: Option<&Configured>,
    sink: &mut dyn EventSink,
    mode: Mode,
    cancel: Arc<AtomicBool>,
    eject: bool,
) -> Exit {
    let info = run_info(job, configured);
    match run_engine(job, &info, sink, mode, cancel, eject) {
        Ok(report) => Exit::of(&report),
        Err(refusals) => {
            sink.refused(&refusals);
            Exit::Refused
        }
    }
}

pub(super) fn run_info<'a>(job: &FlashJob, configured: Option<&'a Configured>) -> RunInfo<'a> {
    RunInfo {
        image: job.source.path().display().to_string(),
        format: job.source.format().name(),
        size: job.size_hint(),
        targets: job
            .targets
            .iter()
            .map(|t| t.display().to_string())
            .collect(),
        configured,
        full: job.full,
        bmap: job.bmap.as_ref().map(|b| b.path.display().to_string()),
    }
}

/// Runs the engine on its own thread and feeds its events to `sink`;
/// a signal cancels the run (see [`interrupt`]).
pub(super) fn run_engine(
    job: &FlashJob,
    info: &RunInfo<'_>,
    sink: &mut dyn EventSink,
    mode: Mode,
    cancel: Arc<AtomicBool>,
    eject: bool,
) -> Result<FlashReport, Vec<Refusal>> {
    match mode {
        Mode::Flash => {
            interrupt::name_targets(&job.targets);
            interrupt::started_writing();
        }
        Mode::Verify => interrupt::started_verifying(),
    }
    sink.start(info);
    let run = request::spawn(job.clone(), mode, cancel).and_then(|run| {
        if eject {
            run.ejecting(job.targets.clone())
        } else {
            Ok(run)
        }
    });
    let run = match run {
        Ok(run) => run,
        Err(e) => panic!("cannot start the engine thread: {e}"),
    };
    for event in &run.events {
        let done = matches!(event, FlashEvent::Done { .. });
        sink.event(&event);
        if done {
            break;
        }
    }
    let result = run.finish();
    if let Ok(report) = &result {
        sink.finish(info, report);
    }
    // The process cannot exit before the kernel returns these calls.
    for path in engine::stuck_targets() {
        eprintln!(
            "imprint: waiting for {} to finish a read or write the kernel cannot interrupt; if the drive does not respond, unplugging it ends the wait",
            path.display()
        );
    }
    result
}

fn describe_dry_run(job: &FlashJob, checked: &[TargetInfo], json: bool) {
    if json {
        super::json_lines::emit(&WireEvent::DryRun {
            image: job.source.path().display().to_string(),
            format: job.source.format().name().to_string(),
            size: job.size_hint(),
            targets: checked
                .iter()
                .map(|t| t.path.display().to_string())
                .collect(),
        });
        return;
    }
    println!(
        "Dry run: every check passed; would write {} ({}) to:",
        job.source.path().display(),
        job.source.format()
    );
    for target in checked {
        println!("  {}", describe_target(target));
    }
    println!("Nothing was written.");
}

fn describe_target(target: &TargetInfo) -> String {
    match target.size_bytes {
        Some(size) => format!("{} ({})", target.path.display(), humanize::bytes(size)),
        None => format!("{} (file)", target.path.display()),
    }
}

/// Where the answer to the confirmation comes from: standard input when it
/// is a terminal; the controlling terminal when standard input carries the
/// image; `None` when there is no terminal to ask on.
fn confirmation_input(job: &FlashJob) -> Option<Box<dyn BufRead>> {
    if job.source.path().as_os_str() == STDIN_NAME {
        let tty = std::fs::File::open("/dev/tty").ok()?;
        return Some(Box::new(io::BufReader::new(tty)));
    }
    io::stdin()
        .is_terminal()
        .then(|| Box::new(io::stdin().lock()) as Box<dyn BufRead>)
}

/// Asks on the terminal; true when the user typed yes.
fn confirm(job: &FlashJob, checked: &[TargetInfo], answers: &mut dyn BufRead) -> bool {
    eprintln!("About to write {} to:", job.source.path().display());
    for target in checked {
        eprintln!("  {}", describe_target(target));
    }
    eprint!("Everything on these targets will be erased. Continue? [y/N] ");
    let _ = io::stderr().flush();
    let mut answer = String::new();
    if answers.read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// `imprint hash IMAGE`: the SHA-256 of the decompressed image.
pub(super) fn hash(image: &Path) -> Exit {
    let source = match ImageSource::open(image) {
        Ok(source) => source,
        Err(e) => return refuse(false, ErrorKind::Image, &e.to_string()),
    };
    let mut stream = match source.stream() {
        Ok(stream) => stream,
        Err(e) => return refuse(false, ErrorKind::Image, &e.to_string()),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    // A stream of unknown length must reach the end its tables imply: the
    // hash of a cut stream is not the image's.
    let mut stream_end = source.size_hint().is_none().then(StreamEnd::default);
    let mut offset = 0u64;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                if let Some(stream_end) = stream_end.as_mut() {
                    stream_end.feed(offset, &buf[..n]);
                }
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return refuse(
                    false,
                    ErrorKind::Image,
                    &format!(
                        "reading the image {} failed at byte {offset} of its decompressed data: {e}",
                        image.display()
                    ),
                );
            }
        }
    }
    if let Some(Err(cut)) = stream_end.map(|s| s.check(offset)) {
        return refuse(
            false,
            ErrorKind::Image,
            &format!("reading the image {} failed: {cut}", image.display()),
        );
    }
    println!("{}  {}", hex(&hasher.finalize()), image.display());
    Exit::Ok
}
