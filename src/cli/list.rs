//! `imprint list`: the drives a user may flash.
//!
//! By default only the drives a user would flash (removable, USB, SD/MMC,
//! never the system drive); `--all` adds fixed, virtual (loop) and system
//! drives, each marked. `--json` prints one JSON document on stdout: an
//! array of drive objects (the fields of [`Drive`] plus `name` and
//! `flashable_by_default`), so `imprint list --json | jq` works as is.

use std::error::Error;
use std::path::Path;

use serde::Serialize;

use super::args::ListArgs;
use crate::drives::{self, Drive};
use crate::humanize;
use crate::request::Exit;

/// A drive as `--json` prints it.
#[derive(Serialize)]
struct DriveJson<'a> {
    #[serde(flatten)]
    drive: &'a Drive,
    /// [`Drive::display_name`].
    name: String,
    /// Whether `imprint list` without `--all` shows it.
    flashable_by_default: bool,
}

pub(super) fn run(args: ListArgs) -> Exit {
    let all_drives = match drives::list() {
        Ok(drives) => drives,
        Err(e) => {
            eprintln!("imprint list: cannot list drives: {}", error_chain(&e));
            return Exit::Failed;
        }
    };
    let shown: Vec<&Drive> = all_drives
        .iter()
        .filter(|drive| args.all || drive.is_flashable_by_default())
        .collect();
    if args.json {
        print_json(&shown)
    } else {
        print_table(&shown, args.all);
        Exit::Ok
    }
}

fn print_json(drives: &[&Drive]) -> Exit {
    let documents: Vec<DriveJson> = drives
        .iter()
        .map(|drive| DriveJson {
            drive,
            name: drive.display_name(),
            flashable_by_default: drive.is_flashable_by_default(),
        })
        .collect();
    match serde_json::to_string_pretty(&documents) {
        Ok(text) => {
            println!("{text}");
            Exit::Ok
        }
        Err(e) => {
            eprintln!("imprint list: cannot write JSON: {e}");
            Exit::Failed
        }
    }
}

fn print_table(drives: &[&Drive], all: bool) {
    if drives.is_empty() {
        if all {
            println!("No drives found.");
        } else {
            println!("No removable drives found. `imprint list --all` shows every drive.");
        }
        return;
    }
    let rows: Vec<[String; 5]> = drives
        .iter()
        .map(|drive| {
            [
                drive.path.display().to_string(),
                humanize::bytes(drive.size_bytes),
                drive.display_name(),
                drive.bus.label().to_string(),
                flags(drive).join(", "),
            ]
        })
        .collect();
    let header = ["DEVICE", "SIZE", "NAME", "BUS", "NOTES"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let [device, size, name, bus, notes] = cells;
        let text = format!(
            "{device:<w0$}  {size:>w1$}  {name:<w2$}  {bus:<w3$}  {notes}",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        );
        println!("{}", text.trim_end());
    };
    line(header);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
}

/// What a person should know before choosing the drive.
fn flags(drive: &Drive) -> Vec<String> {
    let mut flags = Vec::new();
    if let Some(reason) = &drive.system {
        // The reason starts with the device, which the table already shows.
        let prefix = format!("{} ", drive.path.display());
        flags.push(format!(
            "system: {}",
            reason.strip_prefix(&prefix).unwrap_or(reason)
        ));
    }
    if drive.read_only {
        flags.push("read-only".into());
    }
    if drive.removable {
        flags.push("removable".into());
    }
    let mounted: Vec<&Path> = drive
        .mount_points
        .iter()
        .chain(drive.partitions.iter().flat_map(|p| &p.mount_points))
        .map(|point| point.as_path())
        .collect();
    if drive.system.is_none() && !mounted.is_empty() {
        let points: Vec<String> = mounted.iter().map(|p| p.display().to_string()).collect();
        flags.push(format!("mounted at {}", points.join(" ")));
    }
    flags
}

/// "message: cause: cause" for an error and its sources.
fn error_chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
