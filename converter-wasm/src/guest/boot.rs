//! The decision for a Linux guest: which disk bus and NIC model its default kernel can use on
//! OpenStack, from where its drivers are, with the evidence and the command that makes virtio
//! work; and [`inspect_linux`], the whole inspection of a Linux root.
//!
//! A root disk needs its driver at boot (built in or in the initramfs: the initramfs mounts the
//! root); a NIC only once the root is mounted (a module on the root will do).

use super::report::{Boot, Evidence, Found, Guest, Kernel, Os, Reason, ReasonCode, Risk, RiskCode};
use super::root::Root;
use super::{grub, linux, risks, Files};
use crate::error::{Args, Result};

/// The drivers the fix adds to the initramfs.
const VIRTIO: &str = "virtio_blk virtio_scsi virtio_net virtio_pci";

/// The bus and NIC model kernel `k` can use, and why.
pub fn decide(k: &Kernel) -> Boot {
    use ReasonCode::*;
    let found = |n: &str| k.drivers.iter().find(|d| d.name == n).map_or(Found::Missing, |d| d.found);
    let at_boot = |n: &str| matches!(found(n), Found::Builtin | Found::Initramfs);
    // Without an initramfs only built-in drivers count, and the reason names the kernel.
    let initramfs = k.initramfs.as_deref().map(|p| p.rsplit('/').next().unwrap_or(p).to_string());
    let vif_model = if at_boot("virtio_net") || found("virtio_net") == Found::Installed { "virtio" } else { "e1000" };
    let pci = at_boot("virtio_pci");
    let (mut missing, mut driver, mut drivers) = (None, None, None);
    let (disk_bus, scsi_model, boots, code) = if at_boot("virtio_blk") && pci {
        let code = match (found("virtio_blk"), found("virtio_pci")) {
            (Found::Builtin, Found::Builtin) => VirtioBuiltIn,
            (Found::Builtin, _) => VirtioBlkBuiltIn,
            (_, Found::Builtin) => VirtioPciBuiltIn,
            _ => VirtioInInitramfs,
        };
        ("virtio", None, true, code)
    } else {
        missing = Some(if at_boot("virtio_blk") { "virtio_pci" } else { "virtio_blk" });
        // The next best bus the guest has a driver for (virtio-scsi needs virtio_pci too).
        let other = [("virtio_scsi", "scsi"), ("ahci", "sata"), ("ata_piix", "ide")]
            .into_iter()
            .find(|&(d, _)| at_boot(d) && (d != "virtio_scsi" || pci));
        match other {
            Some((d, bus)) => {
                driver = Some(d);
                let code = if initramfs.is_some() { OtherBus } else { OtherBusNoInitramfs };
                (bus, (bus == "scsi").then_some("virtio-scsi"), true, code)
            }
            None => {
                let vmware: Vec<&str> =
                    ["vmw_pvscsi", "mptspi", "vmxnet3"].into_iter().filter(|n| at_boot(n)).collect();
                let code = match (initramfs.is_some(), vmware.is_empty()) {
                    (true, true) => NoBus,
                    (true, false) => NoBusVmware,
                    (false, true) => NoBusNoInitramfs,
                    (false, false) => NoBusVmwareNoInitramfs,
                };
                drivers = Some(vmware.join(", "));
                ("virtio", None, false, code)
            }
        }
    };
    // Each code's own args, no others.
    let keep = |p: &str, v: Option<String>| v.filter(|_| code.params().contains(&p));
    let args = Args {
        kernel: keep("kernel", Some(k.version.clone())),
        initramfs: keep("initramfs", initramfs),
        missing: keep("missing", missing.map(str::to_string)),
        driver: keep("driver", driver.map(str::to_string)),
        drivers: keep("drivers", drivers),
        ..Args::default()
    };
    let needs_fix = disk_bus != "virtio" || !boots || vif_model != "virtio";
    Boot {
        disk_bus: disk_bus.into(),
        scsi_model: scsi_model.map(str::to_string),
        vif_model: vif_model.into(),
        boots,
        reason: Reason::new(code, args),
        fix: needs_fix.then(|| fix(k)),
    }
}

/// The command that puts the virtio drivers into kernel `k`'s initramfs: initramfs-tools for
/// an `initrd.img-<v>`, dracut otherwise (RHEL and its rebuilds, Fedora, SUSE).
pub fn fix(k: &Kernel) -> String {
    let v = &k.version;
    if k.initramfs.as_deref().is_some_and(|p| p.contains("/initrd.img-")) {
        format!("printf '%s\\n' {VIRTIO} >> /etc/initramfs-tools/modules && update-initramfs -u -k {v}")
    } else {
        format!("dracut -f --add-drivers \"{VIRTIO}\" --kver {v}")
    }
}

/// Inspects a Linux root file system (with `/boot` mounted on it when separate): OS, kernels,
/// risks and the boot decision for the default kernel. `None` when the tree holds neither an
/// os-release nor a kernel. Errors only when the tree cannot be read at all; a damaged file is
/// a problem in the report.
pub fn inspect_linux(files: &dyn Files) -> Result<Option<Guest>> {
    let root = Root::new(files);
    let os = linux::os(&root)?;
    let loader = grub::read(&root)?;
    let kernels = linux::kernels(&root, &loader)?;
    if os.is_none() && kernels.is_empty() {
        return Ok(None);
    }
    let mut risks = risks::risks(&root, &loader.cmdlines)?;
    let default = kernels.iter().find(|k| k.default);
    match default {
        None => risks.push(Risk {
            code: RiskCode::NoKernel,
            file: "/boot".into(),
            line: None,
            text: String::new(),
            name: None,
            fix: None,
        }),
        Some(k) if k.initramfs_layers.is_empty() => risks.push(Risk {
            code: RiskCode::NoKernel,
            file: k.initramfs.clone().unwrap_or_else(|| k.image.clone()),
            line: None,
            text: k.problem.clone().unwrap_or_default().chars().take(risks::MAX_TEXT).collect(),
            name: Some(k.version.clone()),
            fix: None,
        }),
        Some(_) => {}
    }
    let boot = default.map(decide);
    let os = os.or_else(|| {
        let evidence = Evidence::Reason(Reason::new(ReasonCode::KernelsOnly, Args::default()));
        Some(Os::new("linux", evidence))
    });
    Ok(Some(Guest { os, kernels, boot, risks, problems: root.into_problems(), ..Guest::default() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guest::cpio::tests::archive;
    use crate::guest::initramfs::tests::{gzip, tool};
    use crate::guest::report::Driver;
    use crate::guest::MemFiles;
    use serde_json::{json, Value};
    use ReasonCode::*;

    /// A boot reason's code and args, as the page receives them.
    fn reason(b: &Boot) -> (ReasonCode, Value) {
        (b.reason.code, serde_json::to_value(&b.reason.args).unwrap())
    }

    const RHEL: &str = "5.14.0-362.8.1.el9_3.x86_64";
    const RHEL_OLD: &str = "5.14.0-284.11.1.el9_2.x86_64";

    /// A module path in an initramfs for kernel `v`.
    fn ko(v: &str, dir: &str, name: &str) -> String {
        format!("usr/lib/modules/{v}/kernel/drivers/{dir}/{name}.ko.xz")
    }

    /// An initramfs as dracut builds it: early microcode cpio, then the modules, compressed by
    /// `compress` (the real `zstd`/`xz` when installed, else gzip).
    fn dracut_img(v: &str, mods: &[(&str, &str)], compress: &[&str]) -> Vec<u8> {
        let mut img = archive(&[("kernel/x86/microcode/GenuineIntel.bin", b"u")]);
        img.resize(512, 0);
        let names: Vec<String> = mods.iter().map(|(d, n)| ko(v, d, n)).collect();
        let main = archive(&names.iter().map(|n| (n.as_str(), &b"m"[..])).collect::<Vec<_>>());
        img.extend(tool(compress, &main).unwrap_or_else(|| gzip(&main)));
        img
    }

    fn rhel(mods: &[(&str, &str)]) -> MemFiles {
        let bls = |v: &str| {
            format!("title Rocky Linux ({v})\nversion {v}\nlinux /vmlinuz-{v}\ninitrd /initramfs-{v}.img\noptions root=/dev/mapper/rl-root ro resume=/dev/sda2\n")
        };
        let os = "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n";
        MemFiles::new([
            ("/etc/os-release".to_string(), os.as_bytes().to_vec()),
            (
                "/etc/fstab".into(),
                b"/dev/mapper/rl-root / xfs defaults 0 0\n/dev/sda1 /boot xfs defaults 0 0\n".to_vec(),
            ),
            (format!("/boot/vmlinuz-{RHEL}"), b"k".to_vec()),
            (format!("/boot/vmlinuz-{RHEL_OLD}"), b"k".to_vec()),
            (format!("/boot/loader/entries/0c1d-{RHEL}.conf"), bls(RHEL).into_bytes()),
            (format!("/boot/loader/entries/0c1d-{RHEL_OLD}.conf"), bls(RHEL_OLD).into_bytes()),
            (
                "/boot/grub2/grubenv".into(),
                format!("# GRUB Environment Block\nsaved_entry=0c1d-{RHEL}\n####\n").into_bytes(),
            ),
            (format!("/boot/initramfs-{RHEL}.img"), dracut_img(RHEL, mods, &["zstd", "-q", "-c"])),
            (format!("/boot/initramfs-{RHEL_OLD}.img"), dracut_img(RHEL_OLD, mods, &["xz", "--check=crc32", "-c"])),
            (format!("/lib/modules/{RHEL}/kernel/drivers/net/virtio_net.ko.xz"), b"m".to_vec()),
            ("/etc/sysconfig/network-scripts/ifcfg-ens192".into(), b"DEVICE=ens192\nBOOTPROTO=dhcp\n".to_vec()),
            ("/usr/bin/vmtoolsd".into(), b"x".to_vec()),
        ])
    }

    #[test]
    fn rhel_hostonly_without_virtio_will_not_boot() {
        let g = inspect_linux(&rhel(&[("scsi", "vmw_pvscsi"), ("net/vmxnet3", "vmxnet3")])).unwrap().unwrap();
        let os = g.os.unwrap();
        assert_eq!((os.distro.as_deref(), os.version.as_deref()), (Some("rocky"), Some("9.3")));
        assert_eq!(
            g.kernels.iter().map(|k| (k.version.as_str(), k.default)).collect::<Vec<_>>(),
            [(RHEL, true), (RHEL_OLD, false)]
        );
        assert_eq!(g.kernels[0].initramfs_layers[0], "none");
        assert_eq!(g.kernels[0].initramfs_layers.len(), 2);
        let b = g.boot.unwrap();
        assert!(!b.boots);
        let img = format!("initramfs-{RHEL}.img");
        assert_eq!(
            reason(&b),
            (NoBusVmware, json!({"initramfs": img, "missing": "virtio_blk", "drivers": "vmw_pvscsi, vmxnet3"}))
        );
        // The CLI's English.
        assert_eq!(
            b.reason.to_string(),
            format!(
                "{img} has no virtio_blk, and no driver for any other bus OpenStack offers (virtio-scsi, SATA, IDE); only VMware's: vmw_pvscsi, vmxnet3"
            )
        );
        assert_eq!(
            b.fix.unwrap(),
            format!("dracut -f --add-drivers \"virtio_blk virtio_scsi virtio_net virtio_pci\" --kver {RHEL}")
        );
        // virtio_net is on the root: enough for the NIC.
        assert_eq!(b.vif_model, "virtio");
        let codes: Vec<RiskCode> = g.risks.iter().map(|r| r.code).collect();
        use RiskCode::*;
        assert_eq!(codes, [FstabDevice, CmdlineDevice, CmdlineDevice, NicName, OpenVmTools, NoCloudInit]);
        assert!(g.problems.is_empty(), "{:?}", g.problems);
    }

    #[test]
    fn rhel_with_ahci_boots_on_sata_and_saved_entry_picks_the_kernel() {
        let mut m = rhel(&[("ata", "ahci"), ("scsi", "vmw_pvscsi")]);
        m.files.insert("/boot/grub2/grubenv".into(), format!("saved_entry=0c1d-{RHEL_OLD}\n").into_bytes());
        let g = inspect_linux(&m).unwrap().unwrap();
        assert!(g.kernels[1].default && !g.kernels[0].default);
        let b = g.boot.unwrap();
        assert_eq!((b.disk_bus.as_str(), b.boots), ("sata", true));
        let img = format!("initramfs-{RHEL_OLD}.img");
        assert_eq!(reason(&b), (OtherBus, json!({"initramfs": img, "missing": "virtio_blk", "driver": "ahci"})));
        assert_eq!(b.reason.to_string(), format!("{img} has no virtio_blk; it has ahci"));
        // Not installed on the root for this kernel: e1000, and the fix still offered.
        assert_eq!(b.vif_model, "e1000");
        assert!(b.fix.unwrap().ends_with(&format!("--kver {RHEL_OLD}")));
    }

    #[test]
    fn rhel_with_virtio_in_initramfs_boots_on_virtio() {
        let mods = [("block", "virtio_blk"), ("virtio", "virtio_pci"), ("scsi", "virtio_scsi"), ("net", "virtio_net")];
        let b = inspect_linux(&rhel(&mods)).unwrap().unwrap().boot.unwrap();
        assert_eq!((b.disk_bus.as_str(), b.vif_model.as_str(), b.boots), ("virtio", "virtio", true));
        assert_eq!(reason(&b), (VirtioInInitramfs, json!({"initramfs": format!("initramfs-{RHEL}.img")})));
        assert_eq!(b.fix, None);
        // virtio_scsi without virtio_blk: the SCSI bus with the virtio-scsi model.
        let b = inspect_linux(&rhel(&mods[1..])).unwrap().unwrap().boot.unwrap();
        assert_eq!((b.disk_bus.as_str(), b.scsi_model.as_deref()), ("scsi", Some("virtio-scsi")));
        let args =
            json!({"initramfs": format!("initramfs-{RHEL}.img"), "missing": "virtio_blk", "driver": "virtio_scsi"});
        assert_eq!(reason(&b), (OtherBus, args));
    }

    /// Debian: initramfs-tools (gzip), grub.cfg, `/dev/sdX` in fstab, static interfaces.
    fn debian(v: &str, os: &str, initrd_mods: &[(&str, &str)], builtin: &str) -> MemFiles {
        let names: Vec<String> = initrd_mods.iter().map(|(d, n)| ko(v, d, n)).collect();
        let initrd = gzip(&archive(&names.iter().map(|n| (n.as_str(), &b"m"[..])).collect::<Vec<_>>()));
        let cfg = format!(
            "set default=\"0\"\nmenuentry 'Debian GNU/Linux' $menuentry_id_option 'gnulinux-simple-x' {{\n\tlinux\t/boot/vmlinuz-{v} root=UUID=x ro quiet\n\tinitrd\t/boot/initrd.img-{v}\n}}\n"
        );
        MemFiles::new([
            ("/etc/os-release".to_string(), os.as_bytes().to_vec()),
            ("/etc/fstab".into(), b"UUID=x / ext4 errors=remount-ro 0 1\n/dev/sdb1 /srv ext4 defaults 0 2\n".to_vec()),
            (format!("/boot/vmlinuz-{v}"), b"k".to_vec()),
            (format!("/boot/initrd.img-{v}"), initrd),
            ("/boot/grub/grub.cfg".into(), cfg.into_bytes()),
            (format!("/lib/modules/{v}/modules.builtin"), builtin.as_bytes().to_vec()),
            (
                "/etc/network/interfaces".into(),
                b"auto ens192\niface ens192 inet static\n  address 10.0.0.2/24\n".to_vec(),
            ),
            ("/etc/cloud/cloud.cfg".into(), b"users: [default]\n".to_vec()),
        ])
    }

    #[test]
    fn debian_with_virtio_modules_in_initramfs_tools() {
        let v = "6.1.0-13-amd64";
        let os = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n";
        let mods = [("block", "virtio_blk"), ("virtio", "virtio_pci"), ("net", "virtio_net"), ("ata", "ahci")];
        let g = inspect_linux(&debian(v, os, &mods, "kernel/fs/ext4/ext4.ko\n")).unwrap().unwrap();
        assert_eq!(g.os.unwrap().distro.as_deref(), Some("debian"));
        let b = g.boot.unwrap();
        assert_eq!((b.disk_bus.as_str(), b.boots, b.fix.as_deref()), ("virtio", true, None));
        assert_eq!(reason(&b), (VirtioInInitramfs, json!({"initramfs": format!("initrd.img-{v}")})));
        let r: Vec<(RiskCode, Option<u32>)> = g.risks.iter().map(|r| (r.code, r.line)).collect();
        use RiskCode::*;
        // The static stanza is shown at its `address` line (3), where the address to change is.
        assert_eq!(r, [(FstabDevice, Some(2)), (NicName, Some(1)), (NicName, Some(2)), (StaticAddress, Some(3))]);
        // Without virtio and ahci, with ata_piix: IDE, and the initramfs-tools fix.
        let g = inspect_linux(&debian(v, os, &[("ata", "ata_piix")], "")).unwrap().unwrap();
        let b = g.boot.unwrap();
        assert_eq!((b.disk_bus.as_str(), b.vif_model.as_str()), ("ide", "e1000"));
        let args = json!({"initramfs": format!("initrd.img-{v}"), "missing": "virtio_blk", "driver": "ata_piix"});
        assert_eq!(reason(&b), (OtherBus, args));
        assert_eq!(
            b.fix.unwrap(),
            format!("printf '%s\\n' virtio_blk virtio_scsi virtio_net virtio_pci >> /etc/initramfs-tools/modules && update-initramfs -u -k {v}")
        );
    }

    #[test]
    fn ubuntu_with_virtio_built_in() {
        let v = "5.15.0-91-generic";
        let os = "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\n";
        let builtin = "kernel/drivers/block/virtio_blk.ko\nkernel/drivers/virtio/virtio_pci.ko\nkernel/drivers/net/virtio_net.ko\n";
        let g = inspect_linux(&debian(v, os, &[], builtin)).unwrap().unwrap();
        let os = g.os.unwrap();
        assert_eq!((os.distro.as_deref(), os.version.as_deref()), (Some("ubuntu"), Some("22.04")));
        let b = g.boot.unwrap();
        assert_eq!((b.disk_bus.as_str(), b.vif_model.as_str(), b.boots), ("virtio", "virtio", true));
        assert_eq!(reason(&b), (VirtioBuiltIn, json!({"kernel": v})));
        assert_eq!(b.reason.to_string(), format!("virtio_blk and virtio_pci are built into kernel {v}"));
        let d = g.kernels[0].drivers.iter().find(|d| d.name == "virtio_net").unwrap();
        assert_eq!(d.evidence.as_deref(), Some(format!("/lib/modules/{v}/modules.builtin line 3").as_str()));
    }

    #[test]
    fn not_linux_and_unreadable_initramfs() {
        assert!(inspect_linux(&MemFiles::new([("/Windows/System32/config/SOFTWARE", "x")])).unwrap().is_none());
        // A damaged initramfs: reported on the kernel and as a risk; the reason says what the
        // rest of it (nothing) holds.
        let mut m = rhel(&[]);
        m.files.insert(format!("/boot/initramfs-{RHEL}.img"), b"not an initramfs".to_vec());
        let g = inspect_linux(&m).unwrap().unwrap();
        let k = &g.kernels[0];
        assert!(k.problem.as_deref().unwrap().contains("neither a cpio archive"), "{:?}", k.problem);
        assert!(g.risks.iter().any(|r| r.code == RiskCode::NoKernel && r.name.as_deref() == Some(RHEL)));
        let b = g.boot.unwrap();
        assert!(!b.boots);
        let img = format!("initramfs-{RHEL}.img");
        assert_eq!(reason(&b), (NoBus, json!({"initramfs": img, "missing": "virtio_blk"})));
        // No kernel at all: a risk, no decision.
        let g = inspect_linux(&MemFiles::new([("/etc/os-release", "ID=fedora\nVERSION_ID=39\n")])).unwrap().unwrap();
        assert!(g.boot.is_none());
        assert_eq!(g.risks.iter().filter(|r| r.code == RiskCode::NoKernel).count(), 1);
    }

    /// A kernel with these drivers found (the rest missing), with or without an initramfs.
    fn kernel(initramfs: bool, drivers: &[(&str, Found)]) -> Kernel {
        let v = "6.6.0-x";
        Kernel {
            version: v.into(),
            image: format!("/boot/vmlinuz-{v}"),
            initramfs: initramfs.then(|| format!("/boot/initramfs-{v}.img")),
            drivers: drivers.iter().map(|&(n, found)| Driver { name: n.into(), found, evidence: None }).collect(),
            ..Kernel::default()
        }
    }

    #[test]
    fn each_branch_has_its_code_and_only_its_args() {
        use Found::{Builtin as B, Initramfs as I};
        let (k, img) = ("6.6.0-x", "initramfs-6.6.0-x.img");
        // With an initramfs?, the drivers found, then the bus, whether it boots, the reason.
        type Case<'a> = (bool, &'a [(&'a str, Found)], &'a str, bool, ReasonCode, Value);
        let cases: [Case; 10] = [
            (
                true,
                &[("virtio_blk", B), ("virtio_pci", I)],
                "virtio",
                true,
                VirtioBlkBuiltIn,
                json!({"kernel": k, "initramfs": img}),
            ),
            (
                true,
                &[("virtio_blk", I), ("virtio_pci", B)],
                "virtio",
                true,
                VirtioPciBuiltIn,
                json!({"kernel": k, "initramfs": img}),
            ),
            (false, &[("virtio_blk", B), ("virtio_pci", B)], "virtio", true, VirtioBuiltIn, json!({"kernel": k})),
            // virtio_blk without virtio_pci: virtio_pci is what is missing; virtio_scsi needs it too.
            (
                true,
                &[("virtio_blk", I), ("virtio_scsi", I), ("ahci", I)],
                "sata",
                true,
                OtherBus,
                json!({"initramfs": img, "missing": "virtio_pci", "driver": "ahci"}),
            ),
            (
                false,
                &[("ata_piix", B)],
                "ide",
                true,
                OtherBusNoInitramfs,
                json!({"kernel": k, "missing": "virtio_blk", "driver": "ata_piix"}),
            ),
            (false, &[], "virtio", false, NoBusNoInitramfs, json!({"kernel": k, "missing": "virtio_blk"})),
            (
                false,
                &[("mptspi", B)],
                "virtio",
                false,
                NoBusVmwareNoInitramfs,
                json!({"kernel": k, "missing": "virtio_blk", "drivers": "mptspi"}),
            ),
            (true, &[("virtio_pci", I)], "virtio", false, NoBus, json!({"initramfs": img, "missing": "virtio_blk"})),
            // A module only on the root is no use for the root disk.
            (
                true,
                &[("ahci", Found::Installed), ("vmw_pvscsi", I)],
                "virtio",
                false,
                NoBusVmware,
                json!({"initramfs": img, "missing": "virtio_blk", "drivers": "vmw_pvscsi"}),
            ),
            (
                true,
                &[("virtio_scsi", I), ("virtio_pci", I)],
                "scsi",
                true,
                OtherBus,
                json!({"initramfs": img, "missing": "virtio_blk", "driver": "virtio_scsi"}),
            ),
        ];
        for (initramfs, drivers, bus, boots, code, args) in cases {
            let b = decide(&kernel(initramfs, drivers));
            assert_eq!((b.disk_bus.as_str(), b.boots), (bus, boots), "{drivers:?}");
            assert_eq!(reason(&b), (code, args), "{drivers:?}");
            assert!(!b.reason.to_string().is_empty());
        }
        assert_eq!(
            decide(&kernel(false, &[("ata_piix", B)])).reason.to_string(),
            format!("kernel {k} has no initramfs and no virtio_blk built in; it has ata_piix")
        );
    }

    #[test]
    fn kernels_without_os_release_are_a_coded_evidence() {
        let mut m = rhel(&[]);
        m.files.remove("/etc/os-release");
        let os = inspect_linux(&m).unwrap().unwrap().os.unwrap();
        assert_eq!(os.family, "linux");
        assert_eq!(os.evidence, Evidence::Reason(Reason::new(KernelsOnly, Args::default())));
        assert_eq!(serde_json::to_value(&os.evidence).unwrap(), json!({"code": "kernels_only", "args": {}}));
        let os = inspect_linux(&rhel(&[])).unwrap().unwrap().os.unwrap();
        assert_eq!(serde_json::to_value(&os.evidence).unwrap(), json!("/etc/os-release"));
    }
}
