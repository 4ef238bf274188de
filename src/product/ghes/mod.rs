//! GitHub Enterprise Server: flags (the Manage API URL and what the operator states), the
//! Manage API collector, facts, derive (versions, primary and replicas, patch vs feature
//! release, release data), rule inputs, and the plans GitHub documents.

mod collect;
pub(crate) mod derive;
pub(crate) mod facts;
mod plan;
pub(crate) mod platform;
mod screen;
mod vm_snapshot;

use crate::collect::http::ReadOnlyClient;
use crate::judge::engine::Availability;
use crate::model::facts::Bundle;
use crate::model::upgrade::{Mode, UpgradeBasis};
use crate::product::{CommandKind, LiveSource, PlanContext, Product, Usage};
use derive::{GhesDerived, GhesUpgrade};
use facts::{GhesFacts, GhesOperator, GhesTarget, ReplicaVersion};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// The GitHub Enterprise Server product.
pub(crate) struct Ghes;

/// Where a GHES instance is, and what the operator states about it.
// A fleet inventory's target fills it with serde (its keys are these fields' names), a
// command line with clap: the same values, refused in the same words. (Not a doc comment:
// clap would make it the command's long help.)
#[derive(Debug, Clone, Default, clap::Args, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct GhesArgs {
    /// Manage API base URL of the primary, e.g. https://ghe.example.com:8443.
    #[arg(long, value_name = "URL")]
    ghes: Option<String>,
    /// Where the upgrade goes from (rollback default: a replica still on the old version).
    #[arg(long, value_name = "VERSION")]
    from: Option<String>,
    /// Where the upgrade goes to (rollback default: the primary's version).
    #[arg(long, value_name = "VERSION")]
    to: Option<String>,
    /// The platform (overrides the Manage API's `platform`).
    #[arg(long, value_enum)]
    platform: Option<Platform>,
    /// A replica and its version, HOSTNAME=VERSION; repeat for each replica.
    #[arg(long, value_name = "HOSTNAME=VERSION", value_parser = parse_replica)]
    #[serde(deserialize_with = "replicas")]
    replica: Vec<ReplicaVersion>,
    /// The VM snapshot taken before the upgrade (its id in the hypervisor or cloud).
    #[arg(long, value_name = "ID")]
    vm_snapshot: Option<String>,
    /// When that VM snapshot was taken (RFC 3339).
    #[arg(long, value_name = "RFC3339", value_parser = crate::model::upgrade::timestamp)]
    #[serde(deserialize_with = "crate::model::upgrade::some_timestamp")]
    vm_snapshot_taken_at: Option<jiff::Timestamp>,
    /// When the upgrade started (RFC 3339).
    #[arg(long, value_name = "RFC3339", value_parser = crate::model::upgrade::timestamp)]
    #[serde(deserialize_with = "crate::model::upgrade::some_timestamp")]
    upgrade_started_at: Option<jiff::Timestamp>,
    /// The primary's VM, to read its snapshots from the platform: an EC2 instance id (ami),
    /// projects/P/zones/Z/instances/NAME (gce), or the VM's resource id (azure).
    #[arg(long, value_name = "ID")]
    vm: Option<String>,
    /// The EC2 API endpoint (a VPC endpoint; default https://ec2.$AWS_REGION.amazonaws.com).
    #[arg(long, value_name = "URL")]
    aws_endpoint: Option<String>,
    /// The Compute Engine API endpoint (default https://compute.googleapis.com).
    #[arg(long, value_name = "URL")]
    gce_endpoint: Option<String>,
    /// The Azure Resource Manager endpoint (default https://management.azure.com).
    #[arg(long, value_name = "URL")]
    azure_endpoint: Option<String>,
}

/// GHES platforms, as `GET /manage/v1/version` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Platform {
    Ami,
    Azure,
    Esx,
    Gce,
    Hyperv,
    Kvm,
}

impl Platform {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ami => "ami",
            Self::Azure => "azure",
            Self::Esx => "esx",
            Self::Gce => "gce",
            Self::Hyperv => "hyperv",
            Self::Kvm => "kvm",
        }
    }
}

/// The platform `name` stands for, if it is one of the six GHES names: only these reach the
/// package URL and file name of a plan.
pub(crate) fn platform_name(name: &str) -> Option<&'static str> {
    use clap::ValueEnum as _;
    Platform::value_variants()
        .iter()
        .map(|p| p.as_str())
        .find(|p| *p == name)
}

/// An inventory's replicas: `{ "ghe-replica-1" = "3.14.2" }`, or `HOSTNAME=VERSION` strings.
fn replicas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ReplicaVersion>, D::Error> {
    crate::base::de::one_many_or_pairs(d)?
        .iter()
        .map(|pair| parse_replica(pair).map_err(serde::de::Error::custom))
        .collect()
}

fn parse_replica(s: &str) -> Result<ReplicaVersion, String> {
    let (hostname, version) = s
        .split_once('=')
        .ok_or("expected HOSTNAME=VERSION, e.g. ghe-replica-1=3.14.6")?;
    crate::model::names::hostname(hostname)?;
    crate::model::names::version(version)?;
    Ok(ReplicaVersion {
        hostname: hostname.to_string(),
        version: version.to_string(),
    })
}

/// The CEL variables of the GHES rules: `ghes`, `upgrade`, `derived`, `mode`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Inputs<'a> {
    /// What the Manage API answered (every member null when it was not asked).
    ghes: &'a GhesFacts,
    /// The upgrade under judgement.
    upgrade: &'a GhesUpgrade,
    /// Everything derive computed.
    derived: &'a GhesDerived,
    /// `preflight` or `rollback`.
    mode: Mode,
}

/// The facts rules see when the Manage API was not asked.
static NOT_ASKED: GhesFacts = GhesFacts {
    versions: None,
    topology: None,
    replication: None,
    maintenance: None,
    system_requirements: None,
    vm: None,
};

/// Whether `--vm` asked a platform ripcord reads and no evidence came back.
fn platform_unanswered(bundle: &Bundle<Ghes>, derived: &GhesDerived) -> bool {
    bundle.operator.vm.is_some()
        && derived
            .platform
            .as_deref()
            .is_some_and(|p| platform::not_readable(p).is_none())
        && bundle.facts.as_ref().is_none_or(|f| f.vm.is_none())
}

/// The groups the Manage API fills.
const API_GROUPS: [&str; 5] = [
    "ghes.versions",
    "ghes.topology",
    "ghes.replication",
    "ghes.maintenance",
    "ghes.system_requirements",
];

impl crate::model::facts::Shape for Ghes {
    const NAME: &'static str = "ghes";
    type Target = GhesTarget;
    type Operator = GhesOperator;
    type Facts = Option<GhesFacts>;
}

impl Product for Ghes {
    const ABOUT: &'static str =
        "GitHub Enterprise Server (Manage API, or facts from flags when the primary is down)";
    const ENVIRONMENT: &'static str = "\
RIPCORD_GHES_PASSWORD     root site administrator password (user api_key)
RIPCORD_GHES_USERNAME     a Management Console user instead of api_key";
    const TARGET_FLAGS: &'static str = "--ghes";
    /// The root site administrator's password (user `api_key`), or a Management Console user.
    const CREDENTIALS: crate::product::CredentialForms = crate::product::CredentialForms {
        service: "GHES",
        forms: &[&["password_env"], &["username_env", "password_env"]],
    };
    const VERSION_EXAMPLE: &'static str = "3.15.2";
    const GROUP_WORDS: &'static [(&'static str, &'static str)] = &[
        ("ghes.versions", "the appliance's nodes and versions"),
        ("ghes.replication", "the replication status"),
        (platform::GROUP, "the VM's snapshots on its platform"),
    ];
    const GROUPS: &'static [&'static str] = &[
        "ghes.versions",
        "ghes.topology",
        "ghes.replication",
        "ghes.maintenance",
        "ghes.system_requirements",
        platform::GROUP,
        "upgrade.from",
        "upgrade.to",
        "upgrade.started_at",
        "upgrade.snapshot_cutoff",
    ];

    type Args = GhesArgs;
    type Derived = GhesDerived;
    type Inputs<'a> = Inputs<'a>;

    fn examples(kind: CommandKind) -> &'static str {
        match kind {
            CommandKind::Preflight => {
                "\
# CI gate before a feature upgrade
export RIPCORD_GHES_PASSWORD=...
ripcord preflight ghes --ghes https://ghe.example.com:8443 --to 3.15.2 \\
    --vm-snapshot snap-0a1b2c --vm-snapshot-taken-at 2026-11-20T02:00:00Z"
            }
            CommandKind::Rollback => {
                "\
# on-call: the primary's upgrade failed; the Manage API still answers
ripcord rollback ghes --ghes https://ghe.example.com:8443
# on-call: the primary is down; everything from flags
ripcord rollback ghes --from 3.14.6 --to 3.15.2 --platform ami \\
    --vm-snapshot snap-0a1b2c --vm-snapshot-taken-at 2026-11-20T02:00:00Z \\
    --upgrade-started-at 2026-11-20T03:00:00Z"
            }
            CommandKind::Collect => {
                "\
ripcord collect ghes --ghes https://ghe.example.com:8443 --output facts.json
ripcord rollback ghes --facts facts.json"
            }
        }
    }

    fn command(cmd: clap::Command, kind: CommandKind) -> clap::Command {
        match kind {
            CommandKind::Collect => cmd.about("GitHub Enterprise Server"),
            CommandKind::Preflight => {
                cmd.about("GitHub Enterprise Server (Manage API, or facts from flags)")
            }
            CommandKind::Rollback => cmd,
        }
    }

    fn operator(args: &GhesArgs) -> GhesOperator {
        GhesOperator {
            from: args.from.clone(),
            to: args.to.clone(),
            upgrade_started_at: args.upgrade_started_at,
            platform: args.platform.map(|p| p.as_str().to_string()),
            replicas: args.replica.clone(),
            vm_snapshot: args.vm_snapshot.clone(),
            vm_snapshot_taken_at: args.vm_snapshot_taken_at,
            vm: args.vm.clone(),
        }
    }

    fn has_target(args: &GhesArgs) -> bool {
        args.ghes.is_some()
    }

    /// Without a URL the facts are the flags alone (the primary is down, or GHES is older
    /// than 3.9).
    /// `--vm` alone (the primary is down) still reads the platform, which `--platform` names.
    fn live_source(args: &GhesArgs) -> Result<LiveSource, Usage> {
        for (flag, url, example) in [
            (
                "--aws-endpoint",
                &args.aws_endpoint,
                "--aws-endpoint https://vpce-0a1b.ec2.us-east-1.vpce.amazonaws.com",
            ),
            (
                "--gce-endpoint",
                &args.gce_endpoint,
                "--gce-endpoint https://compute.googleapis.com",
            ),
            (
                "--azure-endpoint",
                &args.azure_endpoint,
                "--azure-endpoint https://management.azure.com",
            ),
        ] {
            if let Some(url) = url {
                crate::product::check_url(url, example, &[flag])?;
            }
        }
        if let (Some(vm), Some(platform)) = (&args.vm, args.platform) {
            platform::check_vm(platform.as_str(), vm).map_err(|why| {
                Usage::new(why, Some("--vm names the primary's VM on its platform"))
            })?;
        }
        match (&args.ghes, &args.vm) {
            (Some(url), _) => {
                crate::product::check_url(url, "--ghes https://ghe.example.com:8443", &["GHES"])?;
                Ok(LiveSource::Live)
            }
            (None, Some(_)) if args.platform.is_none() => Err(Usage::new(
                "--vm without --ghes needs --platform (ami, gce or azure): the Manage API that names it was not asked",
                Some("e.g. --platform ami --vm i-0abcd1234ef567890"),
            )),
            (None, Some(_)) => Ok(LiveSource::Live),
            (None, None) => Ok(LiveSource::Flags),
        }
    }

    async fn collect(
        client: &ReadOnlyClient,
        args: &GhesArgs,
        operator: GhesOperator,
        now: jiff::Timestamp,
    ) -> Bundle<Self> {
        let mut bundle = Bundle::<Self>::new(now);
        bundle.operator = operator;
        if let Some(url) = &args.ghes {
            let (facts, failures) = collect::collect(client, url).await;
            bundle.target.ghes = Some(crate::collect::http::strip_userinfo(url));
            bundle.facts = Some(facts);
            bundle.failures = failures;
        }
        if let Some(vm) = &args.vm {
            // The platform the operator names, else the one the Manage API reports.
            let platform = args.platform.map(|p| p.as_str().to_string()).or_else(|| {
                bundle
                    .facts
                    .iter()
                    .flat_map(|f| f.versions.iter().flatten())
                    .find_map(|n| n.platform.clone())
            });
            if let Some(platform) = platform.filter(|p| platform::not_readable(p).is_none()) {
                let endpoints = platform::PlatformEndpoints {
                    aws: args.aws_endpoint.clone(),
                    gce: args.gce_endpoint.clone(),
                    azure: args.azure_endpoint.clone(),
                };
                let read = platform::read(client, &platform, vm, &endpoints).await;
                if let Some((service, used)) = read.auth {
                    bundle
                        .connection
                        .get_or_insert_with(Default::default)
                        .auth
                        .insert(service, used);
                }
                bundle.facts.get_or_insert_with(GhesFacts::default).vm = read.evidence;
                bundle.failures.extend(read.failures);
            }
        }
        bundle.requests = client.request_log();
        crate::model::facts::sort_logs(&mut bundle.failures, &mut bundle.requests);
        bundle
    }

    fn derive(bundle: &Bundle<Self>, mode: Mode) -> GhesDerived {
        derive::derive(bundle, mode)
    }

    fn upgrade(derived: &GhesDerived) -> &UpgradeBasis {
        &derived.upgrade.basis
    }

    fn inputs<'a>(bundle: &'a Bundle<Self>, derived: &'a GhesDerived) -> Inputs<'a> {
        Inputs {
            ghes: bundle.facts.as_ref().unwrap_or(&NOT_ASKED),
            upgrade: &derived.upgrade,
            derived,
            mode: derived.mode,
        }
    }

    fn availability(bundle: &Bundle<Self>, derived: &GhesDerived) -> Availability {
        let facts = bundle.facts.as_ref().unwrap_or(&NOT_ASKED);
        let u = &derived.upgrade;
        let groups = BTreeMap::from([
            ("ghes.versions", facts.versions.is_some()),
            ("ghes.topology", facts.topology.is_some()),
            ("ghes.replication", facts.replication.is_some()),
            ("ghes.maintenance", facts.maintenance.is_some()),
            (
                "ghes.system_requirements",
                facts.system_requirements.is_some(),
            ),
            ("upgrade.from", u.from.is_some()),
            ("upgrade.to", u.to.is_some()),
            ("upgrade.started_at", u.started_at.is_some()),
            // Asked of the platform (`--vm` on a platform ripcord reads) and not answered.
            (platform::GROUP, !platform_unanswered(bundle, derived)),
            // What a recorded VM snapshot is judged against: the upgrade start. With none
            // recorded there is nothing to judge, and saying so comes first.
            (
                "upgrade.snapshot_cutoff",
                u.started_at.is_some() || derived.vm_snapshot.id.is_none(),
            ),
        ]);
        let mut why_missing = BTreeMap::from([
            ("upgrade.from", u.from_source.clone()),
            ("upgrade.to", u.to_source.clone()),
            ("upgrade.started_at", u.started_at_source.clone()),
            ("upgrade.snapshot_cutoff", u.started_at_source.clone()),
        ]);
        if platform_unanswered(bundle, derived) {
            why_missing.insert(
                platform::GROUP,
                "the platform was not read (a bundle judged with --vm holds no platform evidence; collect with --vm)".to_string(),
            );
        }
        if bundle.target.ghes.is_none() {
            for g in API_GROUPS {
                why_missing.insert(g, "no --ghes URL given (facts from flags only)".to_string());
            }
        }
        Availability {
            groups,
            why_missing,
            failed: BTreeMap::new(),
            words: Self::GROUP_WORDS,
        }
    }

    fn screen(
        bundle: &mut Bundle<Self>,
    ) -> Result<Vec<crate::model::facts::CollectFailure>, Usage> {
        screen::screen(bundle)
    }

    /// With no Manage API URL the operator's flags are the facts: a platform that refused
    /// leaves its finding unknown, not the whole run uncollected.
    fn flags_are_facts(bundle: &Bundle<Self>) -> bool {
        bundle.target.ghes.is_none()
    }

    fn plan(
        bundle: &Bundle<Self>,
        derived: &GhesDerived,
        _: &PlanContext,
    ) -> crate::model::plan::Plan {
        plan::plan(bundle, derived)
    }

    /// The VM snapshot the operator declared (`--vm-snapshot`), when named.
    fn rollback_snapshot(
        _bundle: &Bundle<Self>,
        derived: &GhesDerived,
    ) -> Option<crate::model::report::v1::PlanSnapshot> {
        Some(crate::model::report::v1::PlanSnapshot {
            name: derived.vm_snapshot.id.clone()?,
            repository: None,
            taken_at: derived.vm_snapshot.taken_at,
            age_seconds: None,
        })
    }

    fn target(bundle: &Bundle<Self>, derived: &GhesDerived) -> crate::model::report::v1::Target {
        crate::model::report::v1::Target {
            ghes_primary: derived.primary.clone().or_else(|| bundle.target.host()),
            ..Default::default()
        }
    }

    /// v1 compatibility: reports of every product have carried `elasticsearch` and `kibana`.
    fn endpoints(bundle: &Bundle<Self>) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::from_iter([
            ("elasticsearch".to_string(), serde_json::Value::Null),
            ("kibana".to_string(), json!([])),
        ]);
        if let Some(url) = &bundle.target.ghes {
            map.insert("ghes".to_string(), json!(url));
        }
        map
    }
}
