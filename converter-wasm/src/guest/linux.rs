//! What a Linux root says about itself: the distribution (os-release(5)) with its libosinfo
//! names, the installed kernels, the default one (see [`grub`](super::grub)), and for each
//! kernel where the drivers a move to OpenStack depends on are: built in, in its initramfs,
//! only on the root file system, or nowhere.

use super::grub::{version_cmp, Loader};
use super::initramfs::{self, Initramfs};
use super::report::{Driver, Evidence, Found, Kernel, Os};
use super::root::{fatal, Root};
use crate::error::Result;
use std::collections::BTreeMap;

/// os-release(5): `/etc/os-release`, else `/usr/lib/os-release`.
pub const OS_RELEASE: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];
/// Kernel module trees (`/lib` is a link to `/usr/lib` on merged-/usr systems; the link may
/// not be followed when the mount assembly sees only part of the tree).
pub const MODULE_TREES: [&str; 2] = ["/lib/modules", "/usr/lib/modules"];

/// The drivers inspection looks for, with the directory under `/lib/modules/<v>/kernel` each
/// module lives in: virtio (what OpenStack gives), the fallbacks QEMU emulates (AHCI SATA,
/// PIIX IDE) and VMware's (what the guest uses today).
pub const DRIVERS: [(&str, &str); 9] = [
    ("virtio_blk", "drivers/block"),
    ("virtio_scsi", "drivers/scsi"),
    ("virtio_net", "drivers/net"),
    ("virtio_pci", "drivers/virtio"),
    ("ahci", "drivers/ata"),
    ("ata_piix", "drivers/ata"),
    ("vmw_pvscsi", "drivers/scsi"),
    ("mptspi", "drivers/message/fusion"),
    ("vmxnet3", "drivers/net/vmxnet3"),
];

/// The key/value pairs of an os-release file, values unquoted as os-release(5) says (shell
/// quoting: `"…"` with `\` escaping `$ " \ \``, `'…'` literal).
pub fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else { continue };
        let mut value = String::new();
        let mut chars = raw.chars();
        let mut quote = None;
        while let Some(c) = chars.next() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (Some('\''), c) => value.push(c),
                (_, '\\') => value.extend(chars.next()),
                (_, c) => value.push(c),
            }
        }
        out.insert(key.to_string(), value);
    }
    out
}

/// libosinfo's `os_distro` for an os-release `ID` (the names Glance and Nova expect).
pub fn libosinfo_distro(id: &str) -> Option<&'static str> {
    Some(match id {
        "rhel" => "rhel",
        "centos" => "centos",
        "rocky" => "rocky",
        "almalinux" => "almalinux",
        "ol" => "ol",
        "fedora" => "fedora",
        "debian" => "debian",
        "ubuntu" => "ubuntu",
        "sles" => "sles",
        "sled" => "sled",
        "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" => "opensuse",
        "arch" => "arch",
        "gentoo" => "gentoo",
        "alpine" => "alpinelinux",
        "mageia" => "mageia",
        _ => return None,
    })
}

/// The OS from os-release, or `None` when there is none.
pub fn os(root: &Root) -> Result<Option<Os>> {
    for path in OS_RELEASE {
        let Some(text) = root.text(path)? else { continue };
        let mut kv = parse_os_release(&text);
        let id = kv.remove("ID").map(|s| s.to_ascii_lowercase());
        let version_id = kv.remove("VERSION_ID");
        let distro = id.as_deref().and_then(libosinfo_distro);
        let version = match id.as_deref() {
            Some("opensuse-tumbleweed") => Some("tumbleweed".to_string()),
            _ => version_id.clone().filter(|_| distro.is_some()),
        };
        return Ok(Some(Os {
            family: "linux".into(),
            id,
            version_id,
            pretty_name: kv.remove("PRETTY_NAME"),
            distro: distro.map(str::to_string),
            version,
            evidence: Evidence::Path(path.into()),
        }));
    }
    Ok(None)
}

/// The installed kernels (`/boot/vmlinuz-<v>`), newest first, the loader's default marked
/// (else the newest), each with its initramfs read and its drivers found.
pub fn kernels(root: &Root, loader: &Loader) -> Result<Vec<Kernel>> {
    let mut versions: Vec<String> =
        root.list("/boot")?.into_iter().filter_map(|e| Some(e.name.strip_prefix("vmlinuz-")?.to_string())).collect();
    versions.sort_by(|a, b| version_cmp(b, a));
    let default = loader.default.as_ref().filter(|d| versions.contains(d)).or(versions.first()).cloned();
    let mut out = Vec::new();
    for v in versions {
        let mut k = kernel(root, &v)?;
        k.default = Some(&v) == default.as_ref();
        out.push(k);
    }
    Ok(out)
}

/// The initramfs names tried for kernel `v`: dracut's, initramfs-tools', SUSE's.
fn initramfs_paths(v: &str) -> [String; 3] {
    [format!("/boot/initramfs-{v}.img"), format!("/boot/initrd.img-{v}"), format!("/boot/initrd-{v}")]
}

/// One kernel: its initramfs read, its drivers found.
fn kernel(root: &Root, v: &str) -> Result<Kernel> {
    let mut k = Kernel { version: v.into(), image: format!("/boot/vmlinuz-{v}"), ..Kernel::default() };
    let mut init: Option<Initramfs> = None;
    for path in initramfs_paths(v) {
        match root.files.read(&path, initramfs::MAX_INPUT) {
            Ok(None) => continue,
            Ok(Some(data)) => {
                let i = initramfs::read(&path, &data);
                k.initramfs_layers = i.layers.clone();
                k.problem = i.problem.as_ref().map(ToString::to_string);
                init = Some(i);
            }
            Err(e) if fatal(&e) => return Err(e),
            Err(e) => k.problem = Some(e.to_string()),
        }
        k.initramfs = Some(path);
        break;
    }
    if k.initramfs.is_none() {
        k.problem = Some(format!("no initramfs: none of {}", initramfs_paths(v).join(", ")));
    }
    let img = k.initramfs.as_deref().map(|p| p.rsplit('/').next().unwrap_or(p).to_string());
    let mut builtin = None;
    for tree in MODULE_TREES {
        let path = format!("{tree}/{v}/modules.builtin");
        if let Some(text) = root.bytes(&path, initramfs::MAX_BUILTIN as u64)? {
            builtin = Some((path, initramfs::builtin(&text)));
            break;
        }
    }
    for (name, dir) in DRIVERS {
        k.drivers.push(locate(root, v, (name, dir), builtin.as_ref(), init.as_ref(), img.as_deref())?);
    }
    Ok(k)
}

/// Where driver `name` (its module in `dir`) is for kernel `v`: built in (the root's
/// `modules.builtin`, else the initramfs's), in the initramfs `img`, on the root, or missing.
fn locate(
    root: &Root,
    v: &str,
    (name, dir): (&str, &str),
    builtin: Option<&(String, BTreeMap<String, u32>)>,
    init: Option<&Initramfs>,
    img: Option<&str>,
) -> Result<Driver> {
    let img = img.unwrap_or_default();
    let found = |found, evidence| Ok(Driver { name: name.into(), found, evidence: Some(evidence) });
    if let Some((path, line)) = builtin.and_then(|(p, b)| Some((p, b.get(name)?))) {
        return found(Found::Builtin, format!("{path} line {line}"));
    }
    if let Some(i) = init {
        if let Some((path, line)) = i.builtin.as_ref().and_then(|(p, b)| Some((p, b.get(name)?))) {
            return found(Found::Builtin, format!("{path} line {line} in {img}"));
        }
        if let Some(path) = i.modules.get(name) {
            return found(Found::Initramfs, format!("{path} in {img}"));
        }
    }
    for tree in MODULE_TREES {
        let dir = format!("{tree}/{v}/kernel/{dir}");
        let hit = root.list(&dir)?.into_iter().find(|e| initramfs::module_name(&e.name).as_deref() == Some(name));
        if let Some(e) = hit {
            return found(Found::Installed, format!("{dir}/{}", e.name));
        }
    }
    Ok(Driver { name: name.into(), found: Found::Missing, evidence: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guest::cpio::tests::archive;
    use crate::guest::MemFiles;

    #[test]
    fn os_release_quoting_and_libosinfo_names() {
        let kv = parse_os_release(
            "NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\n# c\nPRETTY_NAME='Rocky \"Blue\" Onyx'\nX=\"a\\\"b\\$c\"\nY=plain\\ word\n",
        );
        assert_eq!(kv["ID"], "rocky");
        assert_eq!(kv["PRETTY_NAME"], "Rocky \"Blue\" Onyx");
        assert_eq!(kv["X"], "a\"b$c");
        assert_eq!(kv["Y"], "plain word");
        let m = MemFiles::new([("/usr/lib/os-release", "ID=opensuse-leap\nVERSION_ID=\"15.5\"\n")]);
        let os = super::os(&Root::new(&m)).unwrap().unwrap();
        assert_eq!((os.distro.as_deref(), os.version.as_deref()), (Some("opensuse"), Some("15.5")));
        assert_eq!(os.evidence, Evidence::Path("/usr/lib/os-release".into()));
        let m = MemFiles::new([("/etc/os-release", "ID=plan9\nVERSION_ID=4\n")]);
        let os = super::os(&Root::new(&m)).unwrap().unwrap();
        assert_eq!((os.id.as_deref(), os.distro, os.version), (Some("plan9"), None, None));
        assert!(super::os(&Root::new(&MemFiles::default())).unwrap().is_none());
    }

    #[test]
    fn drivers_from_builtin_initramfs_and_module_tree() {
        let v = "6.1.0-13-amd64";
        let img = crate::guest::initramfs::tests::gzip(&archive(&[
            (&format!("usr/lib/modules/{v}/kernel/drivers/ata/ahci.ko"), b"m"),
            (&format!("usr/lib/modules/{v}/kernel/drivers/scsi/vmw_pvscsi.ko"), b"m"),
        ]));
        let m = MemFiles::new([
            (format!("/boot/vmlinuz-{v}"), b"k".to_vec()),
            ("/boot/vmlinuz-5.10.0-9-amd64".to_string(), b"k".to_vec()),
            (format!("/boot/initrd.img-{v}"), img),
            (format!("/usr/lib/modules/{v}/modules.builtin"), b"kernel/drivers/virtio/virtio_pci.ko\n".to_vec()),
            (format!("/lib/modules/{v}/kernel/drivers/net/virtio_net.ko.xz"), b"m".to_vec()),
        ]);
        let ks = kernels(&Root::new(&m), &Loader::default()).unwrap();
        assert_eq!(
            ks.iter().map(|k| (k.version.as_str(), k.default)).collect::<Vec<_>>(),
            [(v, true), ("5.10.0-9-amd64", false)]
        );
        let k = &ks[0];
        assert_eq!(k.initramfs_layers, ["gzip"]);
        assert_eq!(k.problem, None);
        let d = |n: &str| k.drivers.iter().find(|d| d.name == n).unwrap().clone();
        assert_eq!(d("virtio_pci").found, Found::Builtin);
        assert_eq!(d("virtio_pci").evidence.unwrap(), format!("/usr/lib/modules/{v}/modules.builtin line 1"));
        assert_eq!(d("ahci").found, Found::Initramfs);
        assert_eq!(
            d("ahci").evidence.unwrap(),
            format!("usr/lib/modules/{v}/kernel/drivers/ata/ahci.ko in initrd.img-{v}")
        );
        assert_eq!(d("virtio_net").found, Found::Installed);
        assert_eq!((d("virtio_blk").found, d("virtio_blk").evidence), (Found::Missing, None));
        // The older kernel has no initramfs: said so.
        assert!(ks[1].problem.as_deref().unwrap().contains("/boot/initrd.img-5.10.0-9-amd64"));
        // The loader's default wins over the newest.
        let l = Loader { default: Some("5.10.0-9-amd64".into()), ..Loader::default() };
        let ks = kernels(&Root::new(&m), &l).unwrap();
        assert!(ks[1].default && !ks[0].default);
    }
}
