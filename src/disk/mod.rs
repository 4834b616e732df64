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
pub(crate) mod fat_boot;
pub(crate) mod optical;
pub(crate) mod partitions;
pub(crate) mod stream;
pub(crate) mod stream_end;
pub(crate) mod tables;

pub(crate) use error::DiskError;
pub(crate) use fat_boot::FatGeometry;
pub(crate) use optical::is_optical_volume;
pub(crate) use partitions::{Partition, PartitionTable, TableScheme, read_partition_table};
pub(crate) use stream::ForwardReader;
pub(crate) use stream_end::{StreamEnd, implied_end_of};
pub(crate) use tables::{read_ebr, read_tables};
