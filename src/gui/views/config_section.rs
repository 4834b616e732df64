//! Step 3's optional part: the collapsible "balenaOS configuration" form
//! (config.json, WiFi), with the validation result right under it.

use egui::RichText;

use super::super::action::Action;
use super::super::app_state::AppState;
use super::super::config_check::ConfigStatus;
use super::super::file_dialog::Purpose;
use super::super::image_probe::PartitionTable;
use super::super::theme;
use super::widgets;

pub(super) fn config_step_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    widgets::card_ui(ui, |ui| {
        widgets::step_title_ui(ui, 3, "Flash", state.flash_blocker().is_none());
        let check = if state.run_options.verify {
            "Every drive is read back and compared with the image after writing."
        } else {
            "Verification is skipped: the drives are not read back after writing."
        };
        ui.label(widgets::secondary(ui, check));
        ui.add_space(4.0);
        super::options_section::options_section_ui(ui, &state.run_options, actions);
        if state
            .image
            .info()
            .is_some_and(|i| i.partition_table == PartitionTable::None)
        {
            // Said up front rather than after a configuration is tried.
            ui.add(
                egui::Label::new(widgets::secondary(
                    ui,
                    "This image has no partition table, so no balenaOS boot partition: it is \
                     written as it is, without a configuration.",
                ))
                .wrap(),
            );
        }
        let section = egui::CollapsingHeader::new("balenaOS configuration (optional)")
            .default_open(!state.config.is_empty())
            .open(state.reveal_config.then_some(true))
            .show(ui, |ui| config_form_ui(ui, state, actions));
        widgets::follow_unfolding(ui, &section, state.reveal_config, "follow_config_section");
    });
}

fn config_form_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.label(widgets::secondary(
        ui,
        "Embed a config.json from balenaCloud (and WiFi settings) into the image's boot \
         partition while it is written. WiFi alone works on an image that already holds a \
         config.json (as balenaCloud's downloads do). The image file itself is not changed.",
    ));
    ui.horizontal(|ui| match &state.config.config_path {
        Some(path) => {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                widgets::type_path_link_ui(ui, Purpose::Config, actions);
                if ui.button("Remove").clicked() {
                    actions.push(Action::ClearConfig);
                }
                if ui.button("Change…").clicked() {
                    actions.push(Action::PickConfig);
                }
                ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                    let name = path.file_name().map_or_else(
                        || path.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    widgets::truncated_ui(
                        ui,
                        RichText::new(name).strong(),
                        &path.display().to_string(),
                    );
                });
            });
        }
        None => {
            if ui.button("Choose config.json…").clicked() {
                actions.push(Action::PickConfig);
            }
            widgets::type_path_link_ui(ui, Purpose::Config, actions);
            ui.label(widgets::secondary(ui, "or drop it on this window"));
        }
    });
    widgets::path_entry_ui(ui, state.path_entry.as_ref(), Purpose::Config, actions);
    wifi_fields_ui(ui, state, actions);
    status_ui(ui, state);
}

/// "Use HomeNet again?": the network of an earlier session, offered while
/// the field is empty — never filled in: an unasked network would be
/// written to every card (docs/architecture.md §6).
fn wifi_offer_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let form = &state.config;
    if let Some(remembered) = state
        .remembered_ssid
        .as_ref()
        .filter(|_| form.wifi_ssid.is_empty())
    {
        // Offered, never filled in: an unasked network would be written to
        // every card (docs/architecture.md §6).
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("Use \u{201c}{remembered}\u{201d} again?"));
            if ui.button(format!("Use {remembered}")).clicked() {
                actions.push(Action::SetWifi {
                    ssid: remembered.clone(),
                    psk: String::new(),
                    open: false,
                });
            }
            if ui.button("No").clicked() {
                actions.push(Action::DismissWifiOffer);
            }
        });
    }
}

fn wifi_fields_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let form = &state.config;
    wifi_offer_ui(ui, state, actions);
    let mut ssid = form.wifi_ssid.clone();
    let mut psk = form.wifi_psk.clone();
    let mut open = form.open_network;
    let mut show = state.show_password;
    let mut changed = false;
    egui::Grid::new("wifi")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            let label = ui.label("WiFi network");
            changed |= ui
                .add(
                    egui::TextEdit::singleline(&mut ssid)
                        .hint_text("optional")
                        .desired_width(260.0),
                )
                .labelled_by(label.id)
                .changed();
            ui.end_row();
            let label = ui.label("WiFi password");
            ui.horizontal(|ui| {
                let hint = if open {
                    "none: open network"
                } else {
                    "8 to 63 characters"
                };
                changed |= ui
                    .add_enabled(
                        !open,
                        egui::TextEdit::singleline(&mut psk)
                            .password(!show)
                            .hint_text(hint)
                            .desired_width(200.0),
                    )
                    .labelled_by(label.id)
                    .changed();
                if ui
                    .add_enabled(!open, egui::Checkbox::new(&mut show, "Show password"))
                    .changed()
                {
                    actions.push(Action::ShowPassword(show));
                }
            });
            ui.end_row();
            ui.label("");
            changed |= ui
                .checkbox(&mut open, "Open network (no password)")
                .on_hover_text(
                    "Only for a network that asks no password: anyone nearby can join it",
                )
                .changed();
            ui.end_row();
        });
    if changed {
        actions.push(Action::SetWifi { ssid, psk, open });
    }
}

fn status_ui(ui: &mut egui::Ui, state: &AppState) {
    // One message for the form's state, the most pressing: an error, then
    // what the user must still choose, then the check's verdict.
    if let Some(error) = state.config.local_error() {
        ui.add(
            egui::Label::new(RichText::new(error).color(theme::error_text(ui.visuals()))).wrap(),
        );
        return;
    }
    if let Some(reason) = state.config.wifi_blocker() {
        ui.add(
            egui::Label::new(
                RichText::new(format!("{reason}.")).color(theme::warning_text(ui.visuals())),
            )
            .wrap(),
        );
        return;
    }
    match &state.config_status {
        ConfigStatus::Unused => {
            if !state.config.is_empty() && state.image.info().is_none() {
                ui.label(widgets::secondary(
                    ui,
                    "Checked against the image once one is selected.",
                ));
            }
        }
        ConfigStatus::Checking => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Checking the configuration…");
            });
        }
        ConfigStatus::Valid(configured) => valid_ui(ui, configured),
        ConfigStatus::Invalid(problem) => widgets::problem_ui(ui, problem, theme::ERROR),
    }
}

/// A valid configuration: green when nothing needs a look, else the
/// first warning is the (orange) headline — never under a green "valid".
fn valid_ui(ui: &mut egui::Ui, configured: &crate::bootcfg::Configured) {
    let number = configured.partition.number;
    let (what, place) = if configured.config_kept {
        (
            "WiFi settings",
            format!("they go into boot partition {number}; the image's own config.json is kept"),
        )
    } else {
        (
            "Configuration",
            format!("it goes into boot partition {number}"),
        )
    };
    let Some((first, rest)) = configured.warnings.split_first() else {
        let text = format!("{what} valid: {place}");
        ui.add(
            egui::Label::new(RichText::new(text).color(theme::success_text(ui.visuals()))).wrap(),
        );
        return;
    };
    let headline = RichText::new(with_period(first))
        .strong()
        .color(theme::warning_text(ui.visuals()));
    ui.add(egui::Label::new(headline).wrap());
    for warning in rest {
        let text = RichText::new(with_period(warning)).color(theme::warning_text(ui.visuals()));
        ui.add(egui::Label::new(text).wrap());
    }
    let text = format!("{what} otherwise valid: {place}.");
    ui.add(egui::Label::new(widgets::secondary(ui, text)).wrap());
}

/// A warning as the engine words it (it may start with "config.json",
/// which keeps its case), ended with a full stop.
fn with_period(text: &str) -> String {
    if text.ends_with('.') {
        text.to_string()
    } else {
        format!("{text}.")
    }
}
