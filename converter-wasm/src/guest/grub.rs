//! What the boot loader starts: Boot Loader Specification entries (`/boot/loader/entries/*.conf`,
//! RHEL 8+, Fedora) with GRUB's environment block (`saved_entry`, `kernelopts`), or a GRUB 2
//! `grub.cfg` (its `menuentry`/`submenu` tree and `set default`). Also every kernel command line
//! found, for the risk of a `root=/dev/sdX`.

use super::root::{config_lines, Root};
use crate::error::Result;

/// BLS entries; GRUB's `blscfg` reads them from here.
pub const BLS_DIR: &str = "/boot/loader/entries";
/// The GRUB configurations tried, in order (Red Hat / SUSE, then Debian / Ubuntu).
pub const GRUB_CFGS: [&str; 2] = ["/boot/grub2/grub.cfg", "/boot/grub/grub.cfg"];
/// GRUB's environment blocks, in order.
pub const GRUBENVS: [&str; 2] = ["/boot/grub2/grubenv", "/boot/grub/grubenv"];
/// The EFI system partition's vendor directories, where GRUB keeps its configuration on some
/// UEFI installs (RHEL 7 and 8, `/boot/efi/EFI/<vendor>/grub.cfg` and `grubenv`).
pub const ESP_DIR: &str = "/boot/efi/EFI";
/// Deepest block nesting followed in grub.cfg; generated files nest 3 deep (`submenu`,
/// `menuentry`, `if`).
const MAX_NESTING: usize = 16;
/// Where the GRUB command line for future configurations is set.
pub const DEFAULT_GRUB: &str = "/etc/default/grub";

/// A line of a file, where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub file: String,
    /// 1-based.
    pub line: u32,
    pub text: String,
}

/// What the boot loader configuration says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loader {
    /// The kernel version of the default entry (from its `linux` path), when one was found.
    pub default: Option<String>,
    /// Every kernel command line: BLS `options`, grubenv `kernelopts`, grub.cfg `linux` lines,
    /// `GRUB_CMDLINE_LINUX*` in /etc/default/grub.
    pub cmdlines: Vec<Line>,
}

/// A boot entry: its id (BLS file name without `.conf`) or title and `$menuentry_id_option`,
/// and the kernel version its `linux` line starts.
#[derive(Clone, Debug)]
struct BootEntry {
    names: Vec<String>,
    version: Option<String>,
}

/// The kernel version a `linux` path names: `5.14.0-362.el9_3.x86_64` from
/// `/vmlinuz-5.14.0-362.el9_3.x86_64` or `/boot/vmlinuz-…`.
pub fn kernel_version(path: &str) -> Option<String> {
    let base = path.rsplit('/').next()?;
    base.strip_prefix("vmlinuz-").or_else(|| base.strip_prefix("vmlinux-")).map(str::to_string)
}

pub fn read(root: &Root) -> Result<Loader> {
    let mut out = Loader::default();
    let env = grubenv(root)?;
    let saved = env.iter().find(|(k, _, _)| k == "saved_entry").map(|(_, v, _)| v.clone());
    for (key, value, line) in &env {
        if key == "kernelopts" {
            out.cmdlines.push(Line { text: format!("kernelopts={value}"), ..line.clone() });
        }
    }
    if let Some(text) = root.text(DEFAULT_GRUB)? {
        for (n, l) in config_lines(&text).filter(|(_, l)| l.starts_with("GRUB_CMDLINE_LINUX")) {
            out.cmdlines.push(Line { file: DEFAULT_GRUB.into(), line: n, text: l.into() });
        }
    }
    let bls = bls_entries(root, &mut out.cmdlines)?;
    if !bls.is_empty() {
        // blscfg lists entries newest first; `saved_entry` picks one by its id.
        let chosen = saved.as_deref().and_then(|s| bls.iter().find(|e| e.names.iter().any(|n| n == s)));
        out.default = chosen.or(bls.first()).and_then(|e| e.version.clone());
        return Ok(out);
    }
    for cfg in with_esp(root, &GRUB_CFGS, "grub.cfg")? {
        let Some(text) = root.text(&cfg)? else { continue };
        let menu = parse_grub_cfg(&cfg, &text, &mut out.cmdlines);
        let spec = match menu.default.as_deref() {
            Some("${saved_entry}") | Some("saved") => saved.clone().unwrap_or_else(|| "0".into()),
            Some(d) => d.to_string(),
            None => "0".into(),
        };
        if let Some(e) = menu.items.resolve(&spec, &menu.entries) {
            out.default = menu.entries[e].version.clone();
        }
        break;
    }
    Ok(out)
}

/// `paths`, then `name` in each vendor directory of the EFI system partition.
fn with_esp(root: &Root, paths: &[&str], name: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    let mut vendors: Vec<String> =
        root.list(ESP_DIR)?.into_iter().map(|e| format!("{ESP_DIR}/{}/{name}", e.name)).collect();
    vendors.sort();
    out.extend(vendors);
    Ok(out)
}

/// The `key=value` lines of the first GRUB environment block found, with where they are.
fn grubenv(root: &Root) -> Result<Vec<(String, String, Line)>> {
    for path in with_esp(root, &GRUBENVS, "grubenv")? {
        if let Some(text) = root.text(&path)? {
            return Ok(config_lines(&text)
                .filter_map(|(n, l)| {
                    let (k, v) = l.split_once('=')?;
                    Some((k.to_string(), v.to_string(), Line { file: path.clone(), line: n, text: l.into() }))
                })
                .collect());
        }
    }
    Ok(Vec::new())
}

/// BLS entries, newest version first, as `blscfg` sorts them.
fn bls_entries(root: &Root, cmdlines: &mut Vec<Line>) -> Result<Vec<BootEntry>> {
    let mut out = Vec::new();
    for path in root.files_in(BLS_DIR, |n| n.ends_with(".conf"))? {
        let Some(text) = root.text(&path)? else { continue };
        let id = path.rsplit('/').next().unwrap_or_default().trim_end_matches(".conf").to_string();
        let mut e = BootEntry { names: vec![id], version: None };
        for (n, l) in config_lines(&text) {
            let (key, value) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            match key {
                "linux" => e.version = kernel_version(value.trim()),
                "options" => cmdlines.push(Line { file: path.clone(), line: n, text: l.into() }),
                _ => {}
            }
        }
        out.push(e);
    }
    out.sort_by(|a, b| version_cmp(b.names[0].as_str(), a.names[0].as_str()));
    Ok(out)
}

/// A grub.cfg's menu: entries, their tree, and the last `set default` that is not the one-time
/// `${next_entry}`.
struct Menu {
    entries: Vec<BootEntry>,
    items: Items,
    default: Option<String>,
}

/// One level of the menu: entries (by index) and submenus, as GRUB numbers them.
#[derive(Default)]
struct Items(Vec<Item>);

enum Item {
    Entry(usize),
    Submenu(Vec<String>, Items),
}

impl Items {
    /// The entry a GRUB default names: `N`, a title, an id, or `A>B` through submenus.
    fn resolve(&self, spec: &str, entries: &[BootEntry]) -> Option<usize> {
        let (head, rest) = match spec.split_once('>') {
            Some((h, r)) => (h, Some(r)),
            None => (spec, None),
        };
        let item = match head.parse::<usize>() {
            Ok(i) => self.0.get(i)?,
            Err(_) => self.0.iter().find(|it| match it {
                Item::Entry(e) => entries[*e].names.iter().any(|n| n == head),
                Item::Submenu(names, _) => names.iter().any(|n| n == head),
            })?,
        };
        match (item, rest) {
            (Item::Entry(e), None) => Some(*e),
            (Item::Submenu(_, sub), Some(r)) => sub.resolve(r, entries),
            // A submenu named alone: GRUB opens it; its first entry is what runs by default.
            (Item::Submenu(_, sub), None) => sub.resolve("0", entries),
            (Item::Entry(_), Some(_)) => None,
        }
    }
}

/// The quoted words of a `menuentry`/`submenu` line: its title and its
/// `$menuentry_id_option` id.
fn quoted(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find(['\'', '"']) {
        let q = rest.as_bytes()[start] as char;
        let Some(len) = rest[start + 1..].find(q) else { break };
        out.push(rest[start + 1..start + 1 + len].to_string());
        rest = &rest[start + len + 2..];
    }
    out
}

/// An open block of grub.cfg: a submenu (its names and items so far), an entry, or another
/// block (`function`, ...).
enum Open {
    Submenu(Vec<String>, Items),
    Entry,
    Other,
}

/// Adds `item` to the innermost open submenu, or to the top level.
fn add(stack: &mut [Open], top: &mut Items, item: Item) {
    match stack.iter_mut().rev().find_map(|o| if let Open::Submenu(_, i) = o { Some(i) } else { None }) {
        Some(items) => items.0.push(item),
        None => top.0.push(item),
    }
}

fn parse_grub_cfg(file: &str, text: &str, cmdlines: &mut Vec<Line>) -> Menu {
    let mut menu = Menu { entries: Vec::new(), items: Items::default(), default: None };
    let mut stack: Vec<Open> = Vec::new();
    for (n, l) in config_lines(text) {
        let word = l.split_whitespace().next().unwrap_or_default();
        match word {
            "menuentry" => {
                menu.entries.push(BootEntry { names: quoted(l), version: None });
                add(&mut stack, &mut menu.items, Item::Entry(menu.entries.len() - 1));
                stack.push(Open::Entry);
            }
            // Deeper submenus are taken as plain blocks: the tree (and the recursion that
            // resolves a default in it) stays shallow whatever the file says.
            "submenu" if stack.len() < MAX_NESTING => stack.push(Open::Submenu(quoted(l), Items::default())),
            "linux" | "linux16" | "linuxefi" if matches!(stack.last(), Some(Open::Entry)) => {
                if let Some(e) = menu.entries.last_mut() {
                    e.version = l.split_whitespace().nth(1).and_then(kernel_version);
                }
                cmdlines.push(Line { file: file.into(), line: n, text: l.into() });
            }
            "set" if l.starts_with("set default=") && !stack.iter().any(|o| matches!(o, Open::Entry)) => {
                let v = l["set default=".len()..].trim_matches(['"', '\'']);
                if v != "${next_entry}" {
                    menu.default = Some(v.to_string());
                }
            }
            "}" => {
                if let Some(Open::Submenu(names, items)) = stack.pop() {
                    add(&mut stack, &mut menu.items, Item::Submenu(names, items));
                }
            }
            _ if l.ends_with('{') => stack.push(Open::Other),
            _ => {}
        }
    }
    menu
}

/// Version order as `rpm`/`sort -V` see it, near enough for kernel versions: runs of digits
/// compare as numbers, other runs as text.
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let b = s.as_bytes();
        for i in 1..=b.len() {
            if i == b.len() || b[i].is_ascii_digit() != b[start].is_ascii_digit() {
                out.push((b[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ra, rb) = (runs(a), runs(b));
    for (x, y) in ra.iter().zip(&rb) {
        let o = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then(x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    ra.len().cmp(&rb.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guest::MemFiles;
    use std::cmp::Ordering;

    fn loader(files: &[(&str, &str)]) -> Loader {
        let m = MemFiles::new(files.iter().map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())));
        read(&Root::new(&m)).unwrap()
    }

    #[test]
    fn bls_default_is_saved_entry_else_newest() {
        let e = |v: &str| {
            format!("title Rocky ({v})\nversion {v}\nlinux /vmlinuz-{v}\ninitrd /initramfs-{v}.img\noptions root=/dev/mapper/rl-root ro\n")
        };
        let (old, new) = ("5.14.0-70.13.1.el9_0.x86_64", "5.14.0-362.8.1.el9_3.x86_64");
        let (fo, fn_) = (e(old), e(new));
        let files = [
            ("/boot/loader/entries/abc-5.14.0-70.13.1.el9_0.x86_64.conf", fo.as_str()),
            ("/boot/loader/entries/abc-5.14.0-362.8.1.el9_3.x86_64.conf", fn_.as_str()),
        ];
        let l = loader(&files);
        assert_eq!(l.default.as_deref(), Some(new));
        assert_eq!(l.cmdlines.len(), 2);
        assert_eq!(l.cmdlines[0].line, 5);
        let env =
            "# GRUB Environment Block\nsaved_entry=abc-5.14.0-70.13.1.el9_0.x86_64\nkernelopts=root=/dev/sda2 ro\n####";
        let l = loader(&[files[0], files[1], ("/boot/grub2/grubenv", env)]);
        assert_eq!(l.default.as_deref(), Some(old));
        assert!(l.cmdlines.iter().any(|c| c.text == "kernelopts=root=/dev/sda2 ro" && c.line == 3));
    }

    #[test]
    fn grub_cfg_default_by_index_title_and_submenu_path() {
        let cfg = |default: &str| {
            format!(
                "if [ \"${{next_entry}}\" ] ; then\n   set default=\"${{next_entry}}\"\nelse\n   set default=\"{default}\"\nfi\n\
                 menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-u1' {{\n\
                 \tlinux\t/boot/vmlinuz-6.1.0-13-amd64 root=UUID=u1 ro quiet\n}}\n\
                 submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-u1' {{\n\
                 \tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-13-amd64' $menuentry_id_option 'gnulinux-6.1.0-13-amd64-advanced-u1' {{\n\
                 \t\tlinux\t/boot/vmlinuz-6.1.0-13-amd64 root=UUID=u1 ro quiet\n\t}}\n\
                 \tmenuentry 'Debian GNU/Linux, with Linux 5.10.0-26-amd64' $menuentry_id_option 'gnulinux-5.10.0-26-amd64-advanced-u1' {{\n\
                 \t\tlinux\t/boot/vmlinuz-5.10.0-26-amd64 root=/dev/sda1 ro quiet\n\t}}\n}}\n"
            )
        };
        for (default, want) in [
            ("0", Some("6.1.0-13-amd64")),
            ("1>1", Some("5.10.0-26-amd64")),
            ("gnulinux-advanced-u1>gnulinux-5.10.0-26-amd64-advanced-u1", Some("5.10.0-26-amd64")),
            (
                "Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 5.10.0-26-amd64",
                Some("5.10.0-26-amd64"),
            ),
            ("7", None),
        ] {
            let text = cfg(default);
            let l = loader(&[("/boot/grub/grub.cfg", text.as_str())]);
            assert_eq!(l.default.as_deref(), want, "{default}");
            assert_eq!(l.cmdlines.iter().map(|c| c.line).collect::<Vec<_>>(), [7, 11, 14], "{default}");
        }
        // `${saved_entry}` reads the environment block next to it.
        let text = cfg("${saved_entry}");
        let env = "saved_entry=1>1\n";
        let l = loader(&[("/boot/grub/grub.cfg", text.as_str()), ("/boot/grub/grubenv", env)]);
        assert_eq!(l.default.as_deref(), Some("5.10.0-26-amd64"));
    }

    #[test]
    fn uefi_grub_cfg_and_grubenv_on_the_esp_default_by_title() {
        let cfg = "set default=\"${saved_entry}\"\n\
                   menuentry 'CentOS Linux (3.10.0-1160.el7.x86_64) 7 (Core)' {\n\tlinuxefi /vmlinuz-3.10.0-1160.el7.x86_64 root=/dev/sda3 ro\n}\n\
                   menuentry 'CentOS Linux (3.10.0-957.el7.x86_64) 7 (Core)' {\n\tlinuxefi /vmlinuz-3.10.0-957.el7.x86_64 root=/dev/sda3 ro\n}\n";
        let env = "saved_entry=CentOS Linux (3.10.0-957.el7.x86_64) 7 (Core)\n";
        let l = loader(&[("/boot/efi/EFI/centos/grub.cfg", cfg), ("/boot/efi/EFI/centos/grubenv", env)]);
        assert_eq!(l.default.as_deref(), Some("3.10.0-957.el7.x86_64"));
        assert_eq!(
            l.cmdlines.iter().map(|c| (c.file.as_str(), c.line)).collect::<Vec<_>>(),
            [("/boot/efi/EFI/centos/grub.cfg", 3), ("/boot/efi/EFI/centos/grub.cfg", 6)]
        );
    }

    #[test]
    fn deep_nesting_stays_shallow() {
        let mut cfg = "submenu 's' {\n".repeat(50_000);
        cfg += "menuentry 'e' {\n linux /vmlinuz-1.0 ro\n}\n";
        cfg += &"}\n".repeat(50_000);
        // Without a default: the first entry, through the submenus followed.
        let l = loader(&[("/boot/grub/grub.cfg", cfg.as_str())]);
        assert_eq!((l.cmdlines.len(), l.default.as_deref()), (1, Some("1.0")));
        // A saved default deeper than what is followed names nothing.
        let cfg = format!("set default=\"${{saved_entry}}\"\n{cfg}");
        let env = format!("saved_entry={}", ["0"; 5000].join(">"));
        let l = loader(&[("/boot/grub/grub.cfg", cfg.as_str()), ("/boot/grub/grubenv", env.as_str())]);
        assert_eq!((l.cmdlines.len(), l.default), (1, None));
    }

    #[test]
    fn versions_sort_numerically() {
        assert_eq!(version_cmp("5.14.0-362.el9", "5.14.0-70.el9"), Ordering::Greater);
        assert_eq!(version_cmp("6.1.0-13-amd64", "6.1.0-9-amd64"), Ordering::Greater);
        assert_eq!(version_cmp("4.18.0", "4.18.0-80"), Ordering::Less);
        assert_eq!(version_cmp("1.02", "1.2"), Ordering::Equal);
        assert_eq!(kernel_version("/vmlinuz-5.14.0"), Some("5.14.0".into()));
        assert_eq!(kernel_version("/boot/bzImage"), None);
    }
}
