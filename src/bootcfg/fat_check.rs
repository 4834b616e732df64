//! Checks the cluster chains of a FAT filesystem before Imprint edits it.
//!
//! `fatfs` trusts the FAT: replacing a file whose chain runs into another
//! file's frees and reuses that file's clusters; a chain through a cluster
//! marked free lets the allocator hand it out twice; a loop or a cluster
//! past the end makes it fail half-way ("Seek to a negative offset"). So
//! before anything is written, every chain reachable from the root — all
//! directories and files, the tree walked once, each cluster visited at most
//! once — is followed: each cluster must be in range, in use, not bad, not
//! revisited (a loop) and not shared with another chain (a cross-link). The
//! files Imprint replaces must also have a chain as long as their size says.
//! Lost clusters (in use, owned by nothing) are left alone: no edit can
//! reach them.

use std::fmt::Write as _;

use crate::disk::FatGeometry;

const DIR_ENTRY_LEN: usize = 32;
const ATTR_VOLUME_ID: u8 = 0x08;
const ATTR_DIRECTORY: u8 = 0x10;
/// The attribute bits of a long-file-name entry.
const ATTR_LONG_NAME: u8 = 0x0F;
/// At most this many problems are named in one refusal.
const MAX_PROBLEMS: usize = 4;

/// A FAT's layout, from its boot sector, limited to the bytes present.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Bits per FAT entry: 12, 16 or 32.
    bits: u32,
    fat_start: usize,
    fat_len: usize,
    /// FAT12/16's fixed root directory; empty on FAT32.
    root_dir: (usize, usize),
    data_start: usize,
    cluster_len: usize,
    /// Highest valid cluster number (clusters are numbered from 2).
    max_cluster: u32,
    fat32_root_cluster: u32,
}

/// What a FAT entry says about the cluster after this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Free,
    Cluster(u32),
    End,
    Bad,
}

impl Layout {
    fn parse(partition: &[u8]) -> Result<Layout, String> {
        let fat =
            FatGeometry::read(partition).ok_or("the partition is shorter than a boot sector")?;
        let bytes_per_sector = fat.bytes_per_sector;
        let sectors_per_cluster = fat.sectors_per_cluster;
        // The sizes the specification allows (fatfs refuses others too);
        // they also keep the per-cluster table below small.
        if !matches!(bytes_per_sector, 512 | 1024 | 2048 | 4096)
            || !sectors_per_cluster.is_power_of_two()
        {
            return Err(format!(
                "its boot sector gives {bytes_per_sector}-byte sectors and {sectors_per_cluster} sectors per cluster"
            ));
        }
        let reserved = fat.reserved_sectors;
        let fats = fat.fats;
        let root_dir_sectors = fat.root_dir_sectors();
        let data_start_sector = fat.data_start_sector();
        let sectors_per_fat = fat.sectors_per_fat;
        let cluster_count = fat
            .cluster_count()
            .ok_or("its boot sector puts the data region past the end of the volume")?;
        // The FAT type follows from the cluster count alone (Microsoft's
        // specification; fatfs does the same).
        let bits = match cluster_count {
            0..4085 => 12,
            4085..65525 => 16,
            _ => 32,
        };
        let fat_start = reserved * bytes_per_sector;
        let fat_len = sectors_per_fat * bytes_per_sector;
        let root_start = fat_start + fats * fat_len;
        // Under 2^41 sectors of at most 2^12 bytes: within u64.
        let data_start = data_start_sector * bytes_per_sector;
        let cluster_len = sectors_per_cluster * bytes_per_sector;
        // A cluster is valid if the boot sector counts it, the FAT has an
        // entry for it, and the partition holds its bytes.
        let in_fat = fat_len * 8 / u64::from(bits);
        let in_partition = (partition.len() as u64).saturating_sub(data_start) / cluster_len;
        let usable = cluster_count
            .min(in_fat.saturating_sub(2))
            .min(in_partition);
        let to_usize = |n: u64| usize::try_from(n).map_err(|_| "its boot sector is corrupt");
        if fat_start + fat_len > partition.len() as u64 {
            return Err("its FAT extends past the end of the partition".into());
        }
        Ok(Layout {
            bits,
            fat_start: to_usize(fat_start)?,
            fat_len: to_usize(fat_len)?,
            root_dir: if bits == 32 {
                (0, 0)
            } else {
                (
                    to_usize(root_start)?,
                    to_usize(root_dir_sectors * bytes_per_sector)?,
                )
            },
            data_start: to_usize(data_start)?,
            cluster_len: to_usize(cluster_len)?,
            max_cluster: u32::try_from(usable + 1).map_err(|_| "its boot sector is corrupt")?,
            fat32_root_cluster: fat.root_cluster,
        })
    }

    /// The FAT entry of `cluster` (a valid cluster: its entry is in the FAT).
    fn next(&self, partition: &[u8], cluster: u32) -> Next {
        let fat = &partition[self.fat_start..self.fat_start + self.fat_len];
        let n = cluster as usize;
        let at = |i: usize| fat.get(i).copied().unwrap_or(0);
        let (raw, bad, end) = match self.bits {
            12 => {
                let i = n + n / 2;
                let pair = u16::from_le_bytes([at(i), at(i + 1)]);
                let raw = if n % 2 == 1 { pair >> 4 } else { pair & 0xFFF };
                (u32::from(raw), 0xFF7, 0xFF8)
            }
            16 => (
                u32::from(u16::from_le_bytes([at(2 * n), at(2 * n + 1)])),
                0xFFF7,
                0xFFF8,
            ),
            _ => (
                u32::from_le_bytes([at(4 * n), at(4 * n + 1), at(4 * n + 2), at(4 * n + 3)])
                    & 0x0FFF_FFFF,
                0x0FFF_FFF7,
                0x0FFF_FFF8,
            ),
        };
        match raw {
            0 => Next::Free,
            r if r >= end => Next::End,
            r if r == bad => Next::Bad,
            r => Next::Cluster(r),
        }
    }

    fn cluster_bytes<'a>(&self, partition: &'a [u8], cluster: u32) -> &'a [u8] {
        let start = self.data_start + (cluster as usize - 2) * self.cluster_len;
        &partition[start..start + self.cluster_len]
    }
}

/// One directory entry that owns a chain.
struct Entry {
    name: String,
    is_dir: bool,
    first_cluster: u32,
    size: u32,
}

/// The walk's state: which chain owns each cluster, and what went wrong.
struct Walk<'a> {
    partition: &'a [u8],
    layout: Layout,
    /// Index into `owners` + 1 for each cluster; 0 = not reached yet.
    owner_of: Vec<u32>,
    owners: Vec<String>,
    problems: Vec<String>,
}

impl Walk<'_> {
    fn problem(&mut self, text: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(text);
        }
    }

    /// Follows the chain from `first` for `path`, claiming its clusters;
    /// returns them in order (up to the first problem).
    fn follow(&mut self, path: &str, first: u32) -> Vec<u32> {
        self.owners.push(path.to_string());
        let me = self.owners.len() as u32;
        let mut chain = Vec::new();
        let mut cluster = first;
        loop {
            if !(2..=self.layout.max_cluster).contains(&cluster) {
                let at = match chain.last() {
                    None => "starts at".to_string(),
                    Some(last) => format!("runs from cluster {last} to"),
                };
                let why = if cluster < 2 {
                    "which is reserved".to_string()
                } else {
                    format!(
                        "past the end of the filesystem (its clusters are 2 to {})",
                        self.layout.max_cluster
                    )
                };
                self.problem(format!("the chain of {path} {at} cluster {cluster}, {why}"));
                return chain;
            }
            let owner = self.owner_of[cluster as usize];
            if owner == me {
                self.problem(format!(
                    "the chain of {path} loops back to its cluster {cluster}"
                ));
                return chain;
            }
            if owner != 0 {
                let other = self.owners[owner as usize - 1].clone();
                self.problem(format!(
                    "{path} and {other} share cluster {cluster} (cross-linked chains)"
                ));
                return chain;
            }
            self.owner_of[cluster as usize] = me;
            chain.push(cluster);
            match self.layout.next(self.partition, cluster) {
                Next::End => return chain,
                Next::Cluster(next) => cluster = next,
                Next::Free => {
                    self.problem(format!(
                        "the chain of {path} runs through cluster {cluster}, which the FAT marks free"
                    ));
                    return chain;
                }
                Next::Bad => {
                    self.problem(format!(
                        "the chain of {path} runs through cluster {cluster}, which the FAT marks bad"
                    ));
                    return chain;
                }
            }
        }
    }
}

/// The entries of a directory held in `bytes` (its clusters, in order).
fn entries(bytes: &[u8], fat32: bool) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut long_name: Vec<u16> = Vec::new();
    for raw in bytes.chunks_exact(DIR_ENTRY_LEN) {
        match raw[0] {
            0x00 => break,
            0xE5 => {
                long_name.clear();
                continue;
            }
            _ => {}
        }
        let attr = raw[11];
        if attr & 0x3F == ATTR_LONG_NAME {
            // Long-name pieces come last piece first; 0x40 starts a name.
            if raw[0] & 0x40 != 0 {
                long_name.clear();
            }
            let piece: Vec<u16> = [1..11, 14..26, 28..32]
                .into_iter()
                .flat_map(|r| {
                    raw[r]
                        .chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]]))
                })
                .take_while(|&c| c != 0 && c != 0xFFFF)
                .collect();
            long_name.splice(0..0, piece);
            // A name has at most 255 characters; more is garbage, and
            // would make this loop quadratic.
            if long_name.len() > 255 {
                long_name.clear();
            }
            continue;
        }
        let pieces = std::mem::take(&mut long_name);
        if attr & ATTR_VOLUME_ID != 0 || raw[0] == b'.' {
            continue; // the label; `.` and `..` point at known chains
        }
        let low = u32::from(u16::from_le_bytes([raw[26], raw[27]]));
        let high = u32::from(u16::from_le_bytes([raw[20], raw[21]]));
        out.push(Entry {
            name: if pieces.is_empty() {
                short_name(&raw[..11])
            } else {
                String::from_utf16_lossy(&pieces)
            },
            is_dir: attr & ATTR_DIRECTORY != 0,
            first_cluster: if fat32 { (high << 16) | low } else { low },
            size: u32::from_le_bytes([raw[28], raw[29], raw[30], raw[31]]),
        });
    }
    out
}

fn short_name(raw: &[u8]) -> String {
    let base = String::from_utf8_lossy(&raw[..8]).trim_end().to_string();
    let ext = String::from_utf8_lossy(&raw[8..11]).trim_end().to_string();
    if ext.is_empty() {
        base
    } else {
        format!("{base}.{ext}")
    }
}

/// Checks every chain reachable from the root of the FAT held in
/// `partition`, and that each file of `replaced` (paths from the root, as
/// Imprint writes them) that exists has a chain as long as its size. `Err`
/// names what is damaged, as a clause for "the boot partition's FAT is
/// damaged: …".
pub(super) fn check_chains(partition: &[u8], replaced: &[&str]) -> Result<(), String> {
    let layout = Layout::parse(partition)?;
    let mut walk = Walk {
        partition,
        layout,
        owner_of: vec![0; layout.max_cluster as usize + 1],
        owners: Vec::new(),
        problems: Vec::new(),
    };
    // Directories to list: path and bytes. Each directory's clusters are
    // claimed as it is reached, so a directory reachable twice (a loop in
    // the tree) is a cross-link, and the walk ends.
    let root_bytes = if layout.bits == 32 {
        let chain = walk.follow("the root directory", layout.fat32_root_cluster);
        chain
            .iter()
            .flat_map(|&c| layout.cluster_bytes(partition, c))
            .copied()
            .collect()
    } else {
        let (start, len) = layout.root_dir;
        partition
            .get(start..start + len)
            .ok_or("its root directory extends past the end of the partition")?
            .to_vec()
    };
    let mut pending: Vec<(String, Vec<u8>)> = vec![(String::new(), root_bytes)];
    while let Some((dir_path, bytes)) = pending.pop() {
        for entry in entries(&bytes, layout.bits == 32) {
            let path = format!("{dir_path}/{}", entry.name);
            let replacing = replaced
                .iter()
                .any(|r| format!("/{r}").eq_ignore_ascii_case(&path));
            if entry.first_cluster == 0 {
                if entry.is_dir {
                    walk.problem(format!("directory {path} has no cluster"));
                } else if replacing && entry.size != 0 {
                    walk.problem(format!(
                        "{path} is {} bytes but has no clusters",
                        entry.size
                    ));
                }
                continue;
            }
            let problems_before = walk.problems.len();
            let chain = walk.follow(&path, entry.first_cluster);
            if entry.is_dir {
                let bytes = chain
                    .iter()
                    .flat_map(|&c| layout.cluster_bytes(partition, c))
                    .copied()
                    .collect();
                pending.push((path, bytes));
            } else if replacing {
                let needed = (entry.size as usize).div_ceil(layout.cluster_len).max(1);
                // A chain cut short by a problem is already reported.
                if chain.len() != needed && walk.problems.len() == problems_before {
                    walk.problem(format!(
                        "{path} is {} bytes, which takes {needed} clusters, but its chain has {}",
                        entry.size,
                        chain.len()
                    ));
                }
            }
        }
    }
    if walk.problems.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for (i, problem) in walk.problems.iter().enumerate() {
        let _ = write!(text, "{}{problem}", if i == 0 { "" } else { "; " });
    }
    Err(text)
}

#[cfg(test)]
#[path = "fat_check_tests.rs"]
mod tests;
