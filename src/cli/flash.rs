//! `imprint flash`, `verify` and `hash`.

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use super::args::{ConfigArgs, FlashArgs, VerifyArgs};
use super::json_lines::JsonLines;
use super::sink::{EventSink, RunInfo};
use super::terminal::Terminal;
use super::{EXIT_FAILED, EXIT_OK, EXIT_REFUSED};
use crate::bootcfg::Configured;
use crate::engine::{self, FlashEvent, FlashJob, FlashReport, Refusal, hex};
use crate::humanize;
use crate::source::ImageSource;
use crate::target::TargetInfo;

/// Prints a refusal before anything was written and returns exit code 2.
fn refuse(json: bool, message: &str) -> u8 {
    if json {
        super::json_lines::emit(&serde_json::json!({"event": "error", "error": message}));
    }
    eprintln!("imprint: {message}");
    EXIT_REFUSED
}

/// Opens the image and builds the configured boot partition, if asked.
fn prepare(
    image: &Path,
    config: &ConfigArgs,
    json: bool,
) -> Result<(ImageSource, Option<Configured>), u8> {
    let source = ImageSource::open(image).map_err(|e| refuse(json, &e.to_string()))?;
    let configured = super::configure::prepare(&source, config).map_err(|e| refuse(json, &e))?;
    Ok((source, configured))
}

fn sink(json: bool) -> Box<dyn EventSink> {
    if json {
        Box::new(JsonLines::new())
    } else {
        Box::new(Terminal::new())
    }
}

fn validate_sha256(hex: &str) -> Result<String, String> {
    let hex = hex.trim().to_ascii_lowercase();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(format!(
            "--sha256 wants 64 hexadecimal digits, got {:?}",
            hex
        ))
    }
}

pub fn run(args: FlashArgs) -> u8 {
    let expected_sha256 = match args.sha256.as_deref().map(validate_sha256).transpose() {
        Ok(sha) => sha,
        Err(message) => return refuse(args.json, &message),
    };
    let (source, configured) = match prepare(&args.image, &args.config, args.json) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let job = FlashJob {
        source,
        targets: args.targets.clone(),
        verify: !args.no_verify,
        expected_sha256,
        patch: configured.as_ref().map(|c| c.patch.clone()),
    };
    let mut sink = sink(args.json);
    let checked = match engine::check(&job) {
        Ok(checked) => checked,
        Err(refusals) => {
            sink.refused(&refusals);
            return EXIT_REFUSED;
        }
    };
    if args.dry_run {
        describe_dry_run(&job, &checked, args.json);
        return EXIT_OK;
    }
    if !args.yes {
        if !io::stdin().is_terminal() {
            return refuse(
                args.json,
                "not asking for confirmation on a non-terminal: pass --yes to write the targets",
            );
        }
        if !confirm(&job, &checked) {
            eprintln!("imprint: cancelled, nothing was written");
            return EXIT_REFUSED;
        }
    }
    let info = run_info(&job, configured.as_ref());
    match run_engine(&job, &info, sink.as_mut(), engine::flash) {
        Ok(report) => exit_code(&report),
        Err(refusals) => {
            sink.refused(&refusals);
            EXIT_REFUSED
        }
    }
}

pub fn verify(args: VerifyArgs) -> u8 {
    let (source, configured) = match prepare(&args.image, &args.config, args.json) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let job = FlashJob {
        source,
        targets: args.targets.clone(),
        verify: true,
        expected_sha256: None,
        patch: configured.as_ref().map(|c| c.patch.clone()),
    };
    let mut sink = sink(args.json);
    let info = run_info(&job, configured.as_ref());
    match run_engine(&job, &info, sink.as_mut(), engine::verify) {
        Ok(report) => exit_code(&report),
        Err(refusals) => {
            sink.refused(&refusals);
            EXIT_REFUSED
        }
    }
}

fn exit_code(report: &FlashReport) -> u8 {
    if report.failed() == 0 {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

fn run_info<'a>(job: &FlashJob, configured: Option<&'a Configured>) -> RunInfo<'a> {
    RunInfo {
        image: job.source.path().display().to_string(),
        format: job.source.format().name(),
        size: job.source.size_hint(),
        targets: job
            .targets
            .iter()
            .map(|t| t.display().to_string())
            .collect(),
        configured,
    }
}

type EngineRun = fn(
    &FlashJob,
    &crossbeam_channel::Sender<FlashEvent>,
    &AtomicBool,
) -> Result<FlashReport, Vec<Refusal>>;

/// Runs the engine on its own thread and feeds its events to `sink`;
/// Ctrl-C cancels the run.
fn run_engine(
    job: &FlashJob,
    info: &RunInfo<'_>,
    sink: &mut dyn EventSink,
    engine_run: EngineRun,
) -> Result<FlashReport, Vec<Refusal>> {
    let cancel = Arc::new(AtomicBool::new(false));
    let on_interrupt = cancel.clone();
    // A second handler cannot be installed in the same process; tests that
    // call this twice simply keep the first one.
    let _ = ctrlc::set_handler(move || {
        on_interrupt.store(true, Ordering::Relaxed);
    });
    let (events_tx, events_rx) = crossbeam_channel::unbounded();
    sink.start(info);
    let result = std::thread::scope(|s| {
        let engine = std::thread::Builder::new()
            .name("engine".into())
            .spawn_scoped(s, || engine_run(job, &events_tx, &cancel))
            .expect("spawning the engine thread");
        for event in &events_rx {
            let done = matches!(event, FlashEvent::Done { .. });
            sink.event(&event);
            if done {
                break;
            }
        }
        engine.join().expect("the engine thread panicked")
    });
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
        super::json_lines::emit(&serde_json::json!({
            "event": "dry_run",
            "image": job.source.path().display().to_string(),
            "format": job.source.format().name(),
            "size": job.source.size_hint(),
            "targets": checked.iter().map(|t| t.path.display().to_string()).collect::<Vec<_>>(),
        }));
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

/// Asks on the terminal; true when the user typed yes.
fn confirm(job: &FlashJob, checked: &[TargetInfo]) -> bool {
    eprintln!("About to write {} to:", job.source.path().display());
    for target in checked {
        eprintln!("  {}", describe_target(target));
    }
    eprint!("Everything on these targets will be erased. Continue? [y/N] ");
    let _ = io::stderr().flush();
    let mut answer = String::new();
    if io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// `imprint hash IMAGE`: the SHA-256 of the decompressed image.
pub fn hash(image: &Path) -> u8 {
    let source = match ImageSource::open(image) {
        Ok(source) => source,
        Err(e) => return refuse(false, &e.to_string()),
    };
    let mut stream = match source.stream() {
        Ok(stream) => stream,
        Err(e) => return refuse(false, &e.to_string()),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return refuse(
                    false,
                    &format!(
                        "reading the image {} failed at byte {offset} of its decompressed data: {e}",
                        image.display()
                    ),
                );
            }
        }
    }
    println!("{}  {}", hex(&hasher.finalize()), image.display());
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::validate_sha256;

    #[test]
    fn sha256_must_be_64_hex_digits() {
        let good = "0786AD1FDCBA31A3F03EE80EB1D6E8C7EE2F4647A2B4B6F1855C9FE0719784DE";
        assert_eq!(validate_sha256(good).unwrap(), good.to_ascii_lowercase());
        assert!(validate_sha256("abc").is_err());
        assert!(validate_sha256(&"g".repeat(64)).is_err());
    }
}
