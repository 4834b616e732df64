use super::*;
use crate::bootcfg::WifiProfile;
use crate::customise::model::{Model, User, Wifi};

fn model() -> Model {
    Model {
        hostname: Some("h".into()),
        user: Some(User {
            name: "u".into(),
            password_hash: Some("$6$salt$hash".into()),
        }),
        ssh_keys: vec!["ssh-ed25519 AAAA k".into()],
        ssh_password_login: false,
        wifi: Some(Wifi {
            profile: WifiProfile::new(b"s", Some("password")).unwrap(),
            hidden: false,
        }),
        wifi_country: Some("GB".into()),
        locale: None,
        timezone: Some("Europe/London".into()),
        keyboard: None,
        instance_id: "imprint-1".into(),
    }
}

const UBUNTU_USER_DATA: &str = "#cloud-config\n\n# comment kept\nchpasswd:\n  expire: true\n  users:\n  - name: ubuntu\n    password: ubuntu\n    type: text\n\nssh_pwauth: true\n\npackages:\n- git\n";

#[test]
fn user_data_merges_into_the_images() {
    let read = |name: &str| match name {
        "user-data" => Some(UBUNTU_USER_DATA.as_bytes().to_vec()),
        "cmdline.txt" => Some(b"console=tty1 root=LABEL=writable rootwait\n".to_vec()),
        _ => None,
    };
    let files = files(&model(), &read).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        names,
        ["user-data", "network-config", "meta-data", "cmdline.txt"]
    );
    let user_data = String::from_utf8(files[0].contents.clone()).unwrap();
    assert!(
        user_data.starts_with("#cloud-config\n\n# comment kept\nchpasswd:\n  expire: false\n"),
        "{user_data}"
    );
    assert!(
        user_data.contains("ssh_pwauth: false\n\npackages:\n- git\n"),
        "{user_data}"
    );
    assert!(
        user_data.contains("hostname: \"h\"\n") && user_data.contains("passwd: \"$6$salt$hash\"")
    );
    assert!(
        !user_data.contains("password: ubuntu"),
        "the image's default password is replaced"
    );
    let cmdline = String::from_utf8(files[3].contents.clone()).unwrap();
    assert_eq!(
        cmdline,
        "console=tty1 root=LABEL=writable rootwait ds=nocloud;i=imprint-1 cfg80211.ieee80211_regdom=GB\n"
    );
    let network = String::from_utf8(files[1].contents.clone()).unwrap();
    assert!(network.starts_with("network:\n  version: 2\n"), "{network}");
    assert!(network.contains("regulatory-domain: \"GB\""), "{network}");
}

#[test]
fn the_images_own_network_config_keeps_its_ethernets() {
    let image = "# shipped\nversion: 2\nethernets:\n  eth0:\n    dhcp4: true\n    optional: true\n";
    let ours = network_config(&model()).unwrap();
    let merged =
        String::from_utf8(merged_network_config(&ours, Some(image.as_bytes())).unwrap()).unwrap();
    assert!(merged.starts_with(image), "{merged}");
    assert!(merged.contains("wifis:\n  wlan0:\n"), "{merged}");
    assert_eq!(merged.matches("ethernets:").count(), 1, "{merged}");
}

#[test]
fn a_script_as_user_data_is_not_replaced() {
    let read = |name: &str| (name == "user-data").then(|| b"#!/bin/sh\necho hi\n".to_vec());
    assert!(matches!(
        files(&model(), &read),
        Err(CustomiseError::CannotMerge { .. })
    ));
}
