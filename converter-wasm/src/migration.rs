//! The whole-VM migration plan (`plan.rs` is the conversion plan of one disk): what becomes of
//! each disk (a Glance image only, or a Cinder volume made from one), whether the server boots
//! from an image or a volume, the image format the cloud's Glance store favours, and a preflight
//! of what the migration needs against the project's quotas, so a migration that cannot fit
//! stops before anything is converted.
//!
//! Pure: the page gathers the cloud's answers (`GET /api/limits`, `GET /api/stores`) and the
//! user's choices into an [`Input`]; [`migration`] gives the [`Output`] it shows and follows.
//! The disk roles the inspection proposes (`vm.disks[i].role`, `vm.boot_disk`) use the
//! [`Role`] and [`Reason`] defined here; `vm` assigns them.

use crate::error::Args;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bytes per GiB: Cinder sizes volumes and Nova flavors root disks in whole GiB.
const GIB: u64 = 1 << 30;

crate::message_codes! {
    /// Why a choice was proposed: the boot disk the inspection picked, the suggested boot
    /// source and image format (catalogue keys `migration.reason.<code>`). `disk` is an OVF
    /// disk id, `controller` a controller by its product name, `name` what the code's
    /// sentence says.
    pub enum ReasonCode {
        /// The OVF's boot order (VMware `vmw:BootOrderSection`, OVF 2 `BootDeviceSection`)
        /// names this disk.
        BootOrder = "boot_order" [disk],
        /// No boot order: the first disk on the first controller.
        FirstOnController = "first_on_controller" [disk, controller],
        /// No boot order, and no disk says which controller it is on: the first disk listed.
        FirstDisk = "first_disk" [disk],
        /// The boot order names `name`, which is none of the VM's disks; the first disk on the
        /// first controller (or the first listed when none says) instead.
        BootOrderDangling = "boot_order_dangling" [name, disk, controller],
        /// The boot order names only other devices (CD, network, floppy); the first disk on
        /// the first controller (or the first listed) instead.
        BootOrderNoDisk = "boot_order_no_disk" [disk, controller],
        /// Boot from an image: no flavor chosen yet.
        NoFlavor = "no_flavor" [],
        /// Boot from a volume: the flavor has no root disk (`disk_gib` 0).
        FlavorNoRootDisk = "flavor_no_root_disk" [],
        /// Boot from a volume: the flavor's root disk (`disk_gib`) is smaller than the boot
        /// disk (`size` bytes).
        FlavorRootTooSmall = "flavor_root_too_small" [disk_gib, size],
        /// Boot from an image: the flavor's root disk holds the boot disk (`size`, absent when
        /// there is no boot disk).
        FlavorRootFits = "flavor_root_fits" [disk_gib, size],
        /// Raw: Glance keeps images in Ceph RBD (store `name`, the default or the only one),
        /// where Nova and Cinder clone raw images without copying.
        StoreRbd = "store_rbd" [name],
        /// QCOW2: Glance's store `name` is not Ceph RBD.
        StoreNotRbd = "store_not_rbd" [name],
        /// QCOW2: the cloud does not say which kind of store `name` is.
        StoreTypeUnknown = "store_type_unknown" [name],
        /// QCOW2: the cloud lists no stores (one store, multi-store off, or not allowed to ask).
        NoStores = "no_stores" [],
        /// QCOW2: `count` stores and none of them the default.
        NoDefaultStore = "no_default_store" [count],
    }
}

crate::message_codes! {
    /// What stops the migration as planned (catalogue keys `migration.problem.<code>`); `name`
    /// is a disk's name as the input gives it.
    pub enum ProblemCode {
        /// Some disks are kept but none is the boot disk.
        NoBootDisk = "no_boot_disk" [],
        /// `count` disks are marked as the boot disk.
        SeveralBootDisks = "several_boot_disks" [count],
        /// Every disk is skipped, the boot disk with them: nothing would boot.
        BootDiskSkipped = "boot_disk_skipped" [],
        /// Boot from an image, but the flavor's root disk (`disk_gib`) is smaller than the boot
        /// disk `name` (`size` bytes).
        RootDiskTooSmall = "root_disk_too_small" [name, disk_gib, size],
        /// The volume size asked for disk `name` (`disk_gib`) is smaller than the disk (`size`
        /// bytes); the plan uses the disk's size.
        VolumeTooSmall = "volume_too_small" [name, disk_gib, size],
    }
}

/// A code with its args: `{code, args}`, as the guest report's reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coded<C> {
    pub code: C,
    pub args: Args,
}

impl<C> Coded<C> {
    pub fn new(code: C, args: Args) -> Self {
        Coded { code, args }
    }
}

pub type Reason = Coded<ReasonCode>;
pub type Problem = Coded<ProblemCode>;

/// What a disk is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The disk the server boots from.
    Boot,
    /// Attached after the boot disk.
    #[default]
    Data,
    /// Not migrated (the user's choice; the inspection never proposes it).
    Skip,
}

/// Where a disk goes, and where the server boots from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A Glance image (for the boot disk: the server's ephemeral root disk is made from it).
    Image,
    /// A Cinder volume, made from the disk's Glance image.
    Volume,
}

/// The image format a suggestion proposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Qcow2,
    Raw,
}

/// The disk the VM boots from, as the inspection proposes it (`vm.boot_disk`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BootDisk {
    /// Index into `vm.disks`.
    pub index: usize,
    pub reason: Reason,
}

/// One disk of the VM as the page plans it.
#[derive(Clone, Debug, Deserialize)]
pub struct DiskIn {
    pub index: usize,
    pub name: String,
    /// Virtual size in bytes; absent when the OVF does not say.
    #[serde(default)]
    pub capacity: Option<u64>,
    /// Bytes of the image to upload, when known; else counted as `capacity`.
    #[serde(default)]
    pub upload_bytes: Option<u64>,
    pub role: Role,
    pub target: Target,
    /// None: the cloud's default volume type.
    #[serde(default)]
    pub volume_type: Option<String>,
    /// The volume size the user asked for, in GiB.
    #[serde(default)]
    pub volume_gib: Option<u64>,
}

/// The flavor the server is to have.
#[derive(Clone, Debug, Deserialize)]
pub struct Flavor {
    pub vcpus: u64,
    pub ram_mib: u64,
    /// Root disk in GiB; 0: none (the server must boot from a volume).
    pub disk_gib: u64,
}

/// One quota: its limit (-1, or any negative: unlimited) and what is used (in use + reserved).
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Quota {
    pub limit: i64,
    pub used: i64,
}

/// Nova's absolute limits; a field is None when the cloud did not report it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ComputeLimits {
    pub instances: Option<Quota>,
    pub cores: Option<Quota>,
    pub ram_mib: Option<Quota>,
}

/// Cinder's volume count and size quotas, in total and per volume type.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct VolumeLimits {
    pub volumes: Option<Quota>,
    pub gigabytes: Option<Quota>,
    pub per_type: BTreeMap<String, TypeLimits>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TypeLimits {
    pub volumes: Option<Quota>,
    pub gigabytes: Option<Quota>,
}

/// Glance's image count and total size quotas.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ImageLimits {
    pub count: Option<Quota>,
    pub size_bytes: Option<Quota>,
}

/// The worker's `GET /api/limits` answer: a section is None when its service did not answer.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub compute: Option<ComputeLimits>,
    pub volume: Option<VolumeLimits>,
    pub image: Option<ImageLimits>,
}

/// One Glance store (`GET /api/stores`).
#[derive(Clone, Debug, Deserialize)]
pub struct Store {
    pub id: String,
    #[serde(default)]
    pub default: bool,
    /// "rbd", "file", ...; None when the cloud does not say.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Stores {
    pub stores: Vec<Store>,
}

/// What the page asks.
#[derive(Clone, Debug, Deserialize)]
pub struct Input {
    pub disks: Vec<DiskIn>,
    pub boot: Target,
    #[serde(default)]
    pub flavor: Option<Flavor>,
    #[serde(default)]
    pub limits: Option<Limits>,
    #[serde(default)]
    pub stores: Option<Stores>,
}

/// One disk as planned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiskOut {
    pub index: usize,
    pub role: Role,
    /// The input's, except that booting from a volume makes the boot disk's a volume.
    pub target: Target,
    /// The volume's size: the input's when at least `min_gib`, else `min_gib` (given for
    /// every disk, so the page can show it when the target changes).
    pub volume_gib: u64,
    /// The capacity rounded up to whole GiB, at least 1.
    pub min_gib: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SuggestedBoot {
    pub boot: Target,
    pub reason: Reason,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SuggestedFormat {
    pub format: Format,
    pub reason: Reason,
}

/// The unit of a check's numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Count,
    Gib,
    Mib,
    Bytes,
}

/// One quota checked against what the migration needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// "compute.instances", "volume.type.gigabytes", ...
    pub resource: &'static str,
    /// The volume type of a per-type check.
    #[serde(rename = "type")]
    pub volume_type: Option<String>,
    pub need: u64,
    pub limit: i64,
    pub used: i64,
    /// `limit − used`; None when unlimited.
    pub left: Option<i64>,
    /// Unlimited, or `need ≤ left`.
    pub ok: bool,
    pub unit: Unit,
}

/// The plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Output {
    pub disks: Vec<DiskOut>,
    /// The input's, except that a boot disk going to a volume makes it "volume".
    pub boot: Target,
    pub suggested_boot: SuggestedBoot,
    pub suggested_format: SuggestedFormat,
    pub checks: Vec<Check>,
    /// Resources the migration needs that the cloud does not report (not failed).
    pub unknown: Vec<&'static str>,
    /// No problem, and every check ok.
    pub fits: bool,
    pub problems: Vec<Problem>,
}

/// `bytes` rounded up to whole GiB, at least 1 (also for an unknown or zero capacity: Cinder
/// makes no volume smaller than 1 GiB).
pub fn min_gib(bytes: Option<u64>) -> u64 {
    bytes.unwrap_or(0).div_ceil(GIB).max(1)
}

/// The whole-VM plan for `input`.
pub fn migration(input: &Input) -> Output {
    let boots: Vec<&DiskIn> = input.disks.iter().filter(|d| d.role == Role::Boot).collect();
    let boot = if input.boot == Target::Volume || boots.iter().any(|d| d.target == Target::Volume) {
        Target::Volume
    } else {
        Target::Image
    };
    let mut problems = Vec::new();
    let disks: Vec<DiskOut> = input
        .disks
        .iter()
        .map(|d| {
            let min = min_gib(d.capacity);
            let target = if d.role == Role::Boot { boot } else { d.target };
            if let Some(asked) = d.volume_gib.filter(|&g| g < min && d.role != Role::Skip && target == Target::Volume) {
                problems.push(Problem::new(ProblemCode::VolumeTooSmall, disk_args(d, asked)));
            }
            DiskOut {
                index: d.index,
                role: d.role,
                target,
                volume_gib: d.volume_gib.unwrap_or(0).max(min),
                min_gib: min,
            }
        })
        .collect();
    match boots.as_slice() {
        [] if input.disks.iter().all(|d| d.role == Role::Skip) => {
            problems.insert(0, Problem::new(ProblemCode::BootDiskSkipped, Args::default()))
        }
        [] => problems.insert(0, Problem::new(ProblemCode::NoBootDisk, Args::default())),
        [_] => {}
        several => problems.insert(
            0,
            Problem::new(ProblemCode::SeveralBootDisks, Args { count: Some(several.len() as u64), ..Args::default() }),
        ),
    }
    let boot_disk = boots.first().copied();
    if let (Target::Image, Some(f), Some(d)) = (boot, &input.flavor, boot_disk) {
        if f.disk_gib > 0 && f.disk_gib < min_gib(d.capacity) {
            problems.push(Problem::new(ProblemCode::RootDiskTooSmall, disk_args(d, f.disk_gib)));
        }
    }
    let mut preflight = Preflight::default();
    preflight.run(input, &disks);
    let fits = problems.is_empty() && preflight.checks.iter().all(|c| c.ok);
    Output {
        disks,
        boot,
        suggested_boot: suggested_boot(input.flavor.as_ref(), boot_disk),
        suggested_format: suggested_format(input.stores.as_ref()),
        checks: preflight.checks,
        unknown: preflight.unknown,
        fits,
        problems,
    }
}

/// `name`, `disk_gib` and `size` of a disk's problem.
fn disk_args(d: &DiskIn, gib: u64) -> Args {
    Args { name: Some(d.name.clone()), disk_gib: Some(gib), size: d.capacity, ..Args::default() }
}

/// Volume when the flavor has no root disk or one smaller than the boot disk, else image.
fn suggested_boot(flavor: Option<&Flavor>, boot_disk: Option<&DiskIn>) -> SuggestedBoot {
    let size = boot_disk.and_then(|d| d.capacity);
    let (boot, code, args) = match flavor {
        None => (Target::Image, ReasonCode::NoFlavor, Args::default()),
        Some(f) if f.disk_gib == 0 => (Target::Volume, ReasonCode::FlavorNoRootDisk, Args::default()),
        Some(f) => {
            let args = Args { disk_gib: Some(f.disk_gib), size, ..Args::default() };
            match boot_disk {
                Some(d) if f.disk_gib < min_gib(d.capacity) => (Target::Volume, ReasonCode::FlavorRootTooSmall, args),
                _ => (Target::Image, ReasonCode::FlavorRootFits, args),
            }
        }
    };
    SuggestedBoot { boot, reason: Reason::new(code, args) }
}

/// Raw when the default store (or the only one) is Ceph RBD, else QCOW2: Nova and Cinder
/// clone a raw image inside RBD without copying, and convert a QCOW2 one at every boot or
/// volume creation.
fn suggested_format(stores: Option<&Stores>) -> SuggestedFormat {
    let list = stores.map_or(&[][..], |s| s.stores.as_slice());
    let chosen = list.iter().find(|s| s.default).or(if list.len() == 1 { list.first() } else { None });
    let named = |s: &Store| Args { name: Some(s.id.clone()), ..Args::default() };
    let (format, code, args) = match chosen {
        None if list.is_empty() => (Format::Qcow2, ReasonCode::NoStores, Args::default()),
        None => (Format::Qcow2, ReasonCode::NoDefaultStore, Args { count: Some(list.len() as u64), ..Args::default() }),
        Some(s) => match s.kind.as_deref() {
            Some(k) if k.eq_ignore_ascii_case("rbd") => (Format::Raw, ReasonCode::StoreRbd, named(s)),
            Some(_) => (Format::Qcow2, ReasonCode::StoreNotRbd, named(s)),
            None => (Format::Qcow2, ReasonCode::StoreTypeUnknown, named(s)),
        },
    };
    SuggestedFormat { format, reason: Reason::new(code, args) }
}

/// The checks made and the resources the cloud does not report.
#[derive(Default)]
struct Preflight {
    checks: Vec<Check>,
    unknown: Vec<&'static str>,
}

impl Preflight {
    /// Nova: one server with the flavor's cores and memory (without a flavor, only the
    /// server count). Cinder: the volumes to create, in total and per volume type (a disk
    /// without a type gets the default type, counted in the totals only). Glance: one image per
    /// kept disk (volumes are made from images), their sizes as uploaded. Volume quotas are
    /// checked only when volumes are made.
    fn run(&mut self, input: &Input, disks: &[DiskOut]) {
        let limits = input.limits.clone().unwrap_or_default();
        let compute = limits.compute.as_ref();
        self.check("compute.instances", None, 1, compute.map(|c| c.instances), Unit::Count);
        if let Some(f) = &input.flavor {
            self.check("compute.cores", None, f.vcpus, compute.map(|c| c.cores), Unit::Count);
            self.check("compute.ram_mib", None, f.ram_mib, compute.map(|c| c.ram_mib), Unit::Mib);
        }

        let kept: Vec<(&DiskIn, &DiskOut)> =
            input.disks.iter().zip(disks).filter(|(_, o)| o.role != Role::Skip).collect();
        let volumes: Vec<&(&DiskIn, &DiskOut)> = kept.iter().filter(|(_, o)| o.target == Target::Volume).collect();
        if !volumes.is_empty() {
            let volume = limits.volume.as_ref();
            let gib: u64 = volumes.iter().map(|(_, o)| o.volume_gib).sum();
            self.check("volume.volumes", None, volumes.len() as u64, volume.map(|v| v.volumes), Unit::Count);
            self.check("volume.gigabytes", None, gib, volume.map(|v| v.gigabytes), Unit::Gib);
            let mut per_type: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
            for (i, o) in &volumes {
                if let Some(t) = i.volume_type.as_deref() {
                    let e = per_type.entry(t).or_default();
                    e.0 += 1;
                    e.1 += o.volume_gib;
                }
            }
            for (t, (count, gib)) in per_type {
                let q = volume.map(|v| v.per_type.get(t));
                self.check("volume.type.volumes", Some(t), count, q.map(|q| q.and_then(|q| q.volumes)), Unit::Count);
                self.check("volume.type.gigabytes", Some(t), gib, q.map(|q| q.and_then(|q| q.gigabytes)), Unit::Gib);
            }
        }

        let image = limits.image.as_ref();
        let bytes = kept.iter().fold(0u64, |s, (i, _)| s.saturating_add(i.upload_bytes.or(i.capacity).unwrap_or(0)));
        self.check("image.count", None, kept.len() as u64, image.map(|i| i.count), Unit::Count);
        self.check("image.size_bytes", None, bytes, image.map(|i| i.size_bytes), Unit::Bytes);
    }

    /// `need` of `resource` against `quota`: None when its section is missing, Some(None)
    /// when the section does not report it; either way the resource is unknown.
    fn check(&mut self, resource: &'static str, ty: Option<&str>, need: u64, quota: Option<Option<Quota>>, unit: Unit) {
        let Some(Some(q)) = quota else {
            if !self.unknown.contains(&resource) {
                self.unknown.push(resource);
            }
            return;
        };
        let left = (q.limit >= 0).then(|| q.limit.saturating_sub(q.used));
        let ok = left.is_none_or(|left| i64::try_from(need).is_ok_and(|n| n <= left));
        self.checks.push(Check {
            resource,
            volume_type: ty.map(str::to_string),
            need,
            limit: q.limit,
            used: q.used,
            left,
            ok,
            unit,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// The plan of a JSON input, as JSON (the shape the page gets).
    fn plan(input: Value) -> Value {
        let input: Input = serde_json::from_value(input).unwrap();
        serde_json::to_value(migration(&input)).unwrap()
    }

    fn disk(index: usize, gib: u64, role: &str, target: &str) -> Value {
        json!({"index": index, "name": format!("disk{index}.vmdk"), "capacity": gib << 30, "upload_bytes": null,
               "role": role, "target": target, "volume_type": null, "volume_gib": null})
    }

    fn q(limit: i64, used: i64) -> Value {
        json!({"limit": limit, "used": used})
    }

    /// Roomy limits in every section.
    fn roomy() -> Value {
        json!({"compute": {"instances": q(10, 0), "cores": q(100, 0), "ram_mib": q(1 << 20, 0)},
               "volume": {"volumes": q(10, 0), "gigabytes": q(1000, 0), "per_type": {}},
               "image": {"count": q(100, 0), "size_bytes": q(1 << 42, 0)}})
    }

    fn input(disks: Vec<Value>, boot: &str) -> Value {
        json!({"disks": disks, "boot": boot, "flavor": {"vcpus": 2, "ram_mib": 4096, "disk_gib": 20},
               "limits": roomy(), "stores": null})
    }

    fn codes(v: &Value) -> Vec<&str> {
        v["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect()
    }

    fn check<'v>(v: &'v Value, resource: &str, ty: Option<&str>) -> &'v Value {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["resource"] == resource && c["type"].as_str() == ty)
            .unwrap_or_else(|| panic!("no check {resource} {ty:?} in {v}"))
    }

    #[test]
    fn min_gib_rounds_up_to_whole_gib_at_least_one() {
        assert_eq!(min_gib(Some(GIB)), 1);
        assert_eq!(min_gib(Some(GIB + 1)), 2);
        assert_eq!(min_gib(Some(10 * GIB)), 10);
        assert_eq!(min_gib(Some(10 * GIB - 1)), 10);
        assert_eq!(min_gib(Some(1)), 1);
        assert_eq!(min_gib(Some(0)), 1);
        assert_eq!(min_gib(None), 1);
        assert_eq!(min_gib(Some(u64::MAX)), u64::MAX.div_ceil(GIB));
        // Through the plan, with the capacity absent.
        let mut d = disk(0, 0, "boot", "image");
        d.as_object_mut().unwrap().remove("capacity");
        let v = plan(input(vec![d, disk(1, 3, "data", "volume")], "image"));
        assert_eq!(v["disks"][0]["min_gib"], 1);
        assert_eq!(v["disks"][1]["min_gib"], 3);
    }

    #[test]
    fn volume_gib_is_the_asked_size_raised_to_the_disk() {
        let mut big = disk(1, 5, "data", "volume");
        big["volume_gib"] = json!(8);
        let mut small = disk(2, 5, "data", "volume");
        small["volume_gib"] = json!(4);
        let exact = {
            let mut d = disk(3, 5, "data", "volume");
            d["volume_gib"] = json!(5);
            d
        };
        let v = plan(input(vec![disk(0, 10, "boot", "image"), big, small, exact], "image"));
        let gibs: Vec<u64> = v["disks"].as_array().unwrap().iter().map(|d| d["volume_gib"].as_u64().unwrap()).collect();
        assert_eq!(gibs, [10, 8, 5, 5]);
        assert_eq!(codes(&v), ["volume_too_small"]);
        assert_eq!(v["problems"][0]["args"], json!({"name": "disk2.vmdk", "disk_gib": 4, "size": 5u64 << 30}));
        assert_eq!(v["fits"], false);
        // A small size on a disk that becomes no volume is no problem.
        let mut skipped = disk(1, 5, "skip", "volume");
        skipped["volume_gib"] = json!(1);
        let mut image = disk(2, 5, "data", "image");
        image["volume_gib"] = json!(1);
        let v = plan(input(vec![disk(0, 10, "boot", "image"), skipped, image], "image"));
        assert_eq!(codes(&v), Vec::<&str>::new());
        assert_eq!(v["fits"], true);
    }

    #[test]
    fn boot_and_the_boot_disks_target_go_together() {
        // A boot disk going to a volume makes the server boot from a volume.
        let v = plan(input(vec![disk(0, 10, "boot", "volume"), disk(1, 2, "data", "image")], "image"));
        assert_eq!(v["boot"], "volume");
        assert_eq!(
            (v["disks"][0]["target"].as_str(), v["disks"][1]["target"].as_str()),
            (Some("volume"), Some("image"))
        );
        // Booting from a volume makes the boot disk a volume; data disks keep theirs.
        let v = plan(input(vec![disk(0, 2, "data", "volume"), disk(1, 10, "boot", "image")], "volume"));
        assert_eq!(v["boot"], "volume");
        assert_eq!(v["disks"][1]["target"], "volume");
        assert_eq!(v["disks"][0]["role"], "data");
        assert_eq!(check(&v, "volume.volumes", None)["need"], 2);
        // Neither: an image.
        let v = plan(input(vec![disk(0, 10, "boot", "image"), disk(1, 2, "data", "volume")], "image"));
        assert_eq!(v["boot"], "image");
        assert_eq!(v["disks"][0]["target"], "image");
    }

    #[test]
    fn problems_of_the_boot_disk() {
        let v = plan(input(vec![disk(0, 10, "data", "image"), disk(1, 2, "skip", "image")], "image"));
        assert_eq!(codes(&v), ["no_boot_disk"]);
        assert_eq!(v["fits"], false);
        let v = plan(input(vec![disk(0, 10, "boot", "image"), disk(1, 2, "boot", "image")], "image"));
        assert_eq!(codes(&v), ["several_boot_disks"]);
        assert_eq!(v["problems"][0]["args"], json!({"count": 2}));
        let v = plan(input(vec![disk(0, 10, "skip", "image"), disk(1, 2, "skip", "image")], "image"));
        assert_eq!(codes(&v), ["boot_disk_skipped"]);
        assert_eq!(v["fits"], false);
        let v = plan(input(vec![], "image"));
        assert_eq!(codes(&v), ["boot_disk_skipped"]);
    }

    #[test]
    fn booting_from_an_image_needs_a_root_disk_that_holds_the_boot_disk() {
        // Flavor root 20 GiB: a 21 GiB boot disk does not fit, a 20 GiB one does.
        let v = plan(input(vec![disk(0, 21, "boot", "image")], "image"));
        assert_eq!(codes(&v), ["root_disk_too_small"]);
        assert_eq!(v["problems"][0]["args"], json!({"name": "disk0.vmdk", "disk_gib": 20, "size": 21u64 << 30}));
        assert_eq!(codes(&plan(input(vec![disk(0, 20, "boot", "image")], "image"))), Vec::<&str>::new());
        // From a volume, or with a flavor without root disk (Nova sizes it to the image): no problem.
        assert_eq!(codes(&plan(input(vec![disk(0, 21, "boot", "image")], "volume"))), Vec::<&str>::new());
        let mut i = input(vec![disk(0, 21, "boot", "image")], "image");
        i["flavor"]["disk_gib"] = json!(0);
        assert_eq!(codes(&plan(i)), Vec::<&str>::new());
    }

    #[test]
    fn suggested_boot_follows_the_flavors_root_disk() {
        let with = |disk_gib: Option<u64>, gib: u64| {
            let mut i = input(vec![disk(0, gib, "boot", "image")], "image");
            i["flavor"] = disk_gib.map_or(Value::Null, |g| json!({"vcpus": 1, "ram_mib": 512, "disk_gib": g}));
            plan(i)["suggested_boot"].clone()
        };
        assert_eq!(with(Some(0), 10), json!({"boot": "volume", "reason": {"code": "flavor_no_root_disk", "args": {}}}));
        assert_eq!(
            with(Some(5), 10),
            json!({"boot": "volume", "reason": {"code": "flavor_root_too_small", "args": {"disk_gib": 5, "size": 10u64 << 30}}})
        );
        assert_eq!(
            with(Some(10), 10),
            json!({"boot": "image", "reason": {"code": "flavor_root_fits", "args": {"disk_gib": 10, "size": 10u64 << 30}}})
        );
        assert_eq!(with(None, 10), json!({"boot": "image", "reason": {"code": "no_flavor", "args": {}}}));
    }

    #[test]
    fn suggested_format_is_raw_on_a_default_or_only_rbd_store() {
        let with = |stores: Value| {
            let mut i = input(vec![disk(0, 1, "boot", "image")], "image");
            i["stores"] = stores;
            let s = plan(i)["suggested_format"].clone();
            (
                s["format"].as_str().unwrap().to_string(),
                s["reason"]["code"].as_str().unwrap().to_string(),
                s["reason"]["args"].clone(),
            )
        };
        let st = |id: &str, default: bool, ty: Value| json!({"id": id, "default": default, "type": ty});
        let r = |f: &str, c: &str, a: Value| (f.to_string(), c.to_string(), a);
        assert_eq!(with(Value::Null), r("qcow2", "no_stores", json!({})));
        assert_eq!(with(json!({"stores": []})), r("qcow2", "no_stores", json!({})));
        assert_eq!(
            with(json!({"stores": [st("ceph", false, json!("rbd"))]})),
            r("raw", "store_rbd", json!({"name": "ceph"}))
        );
        assert_eq!(
            with(json!({"stores": [st("fast", false, json!("file")), st("ceph", true, json!("rbd"))]})),
            r("raw", "store_rbd", json!({"name": "ceph"}))
        );
        assert_eq!(
            with(json!({"stores": [st("ceph", false, json!("rbd")), st("local", true, json!("file"))]})),
            r("qcow2", "store_not_rbd", json!({"name": "local"}))
        );
        assert_eq!(
            with(json!({"stores": [st("ceph", false, json!("rbd")), st("b", false, json!("rbd"))]})),
            r("qcow2", "no_default_store", json!({"count": 2}))
        );
        assert_eq!(
            with(json!({"stores": [st("x", true, Value::Null)]})),
            r("qcow2", "store_type_unknown", json!({"name": "x"}))
        );
    }

    #[test]
    fn checks_count_what_the_migration_needs() {
        let mut a = disk(1, 3, "data", "volume");
        a["volume_type"] = json!("ssd");
        a["volume_gib"] = json!(5);
        let mut b = disk(2, 2, "data", "volume");
        b["volume_type"] = json!("ssd");
        b["upload_bytes"] = json!(12345);
        let mut c = disk(3, 4, "data", "volume");
        c["volume_type"] = json!("hdd");
        let mut i = input(vec![disk(0, 10, "boot", "volume"), a, b, c, disk(4, 7, "skip", "volume")], "image");
        i["limits"]["volume"]["per_type"] = json!({"ssd": {"volumes": q(5, 4), "gigabytes": q(-1, 100)},
                                                   "hdd": {"volumes": q(-1, 0), "gigabytes": q(10, 7)}});
        i["limits"]["compute"]["cores"] = q(4, 3);
        let v = plan(i);
        let row = |r: &str, t: Option<&str>| {
            let c = check(&v, r, t);
            (
                c["need"].as_u64().unwrap(),
                c["left"].as_i64(),
                c["ok"].as_bool().unwrap(),
                c["unit"].as_str().unwrap().to_string(),
            )
        };
        let u = |s: &str| s.to_string();
        assert_eq!(row("compute.instances", None), (1, Some(10), true, u("count")));
        assert_eq!(row("compute.cores", None), (2, Some(1), false, u("count")));
        assert_eq!(row("compute.ram_mib", None), (4096, Some(1 << 20), true, u("mib")));
        // The boot volume (10) and three data volumes (5, 2, 4); the skipped disk counts nowhere.
        assert_eq!(row("volume.volumes", None), (4, Some(10), true, u("count")));
        assert_eq!(row("volume.gigabytes", None), (21, Some(1000), true, u("gib")));
        assert_eq!(row("volume.type.volumes", Some("ssd")), (2, Some(1), false, u("count")));
        assert_eq!(row("volume.type.gigabytes", Some("ssd")), (7, None, true, u("gib")));
        assert_eq!(row("volume.type.volumes", Some("hdd")), (1, None, true, u("count")));
        assert_eq!(row("volume.type.gigabytes", Some("hdd")), (4, Some(3), false, u("gib")));
        // Every kept disk is uploaded as an image; unknown upload sizes count as the capacity.
        assert_eq!(row("image.count", None), (4, Some(100), true, u("count")));
        assert_eq!(row("image.size_bytes", None).0, (10u64 << 30) + (3 << 30) + 12345 + (4 << 30));
        // The boot volume has the default type: counted in the totals only.
        assert_eq!(v["checks"].as_array().unwrap().len(), 11);
        assert_eq!(check(&v, "compute.cores", None)["limit"], 4);
        assert_eq!(check(&v, "compute.cores", None)["used"], 3);
        assert_eq!(v["unknown"], json!([]));
        assert_eq!(v["problems"], json!([]));
        assert_eq!(v["fits"], false);
    }

    #[test]
    fn unlimited_exact_and_overused_quotas() {
        let with = |quota: Value| {
            let mut i = input(vec![disk(0, 1, "boot", "image")], "image");
            i["limits"]["compute"]["instances"] = quota;
            let v = plan(i);
            let c = check(&v, "compute.instances", None).clone();
            (c["left"].clone(), c["ok"].as_bool().unwrap(), v["fits"].as_bool().unwrap())
        };
        assert_eq!(with(q(-1, 500)), (Value::Null, true, true));
        assert_eq!(with(q(5, 4)), (json!(1), true, true));
        assert_eq!(with(q(5, 5)), (json!(0), false, false));
        assert_eq!(with(q(5, 7)), (json!(-2), false, false));
    }

    #[test]
    fn sections_the_cloud_does_not_report_are_unknown_not_failed() {
        let mut typed = disk(1, 2, "data", "volume");
        typed["volume_type"] = json!("ssd");
        let mut i = input(vec![disk(0, 1, "boot", "image"), typed], "image");
        i["limits"] =
            json!({"compute": null, "volume": {"volumes": q(0, 0), "gigabytes": null, "per_type": {}}, "image": null});
        let v = plan(i);
        assert_eq!(
            v["unknown"],
            json!([
                "compute.instances",
                "compute.cores",
                "compute.ram_mib",
                "volume.gigabytes",
                "volume.type.volumes",
                "volume.type.gigabytes",
                "image.count",
                "image.size_bytes"
            ])
        );
        let resources: Vec<&str> =
            v["checks"].as_array().unwrap().iter().map(|c| c["resource"].as_str().unwrap()).collect();
        assert_eq!(resources, ["volume.volumes"]);
        assert_eq!(v["fits"], false, "the one reported quota (0 volumes) is short");
        // No limits at all: everything unknown, nothing failed, it fits.
        let mut i = input(vec![disk(0, 1, "boot", "image")], "image");
        i["limits"] = Value::Null;
        let v = plan(i);
        assert_eq!(v["checks"], json!([]));
        assert_eq!(v["unknown"].as_array().unwrap().len(), 5);
        assert_eq!(v["fits"], true);
        // Without a flavor, cores and memory are not checked; without volumes, no volume quota.
        let mut i = input(vec![disk(0, 1, "boot", "image")], "image");
        i["flavor"] = Value::Null;
        let v = plan(i);
        let resources: Vec<&str> =
            v["checks"].as_array().unwrap().iter().map(|c| c["resource"].as_str().unwrap()).collect();
        assert_eq!(resources, ["compute.instances", "image.count", "image.size_bytes"]);
    }

    #[test]
    fn fits_when_no_problem_and_every_check_is_ok() {
        let v = plan(input(vec![disk(0, 10, "boot", "image"), disk(1, 2, "data", "volume")], "image"));
        assert_eq!(v["problems"], json!([]));
        assert!(v["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true));
        assert_eq!(v["fits"], true);
        assert_eq!(
            v["disks"][1],
            json!({"index": 1, "role": "data", "target": "volume", "volume_gib": 2, "min_gib": 2})
        );
        // One short quota is enough to stop it.
        let mut i = input(vec![disk(0, 10, "boot", "image"), disk(1, 2, "data", "volume")], "image");
        i["limits"]["volume"]["gigabytes"] = q(100, 99);
        assert_eq!(plan(i)["fits"], false);
    }

    #[test]
    fn codes_are_unique_snake_case_with_known_args() {
        let known = Args {
            name: Some("n".into()),
            disk: Some("d".into()),
            controller: Some("c".into()),
            count: Some(1),
            disk_gib: Some(1),
            size: Some(1),
            ..Args::default()
        }
        .names();
        let all: Vec<(&str, &[&str])> = ReasonCode::ALL
            .iter()
            .map(|c| (c.as_str(), c.params()))
            .chain(ProblemCode::ALL.iter().map(|c| (c.as_str(), c.params())))
            .collect();
        for (code, params) in all {
            assert!(code.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'), "{code}");
            for p in params {
                assert!(known.iter().any(|k| k == p), "{code}: {p}");
            }
        }
    }
}
