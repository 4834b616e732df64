//! Tests of the Station board (`station_board`): tiles follow the wire events.

use super::*;

fn line(text: &str) -> WireEvent {
    WireEvent::parse(text).unwrap()
}

#[test]
fn tiles_follow_each_drive_from_insertion_to_removal() {
    let mut board = Board::default();
    board.apply(&line(
        r#"{"event":"skipped","drive":"p","path":"/dev/sda","reason":"present"}"#,
    ));
    assert!(
        board.tiles.is_empty(),
        "drives present at the start get no tile"
    );
    board.apply(&line(
        r#"{"event":"inserted","drive":"a","path":"/dev/sdb","size":8,"model":"Ultra"}"#,
    ));
    board.apply(&line(
        r#"{"event":"inserted","drive":"b","path":"/dev/sdc","size":8}"#,
    ));
    board.apply(&line(
        r#"{"event":"flashing","drive":"a","path":"/dev/sdb","uuid":"ab12","hostname":"line-1"}"#,
    ));
    board.apply(&line(r#"{"event":"progress","target":"/dev/sdb","phase":"verify","bytes":1,"total":4,"drive":"a"}"#));
    assert_eq!(board.tiles[0].name, "Ultra");
    assert_eq!(
        board.tiles[0].state,
        TileState::Busy(Phase::Verify, Some(0.25))
    );
    assert_eq!(
        board.tiles[0].identity.as_deref(),
        Some("uuid ab12 · hostname line-1")
    );
    board.apply(&line(r#"{"event":"target_done","target":"/dev/sdb","ok":true,"outcome":"ok","kind":null,"error":null,"offset":null,"sha256":null,"drive":"a"}"#));
    board.apply(&line(r#"{"event":"target_done","target":"/dev/sdc","ok":false,"outcome":"failed","kind":"write","error":"read-only","offset":null,"sha256":null,"drive":"b"}"#));
    assert_eq!((board.done, board.failed), (1, 1));
    assert_eq!(board.tiles[1].state, TileState::Failed("read-only".into()));
    board.apply(&line(
        r#"{"event":"removed","drive":"a","path":"/dev/sdb"}"#,
    ));
    assert_eq!(
        board.tiles.len(),
        1,
        "a finished drive taken out frees its slot"
    );
    // The next card in the same port takes the slot.
    board.apply(&line(
        r#"{"event":"inserted","drive":"c","path":"/dev/sdc","size":8}"#,
    ));
    assert_eq!(board.tiles.len(), 1);
    assert_eq!(board.tiles[0].drive, "c");
}

#[test]
fn a_record_that_could_not_be_written_is_kept_for_the_screen() {
    let mut board = Board::default();
    board.apply(&line(
        r#"{"event":"error","kind":"report","error":"cannot append to the report r.jsonl: No space left on device; the drive /dev/sdb is not recorded"}"#,
    ));
    assert_eq!(board.warnings.len(), 1);
    assert!(board.warnings[0].contains("/dev/sdb is not recorded"));
    // The station's own warning becomes that line.
    let wire = crate::station::StationEvent::Warning("not recorded".into()).to_wire();
    assert_eq!(wire, [WireEvent::error(ErrorKind::Report, "not recorded")]);
}
