//! ISO 9660 and UDF volumes, recognised by their volume descriptors: an
//! isohybrid image (most Linux live ISOs) is an ISO 9660 filesystem over
//! the whole image whose files include the partitions its MBR or GPT point
//! to, so nothing in such a volume can be judged free by a partition's own
//! filesystem (docs/architecture.md §2).

/// The volume descriptors start at byte 32768 of the volume (sector 16 of
/// 2048 bytes).
pub(crate) const DESCRIPTORS_START: usize = 32768;
/// Bytes of a volume read to find the descriptors: the sixteen 2048-byte
/// slots after [`DESCRIPTORS_START`] (UDF on 4096-byte blocks puts one in
/// every other slot).
pub(crate) const PROBE_LEN: usize = 65536;
/// Standard identifiers of ISO 9660 ("CD001") and of UDF's volume
/// recognition sequence (ECMA-167: "BEA01", "NSR02", "NSR03").
const IDENTIFIERS: [&[u8; 5]; 4] = [b"CD001", b"BEA01", b"NSR02", b"NSR03"];
const SLOT: usize = 2048;

/// Whether `volume` (the first bytes of an image or of a partition, up to
/// [`PROBE_LEN`]) holds an ISO 9660 or UDF volume descriptor.
pub(crate) fn is_optical_volume(volume: &[u8]) -> bool {
    (DESCRIPTORS_START..PROBE_LEN)
        .step_by(SLOT)
        .filter_map(|at| volume.get(at + 1..at + 6))
        .any(|id| IDENTIFIERS.iter().any(|known| id == known.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_iso_and_udf_descriptors_and_nothing_else() {
        let mut volume = vec![0u8; PROBE_LEN];
        assert!(!is_optical_volume(&volume));
        volume[32769..32774].copy_from_slice(b"CD001");
        assert!(is_optical_volume(&volume));
        let mut udf = vec![0u8; PROBE_LEN];
        udf[32768 + 2 * 4096 + 1..][..5].copy_from_slice(b"NSR03");
        assert!(is_optical_volume(&udf));
        assert!(!is_optical_volume(&udf[..40000]));
    }
}
