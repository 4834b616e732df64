//! Tests of `input` (beside it, so the production file stays short).

use super::*;

#[test]
fn positional_readers_keep_their_own_positions() {
    let mut file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut file, b"0123456789").unwrap();
    let file = Arc::new(file);
    let mut a = PositionalReader::new(file.clone(), 10);
    let mut b = PositionalReader::new(file, 10);
    let mut buf = [0u8; 4];
    a.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"0123");
    b.seek(SeekFrom::End(-3)).unwrap();
    let mut rest = Vec::new();
    b.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"789");
    a.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"4567");
}

#[test]
fn an_interrupted_stream_stops_waiting() {
    let (reader, _writer) = std::io::pipe().unwrap();
    let mut stream = StreamReader::spawn(Path::new("pipe"), move || {
        Ok(File::from(std::os::fd::OwnedFd::from(reader)))
    });
    let interrupt = stream.interrupt_handle();
    let waiter = std::thread::Builder::new()
        .name("test/stream-read".into())
        .spawn(move || stream.read(&mut [0u8; 8]))
        .unwrap();
    std::thread::sleep(Duration::from_millis(150));
    interrupt.store(true, Ordering::Relaxed);
    let result = waiter.join().unwrap();
    assert!(
        result
            .unwrap_err()
            .to_string()
            .contains("stopped while waiting")
    );
}
