//! The desktop app, driven through its accessibility tree with
//! egui_kittest (no GPU), and the real window under Xvfb.

mod kittest_bmap;
mod kittest_checksum;
mod kittest_clone;
mod kittest_config;
mod kittest_demo;
mod kittest_download;
mod kittest_drive_failures;
mod kittest_drive_holds;
mod kittest_file_target;
mod kittest_flows;
mod kittest_incomplete;
mod kittest_keyboard;
mod kittest_layout;
mod kittest_light;
mod kittest_links;
mod kittest_options;
mod kittest_outcomes;
mod kittest_settings;
mod kittest_time;
mod kittest_url;
mod kittest_usability;
mod kittest_wifi;
mod kittest_wifi_choice;
mod station;
mod station_words;
mod xvfb_smoke;
