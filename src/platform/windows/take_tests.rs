use super::*;
use crate::platform::windows::fake::laptop;

fn log_of(os: &crate::platform::windows::fake::FakeWindows) -> Vec<String> {
    os.log.borrow().clone()
}

#[test]
fn a_card_with_two_volumes_is_locked_whole_then_dismounted_in_disk_order() {
    let os = laptop();
    let taken = take_disk(&os, 1).unwrap();
    assert_eq!(taken.volumes.len(), 2);
    assert_eq!(
        log_of(&os),
        [
            r"open \\?\Volume{e}\",
            r"lock \\?\Volume{e}\",
            r"open \\?\Volume{f}\",
            r"lock \\?\Volume{f}\",
            r"dismount \\?\Volume{e}\",
            r"dismount \\?\Volume{f}\",
        ]
    );
    // The locks are held until the disk is let go.
    drop(taken);
    assert_eq!(
        log_of(&os)[6..],
        [r"close \\?\Volume{e}\", r"close \\?\Volume{f}\"]
    );
}

#[test]
fn the_system_disk_is_refused_before_any_volume_is_opened() {
    let os = laptop();
    let error = take_disk(&os, 0).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::PermissionDenied);
    assert_eq!(
        error.to_string(),
        r"\\.\PhysicalDrive0 is the system disk (it holds C:\, the volume of the running Windows): Imprint never writes it"
    );
    assert!(log_of(&os).is_empty());
}

#[test]
fn a_volume_that_refuses_to_lock_refuses_the_disk_and_nothing_is_dismounted() {
    let mut os = laptop();
    os.lock_failures = vec![(r"\\?\Volume{f}\".to_string(), u32::MAX)];
    let error = take_disk(&os, 1).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ResourceBusy);
    let message = error.to_string();
    assert!(
        message.starts_with(r"volume F:\ on \\.\PhysicalDrive1 is in use by another program (Windows refused to lock it 10 times"),
        "{message}"
    );
    assert!(message.ends_with("then try again"), "{message}");
    let log = log_of(&os);
    assert!(!log.iter().any(|l| l.starts_with("dismount")), "{log:?}");
    let locks = log.iter().filter(|l| *l == r"lock \\?\Volume{f}\").count();
    assert_eq!(locks as u32, LOCK_ATTEMPTS);
    // Both volumes are let go again: E:'s lock is released too.
    assert!(log.contains(&r"close \\?\Volume{e}\".to_string()));
    assert!(log.contains(&r"close \\?\Volume{f}\".to_string()));
    assert_eq!(
        crate::platform::windows::errors::failure_of(&error),
        crate::platform::IoFailure::Busy
    );
}

#[test]
fn a_volume_busy_for_a_moment_is_locked_on_a_later_attempt() {
    let mut os = laptop();
    os.lock_failures = vec![(r"\\?\Volume{e}\".to_string(), 2)];
    take_disk(&os, 1).unwrap();
    let log = log_of(&os);
    assert_eq!(log.iter().filter(|l| *l == "pause").count(), 2);
    assert_eq!(log.iter().filter(|l| l.starts_with("dismount")).count(), 2);
}

#[test]
fn a_disk_without_volumes_is_taken_with_nothing_to_lock() {
    let mut os = laptop();
    os.volumes.retain(|v| !v.is_on(1));
    assert!(take_disk(&os, 1).unwrap().volumes.is_empty());
    assert!(log_of(&os).is_empty());
}
