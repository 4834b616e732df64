//! The disk layout of an image, neutral to what is done with it: which
//! partition tables count and what they declare (MBR with its EBR chain,
//! GPT behind a protective or hybrid MBR: [`tables`]), the partitions read
//! from a stream ([`partitions`]), a FAT boot sector's geometry
//! ([`fat_boot`]), ISO 9660 / UDF signatures ([`optical`]), positioned
//! reads over a forward-only stream ([`stream`]), and where a stream of
//! unknown length must end ([`stream_end`]).
//!
//! Both the map of used bytes (`crate::map`) and the balenaOS configuration
//! (`crate::bootcfg`) stand on this layer, so they read an image's layout
//! the same way (docs/architecture.md §1, §2).

mod error;
pub mod fat_boot;
pub mod optical;
pub mod partitions;
pub mod stream;
pub mod stream_end;
pub mod tables;

pub use error::DiskError;
pub use fat_boot::{FatBootSector, FatGeometry};
pub use optical::is_optical_volume;
pub use partitions::{Partition, PartitionTable, TableScheme, read_partition_table};
pub use stream::ForwardReader;
pub use stream_end::{CutShort, StreamEnd, implied_end_of};
pub use tables::{TableKind, Tables, read_ebr, read_tables};
