//! Block devices: opening with O_DIRECT / O_EXCL, size, sector size and
//! read-only state through ioctls, and dropping cached pages.
