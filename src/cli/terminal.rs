//! Progress on a terminal: one bar per target (phase, percent, MB/s, ETA),
//! then a table of results with the image's SHA-256. When stderr is not a
//! terminal the bars stay hidden and each target's end is one line.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::sink::{EventSink, RunInfo};
use crate::bootcfg::Configured;
use crate::engine::{Ejected, FailureKind, FlashEvent, FlashReport, Phase, Refusal, TargetOutcome};
use crate::humanize;

pub(super) struct Terminal {
    multi: MultiProgress,
    bars: Vec<ProgressBar>,
    phases: Vec<Option<Phase>>,
    /// For an image at a URL: the download's bar, made at its first event.
    download: Option<ProgressBar>,
    interactive: bool,
}

impl Terminal {
    pub(super) fn new() -> Terminal {
        let interactive = std::io::stderr().is_terminal();
        let target = if interactive {
            ProgressDrawTarget::stderr_with_hz(10)
        } else {
            ProgressDrawTarget::hidden()
        };
        Terminal {
            multi: MultiProgress::with_draw_target(target),
            bars: Vec::new(),
            phases: Vec::new(),
            download: None,
            interactive,
        }
    }

    fn style(known_total: bool) -> ProgressStyle {
        let template = if known_total {
            "{prefix:>14} {msg:9} [{bar:32.cyan/blue}] {percent:>3}%  {binary_bytes_per_sec:>11}  {eta} left"
        } else {
            "{prefix:>14} {msg:9} {spinner} {binary_bytes}  {binary_bytes_per_sec:>11}"
        };
        ProgressStyle::with_template(template)
            .expect("a valid progress template")
            .progress_chars("=> ")
    }

    fn note(&self, line: String) {
        if self.interactive {
            self.multi.suspend(|| eprintln!("{line}"));
        } else {
            eprintln!("{line}");
        }
    }
}

/// The customisation of `configured` on stderr: the format, why, the
/// files and the partition; then its warnings.
pub(super) fn print_customisation(configured: &Configured) {
    let Some(customisation) = &configured.customisation else {
        return;
    };
    let p = &configured.partition;
    eprintln!(
        "Custom  {} format: {} into partition {} {} at byte {}",
        customisation.format,
        customisation.files.join(", "),
        p.number,
        p.label.as_deref().unwrap_or(""),
        p.offset
    );
    for fact in &customisation.evidence {
        eprintln!("        because {fact}");
    }
}

impl EventSink for Terminal {
    fn start(&mut self, info: &RunInfo<'_>) {
        let size = info.size.map_or(
            "size unknown until decompressed".to_string(),
            humanize::bytes,
        );
        eprintln!("Image   {} ({}, {size})", info.image, info.format);
        if let Some(bmap) = &info.bmap {
            // Found beside the image, it may be news to the user.
            eprintln!(
                "Bmap    {bmap} (its ranges are written too, and checked as the image streams)"
            );
        }
        if let Some(configured) = info.configured.filter(|c| c.customisation.is_some()) {
            print_customisation(configured);
            for warning in &configured.warnings {
                eprintln!("warning: {warning}");
            }
        } else if let Some(configured) = info.configured {
            let p = &configured.partition;
            eprintln!(
                "Config  config.json (sha256 {}) into partition {} {} at byte {}",
                &configured.config_sha256,
                p.number,
                p.label.as_deref().unwrap_or(""),
                p.offset
            );
            for warning in &configured.warnings {
                eprintln!("warning: {warning}");
            }
        }
        for target in &info.targets {
            let bar = self.multi.add(ProgressBar::new(info.size.unwrap_or(0)));
            bar.set_style(Self::style(info.size.is_some()));
            bar.set_prefix(target.clone());
            bar.set_message("waiting");
            bar.enable_steady_tick(Duration::from_millis(250));
            self.bars.push(bar);
            self.phases.push(None);
        }
    }

    fn event(&mut self, event: &FlashEvent) {
        match event {
            FlashEvent::Progress {
                target,
                phase,
                bytes,
                total,
            } => {
                let Some(bar) = self.bars.get(*target) else {
                    return;
                };
                if self.phases[*target] != Some(*phase) {
                    self.phases[*target] = Some(*phase);
                    bar.reset();
                    bar.set_style(Self::style(total.is_some()));
                    bar.set_message(match phase {
                        Phase::Write => "writing",
                        Phase::Verify => "verifying",
                    });
                }
                if let Some(total) = total {
                    bar.set_length(*total);
                }
                bar.set_position(*bytes);
            }
            FlashEvent::TargetDone { target, result, .. } => {
                let Some(bar) = self.bars.get(*target) else {
                    return;
                };
                let name = bar.prefix();
                match result {
                    Ok(()) => {
                        bar.finish_with_message("done");
                        if !self.interactive {
                            self.note(format!("{name}: done"));
                        }
                    }
                    Err(failure) => {
                        bar.abandon_with_message("FAILED");
                        self.note(format!("{name}: FAILED: {}", failure.message));
                    }
                }
            }
            FlashEvent::Probed { target, verdict } => {
                let Some(bar) = self.bars.get(*target) else {
                    return;
                };
                let name = bar.prefix();
                // "No evidence" is never worded as "genuine" (a fake whose
                // capacity no probed block crossed passes).
                self.note(match verdict.real_bytes() {
                    None => format!(
                        "{name}: counterfeit probe: no evidence of a fake card (this does not prove it genuine)"
                    ),
                    Some(real) => format!(
                        "{name}: counterfeit probe: {}; this card is fake: it holds only {}",
                        verdict.words(),
                        crate::humanize::bytes(real)
                    ),
                });
            }
            FlashEvent::Ejected { target, result } => {
                let Some(bar) = self.bars.get(*target) else {
                    return;
                };
                let name = bar.prefix();
                self.note(match result {
                    Ok(Ejected::PoweredOff) => format!("{name}: ejected, safe to remove"),
                    Ok(Ejected::Flushed) => format!("{name}: flushed, safe to remove"),
                    Err(e) => format!("{name}: {e}"),
                });
            }
            FlashEvent::Download { bytes, total } => {
                let bar = self.download.get_or_insert_with(|| {
                    let bar = self.multi.insert(0, ProgressBar::new(total.unwrap_or(0)));
                    bar.set_style(Self::style(total.is_some()));
                    bar.set_prefix("download");
                    bar.set_message("receiving");
                    bar
                });
                bar.set_position(*bytes);
                if total == &Some(*bytes) {
                    bar.finish_with_message("done");
                }
            }
            FlashEvent::Downloaded { sha256 } => {
                self.note(format!("download: the file's SHA-256 is {sha256}"));
            }
            FlashEvent::Retry {
                attempt,
                at,
                reason,
            } => self.note(format!(
                "download: {reason} at {}; resuming (try {attempt})",
                humanize::bytes(*at)
            )),
            FlashEvent::Started { .. } | FlashEvent::Done { .. } => {}
        }
    }

    fn finish(&mut self, info: &RunInfo<'_>, report: &FlashReport) {
        let _ = self.multi.clear();
        println!();
        let width = info
            .targets
            .iter()
            .map(|t| t.len())
            .max()
            .unwrap_or(6)
            .max(6);
        println!("{:width$}  RESULT", "TARGET");
        for outcome in &report.targets {
            let name = outcome.target.display().to_string();
            match &outcome.result {
                Ok(()) if outcome.verified && outcome.bytes_written == 0 => {
                    println!("{name:width$}  ok: identical to the image")
                }
                Ok(()) if outcome.verified => println!(
                    "{name:width$}  ok: {} and verified",
                    written(report, outcome)
                ),
                Ok(()) if outcome.bytes_written == 0 => {
                    println!("{name:width$}  ok: identical to the image")
                }
                Ok(()) => println!(
                    "{name:width$}  ok: {} (not verified)",
                    written(report, outcome)
                ),
                Err(failure) => println!("{name:width$}  FAILED: {}", failure.message),
            }
        }
        println!();
        match (&report.image_sha256, report.image_bytes) {
            (Some(sha), Some(bytes)) => println!("Image SHA-256  {sha}  ({bytes} bytes)"),
            _ => println!("Image SHA-256  unknown: {}", why_no_image_sha(report)),
        }
        println!(
            "{} of {} target(s) succeeded",
            report.succeeded(),
            report.targets.len()
        );
    }

    fn refused(&mut self, refusals: &[Refusal]) {
        for refusal in refusals {
            eprintln!("imprint: refusing {refusal}");
        }
        eprintln!("imprint: nothing was written");
    }
}

/// Why the run has no image SHA-256, told only as it is: the image's own
/// fault only when a target failed for it.
fn why_no_image_sha(report: &FlashReport) -> &'static str {
    let kinds = || {
        report
            .targets
            .iter()
            .filter_map(|t| t.result.as_ref().err())
    };
    if kinds().any(|f| f.kind == FailureKind::Download) {
        "the download failed before the image's end"
    } else if kinds().any(|f| f.kind == FailureKind::Source) {
        "the image could not be read to its end"
    } else if kinds().any(|f| f.kind == FailureKind::Cancelled) {
        "the run was cancelled before the image's end"
    } else {
        "the run stopped before the image's end (see each target)"
    }
}

/// "1.07 GB written", or "312 MB of 1.07 GB written (the rest is free
/// space)" when only the used bytes were.
/// With compare-before-write, "12 MB of 1.07 GB written, 300 MB already
/// on the drive (compared, not written)".
fn written(report: &FlashReport, outcome: &TargetOutcome) -> String {
    let image = report.image_bytes.unwrap_or(outcome.bytes_written);
    if outcome.matched_bytes > 0 {
        format!(
            "{} of {} written, {} already on the drive (compared, not written)",
            humanize::bytes(outcome.written_bytes),
            humanize::bytes(image),
            humanize::bytes(outcome.matched_bytes)
        )
    } else if outcome.written_bytes < image {
        format!(
            "{} of {} written (the rest is free space)",
            humanize::bytes(outcome.written_bytes),
            humanize::bytes(image)
        )
    } else {
        format!("{} written", humanize::bytes(image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::TargetFailure;

    fn report(kinds: &[FailureKind]) -> FlashReport {
        FlashReport {
            targets: kinds
                .iter()
                .map(|&kind| TargetOutcome {
                    target: "/dev/sdx".into(),
                    result: Err(TargetFailure {
                        kind,
                        offset: None,
                        message: "x".into(),
                    }),
                    bytes_written: 0,
                    written_bytes: 0,
                    verified_bytes: 0,
                    matched_bytes: 0,
                    verified: false,
                })
                .collect(),
            image_sha256: None,
            image_bytes: None,
        }
    }

    #[test]
    fn the_image_is_blamed_for_a_missing_hash_only_when_it_failed() {
        let not_the_image = why_no_image_sha(&report(&[FailureKind::Write, FailureKind::Verify]));
        assert!(
            !not_the_image.contains("could not be read"),
            "{not_the_image}"
        );
        let cancelled = why_no_image_sha(&report(&[FailureKind::Cancelled]));
        assert!(cancelled.contains("cancelled"), "{cancelled}");
        let download = why_no_image_sha(&report(&[FailureKind::Download]));
        assert!(download.contains("download failed"), "{download}");
        let damaged = why_no_image_sha(&report(&[FailureKind::Write, FailureKind::Source]));
        assert_eq!(damaged, "the image could not be read to its end");
    }
}
