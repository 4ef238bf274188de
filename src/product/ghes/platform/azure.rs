//! Azure: `virtualMachines/get` (the OS disk and the data disks, by managed-disk id) and the
//! subscription's disk snapshots (`snapshots/list`: `creationData.sourceResourceId`,
//! `provisioningState` Succeeded, `timeCreated`, and `completionPercent` while an incremental
//! snapshot is still copying), GET only, with an access token from
//! `RIPCORD_AZURE_ACCESS_TOKEN` (`az account get-access-token --query accessToken -o tsv`).
//! The identity needs `Microsoft.Compute/virtualMachines/read` and
//! `Microsoft.Compute/snapshots/read` (the Reader role on the subscription has both).

use super::{
    Call, DiskSnapshot, Failed, VmEvidence, VmVolume, bearer, json_error, malformed, not_asked,
};
use crate::collect::http::ReadOnlyClient;
use crate::model::facts::AuthUsed;
use serde::Deserialize;

const TOKEN: &str = "RIPCORD_AZURE_ACCESS_TOKEN";
const CREDENTIALS_HINT: &str =
    "RIPCORD_AZURE_ACCESS_TOKEN (e.g. $(az account get-access-token --query accessToken -o tsv))";
const DEFAULT_ENDPOINT: &str = "https://management.azure.com";
const VM_API_VERSION: &str = "2024-07-01";
const SNAPSHOT_API_VERSION: &str = "2023-10-02";

/// `/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/NAME`.
pub(super) struct VmId {
    subscription: String,
    path: String,
}

impl VmId {
    pub(super) fn parse(vm: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "--vm {vm} is not an Azure VM resource id: give /subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Compute/virtualMachines/NAME"
            )
        };
        let parts: Vec<&str> = vm.trim_end_matches('/').split('/').collect();
        match parts[..] {
            ["", s, sub, rg, group, p, ns, kind, name]
                if s.eq_ignore_ascii_case("subscriptions")
                    && rg.eq_ignore_ascii_case("resourceGroups")
                    && p.eq_ignore_ascii_case("providers")
                    && ns.eq_ignore_ascii_case("Microsoft.Compute")
                    && kind.eq_ignore_ascii_case("virtualMachines")
                    && [sub, group, name].iter().all(|x| segment_ok(x)) =>
            {
                Ok(Self {
                    subscription: sub.to_string(),
                    path: vm.trim_end_matches('/').to_string(),
                })
            }
            _ => Err(bad()),
        }
    }
}

/// Resource names: letters, digits, `-`, `_`, `.`, `(`, `)`; never empty, never `..`.
fn segment_ok(s: &str) -> bool {
    !s.is_empty()
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.()".contains(&b))
}

pub(super) async fn read(
    client: &ReadOnlyClient,
    vm: &str,
    endpoint: Option<&str>,
) -> Result<(VmEvidence, Option<(String, AuthUsed)>), Failed> {
    let id = VmId::parse(vm).map_err(|why| {
        (
            not_asked(
                "GET virtualMachines/get (Azure)".into(),
                why,
                "check --vm".into(),
            ),
            None,
        )
    })?;
    let Some((credentials, used)) = bearer(TOKEN) else {
        return Err((
            not_asked(
                "GET virtualMachines/get (Azure)".into(),
                format!("no Azure access token: {TOKEN} is not set"),
                format!(
                    "export {CREDENTIALS_HINT} for an identity with Microsoft.Compute/virtualMachines/read and Microsoft.Compute/snapshots/read (Reader)"
                ),
            ),
            None,
        ));
    };
    let auth = Some(("azure".to_string(), used));
    let base = endpoint
        .unwrap_or(DEFAULT_ENDPOINT)
        .trim_end_matches('/')
        .to_string();
    let call = Call {
        base: &base,
        path: format!("{}?api-version={VM_API_VERSION}", id.path),
        credentials: &credentials,
        permission: "Microsoft.Compute/virtualMachines/read",
        credentials_hint: CREDENTIALS_HINT,
    };
    let body = call
        .get(client, json_error)
        .await
        .map_err(|f| (f, auth.clone()))?;
    let machine: VirtualMachine = serde_json::from_slice(&body).map_err(|e| {
        (
            malformed(&call, "an Azure virtual machine", e),
            auth.clone(),
        )
    })?;
    let storage = machine.properties.storage_profile;
    let mut volumes = Vec::new();
    if let Some(id) = storage
        .os_disk
        .and_then(|d| Some((d.managed_disk?.id?, d.name)))
    {
        volumes.push(VmVolume {
            id: id.0,
            role: "root".into(),
            device: id.1,
        });
    }
    for d in storage.data_disks {
        if let Some(disk) = d.managed_disk.and_then(|m| m.id) {
            volumes.push(VmVolume {
                id: disk,
                role: "data".into(),
                device: d.name.or(d.lun.map(|l| format!("lun {l}"))),
            });
        }
    }
    let list = format!(
        "/subscriptions/{}/providers/Microsoft.Compute/snapshots",
        id.subscription
    );
    let listing = format!("GET {base}{list}");
    let first = format!("{list}?api-version={SNAPSHOT_API_VERSION}");
    let snapshots = super::read_pages(&listing, "nextLink", Some(first.clone()), |at| {
        let call = Call {
            base: &base,
            path: at.unwrap_or_else(|| first.clone()),
            credentials: &credentials,
            permission: "Microsoft.Compute/snapshots/read",
            credentials_hint: CREDENTIALS_HINT,
        };
        let (volumes, list, base) = (&volumes, &list, &base);
        async move {
            let body = call.get(client, json_error).await?;
            let page: SnapshotList = serde_json::from_slice(&body)
                .map_err(|e| malformed(&call, "an Azure snapshot list", e))?;
            let mut snapshots = Vec::new();
            for s in page.value {
                let Some(source) = s
                    .properties
                    .creation_data
                    .and_then(|c| c.source_resource_id)
                else {
                    continue;
                };
                // Resource ids are case-insensitive.
                let Some(volume) = volumes.iter().find(|v| v.id.eq_ignore_ascii_case(&source))
                else {
                    continue;
                };
                snapshots.push(DiskSnapshot {
                    id: s.id.unwrap_or(s.name),
                    volume: volume.id.clone(),
                    state: s
                        .properties
                        .provisioning_state
                        .unwrap_or_else(|| "unknown".into()),
                    started_at: s
                        .properties
                        .time_created
                        .as_deref()
                        .and_then(|t| t.parse().ok()),
                    progress: s.properties.completion_percent.map(|p| format!("{p}%")),
                });
            }
            // The token goes to the endpoint ripcord was given, never to a host a body names.
            let next = match page.next_link.as_deref().map(|l| continuation(l, base, list)) {
                Some(Ok(next)) => Some(next),
                Some(Err(why)) => {
                    return Err(call.failure(
                        Some(200),
                        format!("paging left the resource: {why}; the token was not sent there"),
                        Some("an answer that pages to another resource is not the snapshot list ripcord asked for: check what answers at --azure-endpoint".into()),
                    ));
                }
                None => None,
            };
            Ok((super::Page { snapshots, next }, call))
        }
    })
    .await
    .map_err(|f| (f, auth.clone()))?;
    Ok((
        VmEvidence {
            platform: "azure".into(),
            vm: vm.to_string(),
            endpoint: base,
            volumes,
            snapshots,
        },
        auth,
    ))
}

/// The Azure Resource Manager hosts a `nextLink` may name (public, US Government, China),
/// besides the endpoint ripcord was given.
const ARM_HOSTS: &[&str] = &[
    "management.azure.com",
    "management.usgovcloudapi.net",
    "management.chinacloudapi.cn",
];

/// The path and query of a `nextLink`, to ask of our own endpoint — only when it continues the
/// list it came from: the same host (the endpoint's, or Resource Manager's), the same path
/// (resource ids are case-insensitive), the same `api-version`, and nothing else but the
/// `$skiptoken` that moves the page on.
fn continuation(link: &str, base: &str, list: &str) -> Result<String, String> {
    let url = url::Url::parse(link).map_err(|e| format!("nextLink {link:?} is not a URL ({e})"))?;
    let ours = url::Url::parse(base).ok();
    let host = url.host_str().unwrap_or_default();
    let same_host = ours.as_ref().is_some_and(|o| {
        o.host_str() == Some(host) && o.port_or_known_default() == url.port_or_known_default()
    });
    if !(same_host
        || (url.scheme() == "https" && ARM_HOSTS.contains(&host) && url.port().is_none()))
    {
        return Err(format!("nextLink names the host {host:?}"));
    }
    if !url.path().eq_ignore_ascii_case(list) {
        return Err(format!("nextLink names {:?}, not {list}", url.path()));
    }
    let (mut version, mut token) = (None, None);
    for (key, value) in url.query_pairs() {
        let slot = match key.as_ref() {
            "api-version" => &mut version,
            "$skiptoken" | "$skipToken" => &mut token,
            other => return Err(format!("nextLink adds the parameter {other:?}")),
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(format!("nextLink repeats the parameter {key:?}"));
        }
    }
    if version.as_deref() != Some(SNAPSHOT_API_VERSION) {
        return Err(format!(
            "nextLink asks api-version {:?}, not {SNAPSHOT_API_VERSION}",
            version.unwrap_or_default()
        ));
    }
    // Built from the checked parts, never forwarded as it came.
    let path = url.path();
    Ok(match token {
        Some(t) => format!(
            "{path}?api-version={SNAPSHOT_API_VERSION}&$skiptoken={}",
            crate::collect::http::encode_segment(&t)
        ),
        None => format!("{path}?api-version={SNAPSHOT_API_VERSION}"),
    })
}

#[derive(Deserialize)]
struct VirtualMachine {
    properties: VmProperties,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VmProperties {
    storage_profile: StorageProfile,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StorageProfile {
    os_disk: Option<Disk>,
    #[serde(default)]
    data_disks: Vec<Disk>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Disk {
    name: Option<String>,
    lun: Option<i64>,
    managed_disk: Option<ManagedDisk>,
}

#[derive(Deserialize)]
struct ManagedDisk {
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotList {
    #[serde(default)]
    value: Vec<Snapshot>,
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct Snapshot {
    name: String,
    id: Option<String>,
    properties: SnapshotProperties,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotProperties {
    creation_data: Option<CreationData>,
    time_created: Option<String>,
    provisioning_state: Option<String>,
    completion_percent: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreationData {
    source_resource_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_ids() {
        let id = VmId::parse("/subscriptions/0000-1111/resourceGroups/ghe-rg/providers/Microsoft.Compute/virtualMachines/ghe-primary").unwrap();
        assert_eq!(id.subscription, "0000-1111");
        assert!(
            VmId::parse(
                "/subscriptions/x/resourcegroups/y/providers/microsoft.compute/virtualmachines/z"
            )
            .is_ok()
        );
        assert!(VmId::parse("ghe-primary").is_err());
        assert!(VmId::parse("/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/virtualMachines/z?api-version=1").is_err());
        assert!(
            VmId::parse(
                "/subscriptions/x/resourceGroups/../providers/Microsoft.Compute/virtualMachines/z"
            )
            .is_err()
        );
    }

    #[test]
    fn next_links_continue_only_the_list_they_came_from() {
        let list = "/subscriptions/s/providers/Microsoft.Compute/snapshots";
        let base = "http://127.0.0.1:8080";
        let next = |link: &str| continuation(link, base, list);
        assert_eq!(
            next("https://management.azure.com/subscriptions/s/providers/Microsoft.Compute/snapshots?api-version=2023-10-02&$skiptoken=abc").as_deref(),
            Ok("/subscriptions/s/providers/Microsoft.Compute/snapshots?api-version=2023-10-02&$skiptoken=abc")
        );
        assert!(next("http://127.0.0.1:8080/subscriptions/S/providers/microsoft.compute/snapshots?api-version=2023-10-02&$skiptoken=x").is_ok());
        for (link, why) in [
            (
                "https://evil.example/subscriptions/s/providers/Microsoft.Compute/snapshots?api-version=2023-10-02",
                "host",
            ),
            (
                "http://127.0.0.1:9999/subscriptions/s/providers/Microsoft.Compute/snapshots?api-version=2023-10-02",
                "host",
            ),
            (
                "https://management.azure.com/subscriptions/other/providers/Microsoft.Compute/snapshots?api-version=2023-10-02",
                "not /subscriptions/s",
            ),
            (
                "https://management.azure.com/subscriptions/s/providers/Microsoft.KeyVault/vaults?api-version=2023-10-02",
                "not /subscriptions/s",
            ),
            (
                "https://management.azure.com/subscriptions/s/providers/Microsoft.Compute/snapshots?api-version=2016-10-01",
                "api-version",
            ),
            (
                "https://management.azure.com/subscriptions/s/providers/Microsoft.Compute/snapshots?api-version=2023-10-02&$filter=x",
                "parameter",
            ),
            (
                "https://management.azure.com/subscriptions/s/providers/Microsoft.Compute/snapshots/../../../resourceGroups?api-version=2023-10-02",
                "not /subscriptions/s",
            ),
            ("not a url", "not a URL"),
            (
                "https://management.azure.com/subscriptions/s/providers/Microsoft.Compute/snapshots?api-version=2016-10-01&api-version=2023-10-02",
                "repeats",
            ),
        ] {
            let err = next(link).expect_err(link);
            assert!(err.contains(why), "{link}: {err}");
        }
    }
}
