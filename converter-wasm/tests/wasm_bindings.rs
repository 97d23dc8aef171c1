//! The browser bindings (src/wasm.rs), run in headless Chromium inside a dedicated worker
//! (where `FileReaderSync` exists):
//!
//! ```sh
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER=/usr/bin/chromedriver \
//!   cargo test -p stackferry --no-default-features --target wasm32-unknown-unknown --test wasm_bindings
//! ```
//! (web/test.sh does this). The oracle is the core itself run over in-memory sources: the
//! bindings must not change a byte.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use stackferry::driver::convert_serial;
use stackferry::error::ErrorKind;
use stackferry::image::{Disk, DiskInfo};
use stackferry::plan::{plan, Options, OutputFormat};
use stackferry::source::{MemSource, Source, SourceRef};
use stackferry::wasm::{self, BlobSource};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

#[path = "common/grains.rs"]
mod grains;
use grains::{grains_blob, Grains};
use web_sys::Blob;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn blob(bytes: &[u8]) -> Blob {
    let parts = Array::new();
    parts.push(&Uint8Array::from(bytes));
    Blob::new_with_u8_array_sequence(&parts).unwrap()
}

fn random(n: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed);
    (0..n).map(|_| r.next() as u8).collect()
}

#[wasm_bindgen_test]
fn blob_source_reads_like_memory() {
    let data = random(5 * stackferry::source::READ_AHEAD + 12345, 1);
    let bs = BlobSource::new("disk.vmdk", blob(&data)).unwrap();
    assert_eq!(bs.len(), data.len() as u64);
    assert_eq!(bs.name(), "disk.vmdk");
    let mut r = Rng(9);
    let mut pos = 0u64;
    // Sequential runs with small gaps (served from the read-ahead window, across window edges),
    // then scattered reads (straight from the blob), then reads larger than the window.
    for i in 0..3000 {
        let len = if i % 500 == 499 { stackferry::source::READ_AHEAD + 17 } else { (r.next() % 70_000) as usize };
        let off = if i < 2000 { pos + r.next() % 600 } else { r.next() % data.len() as u64 };
        let off = off.min((data.len() - len) as u64);
        let mut buf = vec![0u8; len];
        bs.read_exact_at(off, &mut buf).unwrap();
        assert!(buf == data[off as usize..off as usize + len], "read {i} at {off}+{len}");
        pos = off + len as u64;
    }
    // The last byte, and nothing past it.
    let mut one = [0u8; 1];
    bs.read_exact_at(data.len() as u64 - 1, &mut one).unwrap();
    assert_eq!(one[0], data[data.len() - 1]);
    let mut two = [0u8; 2];
    let e = bs.read_exact_at(data.len() as u64 - 1, &mut two).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Truncated);
    assert_eq!(e.file, "disk.vmdk");
    assert_eq!(e.offset, Some(data.len() as u64 - 1));
    let e = bs.read_exact_at(u64::MAX - 1, &mut two).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Truncated);
}

/// A guest disk with data here and there and holes elsewhere.
fn sparse_guest(size: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed);
    let mut d = vec![0u8; size];
    for _ in 0..40 {
        let at = (r.next() as usize) % size;
        let len = ((r.next() % 200_000) as usize).min(size - at);
        let text = r.next() % 2 == 0;
        for b in &mut d[at..at + len] {
            *b = if text { b"stackferry "[(r.next() % 11) as usize] } else { r.next() as u8 };
        }
    }
    d[size - 1] = 0x5a;
    d
}

/// A JS sink collecting the output as web/src/save.js writes it (at offsets, holes skipped).
fn js_sink(out: Rc<RefCell<Vec<u8>>>) -> Closure<dyn FnMut(Uint8Array, f64)> {
    Closure::<dyn FnMut(Uint8Array, f64)>::new(move |view: Uint8Array, at: f64| {
        // Copy out of wasm memory first (a JS-side copy): growing `o` may grow wasm memory,
        // which detaches the view.
        let view = view.slice(0, view.length());
        let mut o = out.borrow_mut();
        let at = at as usize;
        let end = at + view.length() as usize;
        if o.len() < end {
            o.resize(end, 0);
        }
        view.copy_to(&mut o[at..end]);
    })
}

/// Drive a bindings converter the way web/src/converter-worker.js does: packed batches out to
/// `decode_batch` (a decode worker), results pushed back out of order, buffers recycled both
/// ways, output collected through a JS sink. With `external_sha` the output is hashed as the
/// page's writer worker does.
fn drive(mut conv: wasm::Converter, external_sha: bool) -> (Vec<u8>, JsValue) {
    if external_sha {
        conv.hash_output_externally();
    }
    let (mut spare_in, mut spare_out): (Option<js_sys::ArrayBuffer>, Option<js_sys::ArrayBuffer>) = (None, None);
    let out = Rc::new(RefCell::new(Vec::<u8>::new()));
    let sink = js_sink(out.clone());
    let sink: &Function = sink.as_ref().unchecked_ref();
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 100_000, "conversion does not finish");
        let mut results = Vec::new();
        for _ in 0..3 {
            let Some(b) = conv.next_batch(5, 1 << 20, spare_in.take()).unwrap() else { break };
            let r = wasm::decode_batch(&b.to_vec(), spare_out.take()).unwrap();
            spare_in = Some(b.buffer());
            results.push(r);
        }
        // Out of order, as several workers would return them.
        for r in results.into_iter().rev() {
            conv.push_batch(r.to_vec()).unwrap();
            spare_out = Some(r.buffer());
        }
        if conv.emit(sink).unwrap() == "done" {
            break;
        }
    }
    let report = conv.report().unwrap();
    let len = conv.output_len().unwrap() as usize;
    let mut o = out.borrow_mut();
    assert!(o.len() <= len, "wrote past the output length");
    o.resize(len, 0); // what the sink's final truncate does
    if external_sha {
        assert_eq!(get_str(&report, "sha512"), "", "the converter leaves the SHA-512 to us");
        // As the writer worker does: written pieces hashed, holes hashed as zero runs.
        let mut h = wasm::Sha512Hasher::new();
        for chunk in o.chunks(65536) {
            if chunk.iter().all(|&b| b == 0) {
                h.update_zeros(chunk.len() as f64);
            } else {
                h.update(chunk);
            }
        }
        Reflect::set(&report, &"sha512".into(), &h.finish().into()).unwrap();
    }
    (o.clone(), report)
}

fn get_str(v: &JsValue, k: &str) -> String {
    Reflect::get(v, &k.into()).unwrap().as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
fn conversion_through_bindings_matches_the_core() {
    let guest = sparse_guest(6 * 1024 * 1024 + 4096, 5);
    let (bytes, table) = grains_blob(&guest, 65536);
    let blob_src = BlobSource::new("grains.bin", blob(&bytes)).unwrap();
    let mem_src = MemSource::new("grains.bin", bytes.clone());
    for format in [OutputFormat::Qcow2, OutputFormat::Qcow2Compressed, OutputFormat::Raw] {
        let options = Options { format, ..Options::default() };
        let mk = |src: SourceRef| Disk {
            info: DiskInfo { name: "grains".into(), ..Default::default() },
            map: Box::new(Grains { src, table: table.clone(), grain: 65536, size: guest.len() as u64 }),
            check: None,
        };
        let d = mk(blob_src.clone());
        let p = plan(&d, &options, &|| false).unwrap();
        let conv = wasm::Converter::from_core(stackferry::convert::Converter::new(d, p), DiskInfo::default(), 64);
        // QCOW2: the output hashed outside the converter, as the page does.
        let (got, report) = drive(conv, format == OutputFormat::Qcow2);
        let d = mk(mem_src.clone());
        let p = plan(&d, &options, &|| false).unwrap();
        let mut want = Vec::new();
        let want_report = convert_serial(d, p, &mut |b: &[u8]| {
            want.extend_from_slice(b);
            Ok(())
        })
        .unwrap();
        assert!(got == want, "{format:?}: output differs ({} vs {} bytes)", got.len(), want.len());
        assert_eq!(get_str(&report, "sha512"), want_report.sha512, "{format:?}");
        assert_eq!(get_str(&report, "content_digest"), want_report.content_digest, "{format:?}");
        assert_eq!(get_str(&report, "content_digest"), stackferry::digest::digest_raw(&guest[..]).unwrap());
    }
}

#[wasm_bindgen_test]
fn decode_errors_come_back_as_located_js_objects() {
    // A grain whose bytes are not zlib: the error names the file and the grain's offset.
    let guest = sparse_guest(1024 * 1024, 8);
    let (mut bytes, table) = grains_blob(&guest, 65536);
    let (bad_off, _) = table.iter().flatten().next().copied().unwrap();
    bytes[bad_off as usize] ^= 0xff;
    bytes[bad_off as usize + 1] ^= 0xff;
    let src = BlobSource::new("bad.bin", blob(&bytes)).unwrap();
    let d = Disk {
        info: DiskInfo::default(),
        map: Box::new(Grains { src, table, grain: 65536, size: guest.len() as u64 }),
        check: None,
    };
    let options = Options { probe_compressed_max: 0, ..Options::default() };
    let p = plan(&d, &options, &|| false).unwrap();
    let mut conv = wasm::Converter::from_core(stackferry::convert::Converter::new(d, p), DiskInfo::default(), 8);
    let sink = Function::new_with_args("b, at", "");
    let mut err = None;
    for _ in 0..1000 {
        if let Some(b) = conv.next_batch(3, 1 << 20, None).unwrap() {
            conv.push_batch(wasm::decode_batch(&b.to_vec(), None).unwrap().to_vec()).unwrap();
        }
        match conv.emit(&sink) {
            Ok(next) if next == "done" => break,
            Ok(_) => {}
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    let e = err.expect("the corrupt grain must fail the conversion");
    assert_eq!(get_str(&e, "kind"), "corrupt");
    // Its code crossed the decode worker's packed batch and the binding.
    assert_eq!(get_str(&e, "code"), "corrupt");
    assert!(Reflect::get(&e, &"args".into()).unwrap().is_object());
    assert_eq!(get_str(&e, "file"), "bad.bin");
    assert_eq!(Reflect::get(&e, &"offset".into()).unwrap().as_f64(), Some(bad_off as f64));
    assert!(!get_str(&e, "message").is_empty());
}

#[wasm_bindgen_test]
fn what_the_sink_throws_comes_back_unchanged() {
    // The page's writer fails with its own error (a full disk: `no_space`); thrown by the
    // sink, it must reach the caller as it was, not as a read error of the core's.
    let guest = sparse_guest(1024 * 1024, 9);
    let (bytes, table) = grains_blob(&guest, 65536);
    let d = Disk {
        info: DiskInfo::default(),
        map: Box::new(Grains {
            src: BlobSource::new("grains.bin", blob(&bytes)).unwrap(),
            table,
            grain: 65536,
            size: guest.len() as u64,
        }),
        check: None,
    };
    let p = plan(&d, &Options::default(), &|| false).unwrap();
    let mut conv = wasm::Converter::from_core(stackferry::convert::Converter::new(d, p), DiskInfo::default(), 8);
    let sink = Function::new_with_args(
        "b, at",
        "throw { kind: 'too_large', code: 'no_space', file: '', offset: at, message: 'full', args: {} };",
    );
    let mut err = None;
    for _ in 0..1000 {
        if let Some(b) = conv.next_batch(3, 1 << 20, None).unwrap() {
            conv.push_batch(wasm::decode_batch(&b.to_vec(), None).unwrap().to_vec()).unwrap();
        }
        match conv.emit(&sink) {
            Ok(next) => assert_ne!(next, "done", "a sink that always throws cannot finish"),
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    let e = err.expect("the sink's error ends the conversion");
    assert_eq!((get_str(&e, "code"), get_str(&e, "message")), ("no_space".into(), "full".into()));
    assert_eq!(Reflect::get(&e, &"offset".into()).unwrap().as_f64(), Some(0.0), "the first write failed");
}

fn file_list(files: &[(&str, &[u8])]) -> Array {
    let arr = Array::new();
    for (name, bytes) in files {
        let o = Object::new();
        Reflect::set(&o, &"name".into(), &(*name).into()).unwrap();
        Reflect::set(&o, &"blob".into(), &blob(bytes)).unwrap();
        arr.push(&o);
    }
    arr
}

#[wasm_bindgen_test]
fn options_are_checked() {
    let files = file_list(&[("x.vmdk", b"not a disk")]);
    let opts = Object::new();
    Reflect::set(&opts, &"colour".into(), &"blue".into()).unwrap();
    let e = wasm::Converter::new(files, 0, 0, opts.into(), 8).err().expect("unknown option refused");
    // Either the unknown option or the unreadable disk is reported, as a located JS object.
    assert!(!get_str(&e, "kind").is_empty());
    assert!(!get_str(&e, "message").is_empty());
}

#[wasm_bindgen_test]
fn inspect_reports_bad_files_per_input() {
    // Garbage is not a disk: inspect must not throw for the whole set but say which file failed.
    let junk = random(70_000, 3);
    let r = wasm::inspect(file_list(&[("junk.vmdk", &junk)])).unwrap();
    let inputs: Array = Reflect::get(&r, &"inputs".into()).unwrap().dyn_into().unwrap();
    assert_eq!(inputs.length(), 1);
    let inp = inputs.get(0);
    assert_eq!(get_str(&inp, "name"), "junk.vmdk");
    let err = Reflect::get(&inp, &"error".into()).unwrap();
    assert!(err.is_object(), "junk must give an error entry");
    assert_eq!(get_str(&err, "file"), "junk.vmdk");
    assert_eq!((get_str(&err, "kind"), get_str(&err, "code")), ("unsupported".into(), "not_a_disk".into()));
}

const STREAM_VMDK: &[u8] = include_bytes!("data/strozfriedberg+vmdk-rs/data/streamOptimized.vmdk");
const SPLIT_DESC: &[u8] = include_bytes!("data/strozfriedberg+vmdk-rs/data/twoGbMaxExtentSparse.vmdk");
const SPLIT_EXTENT: &[u8] = include_bytes!("data/strozfriedberg+vmdk-rs/data/twoGbMaxExtentSparse-s001.vmdk");

/// The core over in-memory sources: the expected output.
fn core_output(files: &[(&str, &[u8])], options: &Options) -> (Vec<u8>, stackferry::convert::Report) {
    let srcs: Vec<SourceRef> = files.iter().map(|(n, b)| MemSource::new(*n, b.to_vec())).collect();
    let set = stackferry::source::NamedFiles::new(srcs.clone());
    let opened = stackferry::input::open(srcs[0].clone(), &set).unwrap();
    let d = opened.disks.into_iter().next().unwrap();
    let p = plan(&d, options, &|| false).unwrap();
    let mut out = Vec::new();
    let r = convert_serial(d, p, &mut |b: &[u8]| {
        out.extend_from_slice(b);
        Ok(())
    })
    .unwrap();
    (out, r)
}

#[wasm_bindgen_test]
fn real_vmdks_inspect_and_convert_from_blobs() {
    for (files, format) in [
        (vec![("streamOptimized.vmdk", STREAM_VMDK)], "qcow2"),
        (
            vec![("dir/twoGbMaxExtentSparse.vmdk", SPLIT_DESC), ("dir/twoGbMaxExtentSparse-s001.vmdk", SPLIT_EXTENT)],
            "raw",
        ),
    ] {
        let r = wasm::inspect(file_list(&files)).unwrap();
        let inputs: Array = Reflect::get(&r, &"inputs".into()).unwrap().dyn_into().unwrap();
        assert_eq!(inputs.length(), 1, "{files:?}: one top-level input");
        let inp = inputs.get(0);
        assert_eq!(Reflect::get(&inp, &"top".into()).unwrap().as_f64(), Some(0.0));
        let uses: Array = Reflect::get(&inp, &"uses".into()).unwrap().dyn_into().unwrap();
        assert_eq!(uses.length() as usize, files.len(), "every file is used by the input");
        let ins = Reflect::get(&inp, &"inspection".into()).unwrap();
        let disks: Array = Reflect::get(&ins, &"disks".into()).unwrap().dyn_into().unwrap();
        assert_eq!(Reflect::get(&disks.get(0), &"virtual_size".into()).unwrap().as_f64(), Some(10485760.0));
        let missing: Array = Reflect::get(&ins, &"missing".into()).unwrap().dyn_into().unwrap();
        assert_eq!(missing.length(), 0);

        let opts = Object::new();
        Reflect::set(&opts, &"format".into(), &format.into()).unwrap();
        let conv = wasm::Converter::new(file_list(&files), 0, 0, opts.into(), 16).unwrap();
        let (got, report) = drive(conv, false);
        let options = Options {
            format: if format == "raw" { OutputFormat::Raw } else { OutputFormat::Qcow2 },
            ..Options::default()
        };
        let (want, want_report) = core_output(&files, &options);
        assert!(got == want, "{format}: output differs from the core's");
        assert_eq!(get_str(&report, "sha512"), want_report.sha512);
        assert_eq!(get_str(&report, "content_digest"), want_report.content_digest);
    }
}

#[wasm_bindgen_test]
fn missing_and_truncated_files_are_reported_by_name() {
    // The descriptor alone: its extent is named as missing, nothing fails.
    let r = wasm::inspect(file_list(&[("twoGbMaxExtentSparse.vmdk", SPLIT_DESC)])).unwrap();
    let inp = Array::from(&Reflect::get(&r, &"inputs".into()).unwrap()).get(0);
    let ins = Reflect::get(&inp, &"inspection".into()).unwrap();
    let missing = Array::from(&Reflect::get(&ins, &"missing".into()).unwrap());
    assert_eq!(missing.length(), 1);
    assert!(missing.get(0).as_string().unwrap().ends_with("twoGbMaxExtentSparse-s001.vmdk"));
    let e = wasm::Converter::new(file_list(&[("twoGbMaxExtentSparse.vmdk", SPLIT_DESC)]), 0, 0, JsValue::UNDEFINED, 8)
        .err()
        .expect("missing extent");
    assert_eq!(get_str(&e, "kind"), "missing_file");
    assert_eq!(get_str(&e, "code"), "missing_file");
    let args = Reflect::get(&e, &"args".into()).unwrap();
    assert!(get_str(&args, "name").ends_with("twoGbMaxExtentSparse-s001.vmdk"));
    assert_eq!(get_str(&args, "what"), "extent");
    // A lone disk: the page is offered a suggestion per OS, each reason part a code.
    let choices = Reflect::get(&ins, &"os_choices".into()).unwrap();
    let linux = Reflect::get(&choices, &"linux".into()).unwrap();
    let prop = Array::from(&Reflect::get(&linux, &"properties".into()).unwrap()).get(0);
    assert_eq!(get_str(&prop, "key"), "hw_disk_bus");
    let why = Array::from(&Reflect::get(&prop, &"why".into()).unwrap()).get(0);
    assert_eq!(get_str(&why, "code"), "basis_chosen");
    assert_eq!(get_str(&Reflect::get(&why, &"args".into()).unwrap(), "os"), "Linux");
    assert!(Reflect::get(&linux, &"min_disk".into()).unwrap().as_f64().is_some_and(|g| g >= 1.0));
    // A stream cut short: the error names the file.
    let cut = &STREAM_VMDK[..STREAM_VMDK.len() / 2];
    let files = file_list(&[("cut.vmdk", cut)]);
    let err = match wasm::Converter::new(files, 0, 0, JsValue::UNDEFINED, 8) {
        Err(e) => e,
        Ok(conv) => {
            let sink = Function::new_with_args("b, at", "");
            let mut conv = conv;
            let mut err = None;
            for _ in 0..100_000 {
                match conv.next_batch(8, 1 << 20, None) {
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                    Ok(Some(b)) => {
                        conv.push_batch(wasm::decode_batch(&b.to_vec(), None).unwrap().to_vec()).unwrap();
                    }
                    Ok(None) => {}
                }
                match conv.emit(&sink) {
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                    Ok(next) if next == "done" => break,
                    Ok(_) => {}
                }
            }
            err.expect("a truncated stream must fail")
        }
    };
    assert_eq!(get_str(&err, "file"), "cut.vmdk", "{err:?}");
    if get_str(&err, "kind") == "truncated" {
        let args = Reflect::get(&err, &"args".into()).unwrap();
        let num = |k: &str| Reflect::get(&args, &k.into()).unwrap().as_f64().unwrap_or(0.0);
        assert!(num("needed") > num("size") && num("size") > 0.0, "{err:?}");
    }
}

/// `migration` takes the page's plain object and gives the core's plan as one: the same JSON
/// as the native function's; a malformed input is an `invalid_argument` error object.
#[wasm_bindgen_test]
fn migration_round_trips_json() {
    use stackferry::migration::{migration, Input};
    let input = r#"{"disks": [
        {"index": 0, "name": "sys.vmdk", "capacity": 10737418241, "upload_bytes": 123456789, "role": "boot",
         "target": "image", "volume_type": null, "volume_gib": null},
        {"index": 1, "name": "data.vmdk", "capacity": 2147483648, "upload_bytes": null, "role": "data",
         "target": "volume", "volume_type": "ssd", "volume_gib": 1}],
      "boot": "image", "flavor": {"vcpus": 2, "ram_mib": 4096, "disk_gib": 0},
      "limits": {"compute": {"instances": {"limit": 10, "used": 9}, "cores": {"limit": -1, "used": 3}, "ram_mib": null},
                 "volume": {"volumes": {"limit": 10, "used": 0}, "gigabytes": {"limit": 1000, "used": 0},
                            "per_type": {"ssd": {"volumes": {"limit": 1, "used": 1}, "gigabytes": null}}},
                 "image": null},
      "stores": {"stores": [{"id": "ceph", "default": true, "type": "rbd"}]}}"#;
    let js = js_sys::JSON::parse(input).unwrap();
    let out = wasm::migration(js).unwrap();
    let got: serde_json::Value = serde_json::from_str(&String::from(js_sys::JSON::stringify(&out).unwrap())).unwrap();
    let native: Input = serde_json::from_str(input).unwrap();
    assert_eq!(got, serde_json::to_value(migration(&native)).unwrap());
    // What the JSON says, read back from the JS object.
    assert_eq!(got["disks"][0]["min_gib"], 11);
    assert_eq!(got["disks"][1]["volume_gib"], 2);
    assert_eq!(got["suggested_boot"]["boot"], "volume");
    assert_eq!(got["suggested_format"]["format"], "raw");
    assert_eq!(got["problems"][0]["code"], "volume_too_small");
    assert_eq!(
        got["unknown"],
        serde_json::json!(["compute.ram_mib", "volume.type.gigabytes", "image.count", "image.size_bytes"])
    );
    assert_eq!(got["checks"][1]["left"], serde_json::Value::Null, "unlimited cores");
    assert_eq!(got["fits"], false);

    let bad = js_sys::JSON::parse(
        r#"{"disks": [{"index": 0, "name": "a", "role": "root", "target": "image"}], "boot": "image"}"#,
    )
    .unwrap();
    let e = wasm::migration(bad).unwrap_err();
    assert_eq!(Reflect::get(&e, &"code".into()).unwrap().as_string().as_deref(), Some("invalid_argument"));
    let msg = Reflect::get(&e, &"message".into()).unwrap().as_string().unwrap();
    assert!(msg.contains("root"), "{msg}");
}
