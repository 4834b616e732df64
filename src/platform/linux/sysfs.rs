//! sysfs: the block devices of the machine, their partitions, holders and
//! attributes (size, removable, read-only, vendor, model, bus).
