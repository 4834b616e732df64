//! balenaOS-style test images, built two ways: with the tools a person
//! would use (`sfdisk`, `mkfs.vfat --offset`, `mcopy`, `mkfs.ext4`) and in
//! Rust (`mbrman` / `gptman` + `fatfs::format_volume` on a
//! `fscommon::StreamSlice`). Plus the oracles that check a configured
//! image: `mtype`, `mdir`, `fsck.fat -n`.

use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const MIB: u64 = 1 << 20;

/// A stock config.json, as found in a downloaded balenaOS image.
pub const STOCK_CONFIG: &str = "{\"deviceType\":\"raspberrypi4-64\",\"persistentLogging\":false}\n";
/// A fleet's config.json as balenaCloud gives it, pretty-printed.
pub const FLEET_CONFIG: &str = "{\n  \"applicationId\": 1234567,\n  \"deviceType\": \"raspberrypi4-64\",\n  \"userId\": 42,\n  \"apiEndpoint\": \"https://api.balena-cloud.com\",\n  \"deviceApiKey\": \"0123456789abcdef\"\n}\n";
/// The same, compact, as Imprint must write it (keys sorted).
pub const FLEET_CONFIG_COMPACT: &str = "{\"apiEndpoint\":\"https://api.balena-cloud.com\",\"applicationId\":1234567,\"deviceApiKey\":\"0123456789abcdef\",\"deviceType\":\"raspberrypi4-64\",\"userId\":42}";
pub const OS_RELEASE: &str = "ID=\"balena-os\"\nNAME=\"balenaOS\"\nVERSION=\"6.0.0\"\n";

/// `/device-type.json` for `slug`, with `partition` (JSON) as its
/// `configuration.config.partition`.
pub fn device_type_json(slug: &str, partition: &str) -> String {
    format!(
        "{{\"slug\":\"{slug}\",\"name\":\"Test device\",\"configuration\":{{\"config\":{{\"partition\":{partition}}}}}}}\n"
    )
}

/// A test image and where its boot partition is.
#[derive(Debug, Clone)]
pub struct TestImage {
    pub path: PathBuf,
    pub boot_number: u32,
    pub boot_offset: u64,
    pub boot_size: u64,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().expect("run a tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sfdisk(image: &Path, script: &str) {
    let mut child = Command::new("sfdisk")
        .arg("-q")
        .arg(image)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("run sfdisk");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "sfdisk failed");
}

fn blank_image(path: &Path, size: u64) {
    File::create(path).unwrap().set_len(size).unwrap();
}

fn mkfs_ext4(image: &Path, offset: u64, size: u64, label: &str) {
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", label, "-E"])
        .arg(format!("offset={offset}"))
        .arg(image)
        .arg(format!("{}k", size / 1024)));
}

fn mkfs_vfat(image: &Path, offset: u64, size: u64, fat_bits: u8, label: Option<&str>) {
    let mut cmd = Command::new("mkfs.vfat");
    cmd.arg("-F").arg(fat_bits.to_string());
    if let Some(label) = label {
        cmd.args(["-n", label]);
    }
    cmd.arg(format!("--offset={}", offset / 512))
        .arg(image)
        .arg((size / 1024).to_string());
    run(&mut cmd);
}

/// `IMAGE@@OFFSET`, how mtools names a filesystem inside an image.
pub fn mtools_image(image: &Path, offset: u64) -> String {
    format!("{}@@{offset}", image.display())
}

/// Copies `contents` to `path` (`::/dir/name`) in the FAT at `offset`.
pub fn mcopy(image: &Path, offset: u64, path: &str, contents: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("file");
    fs::write(&local, contents).unwrap();
    run(Command::new("mcopy")
        .args(["-o", "-i"])
        .arg(mtools_image(image, offset))
        .arg(&local)
        .arg(path));
}

pub fn mmd(image: &Path, offset: u64, path: &str) {
    run(Command::new("mmd")
        .arg("-i")
        .arg(mtools_image(image, offset))
        .arg(path));
}

/// The file at `path` of the FAT at `offset`, as `mtype` reads it.
pub fn mtype(image: &Path, offset: u64, path: &str) -> Vec<u8> {
    let out = Command::new("mtype")
        .arg("-i")
        .arg(mtools_image(image, offset))
        .arg(path)
        .output()
        .expect("run mtype");
    assert!(
        out.status.success(),
        "mtype {path} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The names in the FAT directory `path`, as `mdir -b` lists them.
pub fn mdir(image: &Path, offset: u64, path: &str) -> Vec<String> {
    let out = run(Command::new("mdir")
        .args(["-b", "-i"])
        .arg(mtools_image(image, offset))
        .arg(path));
    out.lines().map(str::to_string).collect()
}

/// Runs `fsck.fat -n` on `bytes` (one partition); returns whether it found
/// the filesystem clean, and what it said.
pub fn fsck_fat(bytes: &[u8]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("partition.img");
    fs::write(&path, bytes).unwrap();
    let out = Command::new("fsck.fat")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("run fsck.fat");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

fn write_boot_files(image: &Path, offset: u64, extra: &[(&str, &[u8])]) {
    mcopy(image, offset, "::/config.json", STOCK_CONFIG.as_bytes());
    mcopy(
        image,
        offset,
        "::/device-type.json",
        device_type_json("raspberrypi4-64", "1").as_bytes(),
    );
    mcopy(image, offset, "::/os-release", OS_RELEASE.as_bytes());
    for (path, contents) in extra {
        mcopy(image, offset, path, contents);
    }
}

/// MBR + FAT16 `resin-boot` (type 0x0C) holding a stock config.json,
/// device-type.json, os-release and system-connections/README.ignore, then
/// ext4 rootA and rootB, and an extended partition with logical state (5)
/// and data (6) partitions. Built with sfdisk, mkfs.vfat, mcopy, mkfs.ext4.
pub fn mbr_fat16_resin_boot(dir: &Path) -> TestImage {
    let path = dir.join("balena-mbr.img");
    blank_image(&path, 56 * MIB);
    sfdisk(
        &path,
        "label: dos\n\
         start=8192, size=32768, type=c\n\
         start=40960, size=16384, type=83\n\
         start=57344, size=16384, type=83\n\
         start=73728, type=5\n\
         start=75776, size=8192, type=83\n\
         start=86016, type=83\n",
    );
    let boot_offset = 8192 * 512;
    mkfs_vfat(&path, boot_offset, 16 * MIB, 16, Some("resin-boot"));
    mmd(&path, boot_offset, "::/system-connections");
    write_boot_files(
        &path,
        boot_offset,
        &[(
            "::/system-connections/README.ignore",
            b"Put NetworkManager connection files here.\n",
        )],
    );
    mkfs_ext4(&path, 40960 * 512, 8 * MIB, "resin-rootA");
    mkfs_ext4(&path, 57344 * 512, 8 * MIB, "resin-rootB");
    mkfs_ext4(&path, 75776 * 512, 4 * MIB, "resin-state");
    mkfs_ext4(&path, 86016 * 512, 14 * MIB, "resin-data");
    TestImage {
        path,
        boot_number: 1,
        boot_offset,
        boot_size: 16 * MIB,
    }
}

/// A balenaOS flasher image: MBR, FAT16 labelled `flash-boot` holding
/// `/balena-image-flasher`, then an ext4 root. Built with the tools.
pub fn mbr_flasher(dir: &Path) -> TestImage {
    let path = dir.join("balena-flasher.img");
    blank_image(&path, 32 * MIB);
    sfdisk(
        &path,
        "label: dos\nstart=8192, size=32768, type=e\nstart=40960, type=83\n",
    );
    let boot_offset = 8192 * 512;
    mkfs_vfat(&path, boot_offset, 16 * MIB, 16, Some("flash-boot"));
    write_boot_files(&path, boot_offset, &[("::/balena-image-flasher", b"")]);
    mkfs_ext4(&path, 40960 * 512, 11 * MIB, "flash-rootA");
    TestImage {
        path,
        boot_number: 1,
        boot_offset,
        boot_size: 16 * MIB,
    }
}

/// Formats the FAT at `offset..offset + size` of `image` with
/// `fatfs::format_volume` through a `StreamSlice`, and writes `files` to its
/// root directory.
fn rust_fat(
    image: &Path,
    offset: u64,
    size: u64,
    fat_type: fatfs::FatType,
    label: Option<[u8; 11]>,
    files: &[(&str, &[u8])],
) {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(image)
        .unwrap();
    let mut slice = fscommon::StreamSlice::new(file, offset, offset + size).unwrap();
    let mut options = fatfs::FormatVolumeOptions::new()
        .fat_type(fat_type)
        .volume_id(0x1234_5678);
    // Small clusters keep these small volumes within FAT16's and FAT32's
    // cluster-count ranges.
    options = options.bytes_per_cluster(if fat_type == fatfs::FatType::Fat32 {
        512
    } else {
        1024
    });
    if let Some(label) = label {
        options = options.volume_label(label);
    }
    fatfs::format_volume(&mut slice, options).unwrap();
    slice.seek(SeekFrom::Start(0)).unwrap();
    let fs = fatfs::FileSystem::new(slice, fatfs::FsOptions::new()).unwrap();
    for (name, contents) in files {
        let mut out = fs.root_dir().create_file(name).unwrap();
        out.write_all(contents).unwrap();
    }
    fs.unmount().unwrap();
}

/// GPT (with `sector_size`-byte sectors) whose first partition, a FAT32
/// filesystem labelled `FATBOOT`, is named `resin-boot`; then a
/// `resin-rootA` partition of pseudo-random bytes. Built in Rust.
pub fn gpt_fat32_resin_boot(dir: &Path, sector_size: u64) -> TestImage {
    let path = dir.join(format!("balena-gpt-{sector_size}.img"));
    let size = 48 * MIB;
    blank_image(&path, size);
    let boot_offset = 2 * MIB;
    let boot_size = 36 * MIB;
    let root_offset = boot_offset + boot_size;
    let root_size = 8 * MIB;
    {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let mut gpt = gptman::GPT::new_from(&mut file, sector_size, [0x42; 16]).unwrap();
        let entry = |guid: u8, start: u64, len: u64, name: &str| gptman::GPTPartitionEntry {
            partition_type_guid: [guid; 16],
            unique_partition_guid: [guid.wrapping_add(1); 16],
            starting_lba: start / sector_size,
            ending_lba: (start + len) / sector_size - 1,
            attribute_bits: 0,
            partition_name: name.into(),
        };
        gpt[1] = entry(0x11, boot_offset, boot_size, "resin-boot");
        gpt[2] = entry(0x22, root_offset, root_size, "resin-rootA");
        gpt.write_into(&mut file).unwrap();
        gptman::GPT::write_protective_mbr_into(&mut file, sector_size).unwrap();
        file.seek(SeekFrom::Start(root_offset)).unwrap();
        file.write_all(&super::pseudo_random_bytes(root_size as usize, 7))
            .unwrap();
    }
    rust_fat(
        &path,
        boot_offset,
        boot_size,
        fatfs::FatType::Fat32,
        Some(*b"FATBOOT    "),
        &[
            ("config.json", STOCK_CONFIG.as_bytes()),
            (
                "device-type.json",
                device_type_json("raspberrypi4-64", "1").as_bytes(),
            ),
            ("os-release", OS_RELEASE.as_bytes()),
        ],
    );
    TestImage {
        path,
        boot_number: 1,
        boot_offset,
        boot_size,
    }
}

/// MBR (mbrman) whose partitions carry no balena label: partition 1 an
/// unlabelled FAT16 holding `/device-type.json` whose
/// `configuration.config.partition` is `partition_spec`, partition 2 a
/// second unlabelled FAT16 (a decoy), partition 3 pseudo-random bytes.
/// Built in Rust.
pub fn mbr_unlabelled_with_device_type(dir: &Path, partition_spec: &str) -> TestImage {
    let path = dir.join("unlabelled.img");
    let size = 24 * MIB;
    blank_image(&path, size);
    let part = |n: u64| (MIB + (n - 1) * 8 * MIB, 7 * MIB);
    {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let mut mbr = mbrman::MBR::new_from(&mut file, 512, [1, 2, 3, 4]).unwrap();
        for (n, sys) in [(1usize, 0x0eu8), (2, 0x0e), (3, 0x83)] {
            let (offset, len) = part(n as u64);
            mbr[n] = mbrman::MBRPartitionEntry {
                boot: mbrman::BOOT_INACTIVE,
                first_chs: mbrman::CHS::empty(),
                sys,
                last_chs: mbrman::CHS::empty(),
                starting_lba: (offset / 512) as u32,
                sectors: (len / 512) as u32,
            };
        }
        mbr.write_into(&mut file).unwrap();
        let (offset, len) = part(3);
        file.seek(SeekFrom::Start(offset)).unwrap();
        file.write_all(&super::pseudo_random_bytes(len as usize, 3))
            .unwrap();
    }
    let (p1, len) = part(1);
    rust_fat(
        &path,
        p1,
        len,
        fatfs::FatType::Fat16,
        None,
        &[
            ("config.json", STOCK_CONFIG.as_bytes()),
            (
                "device-type.json",
                device_type_json("raspberrypi4-64", partition_spec).as_bytes(),
            ),
        ],
    );
    let (p2, len2) = part(2);
    rust_fat(
        &path,
        p2,
        len2,
        fatfs::FatType::Fat16,
        None,
        &[("readme.txt", b"decoy")],
    );
    TestImage {
        path,
        boot_number: 1,
        boot_offset: p1,
        boot_size: len,
    }
}

/// Free bytes of the FAT at `offset`, as `minfo`/`mdir` count them.
pub fn mdir_free_bytes(image: &Path, offset: u64) -> u64 {
    let out = run(Command::new("mdir")
        .arg("-i")
        .arg(mtools_image(image, offset))
        .arg("::/"));
    let line = out
        .lines()
        .find(|l| l.contains("bytes free"))
        .expect("mdir prints the free bytes");
    line.split("bytes free")
        .next()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// What `fsck.fat` said about a filesystem, without its banner and its
/// summary line (file and cluster counts change with every edit).
pub fn fsck_findings(said: &str) -> Vec<String> {
    said.lines()
        .filter(|l| !l.starts_with("fsck.fat ") && !l.contains(" files, ") && !l.trim().is_empty())
        .map(|l| l.replace(|c: char| c.is_ascii_digit(), "#"))
        .filter(|l| !l.contains("/tmp/"))
        .collect()
}

/// MBR with one partition at 1 MiB: a FAT (`fat_bits` 12, 16 or 32) of
/// `size_mib` MiB labelled `resin-boot`, made by mkfs.vfat with 1 KiB
/// clusters (512 bytes on FAT32, which needs 65525 of them), holding the
/// stock boot files; `extra` files are copied after them. Small, so that
/// tests can run many configures.
pub fn small_resin_boot(
    dir: &Path,
    name: &str,
    fat_bits: u8,
    size_mib: u64,
    extra: &[(&str, &[u8])],
) -> TestImage {
    let path = dir.join(name);
    let boot_offset = MIB;
    let boot_size = size_mib * MIB;
    blank_image(&path, boot_offset + boot_size);
    sfdisk(
        &path,
        &format!("label: dos\nstart=2048, size={}, type=c\n", boot_size / 512),
    );
    let mut cmd = Command::new("mkfs.vfat");
    let sectors_per_cluster = if fat_bits == 32 { "1" } else { "2" };
    cmd.args(["-F", &fat_bits.to_string(), "-s", sectors_per_cluster])
        .args(["-n", "resin-boot"])
        .arg(format!("--offset={}", boot_offset / 512))
        .arg(&path)
        .arg((boot_size / 1024).to_string());
    run(&mut cmd);
    write_boot_files(&path, boot_offset, extra);
    TestImage {
        path,
        boot_number: 1,
        boot_offset,
        boot_size,
    }
}

/// Reads a NetworkManager keyfile as NetworkManager does: GLib's keyfile
/// parser (`g_key_file_get_string`, which rejects invalid escapes such as
/// `\;`), then NetworkManager's `get_bytes` (nm-keyfile.c: an integer list
/// `n;n;…`, else the string with `\;` unescaped). Prints the SSID's bytes in
/// hex, and the `ssid=` line NetworkManager's `ssid_writer` followed by
/// `g_key_file_set_string` / `set_value` writes for those bytes.
const NM_READ_SSID: &str = r#"
import sys
from gi.repository import GLib

data = sys.stdin.buffer.read()
kf = GLib.KeyFile()
kf.load_from_bytes(GLib.Bytes.new(data), GLib.KeyFileFlags.NONE)
s = kf.get_string("wifi", "ssid").encode()

SPACE = b" \t\n\f\r"
def int_list(s):
    if not s or any(c not in SPACE and not (48 <= c <= 57) and c != 59 for c in s):
        return None
    out, i = [], 0
    while True:
        while i < len(s) and s[i] in SPACE: i += 1
        if i == len(s): break
        j = i
        while j < len(s) and j - i < 3 and 48 <= s[j] <= 57: j += 1
        if j == i: return None
        n = int(s[i:j]); i = j
        if n > 255: return None
        out.append(n)
        while i < len(s) and s[i] in SPACE: i += 1
        if i == len(s) or s[i] != 59: return None
        i += 1
    return bytes(out) if out else None

def unescape_semicolons(s):
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == 92 and i + 1 < len(s) and s[i + 1] == 59: i += 1
        out.append(s[i]); i += 1
    return bytes(out)

ssid = int_list(s)
if ssid is None:
    ssid = unescape_semicolons(s)

w = GLib.KeyFile()
if all(0x20 <= b <= 0x7e for b in ssid):
    w.set_string("wifi", "ssid", ssid.decode().replace(";", "\\;"))
else:
    w.set_value("wifi", "ssid", "".join("%d;" % b for b in ssid))
line = [l for l in w.to_data()[0].split("\n") if l.startswith("ssid=")][0]
print(ssid.hex())
print(line)
"#;

/// The SSID NetworkManager reads from `keyfile` (see [`NM_READ_SSID`]),
/// and the `ssid=` line NetworkManager would write for it. Panics when
/// GLib cannot parse the file.
pub fn network_manager_ssid(keyfile: &[u8]) -> (Vec<u8>, String) {
    // Debian's python3-gi is for /usr/bin/python3, not a python3 earlier
    // on PATH (pyenv).
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", NM_READ_SSID])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run /usr/bin/python3 (scripts/install-deps installs python3-gi)");
    child.stdin.take().unwrap().write_all(keyfile).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "GLib cannot read the keyfile:\n{}\n{}",
        String::from_utf8_lossy(keyfile),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = stdout.lines();
    let hex = lines.next().unwrap();
    let ssid = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    (ssid, lines.next().unwrap().to_string())
}

/// The clusters of the file at `path` (`::/name`) of the FAT at `offset`,
/// in chain order, as `mshowfat` lists them (`<3-5><9>`).
pub fn clusters_of(image: &Path, offset: u64, path: &str) -> Vec<u32> {
    let out = run(Command::new("mshowfat")
        .arg("-i")
        .arg(mtools_image(image, offset))
        .arg(path));
    let ranges = out.split_once('<').map_or("", |(_, r)| r);
    let mut clusters = Vec::new();
    for range in ranges.split('<') {
        let range = range.trim().trim_end_matches('>');
        let (first, last) = range.split_once('-').unwrap_or((range, range));
        clusters.extend(first.parse::<u32>().unwrap()..=last.parse::<u32>().unwrap());
    }
    clusters
}

/// Sets the entry of `cluster` in every copy of the FAT (`fat_bits` wide)
/// at `offset` of `image` to `value`: damage as a bad card or a crash
/// leaves it.
pub fn set_fat_entry(image: &Path, offset: u64, fat_bits: u8, cluster: u32, value: u32) {
    let mut bytes = fs::read(image).unwrap();
    let boot = &bytes[offset as usize..offset as usize + 512];
    let u16_at = |at: usize| u64::from(u16::from_le_bytes([boot[at], boot[at + 1]]));
    let bytes_per_sector = u16_at(11);
    let reserved = u16_at(14);
    let fats = u64::from(boot[16]);
    let sectors_per_fat = if u16_at(22) != 0 {
        u16_at(22)
    } else {
        u64::from(u32::from_le_bytes(boot[36..40].try_into().unwrap()))
    };
    let n = cluster as usize;
    for copy in 0..fats {
        let fat = (offset + (reserved + copy * sectors_per_fat) * bytes_per_sector) as usize;
        match fat_bits {
            12 => {
                let at = fat + n + n / 2;
                let pair = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
                let value = value as u16 & 0xFFF;
                let pair = if n % 2 == 1 {
                    (pair & 0x000F) | (value << 4)
                } else {
                    (pair & 0xF000) | value
                };
                bytes[at..at + 2].copy_from_slice(&pair.to_le_bytes());
            }
            16 => {
                bytes[fat + 2 * n..fat + 2 * n + 2].copy_from_slice(&(value as u16).to_le_bytes())
            }
            _ => bytes[fat + 4 * n..fat + 4 * n + 4].copy_from_slice(&value.to_le_bytes()),
        }
    }
    fs::write(image, bytes).unwrap();
}
