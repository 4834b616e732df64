//! What a Windows error means for a flash: Win32 error codes (winerror.h)
//! to [`IoFailure`], and back for the message tests. Plain data, so it is
//! checked on every OS.

use std::io;

use super::take::TakeRefused;
use crate::platform::IoFailure;

// winerror.h
const ERROR_FILE_NOT_FOUND: i32 = 2;
const ERROR_ACCESS_DENIED: i32 = 5;
const ERROR_WRITE_PROTECT: i32 = 19;
const ERROR_NOT_READY: i32 = 21;
const ERROR_CRC: i32 = 23;
const ERROR_SECTOR_NOT_FOUND: i32 = 27;
const ERROR_WRITE_FAULT: i32 = 29;
const ERROR_READ_FAULT: i32 = 30;
const ERROR_GEN_FAILURE: i32 = 31;
const ERROR_SHARING_VIOLATION: i32 = 32;
const ERROR_LOCK_VIOLATION: i32 = 33;
const ERROR_HANDLE_DISK_FULL: i32 = 39;
const ERROR_DISK_FULL: i32 = 112;
const ERROR_BUSY: i32 = 170;
const ERROR_FILE_TOO_LARGE: i32 = 223;
const ERROR_NO_SUCH_DEVICE: i32 = 433;
const ERROR_IO_DEVICE: i32 = 1117;
const ERROR_DEVICE_NOT_CONNECTED: i32 = 1167;
const ERROR_NOT_ENOUGH_QUOTA: i32 = 1816;
const ERROR_DISK_QUOTA_EXCEEDED: i32 = 1295;
const ERROR_DEVICE_REMOVED: i32 = 1617;
const ERROR_MEDIA_CHANGED: i32 = 1110;
const ERROR_NO_MEDIA_IN_DRIVE: i32 = 1112;

/// What `error` means: by its Win32 code, else by a refusal of
/// `take.rs` it carries, else by its kind.
pub(crate) fn failure_of(error: &io::Error) -> IoFailure {
    if let Some(code) = error.raw_os_error() {
        return failure_of_code(code);
    }
    if let Some(refused) = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<TakeRefused>())
    {
        return match refused {
            TakeRefused::InUse { .. } => IoFailure::Busy,
            TakeRefused::System { .. } => IoFailure::NotPermitted,
        };
    }
    match error.kind() {
        io::ErrorKind::ResourceBusy => IoFailure::Busy,
        io::ErrorKind::PermissionDenied => IoFailure::Denied,
        _ => IoFailure::Other,
    }
}

fn failure_of_code(code: i32) -> IoFailure {
    match code {
        ERROR_DISK_FULL | ERROR_HANDLE_DISK_FULL => IoFailure::NoSpace,
        ERROR_DISK_QUOTA_EXCEEDED | ERROR_NOT_ENOUGH_QUOTA => IoFailure::QuotaExceeded,
        ERROR_FILE_TOO_LARGE => IoFailure::FileTooLarge,
        ERROR_WRITE_PROTECT => IoFailure::ReadOnly,
        ERROR_ACCESS_DENIED => IoFailure::Denied,
        ERROR_SHARING_VIOLATION | ERROR_LOCK_VIOLATION | ERROR_BUSY => IoFailure::Busy,
        ERROR_NOT_READY
        | ERROR_NO_SUCH_DEVICE
        | ERROR_DEVICE_NOT_CONNECTED
        | ERROR_DEVICE_REMOVED
        | ERROR_MEDIA_CHANGED
        | ERROR_NO_MEDIA_IN_DRIVE
        | ERROR_FILE_NOT_FOUND => IoFailure::Gone,
        ERROR_CRC
        | ERROR_SECTOR_NOT_FOUND
        | ERROR_WRITE_FAULT
        | ERROR_READ_FAULT
        | ERROR_GEN_FAILURE
        | ERROR_IO_DEVICE => IoFailure::DeviceError,
        _ => IoFailure::Other,
    }
}

/// A representative Win32 error of kind `failure`.
#[cfg(test)]
pub(crate) fn os_error(failure: IoFailure) -> io::Error {
    io::Error::from_raw_os_error(match failure {
        IoFailure::NoSpace => ERROR_DISK_FULL,
        IoFailure::QuotaExceeded => ERROR_DISK_QUOTA_EXCEEDED,
        IoFailure::FileTooLarge => ERROR_FILE_TOO_LARGE,
        IoFailure::ReadOnly => ERROR_WRITE_PROTECT,
        IoFailure::Denied => ERROR_ACCESS_DENIED,
        // Windows has no separate "not permitted at all": a write-protected
        // medium is ERROR_WRITE_PROTECT, an attribute ERROR_ACCESS_DENIED.
        IoFailure::NotPermitted => ERROR_ACCESS_DENIED,
        IoFailure::Busy => ERROR_SHARING_VIOLATION,
        IoFailure::Gone => ERROR_DEVICE_NOT_CONNECTED,
        IoFailure::DeviceError => ERROR_IO_DEVICE,
        IoFailure::Other => 1, // ERROR_INVALID_FUNCTION
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_survives_the_round_trip_through_its_code() {
        use IoFailure::*;
        for failure in [
            NoSpace,
            QuotaExceeded,
            FileTooLarge,
            ReadOnly,
            Denied,
            Busy,
            Gone,
            DeviceError,
            Other,
        ] {
            assert_eq!(failure_of(&os_error(failure)), failure, "{failure:?}");
        }
    }

    #[test]
    fn a_card_pulled_out_mid_write_is_gone_and_a_bad_sector_a_device_error() {
        assert_eq!(failure_of_code(ERROR_DEVICE_REMOVED), IoFailure::Gone);
        assert_eq!(failure_of_code(ERROR_NO_MEDIA_IN_DRIVE), IoFailure::Gone);
        assert_eq!(failure_of_code(ERROR_CRC), IoFailure::DeviceError);
        assert_eq!(failure_of_code(ERROR_LOCK_VIOLATION), IoFailure::Busy);
    }
}
