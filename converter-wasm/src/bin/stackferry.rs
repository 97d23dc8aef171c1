//! `stackferry`: the native command line over the converter core. Argument parsing, files and
//! progress only; every format decision lives in the library.

use clap::{Parser, Subcommand, ValueEnum};
use stackferry::convert::{Converter, Progress, Report};
use stackferry::error::{Error, ErrorKind};
use stackferry::image::Disk;
use stackferry::input::{self, Opened};
use stackferry::native::{convert_parallel, DirFiles, FileSource, OutputFile};
use stackferry::plan::{self, Options, OutputFormat};
use stackferry::qcow2::in_place;
use stackferry::SourceRef;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "stackferry",
    version,
    about = "Convert VMware disks (VMDK, OVF, OVA) to QCOW2 or raw images for OpenStack"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Qcow2,
    Raw,
}

#[derive(Subcommand)]
enum Cmd {
    /// Convert a .vmdk (with its extents), an .ovf (with its files) or an .ova.
    Convert {
        /// Input files: the top file plus, optionally, the files it refers to.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Output file; with several disks, OUT-1, OUT-2, ...
        #[arg(short, long)]
        output: PathBuf,
        #[arg(short = 'O', long, value_enum, default_value = "qcow2")]
        format: Format,
        /// Compress QCOW2 clusters (like qemu-img convert -c).
        #[arg(short, long)]
        compress: bool,
        /// QCOW2 cluster size in bytes (512 .. 2097152, power of two).
        #[arg(long, default_value_t = 65536)]
        cluster_size: u32,
        /// Convert only disk N (1-based, in OVF order).
        #[arg(long)]
        disk: Option<usize>,
        /// Decoding threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Do not read uncompressed data at plan time to find zero clusters.
        #[arg(long)]
        no_zero_scan: bool,
        /// Also compute the SHA-512 of the output (what Glance reports as os_hash_value). Off by
        /// default: at about 0.7 GB/s on one core it would be the slowest step.
        #[arg(long)]
        sha512: bool,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Describe inputs: format, sizes, extents, files needed (naming missing ones), VM summary.
    Inspect {
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// List a directory of the guest's file tree (read-only; the input's disks are mounted as
    /// the guest's /etc/fstab says).
    Ls {
        input: PathBuf,
        path: String,
        #[arg(long)]
        json: bool,
    },
    /// Print a file of the guest's file tree to stdout (read-only; at most 256 MiB).
    Cat { input: PathBuf, path: String },
    /// Print the content digest of a raw image (see the library's `digest` module).
    Digest { raw: PathBuf },
}

/// Set by Ctrl-C / SIGTERM: the conversion stops between jobs and removes its partial output.
static CANCEL: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = ctrlc::set_handler(|| CANCEL.store(true, Ordering::Relaxed));
    let result = match cli.cmd {
        Cmd::Convert { inputs, output, format, compress, cluster_size, disk, threads, no_zero_scan, sha512, json } => {
            let format = match (format, compress) {
                (Format::Raw, true) => Err(Error::invalid("--compress needs the qcow2 format")),
                (Format::Raw, false) => Ok(OutputFormat::Raw),
                (Format::Qcow2, false) => Ok(OutputFormat::Qcow2),
                (Format::Qcow2, true) => Ok(OutputFormat::Qcow2Compressed),
            };
            format.and_then(|format| {
                let options = Options { format, cluster_size, zero_scan_data: !no_zero_scan, ..Options::default() };
                convert(&inputs, &output, &options, disk, threads, sha512, json)
            })
        }
        Cmd::Inspect { inputs, json } => inspect(&inputs, json),
        Cmd::Ls { input, path, json } => guest_ls(&input, &path, json),
        Cmd::Cat { input, path } => guest_cat(&input, &path),
        Cmd::Digest { raw } => stackferry::native::digest_file(&raw).map(|d| println!("{d}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stackferry: error: {e}");
            ExitCode::from(exit_code(e.kind))
        }
    }
}

/// Exit codes: 1 bad or unsupported input, 2 usage, 3 missing file, 4 checksum mismatch,
/// 5 I/O error, 130 cancelled.
fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidArgument => 2,
        ErrorKind::MissingFile => 3,
        ErrorKind::Checksum => 4,
        ErrorKind::Io => 5,
        ErrorKind::Cancelled => 130,
        _ => 1,
    }
}

fn open_inputs(paths: &[PathBuf]) -> Result<(Vec<SourceRef>, DirFiles), Error> {
    let sources = paths.iter().map(|p| FileSource::open(p)).collect::<Result<Vec<_>, _>>()?;
    Ok((sources.clone(), DirFiles { given: sources }))
}

/// The guest tree on `input`'s disks.
fn guest_tree(input: &Path) -> Result<stackferry::guest::mounts::Tree, Error> {
    let (sources, files) = open_inputs(&[input.to_path_buf()])?;
    input::guest_tree(sources[0].clone(), &files)
}

fn not_found(input: &Path, path: &str, what: &str) -> Error {
    Error::new(ErrorKind::MissingFile, &input.display().to_string(), None, format!("no {what} {path} in the guest"))
}

fn guest_ls(input: &Path, path: &str, json: bool) -> Result<(), Error> {
    use stackferry::guest::Files;
    let tree = guest_tree(input)?;
    let mut entries = tree.list(path)?.ok_or_else(|| not_found(input, path, "directory"))?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if json {
        println!("{}", serde_json::to_string_pretty(&entries).map_err(|e| Error::invalid(e.to_string()))?);
        return Ok(());
    }
    for e in entries {
        let kind = match e.kind {
            stackferry::guest::EntryKind::Dir => "d",
            stackferry::guest::EntryKind::Symlink => "l",
            stackferry::guest::EntryKind::File => "-",
            stackferry::guest::EntryKind::Other => "?",
        };
        println!("{kind} {:>12} {}", e.size, e.name);
    }
    Ok(())
}

fn guest_cat(input: &Path, path: &str) -> Result<(), Error> {
    use stackferry::guest::Files;
    use std::io::Write;
    let data = guest_tree(input)?.read(path, 256 << 20)?.ok_or_else(|| not_found(input, path, "file"))?;
    std::io::stdout().write_all(&data).map_err(|e| Error::io("stdout", None, e))
}

/// The guest in a few lines: OS, volumes, kernels with their boot drivers, the decision, risks.
fn print_guest(g: &stackferry::guest::Guest) {
    println!("  guest:");
    if let Some(os) = &g.os {
        let name = os.pretty_name.as_deref().or(os.id.as_deref()).unwrap_or(&os.family);
        println!("    os: {name} ({})", os.evidence);
    }
    for v in &g.volumes {
        let mount = v.mount.as_deref().map(|m| format!(" on {m}")).unwrap_or_default();
        println!("    volume {}: {} {}{mount}", v.name, v.content, human(v.size));
    }
    for k in &g.kernels {
        let drivers: Vec<String> =
            k.drivers.iter().map(|d| format!("{}={:?}", d.name, d.found).to_lowercase()).collect();
        println!("    kernel {}{}: {}", k.version, if k.default { " (default)" } else { "" }, drivers.join(" "));
        if let Some(p) = &k.problem {
            println!("      initramfs not fully read: {p}");
        }
    }
    if let Some(b) = &g.boot {
        let verdict = if b.boots { "boots" } else { "WILL NOT BOOT as is" };
        println!("    {verdict} from {} (NIC {}): {}", b.disk_bus, b.vif_model, b.reason);
        if let Some(f) = &b.fix {
            println!("    fix on the source VM: {f}");
        }
    }
    for r in &g.risks {
        let at = r.line.map(|l| format!(":{l}")).unwrap_or_default();
        println!("    risk {}: {}{at} {}", r.code.as_str(), r.file, r.text);
    }
    for p in &g.problems {
        println!("    not read: {p}");
    }
}

fn inspect(paths: &[PathBuf], json: bool) -> Result<(), Error> {
    let (sources, files) = open_inputs(paths)?;
    let tops = input::top_level(&sources, &files)?;
    let mut all = Vec::new();
    for i in tops {
        all.push(input::inspect(sources[i].clone(), &files)?);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&all).map_err(|e| Error::invalid(e.to_string()))?);
        return Ok(());
    }
    for ins in &all {
        println!("{} ({:?})", ins.name, ins.kind);
        if let Some(vm) = &ins.vm {
            print_vm(vm);
        }
        for d in &ins.disks {
            println!("  disk {}: {} {}", d.name, d.format, d.subformat);
            println!("    virtual size: {} ({})", human(d.virtual_size), d.virtual_size);
            println!("    allocated:    {} ({})", human(d.allocated_bytes), d.allocated_bytes);
            for e in &d.extents {
                println!(
                    "    extent: {} {} {} {} offset {}",
                    e.access,
                    human(e.size),
                    e.kind,
                    e.file.as_deref().unwrap_or("-"),
                    e.offset
                );
            }
            for p in &d.parents {
                println!("    parent: {p}");
            }
            for f in &d.files {
                let state = if f.present { f.size.map(human).unwrap_or_default() } else { "MISSING".into() };
                println!("    file: {} ({}) {}", f.name, f.role, state);
            }
            for w in &d.warnings {
                println!("    warning: {w}");
            }
        }
        if let Some(g) = &ins.guest {
            print_guest(g);
        }
        if let Some(s) = &ins.suggestion {
            println!("  suggested for OpenStack:");
            for p in &s.properties {
                println!("    --property {}={}\n        because {}", p.key, p.value, p.reason);
            }
            let f = &s.flavor;
            let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "?".into());
            println!("    min_disk {} GiB, min_ram {} MiB", opt(s.min_disk), opt(s.min_ram));
            println!(
                "    flavor: {} vCPU, {} MiB RAM, {} GiB disk\n        because {}",
                opt(f.vcpus.map(u64::from)),
                opt(f.ram_mib),
                opt(f.disk_gib),
                f.reason
            );
        }
        for m in &ins.missing {
            println!("  missing: {m}");
        }
        for w in &ins.warnings {
            println!("  warning: {w}");
        }
    }
    Ok(())
}

/// The VM an OVF describes, as a short human summary.
fn print_vm(vm: &stackferry::vm::VmSummary) {
    let os = [vm.os.description.clone(), vm.os.vmw_os_type.clone().or(vm.os.vbox_os_type.clone())]
        .into_iter()
        .flatten()
        .fold(Vec::new(), |mut v, s| {
            if !v.contains(&s) {
                v.push(s);
            }
            v
        })
        .join(" / ");
    println!("  VM {}: {}", vm.name, if os.is_empty() { "unknown OS".into() } else { os });
    println!(
        "    {} vCPU, {} MiB memory, {} firmware{}{}",
        vm.vcpus.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        vm.memory_mib.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        vm.firmware,
        if vm.secure_boot { " with secure boot" } else { "" },
        vm.hardware_version.as_deref().map(|h| format!(", hardware {h}")).unwrap_or_default()
    );
    for d in &vm.disks {
        let ctl = d
            .controller
            .as_ref()
            .map(|c| format!("{}{}", c.kind, c.model.as_deref().map(|m| format!(" ({m})")).unwrap_or_default()))
            .unwrap_or_else(|| "no controller".into());
        println!(
            "    disk {}: {} on {ctl}, file {}{}",
            d.disk_id,
            d.capacity_bytes.map(human).unwrap_or_else(|| "?".into()),
            d.file_name.as_deref().unwrap_or("-"),
            if d.role == stackferry::migration::Role::Boot { " (boot disk)" } else { "" }
        );
    }
    for n in &vm.nics {
        println!(
            "    nic {}: {} on {}",
            n.name,
            n.model.as_deref().unwrap_or("?"),
            n.network.as_deref().unwrap_or("-")
        );
    }
}

fn convert(
    paths: &[PathBuf],
    output: &Path,
    options: &Options,
    pick: Option<usize>,
    threads: Option<usize>,
    sha512: bool,
    json: bool,
) -> Result<(), Error> {
    let (sources, files) = open_inputs(paths)?;
    let tops = input::top_level(&sources, &files)?;
    let mut disks: Vec<Disk> = Vec::new();
    let mut warnings = Vec::new();
    for i in tops {
        let Opened { disks: d, warnings: w, .. } = input::open(sources[i].clone(), &files)?;
        warnings.extend(w);
        disks.extend(d);
    }
    for w in &warnings {
        eprintln!("stackferry: warning: {w}");
    }
    let chosen: Vec<(usize, Disk)> = match pick {
        Some(n) if n >= 1 && n <= disks.len() => vec![(n, disks.swap_remove(n - 1))],
        Some(n) => return Err(Error::invalid(format!("--disk {n}: the input has {} disk(s)", disks.len()))),
        None => disks.into_iter().enumerate().map(|(i, d)| (i + 1, d)).collect(),
    };
    let several = chosen.len() > 1;
    let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let mut reports = Vec::new();
    for (n, disk) in chosen {
        let out_path = if several { numbered(output, n) } else { output.to_path_buf() };
        let name = disk.info.name.clone();
        let report = convert_one(disk, &out_path, options, threads, sha512)?;
        if !json {
            eprintln!(
                "{name} -> {}: {} {}, virtual size {}, data {}\n  content digest {}\n  sha512 {}",
                out_path.display(),
                options.format.disk_format(),
                human(report.output_len),
                human(report.virtual_size),
                human(report.data_bytes),
                report.content_digest,
                if report.sha512.is_empty() { "not computed (--sha512)" } else { &report.sha512 }
            );
        }
        reports.push(serde_json::json!({"input": name, "output": out_path, "report": report}));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports).map_err(|e| Error::invalid(e.to_string()))?);
    }
    Ok(())
}

fn numbered(output: &Path, n: usize) -> PathBuf {
    let stem = output.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match output.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    output.with_file_name(name)
}

/// Convert one disk into `out_path`, through a temporary name so a failed or interrupted
/// conversion leaves nothing that looks finished.
fn convert_one(disk: Disk, out_path: &Path, options: &Options, threads: usize, sha512: bool) -> Result<Report, Error> {
    let shown = out_path.display().to_string();
    let tmp = out_path
        .with_file_name(format!(".{}.part", out_path.file_name().map(|s| s.to_string_lossy()).unwrap_or_default()));
    let tty = std::io::stderr().is_terminal();
    let started = Instant::now();
    let result = (|| {
        let plan = plan::plan(&disk, options, &|| CANCEL.load(Ordering::Relaxed))?;
        let conv = Converter::new(disk, plan);
        // An old output is replaced: remove it now rather than at the rename, so the new file's
        // writes reuse its page cache instead of pages the kernel must newly obtain (on the
        // bench VM a 2.3 GiB output over an existing one took 12-16 s, a fresh one 6.5 s).
        if std::fs::symlink_metadata(out_path).is_ok_and(|m| m.is_file()) {
            std::fs::remove_file(out_path).map_err(|e| Error::write(&shown, None, e))?;
        }
        // Read too: a compressed image's data area is moved within the file (`in_place`).
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| Error::write(&shown, None, e))?;
        // The length is known before the first byte: reserve it, so the file system allocates
        // once instead of on every write (measured: several times less kernel time on ext4).
        if let (Some(len), false) = (conv.output_len(), options.format == OutputFormat::Raw) {
            use std::os::fd::AsRawFd;
            // SAFETY: plain system call on a descriptor we own; failure only loses the hint.
            let _ = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len as libc::off_t) };
        }
        let mut last = Instant::now();
        let mut progress = |p: &Progress| {
            if tty && last.elapsed().as_millis() >= 200 {
                last = Instant::now();
                show_progress(p, started);
            }
        };
        // Compressed: deflate each cluster once, writing the data before the tables (the
        // SHA-512 of the output needs it written in order: two passes then).
        if options.format == OutputFormat::Qcow2Compressed && !sha512 {
            return in_place::convert_compressed(conv, threads, &file, &shown, &mut progress, &CANCEL);
        }
        let w = OutputFile::new(file, options.format == OutputFormat::Raw);
        let (report, _) = convert_parallel(
            conv,
            threads,
            sha512,
            &|parts, at| w.write_parts_at(parts, at).map_err(|e| Error::write(&shown, Some(at), e)),
            &mut progress,
            &CANCEL,
        )?;
        w.finish().map_err(|e| Error::write(&shown, None, e))?;
        Ok(report)
    })();
    if tty {
        eprint!("\r\x1b[K");
    }
    match result {
        Ok(r) => {
            std::fs::rename(&tmp, out_path).map_err(|e| Error::write(&shown, None, e))?;
            Ok(r)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn show_progress(p: &Progress, started: Instant) {
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let rate = p.guest_done as f64 / secs;
    let eta = if rate > 0.0 { (p.guest_total.saturating_sub(p.guest_done)) as f64 / rate } else { 0.0 };
    eprint!(
        "\r\x1b[K{} {} / {} ({:.0}%)  {}/s  ETA {}:{:02}",
        p.phase,
        human(p.guest_done),
        human(p.guest_total),
        100.0 * p.guest_done as f64 / p.guest_total.max(1) as f64,
        human(rate as u64),
        (eta as u64) / 60,
        (eta as u64) % 60
    );
}

fn human(n: u64) -> String {
    const U: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}
