//! Identities from a template, CSV rows, fresh uuids and a report.

use std::fs;

use serde_json::{Value, json};

use super::*;
use crate::protocol::Outcome;
use crate::report::tests::record;
use crate::report::{Claim, Release};

struct Files {
    _dir: tempfile::TempDir,
    template: PathBuf,
    csv: PathBuf,
}

fn files(template: &str, csv: &str) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let template_path = dir.path().join("config.json");
    let csv_path = dir.path().join("ids.csv");
    fs::write(&template_path, template).unwrap();
    fs::write(&csv_path, csv).unwrap();
    Files {
        template: template_path,
        csv: csv_path,
        _dir: dir,
    }
}

impl Files {
    /// `--each` the CSV file.
    fn each(&self) -> IdentityOptions {
        IdentityOptions {
            each: Some(self.csv.clone()),
            new_uuid: false,
        }
    }

    /// The identities `options` give over `ledger`; there must be some.
    fn identities(&self, options: &IdentityOptions, ledger: &Ledger) -> Identities {
        Identities::new(Some(&self.template), options, ledger)
            .unwrap()
            .unwrap()
    }
}

fn config(identity: &DriveIdentity) -> Value {
    serde_json::from_slice(&identity.config.bytes).unwrap()
}

const TEMPLATE: &str =
    r#"{"applicationId": 7, "deviceType": "raspberrypi4-64", "hostname": "dev-{n}"}"#;
const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const CSV: &str = "uuid,deviceApiKey,hostname\n\
                   aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,k1,alpha\n\
                   bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,k2,\n\
                   cccccccccccccccccccccccccccccccc,k3,gamma-{serial}\n";

#[test]
fn each_drive_takes_the_next_row_merged_into_the_template() {
    let f = files(TEMPLATE, CSV);
    let options = f.each();
    let mut ids = f.identities(&options, &Ledger::default());
    assert_eq!(ids.rows_left(), Some(3));
    let first = ids.assign("SN-A").unwrap();
    let second = ids.assign("SN-B").unwrap();
    let third = ids.assign("SN-C").unwrap();
    assert_eq!(
        config(&first),
        json!({"applicationId": 7, "deviceType": "raspberrypi4-64", "hostname": "alpha",
               "uuid": A, "deviceApiKey": "k1"})
    );
    // An empty cell keeps the template's value, placeholders filled.
    assert_eq!(config(&second)["hostname"], "dev-2");
    assert_eq!(config(&third)["hostname"], "gamma-SN-C");
    assert_eq!(
        (first.row, second.row, third.row),
        (Some(1), Some(2), Some(3))
    );
    assert_eq!(
        third.uuid.as_deref(),
        Some("cccccccccccccccccccccccccccccccc")
    );
    assert_eq!(third.hostname.as_deref(), Some("gamma-SN-C"));
    assert!(matches!(
        ids.assign("x"),
        Err(IdentityError::NoRowLeft { .. })
    ));
}

#[test]
fn a_failed_drive_gives_its_row_back() {
    let f = files(TEMPLATE, CSV);
    let options = f.each();
    let mut ids = f.identities(&options, &Ledger::default());
    let first = ids.assign("a").unwrap();
    ids.release(&first);
    let again = ids.assign("b").unwrap();
    assert_eq!(again.row, Some(1));
    // The drive number does not go back: it counts drives, not rows.
    assert_eq!((first.n, again.n), (1, 2));
}

#[test]
fn rows_written_ok_in_the_report_are_skipped_and_n_continues() {
    let f = files(TEMPLATE, CSV);
    let options = f.each();
    let mut ok = record(Some(1), Outcome::Ok);
    ok.n = Some(4);
    let mut failed = record(Some(2), Outcome::Failed);
    failed.n = Some(5);
    let mut ids = f.identities(&options, &Ledger::from_records(vec![ok, failed]));
    assert_eq!(ids.rows_left(), Some(2));
    assert!(matches!(
        ids.check_enough_for(3),
        Err(IdentityError::NotEnoughRows {
            needed: 3,
            left: 2,
            ..
        })
    ));
    ids.check_enough_for(2).unwrap();
    let next = ids.assign("s").unwrap();
    assert_eq!((next.row, next.n), (Some(2), 6));
}

#[test]
fn new_uuids_are_fresh_32_hex_digits_and_fill_the_template() {
    let f = files(r#"{"applicationId": 1, "hostname": "d-{uuid}"}"#, "");
    let options = IdentityOptions {
        each: None,
        new_uuid: true,
    };
    let mut ids = f.identities(&options, &Ledger::default());
    let a = ids.assign("s").unwrap();
    let b = ids.assign("s").unwrap();
    let uuid = a.uuid.clone().unwrap();
    assert_eq!(uuid.len(), 32);
    assert!(uuid.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
    assert_ne!(a.uuid, b.uuid);
    assert_eq!(config(&a)["uuid"], uuid.as_str());
    assert_eq!(config(&a)["hostname"], format!("d-{uuid}"));
}

#[test]
fn new_uuid_with_a_uuid_column_is_refused() {
    let f = files(TEMPLATE, CSV);
    let options = IdentityOptions {
        each: Some(f.csv.clone()),
        new_uuid: true,
    };
    let err = Identities::new(Some(&f.template), &options, &Ledger::default()).unwrap_err();
    assert!(matches!(err, IdentityError::UuidTwice { .. }), "{err}");
}

#[test]
fn a_bad_row_is_refused_before_any_drive() {
    let f = files(TEMPLATE, "applicationId\n1\nseven\n");
    let options = f.each();
    let err = Identities::new(Some(&f.template), &options, &Ledger::default()).unwrap_err();
    assert!(err.to_string().contains("row 2"), "{err}");
}

#[test]
fn a_uuid_placeholder_needs_a_uuid() {
    let f = files(r#"{"hostname": "{uuid}"}"#, "");
    let err = Identities::new(
        Some(&f.template),
        &IdentityOptions::default(),
        &Ledger::default(),
    )
    .unwrap_err();
    assert!(matches!(err, IdentityError::NoUuid), "{err}");
}

#[test]
fn a_plain_template_needs_no_identities() {
    let f = files(TEMPLATE.replace("-{n}", "").as_str(), "");
    let ids = Identities::new(
        Some(&f.template),
        &IdentityOptions::default(),
        &Ledger::default(),
    )
    .unwrap();
    assert!(ids.is_none());
}

#[test]
fn a_row_inserted_at_the_top_does_not_free_a_used_one() {
    let f = files(TEMPLATE, CSV);
    let options = f.each();
    let mut ids = f.identities(&options, &Ledger::default());
    let first = ids.assign("a").unwrap();
    let mut written = record(first.row, Outcome::Ok);
    written.uuid = first.uuid.clone();
    written.row_sha256 = first.row_sha256.clone();
    drop(ids);
    // A new row at the top: the used one is row 2 now.
    fs::write(
        &f.csv,
        CSV.replacen('\n', "\ndddddddddddddddddddddddddddddddd,k0,delta\n", 1),
    )
    .unwrap();
    let mut ids = f.identities(&options, &Ledger::from_records(vec![written]));
    let rows: Vec<Option<String>> = (0..3).map(|_| ids.assign("b").unwrap().uuid).collect();
    assert!(!rows.contains(&Some(A.to_string())), "{rows:?}");
    assert_eq!(rows[0].as_deref(), Some("dddddddddddddddddddddddddddddddd"));
}

#[test]
fn a_claim_holds_its_row_until_a_release_or_a_record_that_failed_ends_it() {
    let f = files(TEMPLATE, CSV);
    let options = f.each();
    let claim = |id: &str, row: usize, uuid: &str| Claim {
        claim: id.into(),
        at: "t".into(),
        path: "/dev/x".into(),
        drive: None,
        n: row as u64,
        row: Some(row),
        row_sha256: None,
        uuid: Some(uuid.into()),
        hostname: None,
    };
    let mut failed = record(Some(2), Outcome::Failed);
    failed.claim = Some("two".into());
    let ledger = Ledger {
        records: vec![failed],
        claims: vec![
            claim("one", 1, A),
            claim("two", 2, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
            claim("three", 3, "cccccccccccccccccccccccccccccccc"),
        ],
        releases: vec![Release {
            claim: "three".into(),
            at: "t".into(),
            reason: "refused".into(),
        }],
    };
    let ids = f.identities(&options, &ledger);
    // Row 1's claim never ended (a crash): it stays taken.
    assert_eq!(ids.rows_left(), Some(2));
    assert_eq!(ids.clone().assign("s").unwrap().row, Some(2));
    assert_eq!(ids.clone().assign("s").unwrap().n, 4);
}
