//! Google Compute Engine: `instances.get` (the VM's disks: the boot disk and the data disk)
//! and `snapshots.list` filtered by each disk (`status` READY, `creationTimestamp`), GET only,
//! with an OAuth access token from `RIPCORD_GCE_ACCESS_TOKEN` (the output of
//! `gcloud auth print-access-token`). The identity needs `compute.instances.get` and
//! `compute.snapshots.list` (roles/compute.viewer has both).

use super::{
    Call, DiskSnapshot, Failed, VmEvidence, VmVolume, bearer, json_error, malformed, not_asked,
};
use crate::collect::http::{ReadOnlyClient, encode_segment};
use crate::model::facts::AuthUsed;
use serde::Deserialize;

const TOKEN: &str = "RIPCORD_GCE_ACCESS_TOKEN";
const CREDENTIALS_HINT: &str = "RIPCORD_GCE_ACCESS_TOKEN (e.g. $(gcloud auth print-access-token))";
const DEFAULT_ENDPOINT: &str = "https://compute.googleapis.com";

/// `projects/P/zones/Z/instances/I`, the instance's path (its selfLink without the host).
pub(super) struct InstancePath {
    project: String,
    zone: String,
    instance: String,
}

impl InstancePath {
    pub(super) fn parse(vm: &str) -> Result<Self, String> {
        let path = vm
            .split_once("/compute/v1/")
            .map_or(vm, |(_, p)| p)
            .trim_matches('/');
        match path.split('/').collect::<Vec<_>>()[..] {
            ["projects", project, "zones", zone, "instances", instance]
                if [project, zone, instance].iter().all(|s| segment_ok(s)) =>
            {
                Ok(Self {
                    project: project.into(),
                    zone: zone.into(),
                    instance: instance.into(),
                })
            }
            _ => Err(format!(
                "--vm {vm} is not a Compute Engine instance: give projects/PROJECT/zones/ZONE/instances/NAME"
            )),
        }
    }
}

/// Project ids, zones and instance names are lowercase letters, digits, `-` (and `:`, `.` in
/// domain-scoped project ids).
fn segment_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-:.".contains(&b))
}

/// The part of a disk URL that names it whatever the host: `projects/…/disks/NAME`.
fn disk_key(url: &str) -> &str {
    url.find("projects/").map_or(url, |i| &url[i..])
}

pub(super) async fn read(
    client: &ReadOnlyClient,
    vm: &str,
    endpoint: Option<&str>,
) -> Result<(VmEvidence, Option<(String, AuthUsed)>), Failed> {
    let path = InstancePath::parse(vm).map_err(|why| {
        (
            not_asked(
                "GET instances.get (Compute Engine)".into(),
                why,
                "check --vm".into(),
            ),
            None,
        )
    })?;
    let Some((credentials, used)) = bearer(TOKEN) else {
        return Err((
            not_asked(
                "GET instances.get (Compute Engine)".into(),
                format!("no Google Cloud access token: {TOKEN} is not set"),
                format!(
                    "export {CREDENTIALS_HINT} for an identity with compute.instances.get and compute.snapshots.list (roles/compute.viewer)"
                ),
            ),
            None,
        ));
    };
    let auth = Some(("gce".to_string(), used));
    let base = endpoint
        .unwrap_or(DEFAULT_ENDPOINT)
        .trim_end_matches('/')
        .to_string();
    let call = Call {
        base: &base,
        path: format!(
            "/compute/v1/projects/{}/zones/{}/instances/{}",
            path.project, path.zone, path.instance
        ),
        credentials: &credentials,
        permission: "compute.instances.get",
        credentials_hint: CREDENTIALS_HINT,
    };
    let body = call
        .get(client, json_error)
        .await
        .map_err(|f| (f, auth.clone()))?;
    let instance: Instance = serde_json::from_slice(&body).map_err(|e| {
        (
            malformed(&call, "a Compute Engine instance", e),
            auth.clone(),
        )
    })?;
    let volumes: Vec<VmVolume> = instance
        .disks
        .iter()
        .filter_map(|d| {
            Some(VmVolume {
                id: d.source.clone()?,
                role: if d.boot { "root" } else { "data" }.into(),
                device: d.device_name.clone(),
            })
        })
        .collect();
    let mut snapshots = Vec::new();
    let listing = format!(
        "GET {base}/compute/v1/projects/{}/global/snapshots",
        path.project
    );
    for volume in &volumes {
        let read = super::read_pages(&listing, "nextPageToken", None, |token| {
            let call = Call {
                base: &base,
                path: snapshots_path(&path.project, &volume.id, token.as_deref()),
                credentials: &credentials,
                permission: "compute.snapshots.list",
                credentials_hint: CREDENTIALS_HINT,
            };
            async move {
                let body = call.get(client, json_error).await?;
                let page: SnapshotList = serde_json::from_slice(&body)
                    .map_err(|e| malformed(&call, "a Compute Engine snapshot list", e))?;
                let snapshots = page
                    .items
                    .into_iter()
                    // The filter is the server's; the disk must be this one all the same.
                    .filter(|s| {
                        s.source_disk.as_deref().map(disk_key) == Some(disk_key(&volume.id))
                    })
                    .map(|s| DiskSnapshot {
                        id: s.name,
                        volume: volume.id.clone(),
                        state: s.status,
                        started_at: s.creation_timestamp.as_deref().and_then(|t| t.parse().ok()),
                        progress: None,
                    })
                    .collect();
                let next = page.next_page_token.filter(|t| !t.is_empty());
                Ok((super::Page { snapshots, next }, call))
            }
        })
        .await
        .map_err(|f| (f, auth.clone()))?;
        snapshots.extend(read);
    }
    Ok((
        VmEvidence {
            platform: "gce".into(),
            vm: vm.to_string(),
            endpoint: base,
            volumes,
            snapshots,
        },
        auth,
    ))
}

/// `instances.get`: only the disks are read.
#[derive(Deserialize)]
struct Instance {
    #[serde(default)]
    disks: Vec<AttachedDisk>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttachedDisk {
    source: Option<String>,
    #[serde(default)]
    boot: bool,
    device_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotList {
    #[serde(default)]
    items: Vec<Snapshot>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot {
    name: String,
    /// `CREATING`, `DELETING`, `FAILED`, `READY` or `UPLOADING`.
    status: String,
    creation_timestamp: Option<String>,
    source_disk: Option<String>,
}

/// One page of a disk's snapshots. The page token is percent-encoded into its own query
/// parameter: whatever a server puts in it (`&`, `/`, `?`, `#`, another project), the next
/// request asks the same list of the same project on the same endpoint.
fn snapshots_path(project: &str, disk: &str, token: Option<&str>) -> String {
    let filter = format!("sourceDisk=\"{disk}\"");
    let mut query = format!("filter={}&maxResults=500", encode_segment(&filter));
    if let Some(t) = token {
        query.push_str(&format!("&pageToken={}", encode_segment(t)));
    }
    format!("/compute/v1/projects/{project}/global/snapshots?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_paths() {
        let p = InstancePath::parse("projects/acme-ghe/zones/us-central1-a/instances/ghe-primary")
            .unwrap();
        assert_eq!(
            (p.project.as_str(), p.zone.as_str(), p.instance.as_str()),
            ("acme-ghe", "us-central1-a", "ghe-primary")
        );
        assert!(
            InstancePath::parse(
                "https://www.googleapis.com/compute/v1/projects/a/zones/b/instances/c"
            )
            .is_ok()
        );
        assert!(InstancePath::parse("ghe-primary").is_err());
        assert!(InstancePath::parse("projects/a/zones/b/instances/c?x=1").is_err());
        assert!(InstancePath::parse("projects/a/zones/b/instances/../../x").is_err());
    }

    #[test]
    fn disks_match_whatever_the_host() {
        assert_eq!(
            disk_key("https://www.googleapis.com/compute/v1/projects/p/zones/z/disks/d"),
            disk_key("https://compute.googleapis.com/compute/v1/projects/p/zones/z/disks/d")
        );
    }

    #[test]
    fn creation_timestamps_with_offsets_parse() {
        let t: jiff::Timestamp = "2026-11-19T18:02:11.135-08:00".parse().unwrap();
        assert_eq!(t.to_string(), "2026-11-20T02:02:11.135Z");
    }

    #[test]
    fn a_page_token_cannot_leave_the_list() {
        let path = snapshots_path("p", "d", Some("x&project=other/../../zones?#/"));
        assert!(
            path.starts_with("/compute/v1/projects/p/global/snapshots?"),
            "{path}"
        );
        let url = url::Url::parse(&format!("https://compute.googleapis.com{path}")).expect("url");
        assert_eq!(url.path(), "/compute/v1/projects/p/global/snapshots");
        assert!(url.fragment().is_none());
        let token: Vec<_> = url
            .query_pairs()
            .filter(|(k, _)| k == "pageToken")
            .collect();
        assert_eq!(token.len(), 1);
        assert_eq!(token[0].1, "x&project=other/../../zones?#/");
    }
}
