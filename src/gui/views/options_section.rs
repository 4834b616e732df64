//! Step 3's folded "Options": skip verification (with the risk said next to
//! it), write every byte, and eject when done (on by default). Folded because the defaults are right for
//! nearly everyone.

use super::super::action::Action;
use super::super::run_options::RunOptions;
use super::widgets;

pub(super) fn options_section_ui(
    ui: &mut egui::Ui,
    options: &RunOptions,
    actions: &mut Vec<Action>,
) {
    // Unfolded when a choice differs from the default, so it is never a
    // hidden surprise.
    let changed = *options != RunOptions::default();
    let section = egui::CollapsingHeader::new("Options")
        .default_open(changed)
        .show(ui, |ui| {
            let mut next = *options;
            let mut skip = !options.verify;
            ui.checkbox(&mut skip, "Skip verification");
            ui.indent("skip_verify_note", |ui| {
                let note = if skip {
                    // Full-strength text, not the secondary grey: this is
                    // the risk the user just took on.
                    egui::RichText::new(
                        "Faster, but a worn-out or counterfeit card that does not keep what was \
                         written is only found when the device fails to boot.",
                    )
                    .strong()
                } else {
                    widgets::secondary(
                        ui,
                        "Reading every drive back takes about as long as writing it.",
                    )
                };
                ui.add(egui::Label::new(note).wrap());
            });
            next.verify = !skip;
            ui.checkbox(&mut next.full, "Write every byte");
            ui.indent("full_note", |ui| {
                ui.add(
                    egui::Label::new(widgets::secondary(
                        ui,
                        "Also writes the image's free space, so nothing of the drive's old \
                         contents survives. Slower; by default only the bytes the image uses \
                         are written.",
                    ))
                    .wrap(),
                );
            });
            ui.checkbox(&mut next.eject, "Eject when done");
            ui.indent("eject_note", |ui| {
                ui.add(
                    egui::Label::new(widgets::secondary(
                        ui,
                        "Each drive that succeeds is powered off (USB drives, with udisks2) or \
                         flushed, so it can be pulled out at once.",
                    ))
                    .wrap(),
                );
            });
            if next != *options {
                actions.push(Action::SetRunOptions(next));
            }
        });
    widgets::follow_unfolding(ui, &section, false, "follow_options_section");
}
