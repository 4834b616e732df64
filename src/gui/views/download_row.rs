//! The download's row on the progress screen, for an image at a URL: bytes
//! received of the file's size, the rate, and the last retry in plain words
//! (the drives wait meanwhile; nothing is wrong with them).

use super::super::download::DownloadProgress;
use super::super::theme;
use super::widgets;
use crate::humanize;

/// Draws the row; nothing for an image file.
pub(super) fn download_row_ui(ui: &mut egui::Ui, download: &DownloadProgress) {
    let Some(line) = download_line(download) else {
        return;
    };
    widgets::card_frame(ui, None).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(egui::RichText::new("Download").strong());
        if let Some((bytes, Some(total), _)) = download.status()
            && total > 0
        {
            ui.add(egui::ProgressBar::new(bytes as f32 / total as f32));
        }
        ui.label(widgets::secondary(ui, line));
        if let Some(retry) = retry_line(download) {
            ui.label(egui::RichText::new(retry).color(theme::WARNING));
        }
    });
    ui.add_space(8.0);
}

/// "Downloaded 12 MB of 300 MB · 4.1 MB/s".
fn download_line(download: &DownloadProgress) -> Option<String> {
    let (bytes, total, rate) = download.status()?;
    let mut line = match total {
        Some(total) => format!(
            "Downloaded {} of {}",
            humanize::bytes(bytes),
            humanize::bytes(total)
        ),
        None => format!("Downloaded {}", humanize::bytes(bytes)),
    };
    if let Some(rate) = rate.filter(|_| total != Some(bytes)) {
        line += &format!(" · {}", humanize::rate(rate));
    }
    Some(line)
}

/// "The connection dropped at 120 MB (…); resuming, try 2 of 5".
fn retry_line(download: &DownloadProgress) -> Option<String> {
    let (at, reason) = download.last_retry.as_ref()?;
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
    use std::time::Instant;

    #[test]
    fn lines_say_where_the_download_is_and_why_it_resumed() {
        let mut download = DownloadProgress::default();
        assert_eq!(download_line(&download), None);
        download.received(12_000_000, Some(300_000_000), Instant::now());
        assert_eq!(
            download_line(&download).unwrap(),
            "Downloaded 12 MB of 300 MB"
        );
        download.retried(12_000_000, "no data for 30 s".into());
        let retry = retry_line(&download).unwrap();
        assert!(retry.contains("12 MB (no data for 30 s)"), "{retry}");
    }
}
