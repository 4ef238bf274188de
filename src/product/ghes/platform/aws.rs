//! AWS: the EC2 Query API (`Version=2016-11-15`, XML answers), GET only, signed with SigV4.
//!
//! `DescribeInstances` gives the instance's root device and its attached EBS volumes (the GHES
//! data volume among them); `DescribeSnapshots` filtered by those volume ids gives every
//! snapshot of them, page by page (`NextToken`). Credentials come from the standard
//! environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_REGION`); the identity needs `ec2:DescribeInstances` and `ec2:DescribeSnapshots`.

use super::{Call, DiskSnapshot, Failed, VmEvidence, VmVolume, malformed, not_asked};
use crate::collect::http::{AwsKeys, Credentials, ReadOnlyClient, encode_segment};
use crate::model::facts::{AuthMethod, AuthUsed};
use serde::Deserialize;

const API_VERSION: &str = "2016-11-15";
const CREDENTIALS_HINT: &str = "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials) and AWS_REGION";

/// An EC2 instance id: `i-` and 8 or 17 hexadecimal digits.
pub(super) fn check_instance_id(vm: &str) -> Result<(), String> {
    let hex = vm.strip_prefix("i-").unwrap_or("");
    if matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(format!(
            "--vm {vm} is not an EC2 instance id (i- and 8 or 17 hexadecimal digits, e.g. i-0abcd1234ef567890)"
        ))
    }
}

/// The credentials of the standard AWS environment variables (read from the process
/// environment also in a fleet: they are the machine's, not a target's).
fn keys() -> Result<AwsKeys, String> {
    let var = super::platform_variable;
    let (Some(access_key_id), Some(secret)) =
        (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
    else {
        return Err(
            "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"
                .into(),
        );
    };
    let Some(region) = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")) else {
        return Err("no AWS region: AWS_REGION is not set".into());
    };
    Ok(AwsKeys {
        access_key_id,
        secret_access_key: secret.into(),
        session_token: var("AWS_SESSION_TOKEN").map(Into::into),
        region,
        service: "ec2",
    })
}

/// A query string of `(name, value)` pairs, each percent-encoded as SigV4 expects (RFC 3986).
fn query(pairs: &[(String, String)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_segment(k), encode_segment(v)))
        .collect();
    format!("/?{}", encoded.join("&"))
}

pub(super) async fn read(
    client: &ReadOnlyClient,
    vm: &str,
    endpoint: Option<&str>,
) -> Result<(VmEvidence, Option<(String, AuthUsed)>), Failed> {
    let keys = match keys() {
        Ok(k) => k,
        Err(why) => {
            return Err((
                not_asked(
                    "GET DescribeInstances (EC2)".into(),
                    why,
                    format!(
                        "export {CREDENTIALS_HINT} of an identity allowed ec2:DescribeInstances and ec2:DescribeSnapshots"
                    ),
                ),
                None,
            ));
        }
    };
    let mut variables = vec![
        "AWS_ACCESS_KEY_ID".to_string(),
        "AWS_SECRET_ACCESS_KEY".into(),
    ];
    if keys.session_token.is_some() {
        variables.push("AWS_SESSION_TOKEN".into());
    }
    let auth = Some((
        "aws".to_string(),
        AuthUsed {
            method: AuthMethod::AwsSigv4,
            variables,
        },
    ));
    let base = endpoint
        .map(|e| e.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("https://ec2.{}.amazonaws.com", keys.region));
    let credentials = Credentials::AwsSigV4(keys);
    let pairs = |more: Vec<(String, String)>, action: &str| {
        let mut p = vec![
            ("Action".to_string(), action.to_string()),
            ("Version".to_string(), API_VERSION.to_string()),
        ];
        p.extend(more);
        p
    };
    let call = Call {
        base: &base,
        path: query(&pairs(
            vec![("InstanceId.1".into(), vm.to_string())],
            "DescribeInstances",
        )),
        credentials: &credentials,
        permission: "ec2:DescribeInstances",
        credentials_hint: CREDENTIALS_HINT,
    };
    let body = call
        .get(client, ec2_error)
        .await
        .map_err(|f| (f, auth.clone()))?;
    let answer: DescribeInstances = quick_xml::de::from_reader(body.as_slice()).map_err(|e| {
        (
            malformed(&call, "a DescribeInstancesResponse", e),
            auth.clone(),
        )
    })?;
    let instance = answer
        .reservation_set
        .item
        .into_iter()
        .flat_map(|r| r.instances_set.item)
        .find(|i| i.instance_id == vm)
        .ok_or_else(|| {
            (
                call.failure(
                    Some(200),
                    format!(
                        "instance {vm} is not in the answer (terminated, or in another region?)"
                    ),
                    Some("check --vm and AWS_REGION".into()),
                ),
                auth.clone(),
            )
        })?;
    let volumes: Vec<VmVolume> = instance
        .block_device_mapping
        .item
        .iter()
        .filter_map(|m| {
            let id = m.ebs.as_ref()?.volume_id.clone()?;
            let root = instance.root_device_name.as_deref() == Some(m.device_name.as_str());
            Some(VmVolume {
                id,
                role: if root { "root" } else { "data" }.into(),
                device: Some(m.device_name.clone()),
            })
        })
        .collect();
    let listing = format!("GET {base}/?Action=DescribeSnapshots");
    let snapshots = super::read_pages(&listing, "NextToken", None, |token| {
        let mut more = vec![("Filter.1.Name".to_string(), "volume-id".to_string())];
        for (i, v) in volumes.iter().enumerate() {
            more.push((format!("Filter.1.Value.{}", i + 1), v.id.clone()));
        }
        more.push(("MaxResults".into(), "1000".into()));
        if let Some(t) = token {
            more.push(("NextToken".into(), t));
        }
        let call = Call {
            base: &base,
            path: query(&pairs(more, "DescribeSnapshots")),
            credentials: &credentials,
            permission: "ec2:DescribeSnapshots",
            credentials_hint: CREDENTIALS_HINT,
        };
        let volumes = &volumes;
        async move {
            let body = call.get(client, ec2_error).await?;
            let page: DescribeSnapshots = quick_xml::de::from_reader(body.as_slice())
                .map_err(|e| malformed(&call, "a DescribeSnapshotsResponse", e))?;
            let snapshots = page
                .snapshot_set
                .item
                .into_iter()
                // The filter is the server's; the volume must be one of ours all the same.
                .filter(|s| volumes.iter().any(|v| v.id == s.volume_id))
                .map(|s| DiskSnapshot {
                    started_at: s.start_time.as_deref().and_then(|t| t.parse().ok()),
                    id: s.snapshot_id,
                    volume: s.volume_id,
                    state: s.status,
                    progress: s.progress.filter(|p| !p.is_empty()),
                })
                .collect();
            let next = page.next_token.filter(|t| !t.is_empty());
            Ok((super::Page { snapshots, next }, call))
        }
    })
    .await
    .map_err(|f| (f, auth.clone()))?;
    Ok((
        VmEvidence {
            platform: "ami".into(),
            vm: vm.to_string(),
            endpoint: base,
            volumes,
            snapshots,
        },
        auth,
    ))
}

/// `Code: Message` of an EC2 error body (`<Response><Errors><Error>…`).
fn ec2_error(body: &[u8]) -> Option<String> {
    let e: ErrorResponse = quick_xml::de::from_reader(body).ok()?;
    let first = e.errors.error.into_iter().next()?;
    Some(format!(
        "{}: {}",
        first.code,
        first.message.unwrap_or_default()
    ))
}

#[derive(Deserialize)]
struct ErrorResponse {
    #[serde(rename = "Errors")]
    errors: ErrorList,
}

#[derive(Deserialize)]
struct ErrorList {
    #[serde(rename = "Error", default)]
    error: Vec<Ec2Error>,
}

#[derive(Deserialize)]
struct Ec2Error {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message")]
    message: Option<String>,
}

/// EC2's list wrapper: `<set><item>…</item>…</set>`.
#[derive(Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
struct Items<T> {
    #[serde(default = "Vec::new")]
    item: Vec<T>,
}

impl<T> Default for Items<T> {
    fn default() -> Self {
        Self { item: Vec::new() }
    }
}

#[derive(Deserialize)]
struct DescribeInstances {
    #[serde(rename = "reservationSet", default)]
    reservation_set: Items<Reservation>,
}

#[derive(Deserialize)]
struct Reservation {
    #[serde(rename = "instancesSet", default)]
    instances_set: Items<Instance>,
}

#[derive(Deserialize)]
struct Instance {
    #[serde(rename = "instanceId")]
    instance_id: String,
    #[serde(rename = "rootDeviceName")]
    root_device_name: Option<String>,
    #[serde(rename = "blockDeviceMapping", default)]
    block_device_mapping: Items<Mapping>,
}

#[derive(Deserialize)]
struct Mapping {
    #[serde(rename = "deviceName")]
    device_name: String,
    ebs: Option<Ebs>,
}

#[derive(Deserialize)]
struct Ebs {
    #[serde(rename = "volumeId")]
    volume_id: Option<String>,
}

#[derive(Deserialize)]
struct DescribeSnapshots {
    #[serde(rename = "snapshotSet", default)]
    snapshot_set: Items<Snapshot>,
    #[serde(rename = "nextToken")]
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct Snapshot {
    #[serde(rename = "snapshotId")]
    snapshot_id: String,
    #[serde(rename = "volumeId")]
    volume_id: String,
    status: String,
    #[serde(rename = "startTime")]
    start_time: Option<String>,
    progress: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids() {
        assert!(check_instance_id("i-0abcd1234ef567890").is_ok());
        assert!(check_instance_id("i-1a2b3c4d").is_ok());
        assert!(check_instance_id("snap-0a1b2c").is_err());
        assert!(
            check_instance_id("i-0abcd1234ef56789").is_err(),
            "16 digits"
        );
        assert!(check_instance_id("i-zzzzzzzz").is_err());
    }

    /// The DescribeSnapshots example of the EC2 API reference (2016-11-15).
    #[test]
    fn reads_the_documented_describe_snapshots_answer() {
        let xml = r#"<DescribeSnapshotsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
   <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
   <snapshotSet>
      <item>
         <snapshotId>snap-1234567890abcdef0</snapshotId>
         <volumeId>vol-1234567890abcdef0</volumeId>
         <status>pending</status>
         <startTime>2016-01-01T15:00:00.000Z</startTime>
         <progress>80%</progress>
         <ownerId>111122223333</ownerId>
         <volumeSize>15</volumeSize>
         <description>Daily Backup</description>
         <encrypted>true</encrypted>
         <tagSet/>
      </item>
   </snapshotSet>
</DescribeSnapshotsResponse>"#;
        let page: DescribeSnapshots = quick_xml::de::from_str(xml).unwrap();
        assert_eq!(page.snapshot_set.item.len(), 1);
        let s = &page.snapshot_set.item[0];
        assert_eq!(s.status, "pending");
        assert_eq!(s.progress.as_deref(), Some("80%"));
        assert_eq!(page.next_token, None);
        let empty: DescribeSnapshots = quick_xml::de::from_str(
            r#"<DescribeSnapshotsResponse><snapshotSet/></DescribeSnapshotsResponse>"#,
        )
        .unwrap();
        assert!(empty.snapshot_set.item.is_empty());
    }

    #[test]
    fn reads_ec2_errors() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>"#;
        assert_eq!(
            ec2_error(xml).as_deref(),
            Some("UnauthorizedOperation: You are not authorized to perform this operation.")
        );
    }

    #[test]
    fn a_next_token_cannot_leave_the_action() {
        let path = query(&[
            ("Action".into(), "DescribeSnapshots".into()),
            ("NextToken".into(), "x&Action=DescribeInstances#/../".into()),
        ]);
        let url = url::Url::parse(&format!("https://ec2.amazonaws.com{path}")).expect("url");
        assert_eq!(url.path(), "/");
        let actions: Vec<_> = url.query_pairs().filter(|(k, _)| k == "Action").collect();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].1, "DescribeSnapshots");
        assert!(url.fragment().is_none());
    }

    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(
            query(&[("NextToken".into(), "a+b/c= d".into())]),
            "/?NextToken=a%2Bb%2Fc%3D%20d"
        );
    }
}
