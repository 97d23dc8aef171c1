//! What in a Linux guest breaks or may break after the move, each with the file and line that
//! shows it: disks named `/dev/sdX` (they become `/dev/vdX` on virtio), network configuration
//! bound to VMware's NIC names or MAC addresses, static addresses, VMware Tools, cloud-init.

use super::grub::Line;
use super::report::{Risk, RiskCode};
use super::root::{config_lines, Root};
use crate::error::Result;

/// Longest line text kept in a risk, in characters.
pub const MAX_TEXT: usize = 200;

const FIX_FSTAB: &str = "mount by UUID= (blkid shows it) instead of the device name";
const FIX_NIC_NAME: &str = "the NIC gets another name on OpenStack (e.g. ens3, eth0): rename this configuration";
const FIX_MAC: &str = "remove the MAC address: the new NIC has another one";
const FIX_UDEV: &str = "rm /etc/udev/rules.d/70-persistent-net.rules";
const FIX_STATIC: &str = "use DHCP, or give the OpenStack port this fixed IP";
const FIX_TOOLS_LEGACY: &str = "vmware-uninstall-tools.pl";
const FIX_OPEN_VM_TOOLS: &str = "optional: remove the open-vm-tools package";
const FIX_CLOUD_INIT: &str = "install cloud-init (dnf install cloud-init, or apt install cloud-init)";

/// Where the guest's network configuration lives, by format.
const IFCFG_DIRS: [&str; 2] = ["/etc/sysconfig/network-scripts", "/etc/sysconfig/network"];
const KEYFILE_DIR: &str = "/etc/NetworkManager/system-connections";
const NETPLAN_DIR: &str = "/etc/netplan";
const INTERFACES: &str = "/etc/network/interfaces";
const INTERFACES_DIR: &str = "/etc/network/interfaces.d";
const NETWORKD_DIR: &str = "/etc/systemd/network";
const UDEV_NET: &str = "/etc/udev/rules.d/70-persistent-net.rules";

/// Every risk found on the root, given the kernel command lines the boot loader holds.
pub fn risks(root: &Root, cmdlines: &[Line]) -> Result<Vec<Risk>> {
    let mut out = Vec::new();
    fstab(root, &mut out)?;
    for c in cmdlines {
        cmdline(c, &mut out);
    }
    network(root, &mut out)?;
    tools(root, &mut out)?;
    if !root.exists("/etc/cloud/cloud.cfg")? {
        out.push(risk(RiskCode::NoCloudInit, "/etc/cloud/cloud.cfg", None, "", None, Some(FIX_CLOUD_INIT)));
    }
    Ok(out)
}

pub(super) fn risk(
    code: RiskCode,
    file: &str,
    line: Option<u32>,
    text: &str,
    name: Option<&str>,
    fix: Option<&str>,
) -> Risk {
    Risk {
        code,
        file: file.into(),
        line,
        text: text.trim().chars().take(MAX_TEXT).collect(),
        name: name.map(str::to_string),
        fix: fix.map(str::to_string),
    }
}

/// `/dev/sdX` or `/dev/hdX`, with or without a partition number: names that change when the
/// disk moves to another bus.
pub fn bus_device(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("/dev/sd").or_else(|| s.strip_prefix("/dev/hd")) else { return false };
    // sda … sdzzz: the kernel's names for the first 18,278 disks.
    let letters = rest.bytes().take_while(u8::is_ascii_lowercase).count();
    (1..=3).contains(&letters) && rest.bytes().skip(letters).all(|b| b.is_ascii_digit())
}

fn fstab(root: &Root, out: &mut Vec<Risk>) -> Result<()> {
    let Some(text) = root.text("/etc/fstab")? else { return Ok(()) };
    for (n, l) in config_lines(&text) {
        let dev = l.split_whitespace().next().unwrap_or_default();
        if bus_device(dev) {
            out.push(risk(RiskCode::FstabDevice, "/etc/fstab", Some(n), l, Some(dev), Some(FIX_FSTAB)));
        }
    }
    Ok(())
}

fn cmdline(c: &Line, out: &mut Vec<Risk>) {
    for word in c.text.split(|ch: char| ch.is_whitespace() || ch == '"' || ch == '\'') {
        let Some((key, dev)) = word.split_once('=').filter(|(k, _)| matches!(*k, "root" | "resume")) else { continue };
        if bus_device(dev) {
            let fix = format!("use {key}=UUID=<uuid> (blkid) instead, then regenerate the boot loader configuration");
            out.push(risk(RiskCode::CmdlineDevice, &c.file, Some(c.line), &c.text, Some(dev), Some(&fix)));
        }
    }
}

/// A name VMware's virtual hardware gives a NIC: `ens160`, `ens192`, `ens224`, `ens256` (a
/// 3-digit PCI slot, ESXi), `ens32`–`ens39` (Workstation), `eno16777736` (firmware index).
/// QEMU's are `ens3`, `enp1s0`, `eth0`.
pub fn vmware_nic(word: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match (word.strip_prefix("ens"), word.strip_prefix("eno")) {
        (Some(n), _) => digits(n) && (n.len() == 3 || (n.len() == 2 && n.starts_with('3') && n != "30" && n != "31")),
        (_, Some(n)) => digits(n) && n.len() >= 7,
        _ => false,
    }
}

/// The first MAC address (`xx:xx:xx:xx:xx:xx` or with `-`) in `line`.
pub fn find_mac(line: &str) -> Option<&str> {
    let i = line.as_bytes().windows(17).position(|w| {
        (0..17)
            .all(|j| if j % 3 == 2 { w[j] == w[2] && (w[j] == b':' || w[j] == b'-') } else { w[j].is_ascii_hexdigit() })
    })?;
    // All 17 bytes are ASCII, so both ends are character boundaries.
    Some(&line[i..i + 17])
}

/// The NIC-name and MAC risks of one network configuration line.
fn nic_line(file: &str, n: u32, l: &str, fix_mac: &str, out: &mut Vec<Risk>) {
    if let Some(w) = l.split(|c: char| !c.is_ascii_alphanumeric()).find(|w| vmware_nic(w)) {
        out.push(risk(RiskCode::NicName, file, Some(n), l, Some(w), Some(FIX_NIC_NAME)));
    }
    if let Some(m) = find_mac(l) {
        out.push(risk(RiskCode::NicMac, file, Some(n), l, Some(m), Some(fix_mac)));
    }
}

/// `key=value` with shell quotes around the value removed (ifcfg, keyfile, networkd).
fn key_value(l: &str) -> Option<(&str, &str)> {
    let (k, v) = l.split_once('=')?;
    Some((k.trim(), v.trim().trim_matches(['"', '\''])))
}

fn network(root: &Root, out: &mut Vec<Risk>) -> Result<()> {
    for dir in IFCFG_DIRS {
        for path in root.files_in(dir, |n| n.starts_with("ifcfg-") && n != "ifcfg-lo")? {
            let Some(text) = root.text(&path)? else { continue };
            let lines: Vec<(u32, &str)> = config_lines(&text).collect();
            // BOOTPROTO=none (or absent) with an address is a static configuration.
            let dynamic = lines.iter().any(|(_, l)| {
                key_value(l).is_some_and(|(k, v)| {
                    k == "BOOTPROTO" && matches!(v.to_ascii_lowercase().as_str(), "dhcp" | "bootp")
                })
            });
            for &(n, l) in &lines {
                nic_line(&path, n, l, FIX_MAC, out);
                match key_value(l) {
                    Some((k, v)) if k.starts_with("IPADDR") && !dynamic => {
                        out.push(risk(RiskCode::StaticAddress, &path, Some(n), l, Some(v), Some(FIX_STATIC)))
                    }
                    _ => {}
                }
            }
        }
    }
    for path in root.files_in(KEYFILE_DIR, |_| true)? {
        let Some(text) = root.text(&path)? else { continue };
        keyfile(&path, &text, out);
    }
    for path in root.files_in(NETPLAN_DIR, |n| n.ends_with(".yaml") || n.ends_with(".yml"))? {
        let Some(text) = root.text(&path)? else { continue };
        netplan(&path, &text, out);
    }
    let mut ifaces = vec![INTERFACES.to_string()];
    ifaces.extend(root.files_in(INTERFACES_DIR, |_| true)?);
    for path in ifaces {
        let Some(text) = root.text(&path)? else { continue };
        // A static stanza is shown at its `address` line (the address is what must change),
        // or at its `iface` line when it has none.
        let mut pending: Option<(u32, &str, &str)> = None;
        for (n, l) in config_lines(&text) {
            nic_line(&path, n, l, FIX_MAC, out);
            let w: Vec<&str> = l.split_whitespace().collect();
            match w[..] {
                ["address", v, ..] if pending.is_some() => {
                    pending = None;
                    out.push(risk(RiskCode::StaticAddress, &path, Some(n), l, Some(v), Some(FIX_STATIC)));
                }
                ["iface" | "auto" | "allow-hotplug" | "mapping" | "source", ..] => {
                    if let Some((pn, pl, name)) = pending.take() {
                        out.push(risk(RiskCode::StaticAddress, &path, Some(pn), pl, Some(name), Some(FIX_STATIC)));
                    }
                    if let ["iface", name, "inet" | "inet6", "static", ..] = w[..] {
                        pending = Some((n, l, name));
                    }
                }
                _ => {}
            }
        }
        if let Some((pn, pl, name)) = pending {
            out.push(risk(RiskCode::StaticAddress, &path, Some(pn), pl, Some(name), Some(FIX_STATIC)));
        }
    }
    for path in root.files_in(NETWORKD_DIR, |n| n.ends_with(".network"))? {
        let Some(text) = root.text(&path)? else { continue };
        for (n, l) in config_lines(&text) {
            nic_line(&path, n, l, FIX_MAC, out);
            if let Some(("Address", v)) = key_value(l) {
                out.push(risk(RiskCode::StaticAddress, &path, Some(n), l, Some(v), Some(FIX_STATIC)));
            }
        }
    }
    if let Some(text) = root.text(UDEV_NET)? {
        for (n, l) in config_lines(&text) {
            nic_line(UDEV_NET, n, l, FIX_UDEV, out);
        }
    }
    Ok(())
}

/// A NetworkManager keyfile: `method=manual` in `[ipv4]`/`[ipv6]` is static, shown at the
/// section's first `addressN` line (the address is what must change), else at the method line.
fn keyfile(path: &str, text: &str, out: &mut Vec<Risk>) {
    let mut section = "";
    let mut manual: Option<(u32, &str)> = None;
    let mut address: Option<(u32, &str, &str)> = None;
    let flush = |manual: &mut Option<(u32, &str)>, address: &mut Option<(u32, &str, &str)>, out: &mut Vec<Risk>| {
        if let Some((n, l)) = manual.take() {
            let (n, l, v) = match address.take() {
                Some((an, al, v)) => (an, al, Some(v)),
                None => (n, l, None),
            };
            out.push(risk(RiskCode::StaticAddress, path, Some(n), l, v, Some(FIX_STATIC)));
        }
        *address = None;
    };
    for (n, l) in config_lines(text) {
        if l.starts_with('[') {
            flush(&mut manual, &mut address, out);
            section = l;
            continue;
        }
        nic_line(path, n, l, FIX_MAC, out);
        if matches!(section, "[ipv4]" | "[ipv6]") {
            match key_value(l) {
                Some(("method", "manual")) => manual = Some((n, l)),
                Some((k, v)) if k.starts_with("address") && address.is_none() => {
                    address = v.split([',', ';']).next().map(|v| (n, l, v));
                }
                _ => {}
            }
        }
    }
    flush(&mut manual, &mut address, out);
}

/// A netplan file: `addresses:` under an interface (not under `nameservers:`) is static, named
/// by its first item (inline `[a, b]` or the next `- a` line).
fn netplan(path: &str, text: &str, out: &mut Vec<Risk>) {
    // Open keys: (indent, key).
    let mut parents: Vec<(usize, &str)> = Vec::new();
    let lines: Vec<(u32, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i as u32 + 1, l.split(" #").next().unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    for (i, &(n, raw)) in lines.iter().enumerate() {
        let l = raw.trim();
        nic_line(path, n, l, FIX_MAC, out);
        let indent = raw.len() - raw.trim_start().len();
        let Some((key, value)) = l.split_once(':') else { continue };
        if key.starts_with('-') {
            continue;
        }
        while parents.last().is_some_and(|&(d, _)| d >= indent) {
            parents.pop();
        }
        if key == "addresses" && parents.last().map(|p| p.1) != Some("nameservers") {
            let value = value.trim().trim_start_matches('[');
            let first = match value.split([',', ']']).next().map(str::trim).filter(|v| !v.is_empty()) {
                Some(v) => Some(v),
                None => lines.get(i + 1).and_then(|(_, l)| l.trim().strip_prefix('-')).map(str::trim),
            };
            let first = first.map(|v| v.trim_matches(['"', '\'']));
            out.push(risk(RiskCode::StaticAddress, path, Some(n), l, first, Some(FIX_STATIC)));
        }
        parents.push((indent, key));
    }
}

/// VMware's own tools (tarball install) or open-vm-tools.
fn tools(root: &Root, out: &mut Vec<Risk>) -> Result<()> {
    for path in ["/etc/vmware-tools/locations", "/usr/lib/vmware-tools"] {
        if root.exists(path)? {
            out.push(risk(RiskCode::VmwareToolsLegacy, path, None, "", None, Some(FIX_TOOLS_LEGACY)));
            return Ok(());
        }
    }
    if root.exists("/usr/bin/vmtoolsd")? {
        out.push(risk(RiskCode::OpenVmTools, "/usr/bin/vmtoolsd", None, "", None, Some(FIX_OPEN_VM_TOOLS)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guest::MemFiles;

    fn found(files: &[(&str, &str)], cmdlines: &[Line]) -> Vec<Risk> {
        let m = MemFiles::new(files.iter().map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())));
        risks(&Root::new(&m), cmdlines).unwrap()
    }

    fn brief(r: &[Risk]) -> Vec<(RiskCode, String, Option<u32>, Option<String>)> {
        r.iter().map(|r| (r.code, r.file.clone(), r.line, r.name.clone())).collect()
    }

    #[test]
    fn device_names_in_fstab_and_command_lines() {
        let fstab = "# /etc/fstab\n/dev/mapper/rl-root / xfs defaults 0 0\nUUID=abc /boot xfs defaults 0 0\n/dev/sdb1 /data ext4 defaults 0 2\n/dev/hda2 swap swap defaults 0 0\n/dev/sdcard /x auto 0 0\n";
        let cmd = Line {
            file: "/boot/grub/grub.cfg".into(),
            line: 9,
            text: "linux /vmlinuz-5 root=/dev/sda1 ro resume=UUID=x".into(),
        };
        let def = Line {
            file: "/etc/default/grub".into(),
            line: 3,
            text: "GRUB_CMDLINE_LINUX=\"resume=/dev/sdb2 quiet\"".into(),
        };
        let r = found(&[("/etc/fstab", fstab), ("/etc/cloud/cloud.cfg", "")], &[cmd, def]);
        assert_eq!(
            brief(&r),
            [
                (RiskCode::FstabDevice, "/etc/fstab".into(), Some(4), Some("/dev/sdb1".into())),
                (RiskCode::FstabDevice, "/etc/fstab".into(), Some(5), Some("/dev/hda2".into())),
                (RiskCode::CmdlineDevice, "/boot/grub/grub.cfg".into(), Some(9), Some("/dev/sda1".into())),
                (RiskCode::CmdlineDevice, "/etc/default/grub".into(), Some(3), Some("/dev/sdb2".into())),
            ]
        );
        assert_eq!(r[0].text, "/dev/sdb1 /data ext4 defaults 0 2");
        assert!(r[3].fix.as_deref().unwrap().starts_with("use resume=UUID="));
    }

    #[test]
    fn network_bound_to_vmware_names_macs_and_static_addresses() {
        let ifcfg = "TYPE=Ethernet\nBOOTPROTO=none\nNAME=ens192\nDEVICE=ens192\nHWADDR=00:50:56:8a:12:34\nIPADDR=10.1.2.3\nPREFIX=24\n";
        let dhcp = "DEVICE=eth1\nBOOTPROTO=dhcp\nIPADDR=10.9.9.9\n";
        let keyfile = "[connection]\nid=ens160\ninterface-name=ens160\n[ethernet]\nmac-address=00:0C:29:AA:BB:CC\n[ipv4]\naddress1=192.168.1.10/24,192.168.1.1\nmethod=manual\n[ipv6]\nmethod=auto\n";
        let netplan = "network:\n  ethernets:\n    ens224:\n      match:\n        macaddress: \"00:50:56:00:00:01\"\n      addresses:\n        - 10.0.0.5/24\n      nameservers:\n        addresses: [1.1.1.1]\n    eth0:\n      addresses: [\"10.0.0.6/24\", \"10.0.0.7/24\"]\n";
        let interfaces = "auto lo\niface lo inet loopback\nallow-hotplug eno16777736\niface eno16777736 inet static\n  address 172.16.0.2/24\n";
        let udev = "# generated\nSUBSYSTEM==\"net\", ATTR{address}==\"00:50:56:ab:cd:ef\", NAME=\"eth0\"\n";
        let networkd = "[Match]\nName=ens33\n[Network]\nAddress=10.2.0.1/16\n";
        let r = found(
            &[
                ("/etc/sysconfig/network-scripts/ifcfg-ens192", ifcfg),
                ("/etc/sysconfig/network-scripts/ifcfg-eth1", dhcp),
                ("/etc/sysconfig/network-scripts/ifcfg-lo", "DEVICE=lo\nIPADDR=127.0.0.1\n"),
                ("/etc/NetworkManager/system-connections/ens160.nmconnection", keyfile),
                ("/etc/netplan/50-cloud-init.yaml", netplan),
                ("/etc/network/interfaces", interfaces),
                ("/etc/udev/rules.d/70-persistent-net.rules", udev),
                ("/etc/systemd/network/10-ens33.network", networkd),
                ("/etc/cloud/cloud.cfg", ""),
            ],
            &[],
        );
        let s = |c, f: &str, l, n: &str| (c, f.to_string(), Some(l), Some(n.to_string()));
        use RiskCode::*;
        let (ifc, kf, np) = (
            "/etc/sysconfig/network-scripts/ifcfg-ens192",
            "/etc/NetworkManager/system-connections/ens160.nmconnection",
            "/etc/netplan/50-cloud-init.yaml",
        );
        assert_eq!(
            brief(&r),
            [
                s(NicName, ifc, 3, "ens192"),
                s(NicName, ifc, 4, "ens192"),
                s(NicMac, ifc, 5, "00:50:56:8a:12:34"),
                s(StaticAddress, ifc, 6, "10.1.2.3"),
                s(NicName, kf, 2, "ens160"),
                s(NicName, kf, 3, "ens160"),
                s(NicMac, kf, 5, "00:0C:29:AA:BB:CC"),
                s(StaticAddress, kf, 7, "192.168.1.10/24"),
                s(NicName, np, 3, "ens224"),
                s(NicMac, np, 5, "00:50:56:00:00:01"),
                s(StaticAddress, np, 6, "10.0.0.5/24"),
                s(StaticAddress, np, 11, "10.0.0.6/24"),
                s(NicName, "/etc/network/interfaces", 3, "eno16777736"),
                s(NicName, "/etc/network/interfaces", 4, "eno16777736"),
                s(StaticAddress, "/etc/network/interfaces", 5, "172.16.0.2/24"),
                s(NicName, "/etc/systemd/network/10-ens33.network", 2, "ens33"),
                s(StaticAddress, "/etc/systemd/network/10-ens33.network", 4, "10.2.0.1/16"),
                s(NicMac, "/etc/udev/rules.d/70-persistent-net.rules", 2, "00:50:56:ab:cd:ef"),
            ]
        );
        assert_eq!(r.last().unwrap().fix.as_deref(), Some(FIX_UDEV));
    }

    #[test]
    fn tools_and_cloud_init() {
        let codes = |files: &[(&str, &str)]| found(files, &[]).into_iter().map(|r| r.code).collect::<Vec<_>>();
        assert_eq!(
            codes(&[("/etc/vmware-tools/locations", "x"), ("/usr/bin/vmtoolsd", "x")]),
            [RiskCode::VmwareToolsLegacy, RiskCode::NoCloudInit]
        );
        assert_eq!(codes(&[("/usr/bin/vmtoolsd", "x"), ("/etc/cloud/cloud.cfg", "x")]), [RiskCode::OpenVmTools]);
        assert_eq!(
            codes(&[("/usr/lib/vmware-tools/bin64/vmtoolsd", "x"), ("/etc/cloud/cloud.cfg", "x")]),
            [RiskCode::VmwareToolsLegacy]
        );
    }

    #[test]
    fn names_and_macs() {
        for (w, want) in [
            ("ens192", true),
            ("ens160", true),
            ("ens33", true),
            ("eno16777736", true),
            ("ens3", false),
            ("ens30", false),
            ("enp1s0", false),
            ("eth0", false),
            ("eno1", false),
        ] {
            assert_eq!(vmware_nic(w), want, "{w}");
        }
        assert_eq!(find_mac("HWADDR=00:50:56:8a:12:34"), Some("00:50:56:8a:12:34"));
        assert_eq!(find_mac("x 00-50-56-8A-12-34 y"), Some("00-50-56-8A-12-34"));
        assert_eq!(find_mac("00:50-56:8a:12:34"), None);
        assert_eq!(find_mac("time 12:30:45"), None);
        for (d, want) in [
            ("/dev/sda", true),
            ("/dev/sdab12", true),
            ("/dev/hdc1", true),
            ("/dev/sdcard", false),
            ("/dev/vda1", false),
            ("/dev/sd", false),
        ] {
            assert_eq!(bus_device(d), want, "{d}");
        }
    }
}
