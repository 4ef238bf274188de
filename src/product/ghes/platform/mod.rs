//! The VM snapshot of the GHES primary, read from the platform it runs on (GET only, with the
//! platform's read-only permissions), so a rollback rests on what the cloud holds rather than
//! on what an operator typed: AWS (EC2 Query API, SigV4), Google Compute Engine and Azure
//! (REST, bearer token). VMware, Hyper-V and KVM keep the operator's declaration: their read
//! APIs need a login POST (vSphere) or a protocol other than HTTP (WMI, libvirt).
//!
//! Each reader returns [`VmEvidence`]: the VM's disks and every snapshot of them the platform
//! lists. Judging it (which snapshot set, before the upgrade, complete) is derive's job.

mod aws;
mod azure;
mod gce;

use crate::collect::http::{BodyTo, Credentials, ReadOnlyClient, RequestError};
use crate::model::facts::{AuthUsed, CollectFailure};
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The fact group the platform fills.
pub(crate) const GROUP: &str = "platform.vm_snapshots";

/// The largest platform answer read: a page of snapshots is well under a megabyte.
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// At most this many pages of snapshots: 100 pages of 1,000 (AWS) or 500 (GCE) snapshots of
/// one instance's disks is far beyond any retention policy; a server that pages forever stops
/// here with a failure, not a hang.
const MAX_PAGES: usize = 100;

/// What the platform showed about the primary's VM: its disks and their snapshots.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VmEvidence {
    /// `ami`, `gce` or `azure`.
    pub(crate) platform: String,
    /// The VM as `--vm` named it.
    pub(crate) vm: String,
    /// The API asked (credentials are never part of it).
    pub(crate) endpoint: String,
    /// Every disk attached to the VM: the root (boot, OS) disk and the data disks.
    pub(crate) volumes: Vec<VmVolume>,
    /// Every snapshot the platform lists of those disks, sorted by start, then id.
    pub(crate) snapshots: Vec<DiskSnapshot>,
}

/// One disk of the VM.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VmVolume {
    /// The platform's id: `vol-…` (AWS), the disk URL (GCE), the disk resource id (Azure).
    pub(crate) id: String,
    /// `root` or `data`.
    pub(crate) role: String,
    /// The device or disk name (`/dev/xvdf`, `ghe-data`, `lun 0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) device: Option<String>,
}

/// One snapshot of one disk, as the platform reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DiskSnapshot {
    /// `snap-…` (AWS), the snapshot name (GCE), the snapshot resource id (Azure).
    pub(crate) id: String,
    /// The disk it is of ([`VmVolume::id`]).
    pub(crate) volume: String,
    /// As the platform says it: AWS `pending|completed|error|recoverable|recovering`, GCE
    /// `CREATING|UPLOADING|READY|FAILED|DELETING`, Azure provisioning state `Succeeded|…`.
    pub(crate) state: String,
    /// AWS `startTime`, GCE `creationTimestamp`, Azure `timeCreated`.
    pub(crate) started_at: Option<Timestamp>,
    /// AWS `progress` (`100%`), Azure `completionPercent` of an incremental snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) progress: Option<String>,
}

impl DiskSnapshot {
    /// Whether the platform says it can be restored from: complete, not pending or failed.
    pub(crate) fn usable(&self) -> bool {
        let complete = self.progress.as_deref().is_none_or(|p| {
            p.trim_end_matches('%')
                .parse::<f64>()
                .is_ok_and(|p| p >= 100.0)
        });
        complete && matches!(self.state.as_str(), "completed" | "READY" | "Succeeded")
    }
}

/// `--aws-endpoint`, `--gce-endpoint`, `--azure-endpoint`: where each platform's API is asked
/// (VPC endpoints, sovereign clouds, tests).
#[derive(Debug, Clone, Default)]
pub(crate) struct PlatformEndpoints {
    pub(crate) aws: Option<String>,
    pub(crate) gce: Option<String>,
    pub(crate) azure: Option<String>,
}

/// Why a platform's snapshot stays the operator's word, or `None` when ripcord reads it.
pub(crate) fn not_readable(platform: &str) -> Option<&'static str> {
    match platform {
        "ami" | "gce" | "azure" => None,
        "esx" => Some(
            "ripcord cannot read VMware snapshots: vSphere's API needs a login POST, and ripcord only sends GETs",
        ),
        "hyperv" => Some(
            "ripcord cannot read Hyper-V checkpoints: they are read over WMI or PowerShell, not HTTP",
        ),
        "kvm" => Some("ripcord cannot read KVM snapshots: libvirt is not an HTTP API"),
        _ => Some("ripcord does not know how to read this platform's snapshots"),
    }
}

/// Checks `--vm` names a VM the way `platform` does (a usage error before anything is sent).
pub(crate) fn check_vm(platform: &str, vm: &str) -> Result<(), String> {
    match platform {
        "ami" => aws::check_instance_id(vm),
        "gce" => gce::InstancePath::parse(vm).map(|_| ()),
        "azure" => azure::VmId::parse(vm).map(|_| ()),
        _ => Ok(()),
    }
}

/// What one platform read gives back: the evidence, what failed, and how it authenticated.
pub(crate) struct Read {
    pub(crate) evidence: Option<VmEvidence>,
    pub(crate) failures: Vec<CollectFailure>,
    /// The service name (`aws`, `gce`, `azure`) and method, for the bundle's `connection`.
    pub(crate) auth: Option<(String, AuthUsed)>,
}

/// Reads the VM's disks and their snapshots from `platform`.
pub(crate) async fn read(
    client: &ReadOnlyClient,
    platform: &str,
    vm: &str,
    endpoints: &PlatformEndpoints,
) -> Read {
    let result = match platform {
        "ami" => aws::read(client, vm, endpoints.aws.as_deref()).await,
        "gce" => gce::read(client, vm, endpoints.gce.as_deref()).await,
        "azure" => azure::read(client, vm, endpoints.azure.as_deref()).await,
        _ => {
            return Read {
                evidence: None,
                failures: Vec::new(),
                auth: None,
            };
        }
    };
    match result {
        Ok((mut evidence, auth)) => {
            evidence.snapshots.sort_by(|a, b| {
                a.started_at
                    .cmp(&b.started_at)
                    .then_with(|| a.id.cmp(&b.id))
            });
            Read {
                evidence: Some(evidence),
                failures: Vec::new(),
                auth,
            }
        }
        Err((failure, auth)) => Read {
            evidence: None,
            failures: vec![*failure],
            auth,
        },
    }
}

/// A read that failed, and how it authenticated (if it got that far).
type Failed = (Box<CollectFailure>, Option<(String, AuthUsed)>);

/// One platform API call: what it is, for failures that say what to grant.
struct Call<'a> {
    base: &'a str,
    /// Path and query, as sent.
    path: String,
    credentials: &'a Credentials,
    /// The permission it needs (`ec2:DescribeInstances`, `compute.instances.get`).
    permission: &'static str,
    /// Which variables hold the credentials.
    credentials_hint: &'static str,
}

impl Call<'_> {
    fn shown(&self) -> String {
        format!(
            "GET {}",
            crate::collect::http::join_url(self.base, &self.path)
        )
    }

    fn failure(
        &self,
        status: Option<u16>,
        reason: String,
        hint: Option<String>,
    ) -> Box<CollectFailure> {
        Box::new(CollectFailure {
            group: GROUP.to_string(),
            endpoint: self.shown(),
            status,
            reason,
            hint,
        })
    }

    /// GETs the call; a 2xx body, or one failure that says what the platform answered and
    /// what to grant or set.
    async fn get(
        &self,
        client: &ReadOnlyClient,
        error_of: fn(&[u8]) -> Option<String>,
    ) -> Result<Vec<u8>, Box<CollectFailure>> {
        let to = BodyTo::Buffer {
            max_bytes: MAX_ANSWER_BYTES,
        };
        let response = match client
            .get(self.base, &self.path, self.credentials, to)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                let hint = match &e {
                    RequestError::Timeout(_) => {
                        Some("the platform API did not answer in time; raise --timeout".to_string())
                    }
                    RequestError::Refused | RequestError::Connect(_) => Some(
                        "the platform API cannot be reached from here: check the endpoint (--aws-endpoint, --gce-endpoint, --azure-endpoint) and the network".to_string(),
                    ),
                    _ => None,
                };
                return Err(self.failure(None, e.to_string(), hint));
            }
        };
        if (200..300).contains(&response.status) {
            return Ok(response.body);
        }
        let status = response.status;
        let said = error_of(&response.body).unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&response.body);
            text.trim().chars().take(200).collect()
        });
        let reason = format!("HTTP {status}: {said}");
        let hint = match status {
            401 => Some(format!(
                "the platform rejected the credentials (missing, expired, or for another account?): check {}",
                self.credentials_hint
            )),
            403 => Some(format!(
                "the identity lacks the read permission {}",
                self.permission
            )),
            404 => Some("not found: check --vm and the endpoint".to_string()),
            _ => None,
        };
        Err(self.failure(Some(status), reason, hint))
    }
}

/// A failure before any request: what is missing to ask at all.
fn not_asked(endpoint: String, reason: String, hint: String) -> Box<CollectFailure> {
    Box::new(CollectFailure {
        group: GROUP.to_string(),
        endpoint,
        status: None,
        reason,
        hint: Some(hint),
    })
}

/// A platform credential variable of the process environment, cleaned: platform credentials
/// belong to the machine that runs ripcord (also in a fleet), not to one target.
fn platform_variable(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| crate::base::secrets::clean(&v).to_string())
        .filter(|v| !v.is_empty())
}

/// One page of a snapshot listing, as its reader parsed it.
struct Page {
    snapshots: Vec<DiskSnapshot>,
    /// How to ask for the next page (a token, or Azure's checked path); `None` at the end.
    next: Option<String>,
}

/// Reads a snapshot listing page by page, the one paging loop of every platform: each page is
/// asked with the previous page's `next` (`first` for the first), a `next` that repeats is a
/// loop and refused (`token` names the field), and a listing that does not end within
/// [`MAX_PAGES`] stops with a failure naming `listing`, never a hang.
async fn read_pages<'a, F, Fut>(
    listing: &str,
    token: &str,
    first: Option<String>,
    mut page: F,
) -> Result<Vec<DiskSnapshot>, Box<CollectFailure>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Page, Call<'a>), Box<CollectFailure>>>,
{
    let mut snapshots = Vec::new();
    let mut at = first;
    for _ in 0..MAX_PAGES {
        let (read, call) = page(at.clone()).await?;
        snapshots.extend(read.snapshots);
        match read.next {
            Some(next) if Some(&next) != at.as_ref() => at = Some(next),
            Some(_) => return Err(repeated_token(&call, token)),
            None => return Ok(snapshots),
        }
    }
    Err(endless_paging(listing.to_string()))
}

/// Paging that does not end within [`MAX_PAGES`]: stop with a failure rather than hang.
fn endless_paging(endpoint: String) -> Box<CollectFailure> {
    not_asked(
        endpoint,
        format!("more than {MAX_PAGES} pages of snapshots: stopped reading"),
        "prune old snapshots of the VM's disks".into(),
    )
}

/// A page token (`NextToken`, `nextPageToken`, `nextLink`) that repeats: a loop, not a list.
fn repeated_token(call: &Call<'_>, token: &str) -> Box<CollectFailure> {
    call.failure(Some(200), format!("the same {token} came back twice"), None)
}

/// A bearer token from the environment (`RIPCORD_GCE_ACCESS_TOKEN`, `RIPCORD_AZURE_ACCESS_TOKEN`).
fn bearer(variable: &str) -> Option<(Credentials, AuthUsed)> {
    let token = platform_variable(variable)?;
    Some((
        Credentials::Bearer(token.into()),
        AuthUsed {
            method: crate::model::facts::AuthMethod::Bearer,
            variables: vec![variable.to_string()],
        },
    ))
}

/// A 2xx body that is not what the API documents.
fn malformed(call: &Call<'_>, what: &str, why: impl std::fmt::Display) -> Box<CollectFailure> {
    call.failure(
        Some(200),
        format!("the answer is not {what}: {why}"),
        Some("a proxy or a different service answered? check the endpoint".to_string()),
    )
}

/// The `error.message` (with `error.code`) of a Google Cloud or Azure JSON error body.
fn json_error(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Body {
        error: Error,
    }
    #[derive(Deserialize)]
    struct Error {
        code: Option<serde_json::Value>,
        message: Option<String>,
    }
    let body: Body = serde_json::from_slice(body).ok()?;
    let message = body.error.message.unwrap_or_default();
    Some(match body.error.code {
        Some(serde_json::Value::String(code)) => format!("{code}: {message}"),
        _ => message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(state: &str, progress: Option<&str>) -> DiskSnapshot {
        DiskSnapshot {
            id: "s".into(),
            volume: "v".into(),
            state: state.into(),
            started_at: None,
            progress: progress.map(str::to_string),
        }
    }

    #[test]
    fn only_complete_snapshots_are_usable() {
        assert!(snap("completed", Some("100%")).usable());
        assert!(snap("READY", None).usable());
        assert!(snap("Succeeded", Some("100")).usable());
        assert!(!snap("pending", Some("40%")).usable());
        assert!(!snap("error", Some("100%")).usable());
        assert!(!snap("completed", Some("99%")).usable(), "progress wins");
        assert!(
            !snap("Succeeded", Some("12.5")).usable(),
            "incremental copy"
        );
        assert!(!snap("FAILED", None).usable());
    }

    #[test]
    fn json_errors_say_code_and_message() {
        assert_eq!(
            json_error(br#"{"error":{"code":"AuthorizationFailed","message":"no"}}"#).as_deref(),
            Some("AuthorizationFailed: no")
        );
        assert_eq!(
            json_error(br#"{"error":{"code":403,"message":"Required 'compute.instances.get'"}}"#)
                .as_deref(),
            Some("Required 'compute.instances.get'")
        );
        assert_eq!(json_error(b"<html>"), None);
    }
}
