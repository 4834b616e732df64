//! Progress on a terminal: one bar per target (phase, percent, MB/s, ETA),
//! then a table of results with the image's SHA-256. When stderr is not a
//! terminal the bars stay hidden and each target's end is one line.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::sink::{EventSink, RunInfo};
use crate::engine::{Ejected, FlashEvent, FlashReport, Phase, Refusal, TargetOutcome};
use crate::humanize;

pub struct Terminal {
    multi: MultiProgress,
    bars: Vec<ProgressBar>,
    phases: Vec<Option<Phase>>,
    interactive: bool,
}

impl Terminal {
    pub fn new() -> Terminal {
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

impl EventSink for Terminal {
    fn start(&mut self, info: &RunInfo<'_>) {
        let size = info.size.map_or(
            "size unknown until decompressed".to_string(),
            humanize::bytes,
        );
        eprintln!("Image   {} ({}, {size})", info.image, info.format);
        if let Some(configured) = info.configured {
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
            _ => println!("Image SHA-256  unknown: the image could not be read to its end"),
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

/// "1.07 GB written", or "312 MB of 1.07 GB written (the rest is free
/// space)" when only the used bytes were.
fn written(report: &FlashReport, outcome: &TargetOutcome) -> String {
    let image = report.image_bytes.unwrap_or(outcome.bytes_written);
    if outcome.written_bytes < image {
        format!(
            "{} of {} written (the rest is free space)",
            humanize::bytes(outcome.written_bytes),
            humanize::bytes(image)
        )
    } else {
        format!("{} written", humanize::bytes(image))
    }
}
