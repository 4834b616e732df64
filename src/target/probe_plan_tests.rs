//! The plan's promise, checked arithmetically: every whole-MiB wrap size
//! makes some read position differ from some written one by a multiple of
//! it, and the plan stays small.

use super::*;

#[test]
fn every_whole_mib_wrap_is_covered_on_a_1_gib_card() {
    let g = MIB;
    let last = (1 << 30) - B;
    let plan = Plan::new(g, last, Some(4 * MIB), &mut std::iter::repeat(7));
    assert!(plan.written.len() + plan.read.len() < 140, "{plan:?}");
    // Up to the claim less the first MiB, which the probe never writes.
    for n in 2..1023u64 {
        let n = n * MIB;
        let caught = plan.written.iter().any(|&s| {
            let reads = plan.read.iter().chain(&plan.written);
            reads.filter(|&&y| y != s).any(|&y| y.abs_diff(s) % n == 0)
        });
        assert!(caught, "a wrap at {n} escapes");
    }
}
