//! The run as one bar above the per-drive rows: every drive and both
//! phases, with the time left for the whole run, verification included.

use super::super::run_time;
use super::super::state::FlashRun;
use super::super::theme;
use super::widgets;
use crate::humanize;

pub(super) fn overall_bar_ui(ui: &mut egui::Ui, run: &FlashRun) {
    if !run.started() {
        return;
    }
    let overall = run_time::overall(run);
    let mut parts = vec![match overall.fraction {
        Some(f) => format!("Overall {:.0}%", f * 100.0),
        None => "Overall".to_string(),
    }];
    // Writing cannot finish before the download does: the longer of the
    // two is the time left, and each is named.
    let download = run.download.seconds_left(std::time::Instant::now());
    let write = overall.seconds_left;
    if let Some(seconds) = [download, write].into_iter().flatten().reduce(f64::max)
        && seconds >= 1.0
    {
        let what = if run.verify {
            "verification included"
        } else {
            "no verification"
        };
        match download {
            Some(d) => parts.push(format!(
                "{} (download {}, writing {})",
                humanize::eta(seconds),
                short(d),
                write.map_or_else(
                    || "unknown".to_string(),
                    |w| format!("{}, {what}", short(w))
                )
            )),
            None => parts.push(format!("{} ({what})", humanize::eta(seconds))),
        }
    }
    ui.label(egui::RichText::new(parts.join(" · ")).strong());
    let bar = match overall.fraction {
        Some(f) => egui::ProgressBar::new(f),
        // Unknown size: an animated bar still says it is working.
        None => egui::ProgressBar::new(0.0).animate(true),
    };
    ui.add(bar.fill(theme::ACCENT).desired_height(10.0));
    ui.label(widgets::secondary(
        ui,
        "Each drive below shows its own phase: writing, then verifying.",
    ));
    ui.add_space(12.0);
}

/// "2 min" from "about 2 min left".
fn short(seconds: f64) -> String {
    let eta = humanize::eta(seconds);
    eta.trim_start_matches("about ")
        .trim_end_matches(" left")
        .to_string()
}
