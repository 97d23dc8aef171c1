//! The core → page contract: errors and warnings carry stable codes and named args, and
//! every code has a sentence in both of the page's catalogues (web/src/i18n/{en,ko}.js)
//! whose placeholders are args that code can carry.

use stackferry::error::{ErrorCode, Referent};
use stackferry::guest::{ReasonCode, RiskCode};
use stackferry::input;
use stackferry::migration::{ProblemCode, ReasonCode as MigrationReason};
use stackferry::notice::{NoticeCode, WarnCode};
use stackferry::openstack::WhyCode;
use stackferry::source::{MemSource, NamedFiles, NoFiles, SourceRef};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn sparse() -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/strozfriedberg+vmdk-rs/data/monolithicSparse.vmdk");
    std::fs::read(p).unwrap()
}

#[test]
fn a_truncated_vmdk_says_how_long_it_should_be() {
    let mut d = sparse();
    d.truncate(5000);
    let e = input::inspect(MemSource::new("truncated.vmdk", d), &NoFiles).err().expect("an error");
    assert_eq!((e.code, e.file.as_str()), (ErrorCode::Truncated, "truncated.vmdk"), "{e}");
    assert_eq!(e.args.size, Some(5000), "{e}");
    assert!(e.args.needed.is_some_and(|n| n > 5000), "{e}");
    assert_eq!(e.args.names(), ["needed", "size"]);
}

#[test]
fn a_text_file_is_not_a_disk() {
    let e = input::inspect(MemSource::new("notes.txt", b"shopping list: milk, eggs".to_vec()), &NoFiles)
        .err()
        .expect("an error");
    assert_eq!(
        (e.code, e.kind, e.file.as_str()),
        (ErrorCode::NotADisk, stackferry::ErrorKind::Unsupported, "notes.txt")
    );
    // Its English stays what the CLI printed.
    assert_eq!(
        e.to_string(),
        "notes.txt: offset 0 (0x0): not a VMDK: no 'KDMV' or 'COWD' sparse magic and no text descriptor"
    );
    let xml = b"<?xml version=\"1.0\"?><html><body/></html>".to_vec();
    let e = input::inspect(MemSource::new("page.xml", xml), &NoFiles).err().expect("an error");
    assert_eq!(e.code, ErrorCode::NotADisk, "{e}");
    let e = input::inspect(MemSource::new("tiny", b"ab".to_vec()), &NoFiles).err().expect("an error");
    assert_eq!(e.code, ErrorCode::NotADisk, "{e}");
}

#[test]
fn a_missing_extent_is_named() {
    let desc = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 8 FLAT \"d-flat.vmdk\" 0\n";
    let e = input::open(MemSource::new("d.vmdk", desc.as_bytes().to_vec()), &NoFiles).err().expect("an error");
    assert_eq!((e.code, e.file.as_str()), (ErrorCode::MissingFile, "d.vmdk"));
    assert_eq!((e.args.name.as_deref(), e.args.what), (Some("d-flat.vmdk"), Some(Referent::Extent)));
    assert_eq!(e.to_string(), "d.vmdk: extent 'd-flat.vmdk' was not provided");
}

#[test]
fn too_large_carries_its_byte_limit() {
    let mut big = b"# Disk DescriptorFile\n".to_vec();
    big.resize((1 << 20) + 1, b'#');
    let e = input::inspect(MemSource::new("big.vmdk", big), &NoFiles).err().expect("an error");
    assert_eq!(e.code, ErrorCode::TooLarge, "{e}");
    assert_eq!((e.args.limit, e.args.size), (Some(1 << 20), Some((1 << 20) + 1)));
}

#[test]
fn warnings_are_structured_and_print_as_before() {
    // A descriptor whose extent holds more sectors than it declares, inside an OVF without
    // a manifest.
    let desc = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 0 FLAT \"z-flat.vmdk\" 0\nRW 8 FLAT \"d-flat.vmdk\" 0\n";
    let files: Vec<SourceRef> =
        vec![MemSource::new("d.vmdk", desc.as_bytes().to_vec()), MemSource::new("d-flat.vmdk", vec![0; 4096])];
    let ins = input::inspect(files[0].clone(), &NamedFiles::new(files.clone())).unwrap();
    let w = &ins.disks[0].warnings[0];
    assert_eq!(w.code, NoticeCode::Warn(WarnCode::EmptyExtent));
    assert_eq!(w.to_string(), "d.vmdk: ignoring a 0-sector extent line at byte 92");
    let json = serde_json::to_value(w).unwrap();
    assert_eq!(json["code"], "empty_extent");
    assert_eq!(json["file"], "d.vmdk");
    assert_eq!(json["args"], serde_json::json!({}));
}

/// `key: 'text'` entries (and `key: {one: '...', other: '...'}`) of one catalogue.
fn catalogue(file: &str) -> BTreeMap<String, String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/src/i18n").join(file);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let l = line.trim();
        let Some(rest) = l.strip_prefix('\'') else { continue };
        let Some((key, value)) = rest.split_once("':") else { continue };
        out.insert(key.to_string(), value.trim().to_string());
    }
    out
}

/// The `{name}` placeholders of a catalogue value.
fn placeholders(value: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = value;
    while let Some(i) = rest.find('{') {
        rest = &rest[i + 1..];
        if let Some(j) = rest.find('}') {
            let name = &rest[..j];
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                out.insert(name.to_string());
            }
            rest = &rest[j + 1..];
        }
    }
    out
}

#[test]
fn every_code_has_a_sentence_in_both_languages() {
    let mut want: Vec<(String, &[&str])> = Vec::new();
    for c in ErrorCode::ALL {
        want.push((format!("error.{}", c.as_str()), c.params()));
        // Errors that only stop part of an inspection come back as warnings.
        want.push((format!("warn.{}", c.as_str()), c.params()));
    }
    for c in WarnCode::ALL {
        want.push((format!("warn.{}", c.as_str()), c.params()));
    }
    for c in WhyCode::ALL {
        want.push((format!("why.{}", c.as_str()), c.params()));
    }
    for c in RiskCode::ALL {
        want.push((format!("guest.risk.{}", c.as_str()), c.params()));
    }
    // The guest's reasons: in the Guest card, and inside `why.guest_*` as their `reason`.
    for c in ReasonCode::ALL {
        want.push((format!("guest.reason.{}", c.as_str()), c.params()));
    }
    // The whole-VM plan: the boot disk's reason, the suggestions' reasons, the problems.
    for c in MigrationReason::ALL {
        want.push((format!("migration.reason.{}", c.as_str()), c.params()));
    }
    for c in ProblemCode::ALL {
        want.push((format!("migration.problem.{}", c.as_str()), c.params()));
    }
    for lang in ["en.js", "ko.js"] {
        let cat = catalogue(lang);
        for (key, params) in &want {
            let value = cat.get(key).unwrap_or_else(|| panic!("{lang}: no entry {key}"));
            for p in placeholders(value) {
                // A risk also carries the line that shows it and that line's text.
                let risk_field = key.starts_with("guest.risk.") && (p == "line" || p == "text");
                assert!(
                    p == "file" || p == "offset" || risk_field || params.contains(&p.as_str()),
                    "{lang}: {key} uses {{{p}}}, which its code does not carry ({params:?})"
                );
            }
            // A guest reason names everything it carries (its args are the names it is about).
            if key.starts_with("guest.reason.") {
                let used = placeholders(value);
                assert!(params.iter().all(|p| used.contains(*p)), "{lang}: {key} leaves out one of {params:?}");
            }
        }
    }
}

#[test]
fn a_lone_vmdk_offers_suggestions_for_each_os() {
    // 8 sectors of a flat extent: a 4 KiB disk rounds up to a 1 GiB min_disk.
    let desc = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 8 FLAT \"d-flat.vmdk\" 0\n";
    let files: Vec<SourceRef> =
        vec![MemSource::new("d.vmdk", desc.as_bytes().to_vec()), MemSource::new("d-flat.vmdk", vec![0; 4096])];
    let ins = input::inspect(files[0].clone(), &NamedFiles::new(files.clone())).unwrap();
    assert!(ins.suggestion.is_none() && ins.vm.is_none());
    let c = ins.os_choices.as_ref().expect("os_choices for a lone disk");
    let get = |s: &stackferry::openstack::Suggestion, k: &str| s.get(k).map(str::to_string);
    for (s, bus, vif, os_type) in [
        (&c.linux, "virtio", "virtio", Some("linux")),
        (&c.windows, "sata", "e1000e", Some("windows")),
        (&c.other, "ide", "e1000", None),
    ] {
        assert_eq!(get(s, "hw_disk_bus").as_deref(), Some(bus));
        assert_eq!(get(s, "hw_vif_model").as_deref(), Some(vif));
        assert_eq!(get(s, "os_type").as_deref(), os_type);
        // Firmware is unknown for a lone disk: no property, Nova's default stays.
        assert_eq!(get(s, "hw_firmware_type"), None);
        assert_eq!((s.min_disk, s.min_ram, s.flavor.disk_gib), (Some(1), None, Some(1)));
        for p in &s.properties {
            assert!(!p.why.is_empty(), "{}", p.key);
        }
        let bus_why: Vec<WhyCode> = s.properties[0].why.iter().map(|w| w.code).collect();
        assert!(bus_why.contains(&WhyCode::LoneDiskController), "{bus_why:?}");
        let flavor: Vec<WhyCode> = s.flavor.why.iter().map(|w| w.code).collect();
        assert_eq!(flavor, [WhyCode::LoneDiskVcpus, WhyCode::LoneDiskMemory, WhyCode::RootDisk]);
    }
    assert_eq!(c.linux.properties[0].why[0].args.os.as_deref(), Some("Linux"));
    assert_eq!(c.other.properties[0].why[0].code, WhyCode::ChosenOther);
    assert_eq!(get(&c.windows, "os_distro").as_deref(), Some("windows"));
    let v = serde_json::to_value(&ins).unwrap();
    assert_eq!(v["os_choices"]["windows"]["min_disk"], 1);
    assert_eq!(
        v["os_choices"]["linux"]["properties"][0]["why"][0],
        serde_json::json!({"code": "basis_chosen", "args": {"os": "Linux"}})
    );
    // An OVF describes its VM: no question to ask.
    let ovf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/glennmatthews+cot/COT/tests/ubuntu.2.0.ovf");
    let src: SourceRef = stackferry::native::FileSource::open(&ovf).unwrap();
    let ins = input::inspect(src, &stackferry::native::DirFiles::default()).unwrap();
    assert!(ins.os_choices.is_none());
    let os = &ins.vm.as_ref().unwrap().os;
    assert_eq!((os.product.as_deref(), os.bits), (Some("Ubuntu Linux"), Some(64)), "{os:?}");
}
