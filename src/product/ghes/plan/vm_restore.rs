//! The VM snapshot restore as the platform's own CLI commands, with the IDs ripcord verified
//! on the platform: AWS (`aws ec2`, each change followed by the CLI's own `wait`), Google
//! Cloud (`gcloud compute`, whose commands wait for their operation) and Azure (`az`, likewise),
//! each change checked with a read-only `describe`/`show`. Every value the commands carry
//! (instance, disk, snapshot, device) was read from the platform's API and is quoted as a word;
//! what a command creates is named so a rerun after a failure finds it (AWS: the new volume ids
//! kept in files beside the runbook's state; GCE and Azure: `DISK-ripcord-restored`) and never
//! creates a second set.

use super::Host;
use super::gates::version_polled;
use crate::model::plan::{Step, Word, sh};
use crate::product::ghes::vm_snapshot::VolumeChoice;

/// The EC2 instance and its disks, every one with the snapshot that brings it back and its
/// device name: what the commands need, or `None` (the restore stays a step done by hand).
pub(super) struct AwsRestore<'a> {
    pub(super) instance: &'a str,
    pub(super) volumes: Vec<(&'a VolumeChoice, &'a str, &'a str)>,
}

impl<'a> AwsRestore<'a> {
    /// When every disk has a snapshot and a device name, and the instance is an EC2 id.
    pub(super) fn of(instance: Option<&'a str>, volumes: &'a [VolumeChoice]) -> Option<Self> {
        let instance = instance.filter(|i| {
            i.strip_prefix("i-")
                .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
        })?;
        if volumes.is_empty() {
            return None;
        }
        let volumes = volumes
            .iter()
            .map(|v| Some((v, v.snapshot.as_deref()?, v.device.as_deref()?)))
            .collect::<Option<Vec<_>>>()?;
        Some(Self { instance, volumes })
    }

    /// Stop the instance, create a volume from each snapshot in its zone, swap each in under
    /// the same device name, start it, and wait until the appliance answers on `from`.
    pub(super) fn steps(&self, primary: &Host, from: &str) -> Vec<Step> {
        let i = Word::quote(self.instance);
        let state = sh!(
            "aws ec2 describe-instances --instance-ids {} --query 'Reservations[0].Instances[0].State.Name' --output text",
            i.clone()
        );
        let zone = sh!(
            "aws ec2 describe-instances --instance-ids {} --query 'Reservations[0].Instances[0].Placement.AvailabilityZone' --output text",
            i.clone()
        );
        let mut create = Vec::new();
        let mut created = Vec::new();
        let mut swap = Vec::new();
        let mut swapped = Vec::new();
        for (volume, snapshot, device) in &self.volumes {
            let file = Word::quote(&format!("new-volume-{}.id", volume.role));
            let old = Word::quote(&volume.volume);
            let tags = Word::quote(&format!(
                "ResourceType=volume,Tags=[{{Key=ripcord-restore-of,Value={}}}]",
                volume.volume
            ));
            create.push(sh!(
                "[ -s {} ] || aws ec2 create-volume --snapshot-id {} --availability-zone \"$({})\" --tag-specifications {} --query VolumeId --output text > {}",
                file.clone(),
                Word::quote(snapshot),
                zone.clone(),
                tags,
                file.clone()
            ));
            create.push(sh!(
                "aws ec2 wait volume-available --volume-ids \"$(cat {})\"",
                file.clone()
            ));
            created.push(sh!(
                "test \"$(aws ec2 describe-volumes --volume-ids \"$(cat {})\" --query 'Volumes[0].SnapshotId' --output text)\" = {}",
                file.clone(),
                Word::quote(snapshot)
            ));
            swap.push(sh!(
                "if [ \"$(aws ec2 describe-volumes --volume-ids {} --query 'Volumes[0].State' --output text)\" = in-use ]; then aws ec2 detach-volume --volume-id {} && aws ec2 wait volume-available --volume-ids {}; fi",
                old.clone(),
                old.clone(),
                old
            ));
            swap.push(sh!(
                "aws ec2 attach-volume --volume-id \"$(cat {})\" --instance-id {} --device {} && aws ec2 wait volume-in-use --volume-ids \"$(cat {})\"",
                file.clone(),
                i.clone(),
                Word::quote(device),
                file.clone()
            ));
            let mapping = Word::quote(&format!(
                "Reservations[0].Instances[0].BlockDeviceMappings[?DeviceName=='{device}'].Ebs.VolumeId"
            ));
            swapped.push(sh!(
                "test \"$(aws ec2 describe-instances --instance-ids {} --query {} --output text)\" = \"$(cat {})\"",
                i.clone(),
                mapping,
                file
            ));
        }
        restore_steps(
            primary,
            from,
            &format!("EC2 instance {}", self.instance),
            "this shell (aws CLI, credentials allowed to stop the instance and create and attach volumes)",
            vec![
                sh!("aws ec2 stop-instances --instance-ids {}", i.clone()),
                sh!("aws ec2 wait instance-stopped --instance-ids {}", i.clone()),
            ],
            sh!("test \"$({})\" = stopped", state),
            (
                format!(
                    "Create a volume from each verified snapshot in the instance's zone: {}",
                    self.volumes
                        .iter()
                        .map(|(v, s, _)| format!("{s} ({} {})", v.role, v.volume))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                create,
                created,
            ),
            (swap, swapped),
            vec![
                sh!("aws ec2 start-instances --instance-ids {}", i.clone()),
                sh!("aws ec2 wait instance-running --instance-ids {}", i),
            ],
        )
    }
}

/// A Compute Engine instance (`projects/P/zones/Z/instances/NAME`) and its disks.
pub(super) struct GceRestore<'a> {
    project: &'a str,
    zone: &'a str,
    instance: &'a str,
    /// (disk name, role, snapshot name, device name).
    disks: Vec<(&'a str, &'a str, &'a str, &'a str)>,
}

impl<'a> GceRestore<'a> {
    pub(super) fn of(vm: Option<&'a str>, volumes: &'a [VolumeChoice]) -> Option<Self> {
        let parts: Vec<&str> = vm?.split('/').collect();
        let ["projects", project, "zones", zone, "instances", instance] = parts.as_slice() else {
            return None;
        };
        if volumes.is_empty() {
            return None;
        }
        let disks = volumes
            .iter()
            .map(|v| {
                let name = v.volume.rsplit('/').next()?;
                Some((
                    name,
                    v.role.as_str(),
                    v.snapshot.as_deref()?,
                    v.device.as_deref()?,
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            project,
            zone,
            instance,
            disks,
        })
    }

    pub(super) fn steps(&self, primary: &Host, from: &str) -> Vec<Step> {
        let at = sh!(
            "--zone {} --project {}",
            Word::quote(self.zone),
            Word::quote(self.project)
        );
        let name = Word::quote(self.instance);
        let status = sh!(
            "gcloud compute instances describe {} {} --format='value(status)'",
            name.clone(),
            at.clone()
        );
        let mut create = Vec::new();
        let mut created = Vec::new();
        let mut swap = Vec::new();
        let mut swapped = Vec::new();
        for (disk, role, snapshot, device) in &self.disks {
            let new = Word::quote(&format!("{disk}-ripcord-restored"));
            create.push(sh!(
                "gcloud compute disks describe {} {} >/dev/null 2>&1 || gcloud compute disks create {} --source-snapshot {} {}",
                new.clone(),
                at.clone(),
                new.clone(),
                Word::quote(snapshot),
                at.clone()
            ));
            created.push(sh!(
                "case \"$(gcloud compute disks describe {} {} --format='value(sourceSnapshot)')\" in */{}) ;; *) echo {} >&2; false;; esac",
                new.clone(),
                at.clone(),
                Word::quote(snapshot),
                Word::quote(&format!("{disk}-ripcord-restored is not made from {snapshot}"))
            ));
            let boot = if *role == "root" {
                sh!(" --boot")
            } else {
                sh!("")
            };
            swap.push(sh!(
                "if gcloud compute instances describe {} {} --format='value(disks[].source)' | tr ';' '\\n' | grep -q {}; then gcloud compute instances detach-disk {} --disk {} {}; fi",
                name.clone(),
                at.clone(),
                Word::quote(&format!("/disks/{disk}$")),
                name.clone(),
                Word::quote(disk),
                at.clone()
            ));
            swap.push(sh!(
                "gcloud compute instances attach-disk {} --disk {} --device-name {}{} {}",
                name.clone(),
                new.clone(),
                Word::quote(device),
                boot,
                at.clone()
            ));
            swapped.push(sh!(
                "gcloud compute instances describe {} {} --format='value(disks[].source)' | tr ';' '\\n' | grep -q {}",
                name.clone(),
                at.clone(),
                Word::quote(&format!("/disks/{disk}-ripcord-restored$"))
            ));
        }
        restore_steps(
            primary,
            from,
            &format!("Compute Engine instance {}", self.instance),
            "this shell (gcloud, an account allowed to stop instances and create and attach disks)",
            vec![sh!(
                "gcloud compute instances stop {} {}",
                name.clone(),
                at.clone()
            )],
            sh!("test \"$({})\" = TERMINATED", status.clone()),
            (
                format!(
                    "Create a disk from each verified snapshot: {}",
                    self.disks
                        .iter()
                        .map(|(d, r, s, _)| format!("{s} ({r} {d})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                create,
                created,
            ),
            (swap, swapped),
            vec![sh!("gcloud compute instances start {} {}", name, at)],
        )
    }
}

/// An Azure VM (its resource id) and its managed disks.
pub(super) struct AzureRestore<'a> {
    vm: &'a str,
    /// (disk id, disk name, role, snapshot id).
    disks: Vec<(&'a str, &'a str, &'a str, &'a str)>,
    /// The VM's resource group and name, from its id.
    group: &'a str,
    name: &'a str,
    /// `/subscriptions/S/resourceGroups/RG`, for the new disks' ids.
    scope: String,
}

impl<'a> AzureRestore<'a> {
    pub(super) fn of(vm: Option<&'a str>, volumes: &'a [VolumeChoice]) -> Option<Self> {
        let vm = vm?;
        let parts: Vec<&str> = vm.trim_start_matches('/').split('/').collect();
        let [
            "subscriptions",
            subscription,
            "resourceGroups",
            group,
            "providers",
            "Microsoft.Compute",
            "virtualMachines",
            name,
        ] = parts.as_slice()
        else {
            return None;
        };
        if volumes.is_empty() {
            return None;
        }
        let disks = volumes
            .iter()
            .map(|v| {
                Some((
                    v.volume.as_str(),
                    v.volume.rsplit('/').next()?,
                    v.role.as_str(),
                    v.snapshot.as_deref()?,
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            vm,
            disks,
            group,
            name,
            scope: format!("/subscriptions/{subscription}/resourceGroups/{group}"),
        })
    }

    pub(super) fn steps(&self, primary: &Host, from: &str) -> Vec<Step> {
        let ids = Word::quote(self.vm);
        let group = Word::quote(self.group);
        let vm_name = Word::quote(self.name);
        let power = sh!(
            "az vm get-instance-view --ids {} --query \"instanceView.statuses[?starts_with(code, 'PowerState/')].code | [0]\" -o tsv",
            ids.clone()
        );
        let mut create = Vec::new();
        let mut created = Vec::new();
        let mut swap = Vec::new();
        let mut swapped = Vec::new();
        for (_, disk, role, snapshot) in &self.disks {
            let new_name = format!("{disk}-ripcord-restored");
            let new_id = Word::quote(&format!(
                "{}/providers/Microsoft.Compute/disks/{new_name}",
                self.scope
            ));
            create.push(sh!(
                "az disk show --ids {} >/dev/null 2>&1 || az disk create --resource-group {} --name {} --source {} --location \"$(az vm show --ids {} --query location -o tsv)\"",
                new_id.clone(),
                group.clone(),
                Word::quote(&new_name),
                Word::quote(snapshot),
                ids.clone()
            ));
            created.push(sh!(
                "test \"$(az disk show --ids {} --query creationData.sourceResourceId -o tsv | tr '[:upper:]' '[:lower:]')\" = {}",
                new_id.clone(),
                Word::quote(&snapshot.to_lowercase())
            ));
            if *role == "root" {
                swap.push(sh!(
                    "az vm update --ids {} --os-disk {}",
                    ids.clone(),
                    new_id.clone()
                ));
                swapped.push(sh!(
                    "test \"$(az vm show --ids {} --query storageProfile.osDisk.managedDisk.id -o tsv | tr '[:upper:]' '[:lower:]')\" = {}",
                    ids.clone(),
                    Word::quote(&format!("{}/providers/Microsoft.Compute/disks/{new_name}", self.scope).to_lowercase())
                ));
            } else {
                swap.push(sh!(
                    "if az vm show --ids {} --query 'storageProfile.dataDisks[].name' -o tsv | grep -qxF {}; then az vm disk detach --resource-group {} --vm-name {} --name {}; fi",
                    ids.clone(),
                    Word::quote(disk),
                    group.clone(),
                    vm_name.clone(),
                    Word::quote(disk)
                ));
                swap.push(sh!(
                    "az vm disk attach --resource-group {} --vm-name {} --name {}",
                    group.clone(),
                    vm_name.clone(),
                    new_id.clone()
                ));
                swapped.push(sh!(
                    "az vm show --ids {} --query 'storageProfile.dataDisks[].name' -o tsv | grep -qxF {}",
                    ids.clone(),
                    Word::quote(&new_name)
                ));
            }
        }
        restore_steps(
            primary,
            from,
            &format!("Azure VM {}", self.name),
            "this shell (az, an identity allowed to deallocate the VM and create and attach disks)",
            vec![sh!("az vm deallocate --ids {}", ids.clone())],
            sh!("test \"$({})\" = PowerState/deallocated", power),
            (
                format!(
                    "Create a managed disk from each verified snapshot: {}",
                    self.disks
                        .iter()
                        .map(|(_, d, r, s)| format!(
                            "{} ({r} {d})",
                            s.rsplit('/').next().unwrap_or(s)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                create,
                created,
            ),
            (swap, swapped),
            vec![sh!("az vm start --ids {}", ids)],
        )
    }
}

/// The four steps every platform's restore takes: stop, create, swap, start (the appliance
/// answering on `from` is the start's verification).
#[expect(
    clippy::too_many_arguments,
    reason = "the four steps' parts, each named"
)]
fn restore_steps(
    primary: &Host,
    from: &str,
    vm: &str,
    run_on: &str,
    stop: Vec<crate::model::plan::Line>,
    stopped: crate::model::plan::Line,
    (create_title, create, created): (
        String,
        Vec<crate::model::plan::Line>,
        Vec<crate::model::plan::Line>,
    ),
    (swap, swapped): (Vec<crate::model::plan::Line>, Vec<crate::model::plan::Line>),
    start: Vec<crate::model::plan::Line>,
) -> Vec<Step> {
    vec![
        Step {
            id: "vm-stop".into(),
            title: format!("Stop the primary's {vm}"),
            run_on: run_on.into(),
            commands: stop,
            verify: vec![stopped.clone()],
            on_failure: "the VM did not stop: look at it in the platform's console, then run again".into(),
            ..Step::default()
        },
        Step {
            id: "vm-create-volumes".into(),
            title: create_title,
            run_on: run_on.into(),
            commands: create,
            verify: created,
            on_failure: "a disk could not be created from its snapshot: read the error (quota, key access), fix it, then run again; the old disks are untouched".into(),
            ..Step::default()
        },
        Step {
            id: "vm-swap-volumes".into(),
            title: "Detach the upgraded disks and attach the restored ones in their place (the old ones are kept, detached)".into(),
            run_on: run_on.into(),
            check: vec![stopped],
            commands: swap,
            verify: swapped,
            on_failure: "a disk did not swap: look at the VM's disks in the platform's console; every old disk is kept and can go back in its place".into(),
            ..Step::default()
        },
        Step {
            id: "vm-start".into(),
            title: format!("Start the VM and wait until {} answers on {from}", primary.label()),
            run_on: format!("{run_on}, then the appliance"),
            commands: start,
            verify: vec![version_polled(primary, from)],
            on_failure: format!(
                "the appliance did not come back on {from}: check the VM's serial console; the upgraded disks are kept detached if you need to go back to them"
            ),
            ..Step::default()
        },
    ]
}

/// For the tests: the commands of a step, as text.
#[cfg(test)]
fn texts(lines: &[crate::model::plan::Line]) -> Vec<String> {
    lines.iter().map(|l| l.as_str().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(volume: &str, role: &str, device: &str, snapshot: &str) -> VolumeChoice {
        VolumeChoice {
            volume: volume.into(),
            role: role.into(),
            device: Some(device.into()),
            snapshot: Some(snapshot.into()),
            state: Some("completed".into()),
            started_at: None,
        }
    }

    #[test]
    fn the_restore_names_every_verified_id() {
        let volumes = vec![
            volume("vol-0root", "root", "/dev/xvda", "snap-0a"),
            volume("vol-0data", "data", "/dev/xvdf", "snap-0b"),
        ];
        let restore = AwsRestore::of(Some("i-0abc123"), &volumes).expect("complete");
        let steps = restore.steps(&Host::Named("ghe-primary".into()), "3.17.8");
        let ids: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "vm-stop",
                "vm-create-volumes",
                "vm-swap-volumes",
                "vm-start"
            ]
        );
        let create = texts(&steps[1].commands).join("\n");
        assert!(create.contains("--snapshot-id snap-0a"), "{create}");
        assert!(create.contains("--snapshot-id snap-0b"), "{create}");
        let swap = texts(&steps[2].commands).join("\n");
        assert!(swap.contains("--device /dev/xvdf"), "{swap}");
        assert!(AwsRestore::of(Some("i-0abc123; id"), &volumes).is_none());
        assert!(AwsRestore::of(None, &volumes).is_none());
    }
}
