//! The download's row on the progress screen, for an image at a URL: bytes
//! received of the file's size, the rate or, during a stall, how long it
//! has waited for the server, and the last retry in plain words until the
//! download has gone on past it (the drives wait meanwhile; nothing is
//! wrong with them).

use std::time::Instant;

use super::super::download::{DownloadProgress, DownloadStatus};
use super::super::theme;
use super::widgets;
use crate::humanize;

/// Draws the row; nothing for an image file.
pub(super) fn download_row_ui(ui: &mut egui::Ui, download: &DownloadProgress) {
    let now = Instant::now();
    let Some(status) = download.status(now) else {
        return;
    };
    widgets::card_frame(ui, None).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(egui::RichText::new("Download").strong());
        if let Some(total) = status.total.filter(|&t| t > 0) {
            ui.add(egui::ProgressBar::new(status.bytes as f32 / total as f32));
        }
        ui.label(widgets::secondary(ui, download_line(&status)));
        if let Some(retry) = retry_line(download, now) {
            ui.label(egui::RichText::new(retry).color(theme::warning_text(ui.visuals())));
        }
    });
    // The stall's seconds count on without events.
    if status.waiting.is_some() {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_secs(1));
    }
    ui.add_space(8.0);
}

/// "Downloaded 12 MB of 300 MB · 4.1 MB/s", or "… · Waiting for the
/// server (12 s)" while no data comes.
fn download_line(status: &DownloadStatus) -> String {
    let mut line = match status.total {
        Some(total) => format!(
            "Downloaded {} of {}",
            humanize::bytes(status.bytes),
            humanize::bytes(total)
        ),
        None => format!("Downloaded {}", humanize::bytes(status.bytes)),
    };
    if let Some(waited) = status.waiting {
        line += &format!(" · Waiting for the server ({} s)", waited.as_secs());
    } else if let Some(rate) = status.rate {
        line += &format!(" · {}", humanize::rate(rate));
    }
    line
}

/// "The download was interrupted at 120 MB (…); it resumed from there".
fn retry_line(download: &DownloadProgress, now: Instant) -> Option<String> {
    let (at, reason) = download.resume_notice(now)?;
    Some(format!(
        "The download was interrupted at {} ({reason}); it resumed from there (try {}). \
         The drives wait meanwhile.",
        humanize::bytes(*at),
        download.retries
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn lines_say_where_the_download_is_and_why_it_resumed() {
        let mut download = DownloadProgress::default();
        let now = Instant::now();
        assert!(download.status(now).is_none());
        download.received(12_000_000, Some(300_000_000), now);
        let status = download.status(now).unwrap();
        assert_eq!(download_line(&status), "Downloaded 12 MB of 300 MB");
        download.retried(12_000_000, "no data for 30 s".into(), now);
        let retry = retry_line(&download, now).unwrap();
        assert!(retry.contains("12 MB (no data for 30 s)"), "{retry}");
        let stalled = download.status(now + Duration::from_secs(12)).unwrap();
        assert_eq!(
            download_line(&stalled),
            "Downloaded 12 MB of 300 MB · Waiting for the server (12 s)"
        );
    }
}
