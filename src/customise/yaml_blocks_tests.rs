use super::*;

const IMAGE: &str = "#cloud-config\n# shipped\nhostname: ubuntu\nchpasswd:\n  expire: true\n\nruncmd:\n- [ echo, hi ]\n\nssh_pwauth: true\n";

#[test]
fn our_keys_replace_in_place_and_lists_append() {
    let ours = split("hostname: h\nruncmd:\n  - [ systemctl, enable, ssh ]\nssh_pwauth: false\ntimezone: Europe/London\n").unwrap();
    let merged = join(&merge(split(IMAGE).unwrap(), ours, &["runcmd"]));
    assert_eq!(
        merged,
        "#cloud-config\n# shipped\nhostname: h\nchpasswd:\n  expire: true\n\nruncmd:\n- [ echo, hi ]\n- [ systemctl, enable, ssh ]\n\nssh_pwauth: false\ntimezone: Europe/London\n"
    );
}

#[test]
fn other_shapes_are_refused() {
    assert!(split("{hostname: a}\n").is_err());
    assert!(split("a: 1\na: 2\n").is_err());
    assert!(split("- a\n").is_err());
    assert!(split("base: &anchor\n").is_err());
    assert!(split("---\na: 1\n").is_ok());
}

#[test]
fn a_wrapped_body_round_trips() {
    let blocks =
        split("network:\n    version: 2\n    ethernets:\n        eth0:\n            dhcp4: true\n")
            .unwrap();
    let (body, indent) = unwrap_body(&blocks[1]).unwrap();
    assert_eq!(indent, 4);
    assert_eq!(
        body,
        "version: 2\nethernets:\n    eth0:\n        dhcp4: true\n"
    );
    assert_eq!(
        join(&[wrap_body("network", &body, indent)]),
        join(&blocks[1..])
    );
}
