//! Which VM snapshot a feature rollback restores, and on whose word: what the platform lists
//! (every disk of the primary covered by a complete snapshot started before the upgrade), or
//! what the operator declared (`--vm-snapshot`, `--vm-snapshot-taken-at`) where ripcord cannot
//! read the platform or was not told which VM (`--vm`).

use super::platform::{DiskSnapshot, VmEvidence, VmVolume, not_readable};
use crate::model::upgrade::age_hours;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;

/// Snapshots of one VM's disks taken "in quick succession" belong together: the root and data
/// disks must come back from the same moment. Further apart than this, they are not one set.
const SET_WINDOW_SECONDS: i64 = 3600;

/// The VM snapshot a feature rollback restores.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct VmSnapshot {
    /// The snapshot (the root disk's, for a set of disk snapshots).
    pub(crate) id: Option<String>,
    /// When it was taken (a set: its oldest member).
    pub(crate) taken_at: Option<Timestamp>,
    pub(crate) age_hours: Option<f64>,
    /// Taken before the upgrade started (rollback) / before now (preflight).
    pub(crate) before_upgrade: Option<bool>,
    /// `platform` (read from the cloud's API) or `operator` (declared by flags); null when
    /// there is no snapshot either way.
    pub(crate) source: Option<String>,
    /// How it was established, in one clause for messages.
    pub(crate) verification: String,
    /// What the platform showed that contradicts a rollback from it (null: nothing).
    pub(crate) problem: Option<String>,
    /// Platform only: each disk and the snapshot chosen for it.
    pub(crate) volumes: Vec<VolumeChoice>,
}

impl VmSnapshot {
    /// The snapshot to restore: one is named and the platform does not contradict it.
    pub(crate) fn usable_id(&self) -> Option<&str> {
        self.id.as_deref().filter(|_| self.problem.is_none())
    }

    /// The platform's disk snapshots chosen, e.g. `snap-1 (root vol-1), snap-2 (data vol-2)`,
    /// when the platform was read and every disk is covered.
    pub(crate) fn disk_set(&self) -> Option<String> {
        if self.volumes.is_empty() || self.volumes.iter().any(|v| v.snapshot.is_none()) {
            return None;
        }
        Some(
            self.volumes
                .iter()
                .map(|v| {
                    format!(
                        "{} ({} {})",
                        short(v.snapshot.as_deref().unwrap_or_default()),
                        v.role,
                        short(&v.volume)
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

/// One disk of the VM and the snapshot that brings it back.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct VolumeChoice {
    pub(crate) volume: String,
    /// `root` or `data`.
    pub(crate) role: String,
    pub(crate) device: Option<String>,
    pub(crate) snapshot: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) started_at: Option<Timestamp>,
}

/// What the judgement starts from.
pub(crate) struct Declared<'a> {
    pub(crate) id: Option<&'a str>,
    pub(crate) taken_at: Option<Timestamp>,
    /// `--vm`, when given.
    pub(crate) vm: Option<&'a str>,
    pub(crate) platform: Option<&'a str>,
    /// The upgrade start (preflight: now); unknown in a rollback without `--upgrade-started-at`.
    pub(crate) cutoff: Option<Timestamp>,
    pub(crate) now: Timestamp,
}

pub(crate) fn judge(declared: &Declared<'_>, evidence: Option<&VmEvidence>) -> VmSnapshot {
    match evidence {
        Some(e) => from_platform(declared, e),
        None => from_operator(declared),
    }
}

fn platform_name(platform: &str) -> &str {
    match platform {
        "ami" => "AWS",
        "gce" => "Google Cloud",
        "azure" => "Azure",
        "esx" => "VMware",
        "hyperv" => "Hyper-V",
        "kvm" => "KVM",
        other => other,
    }
}

fn from_operator(d: &Declared<'_>) -> VmSnapshot {
    let verification = match (d.platform, d.vm) {
        _ if d.id.is_none() => {
            "none declared (--vm-snapshot) and none read from the platform (--vm)".to_string()
        }
        (Some(p), _) if not_readable(p).is_some() => format!(
            "declared by the operator (--vm-snapshot): {}",
            not_readable(p).unwrap_or_default()
        ),
        (Some(p), None) => format!(
            "declared by the operator (--vm-snapshot), not verified: pass --vm with the primary's {} to check it on {}",
            match p {
                "ami" => "instance id",
                "gce" => "instance (projects/P/zones/Z/instances/NAME)",
                _ => "VM resource id",
            },
            platform_name(p)
        ),
        _ => "declared by the operator (--vm-snapshot), not verified: the platform is unknown (pass --platform)".to_string(),
    };
    VmSnapshot {
        id: d.id.map(str::to_string),
        taken_at: d.taken_at,
        age_hours: d.taken_at.map(|t| age_hours(d.now, t)),
        before_upgrade: d.taken_at.zip(d.cutoff).map(|(t, s)| t < s),
        source: d.id.map(|_| "operator".to_string()),
        verification,
        problem: None,
        volumes: Vec::new(),
    }
}

/// A snapshot as the finding names it: `snap-1 (pending, 80%, started T)`.
fn describe(s: &DiskSnapshot) -> String {
    let mut parts = vec![s.state.clone()];
    if let Some(p) = &s.progress {
        parts.push(p.clone());
    }
    parts.push(match s.started_at {
        Some(t) => format!("started {t}"),
        None => "start unknown".into(),
    });
    format!("{} ({})", short(&s.id), parts.join(", "))
}

/// Azure ids and GCE disks are paths or URLs: the last segment is what a person recognises.
fn short(id: &str) -> &str {
    id.rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(id)
}

/// ` (/dev/xvdf)`: the device, when it says more than the disk's name.
fn device(v: &VmVolume) -> String {
    match v.device.as_deref() {
        Some(d) if d != short(&v.id) => format!(" ({d})"),
        _ => String::new(),
    }
}

fn same_id(snapshot: &DiskSnapshot, declared: &str) -> bool {
    snapshot.id == declared || short(&snapshot.id).eq_ignore_ascii_case(short(declared))
}

fn from_platform(d: &Declared<'_>, e: &VmEvidence) -> VmSnapshot {
    let cloud = platform_name(&e.platform);
    let cutoff = d.cutoff.unwrap_or(d.now);
    let before = |s: &DiskSnapshot| s.started_at.is_some_and(|t| t < cutoff);
    let usable = |s: &DiskSnapshot| s.usable() && before(s);
    let of = |volume: &str| -> Vec<&DiskSnapshot> {
        e.snapshots.iter().filter(|s| s.volume == volume).collect()
    };
    let mut problems: Vec<String> = Vec::new();

    // The anchor: the declared snapshot, else the newest usable one of the root disk.
    let anchor: Option<&DiskSnapshot> = match d.id {
        Some(id) => match e.snapshots.iter().find(|s| same_id(s, id)) {
            None => {
                let found: Vec<String> = e.snapshots.iter().rev().take(5).map(describe).collect();
                problems.push(format!(
                    "VM snapshot {id} (--vm-snapshot) is not a snapshot of {}'s disks on {cloud}; {}",
                    e.vm,
                    if found.is_empty() {
                        "the platform lists none of them".to_string()
                    } else {
                        format!("the newest there: {}", found.join(", "))
                    }
                ));
                None
            }
            Some(s) if !s.usable() => {
                problems.push(format!(
                    "VM snapshot {} is not complete on {cloud}: {}",
                    short(&s.id),
                    describe(s)
                ));
                None
            }
            Some(s) if !before(s) => {
                problems.push(format!(
                    "VM snapshot {} started {} on {cloud}, after the upgrade started ({cutoff})",
                    short(&s.id),
                    s.started_at
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "at an unknown time".into()),
                ));
                None
            }
            Some(s) => Some(s),
        },
        None => e
            .volumes
            .iter()
            .find(|v| v.role == "root")
            .or(e.volumes.first())
            .and_then(|v| of(&v.id).into_iter().rfind(|s| usable(s))),
    };
    if e.volumes.is_empty() {
        problems.push(format!("{cloud} lists no disk attached to {}", e.vm));
    }
    if !e.volumes.iter().any(|v| v.role == "data") && !e.volumes.is_empty() {
        problems.push(format!(
            "{} has no data disk attached on {cloud}: a GHES primary keeps its data on a separate volume; is --vm the primary?",
            e.vm
        ));
    }

    let mut volumes = Vec::new();
    for v in &e.volumes {
        let mine = of(&v.id);
        let chosen: Option<&DiskSnapshot> = match anchor {
            Some(a) if a.volume == v.id => Some(a),
            Some(a) => {
                let at = a.started_at.map(|t| t.as_second()).unwrap_or_default();
                mine.iter()
                    .copied()
                    .filter(|s| usable(s))
                    .min_by_key(|s| (s.started_at.map(|t| (t.as_second() - at).abs()), s.id.clone()))
                    .filter(|s| {
                        let close = s
                            .started_at
                            .is_some_and(|t| (t.as_second() - at).abs() <= SET_WINDOW_SECONDS);
                        if !close {
                            problems.push(format!(
                                "the {} disk {}{} has no snapshot within an hour of {}: the closest is {}; root and data must come back from the same moment",
                                v.role,
                                short(&v.id),
                                device(v),
                                short(&a.id),
                                describe(s)
                            ));
                        }
                        close
                    })
            }
            None => mine.iter().copied().rfind(|s| usable(s)),
        };
        if chosen.is_none() && !problems.iter().any(|p| p.contains(short(&v.id))) {
            let seen: Vec<String> = mine.iter().rev().take(3).map(|s| describe(s)).collect();
            problems.push(format!(
                "no complete snapshot of the {} disk {}{} started before {}{}",
                v.role,
                short(&v.id),
                v.device
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default(),
                if d.cutoff.is_some() && d.cutoff != Some(d.now) {
                    format!("the upgrade ({cutoff})")
                } else {
                    format!("now ({cutoff})")
                },
                if seen.is_empty() {
                    ": it has none".to_string()
                } else {
                    format!(": found {}", seen.join(", "))
                }
            ));
        }
        volumes.push(VolumeChoice {
            volume: v.id.clone(),
            role: v.role.clone(),
            device: v.device.clone(),
            snapshot: chosen.map(|s| s.id.clone()),
            state: chosen.map(|s| s.state.clone()),
            started_at: chosen.and_then(|s| s.started_at),
        });
    }
    let complete = !volumes.is_empty() && volumes.iter().all(|v| v.snapshot.is_some());
    let taken_at = if complete {
        volumes.iter().filter_map(|v| v.started_at).min()
    } else {
        anchor.and_then(|a| a.started_at)
    };
    let mut judged = VmSnapshot {
        id: anchor
            .map(|a| short(&a.id).to_string())
            .or_else(|| d.id.map(str::to_string)),
        taken_at,
        age_hours: taken_at.map(|t| age_hours(d.now, t)),
        before_upgrade: taken_at.zip(d.cutoff).map(|(t, s)| t < s),
        source: Some("platform".into()),
        verification: format!("read on {cloud} for {}", e.vm),
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
        volumes,
    };
    if let Some(set) = judged.disk_set() {
        judged.verification = format!("verified on {cloud} for {}: {set}", e.vm);
    }
    judged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn snap(id: &str, volume: &str, state: &str, at: &str) -> DiskSnapshot {
        DiskSnapshot {
            id: id.into(),
            volume: volume.into(),
            state: state.into(),
            started_at: Some(t(at)),
            progress: Some(if state == "completed" { "100%" } else { "40%" }.into()),
        }
    }

    fn evidence(snapshots: Vec<DiskSnapshot>) -> VmEvidence {
        VmEvidence {
            platform: "ami".into(),
            vm: "i-0abcd1234ef567890".into(),
            endpoint: "http://ec2".into(),
            volumes: vec![
                VmVolume {
                    id: "vol-root".into(),
                    role: "root".into(),
                    device: Some("/dev/sda1".into()),
                },
                VmVolume {
                    id: "vol-data".into(),
                    role: "data".into(),
                    device: Some("/dev/xvdf".into()),
                },
            ],
            snapshots,
        }
    }

    fn declared(id: Option<&str>) -> Declared<'_> {
        Declared {
            id,
            taken_at: None,
            vm: Some("i-0abcd1234ef567890"),
            platform: Some("ami"),
            cutoff: Some(t("2026-11-20T03:00:00Z")),
            now: t("2026-11-20T12:00:00Z"),
        }
    }

    #[test]
    fn a_complete_set_before_the_start_passes_and_names_both_disks() {
        let e = evidence(vec![
            snap("snap-r", "vol-root", "completed", "2026-11-20T02:00:00Z"),
            snap("snap-d", "vol-data", "completed", "2026-11-20T02:00:00Z"),
            snap("snap-late", "vol-root", "completed", "2026-11-20T04:00:00Z"),
        ]);
        let v = judge(&declared(None), Some(&e));
        assert_eq!(v.problem, None);
        assert_eq!(v.id.as_deref(), Some("snap-r"));
        assert_eq!(v.before_upgrade, Some(true));
        assert_eq!(v.source.as_deref(), Some("platform"));
        assert!(
            v.verification.contains("snap-d (data vol-data)"),
            "{}",
            v.verification
        );
    }

    #[test]
    fn a_missing_data_disk_snapshot_fails_with_what_was_found() {
        let e = evidence(vec![
            snap("snap-r", "vol-root", "completed", "2026-11-20T02:00:00Z"),
            snap("snap-d", "vol-data", "pending", "2026-11-20T02:00:00Z"),
        ]);
        let v = judge(&declared(Some("snap-r")), Some(&e));
        let p = v.problem.unwrap();
        assert!(p.contains("data disk vol-data (/dev/xvdf)"), "{p}");
        assert!(p.contains("snap-d (pending, 40%"), "{p}");
    }

    #[test]
    fn a_declared_snapshot_the_platform_contradicts_fails() {
        let e = evidence(vec![
            snap("snap-r", "vol-root", "completed", "2026-11-20T04:00:00Z"),
            snap("snap-d", "vol-data", "completed", "2026-11-20T04:00:00Z"),
        ]);
        let after = judge(&declared(Some("snap-r")), Some(&e)).problem.unwrap();
        assert!(after.contains("after the upgrade started"), "{after}");
        let typo = judge(&declared(Some("snap-typo")), Some(&e))
            .problem
            .unwrap();
        assert!(
            typo.contains("snap-typo (--vm-snapshot) is not a snapshot"),
            "{typo}"
        );
    }

    #[test]
    fn disks_snapshotted_days_apart_are_no_set() {
        let e = evidence(vec![
            snap("snap-r", "vol-root", "completed", "2026-11-20T02:00:00Z"),
            snap("snap-d", "vol-data", "completed", "2026-11-17T02:00:00Z"),
        ]);
        let p = judge(&declared(None), Some(&e)).problem.unwrap();
        assert!(p.contains("no snapshot within an hour of snap-r"), "{p}");
    }

    #[test]
    fn unreadable_platforms_keep_the_operators_word_and_say_so() {
        let mut d = declared(Some("vm-snap-1"));
        d.platform = Some("esx");
        d.taken_at = Some(t("2026-11-20T02:00:00Z"));
        let v = judge(&d, None);
        assert_eq!(v.source.as_deref(), Some("operator"));
        assert!(v.verification.contains("login POST"), "{}", v.verification);
        d.platform = Some("ami");
        d.vm = None;
        assert!(judge(&d, None).verification.contains("pass --vm"));
    }
}
