//! Elasticsearch + Kibana: flags, collection (Elasticsearch APIs and every Kibana's
//! `/api/status`), facts, derive (from/to, the rollback snapshot, whether Elasticsearch must
//! go back too, migration state), rule inputs, and the plan (Elastic's documented Kibana
//! rollback, with the Elasticsearch path when needed).

mod collect;
pub(crate) mod derive;
pub(crate) mod facts;
mod plan;
pub(crate) mod releases;
mod screen;

use crate::collect::http::ReadOnlyClient;
use crate::judge::engine::Availability;
use crate::model::facts::Bundle;
use crate::model::upgrade::{Mode, UpgradeBasis};
use crate::product::{CommandKind, LiveSource, PlanContext, Product, Usage};
use derive::{Derived, Upgrade};
use facts::{ElasticFacts, ElasticOperator, ElasticTarget, KibanaInstance};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

/// The Elastic Stack product.
pub(crate) struct Elastic;

/// Where the Elastic Stack is, and what the operator states about the upgrade.
// A fleet inventory's target fills it with serde (its keys are these fields' names), a
// command line with clap: the same values, refused in the same words. (Not a doc comment:
// clap would make it the command's long help.)
#[derive(Debug, Clone, Default, clap::Args, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ElasticArgs {
    /// Elasticsearch URL (one cluster endpoint), e.g. https://es:9200.
    #[arg(long, value_name = "URL")]
    pub(crate) es: Option<String>,
    /// A Kibana instance URL; repeat for every instance.
    #[arg(long, value_name = "URL")]
    #[serde(deserialize_with = "crate::base::de::one_or_many")]
    pub(crate) kibana: Vec<String>,
    /// The version the upgrade goes to.
    #[arg(long, value_name = "VERSION")]
    pub(crate) to: Option<String>,
    /// The version the upgrade goes from.
    #[arg(long, value_name = "VERSION")]
    pub(crate) from: Option<String>,
    /// When the upgrade started (RFC 3339); default: creation of the first index of `to`.
    #[arg(long, value_name = "RFC3339", value_parser = crate::model::upgrade::timestamp)]
    #[serde(deserialize_with = "crate::model::upgrade::some_timestamp")]
    pub(crate) upgrade_started_at: Option<jiff::Timestamp>,
    /// How the stack is deployed, for the plan's commands (default: detected).
    #[arg(long, value_enum, value_name = "FLAVOR")]
    pub(crate) flavor: Option<facts::Flavor>,
}

/// The CEL variables of the Elastic rules: `es`, `kibana`, `upgrade`, `derived`, `mode`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Inputs<'a> {
    /// Collected Elasticsearch facts.
    es: EsInputs<'a>,
    /// Every `--kibana` instance's status.
    kibana: KibanaInputs<'a>,
    /// The upgrade under judgement.
    upgrade: &'a Upgrade,
    /// Everything derive computed.
    derived: &'a Derived,
    /// `preflight` or `rollback`.
    mode: Mode,
}

/// The Elasticsearch facts (the bundle's facts without the Kibana instances).
#[derive(Serialize, JsonSchema)]
struct EsInputs<'a> {
    cluster: &'a Option<facts::ClusterInfo>,
    nodes: &'a Option<Vec<facts::EsNode>>,
    health: &'a Option<facts::ClusterHealth>,
    repositories: &'a Option<Vec<facts::Repository>>,
    snapshots: &'a Option<Vec<facts::Snapshot>>,
    kibana_indices: &'a Option<Vec<facts::KibanaIndex>>,
    features: &'a Option<Vec<String>>,
    system_features: &'a Option<facts::SystemFeatures>,
    deprecations: &'a Option<Vec<facts::Deprecation>>,
}

#[derive(Serialize, JsonSchema)]
struct KibanaInputs<'a> {
    instances: &'a Vec<KibanaInstance>,
}

impl crate::model::facts::Shape for Elastic {
    const NAME: &'static str = "elastic";
    type Target = ElasticTarget;
    type Operator = ElasticOperator;
    type Facts = ElasticFacts;
}

impl Product for Elastic {
    const ABOUT: &'static str = "Elasticsearch + Kibana";
    const ENVIRONMENT: &'static str = "\
RIPCORD_ES_API_KEY        Elasticsearch API key (the base64 id:key form),
RIPCORD_ES_USERNAME       or basic auth: user
RIPCORD_ES_PASSWORD       and password
RIPCORD_KIBANA_API_KEY    Kibana API key, or
RIPCORD_KIBANA_USERNAME   basic auth: user
RIPCORD_KIBANA_PASSWORD   and password (default: the ES credentials)";
    const TARGET_FLAGS: &'static str = "--es/--kibana";
    /// Kibana uses the Elasticsearch credentials, as `RIPCORD_KIBANA_*` unset does.
    const CREDENTIALS: crate::product::CredentialForms = crate::product::CredentialForms {
        service: "ES",
        forms: &[&["api_key_env"], &["username_env", "password_env"]],
    };
    const VERSION_EXAMPLE: &'static str = "8.15.3";
    const GROUP_WORDS: &'static [(&'static str, &'static str)] = &[
        ("es.nodes", "the Elasticsearch nodes and their versions"),
        ("es.snapshots", "the snapshot listing"),
        ("es.health", "the cluster health"),
        ("es.deprecations", "the deprecation info"),
        ("es.kibana_indices", "the Kibana indices and aliases"),
        (
            "es.system_features",
            "the system features' migration status",
        ),
        ("kibana.status", "the Kibana instances' status"),
        ("upgrade.kibana_version", "the Kibana version"),
    ];
    const GROUPS: &'static [&'static str] = &[
        "es.cluster",
        "es.nodes",
        "es.health",
        "es.repositories",
        "es.snapshots",
        "es.kibana_indices",
        "es.features",
        "es.system_features",
        "es.deprecations",
        "kibana.status",
        "upgrade.from",
        "upgrade.to",
        "upgrade.started_at",
        "upgrade.kibana_version",
        "upgrade.snapshot_cutoff",
    ];

    type Args = ElasticArgs;
    type Derived = Derived;
    type Inputs<'a> = Inputs<'a>;

    fn examples(kind: CommandKind) -> &'static str {
        match kind {
            CommandKind::Preflight => {
                "\
# CI gate before upgrading to 8.15.3: table in the log, JUnit and a summary
export RIPCORD_ES_API_KEY=...
ripcord preflight elastic --es https://es:9200 --kibana https://kb-1:5601 \\
    --to 8.15.3 --report junit=ripcord.xml \\
    --report markdown=\"$GITHUB_STEP_SUMMARY\" --waivers waivers.toml
# tomorrow's gate, judged on today's bundle
ripcord preflight elastic --facts facts.json --to 8.15.3 \\
    --now 2026-11-21T02:00:00Z"
            }
            CommandKind::Rollback => {
                "\
# on-call, after a failed Kibana upgrade: can we get back, and how?
ripcord rollback elastic --es https://es:9200 \\
    --kibana https://kb-1:5601 --kibana https://kb-2:5601
# the same from a saved bundle (no cluster needed)
ripcord rollback elastic --facts fixtures/facts/failed-minor-upgrade.json"
            }
            CommandKind::Collect => {
                "\
# collect once, evaluate anywhere (a ticket, CI, a laptop)
ripcord collect elastic --es https://es:9200 --kibana https://kb-1:5601 \\
    --output facts.json
ripcord rollback elastic --facts facts.json"
            }
        }
    }

    fn command(cmd: clap::Command, kind: CommandKind) -> clap::Command {
        let (from, to) = match kind {
            CommandKind::Preflight => (
                "The version the upgrade goes from (default: the running Kibana, else the oldest ES node)",
                "The version the upgrade goes to (required, here or in the bundle)",
            ),
            CommandKind::Rollback => (
                "Where to go back to (default: inferred from the saved-object version aliases)",
                "The failed target (default: the newest version alias, else the running Kibana)",
            ),
            CommandKind::Collect => (
                "The version the upgrade goes from (recorded in the bundle)",
                "The version the upgrade goes to (recorded in the bundle)",
            ),
        };
        cmd.mut_arg("from", |a| a.help(from))
            .mut_arg("to", |a| a.help(to))
    }

    fn operator(args: &ElasticArgs) -> ElasticOperator {
        ElasticOperator {
            from: args.from.clone(),
            to: args.to.clone(),
            upgrade_started_at: args.upgrade_started_at,
            flavor: args.flavor,
        }
    }

    fn has_target(args: &ElasticArgs) -> bool {
        args.es.is_some() || !args.kibana.is_empty()
    }

    fn live_source(args: &ElasticArgs) -> Result<LiveSource, Usage> {
        if !Self::has_target(args) {
            return Err(Usage::new(
                "nothing to check: give --es URL and --kibana URL (or --facts FILE)",
                Some("e.g. --es https://es:9200 --kibana https://kb-1:5601"),
            ));
        }
        if let Some(url) = &args.es {
            crate::product::check_url(url, "--es https://es:9200", &["ES"])?;
        }
        for url in &args.kibana {
            crate::product::check_url(url, "--kibana https://kb-1:5601", &["KIBANA", "ES"])?;
        }
        Ok(LiveSource::Live)
    }

    async fn collect(
        client: &ReadOnlyClient,
        args: &ElasticArgs,
        operator: ElasticOperator,
        now: jiff::Timestamp,
    ) -> Bundle<Self> {
        collect::collect(client, args, operator, now).await
    }

    fn derive(bundle: &Bundle<Self>, mode: Mode) -> Derived {
        derive::derive(bundle, mode)
    }

    fn upgrade(derived: &Derived) -> &UpgradeBasis {
        &derived.upgrade.basis
    }

    fn inputs<'a>(bundle: &'a Bundle<Self>, derived: &'a Derived) -> Inputs<'a> {
        let f = &bundle.facts;
        Inputs {
            es: EsInputs {
                cluster: &f.cluster,
                nodes: &f.nodes,
                health: &f.health,
                repositories: &f.repositories,
                snapshots: &f.snapshots,
                kibana_indices: &f.kibana_indices,
                features: &f.features,
                system_features: &f.system_features,
                deprecations: &f.deprecations,
            },
            kibana: KibanaInputs {
                instances: &f.kibana,
            },
            upgrade: &derived.upgrade,
            derived,
            mode: derived.mode,
        }
    }

    fn availability(bundle: &Bundle<Self>, derived: &Derived) -> Availability {
        let e = &bundle.facts;
        let kibana_known = !bundle.target.kibana.is_empty()
            && e.kibana.len() == bundle.target.kibana.len()
            && e.kibana.iter().all(|k| k.state != "unreachable");
        let u = &derived.upgrade;
        let groups = std::collections::BTreeMap::from([
            ("es.cluster", e.cluster.is_some()),
            ("es.nodes", e.nodes.as_ref().is_some_and(|n| !n.is_empty())),
            ("es.health", e.health.is_some()),
            ("es.repositories", e.repositories.is_some()),
            ("es.snapshots", e.snapshots.is_some()),
            ("es.kibana_indices", e.kibana_indices.is_some()),
            ("es.features", e.features.is_some()),
            ("es.system_features", e.system_features.is_some()),
            ("es.deprecations", e.deprecations.is_some()),
            ("kibana.status", kibana_known),
            ("upgrade.from", u.from.is_some()),
            ("upgrade.to", u.to.is_some()),
            ("upgrade.started_at", u.started_at.is_some()),
            ("upgrade.kibana_version", u.kibana_version.is_some()),
            // What tells a pre-upgrade snapshot from a later one: preflight's "now", the
            // upgrade start, or at least the target version (its indices mark post-migration
            // snapshots).
            (
                "upgrade.snapshot_cutoff",
                derived.mode == Mode::Preflight || u.started_at.is_some() || u.to.is_some(),
            ),
        ]);
        let mut why_missing = std::collections::BTreeMap::from([
            ("upgrade.from", u.from_source.clone()),
            ("upgrade.to", u.to_source.clone()),
            ("upgrade.started_at", u.started_at_source.clone()),
            (
                "upgrade.kibana_version",
                match derived.mode {
                    Mode::Preflight => u.to_source.clone(),
                    Mode::Rollback => u.from_source.clone(),
                },
            ),
            (
                "upgrade.snapshot_cutoff",
                "neither the upgrade start nor the target version is known: pass --upgrade-started-at (or --to)".to_string(),
            ),
        ]);
        let failed = [
            (
                "derived.kibana_compat",
                derived.kibana_compat.undecided.as_ref(),
            ),
            (
                "derived.es_rollback",
                derived.es_rollback.undecided.as_ref(),
            ),
            (
                "derived.kibana_snapshot.restorable",
                derived
                    .kibana_snapshot
                    .as_ref()
                    .filter(|s| s.restorable.is_none())
                    .and_then(|s| s.restorable_because.as_ref()),
            ),
        ]
        .into_iter()
        .filter_map(|(path, why)| Some((path, why?.clone())))
        .collect();
        if bundle.target.kibana.is_empty() {
            why_missing.insert("kibana.status", "no --kibana instance given".to_string());
        }
        Availability {
            groups,
            why_missing,
            failed,
            words: Self::GROUP_WORDS,
        }
    }

    fn screen(
        bundle: &mut Bundle<Self>,
    ) -> Result<Vec<crate::model::facts::CollectFailure>, Usage> {
        screen::screen(bundle)
    }

    fn plan(
        bundle: &Bundle<Self>,
        derived: &Derived,
        context: &PlanContext,
    ) -> crate::model::plan::Plan {
        plan::plan(bundle, derived, context)
    }

    /// A cluster restore restores the Elasticsearch rollback snapshot; every other way back
    /// the snapshot with the `kibana` feature state.
    fn rollback_snapshot(
        _bundle: &Bundle<Self>,
        derived: &Derived,
    ) -> Option<crate::model::report::v1::PlanSnapshot> {
        let choice = match derived.rollback.path {
            derive::Path::RestoreCluster => derived.es_rollback_snapshot.as_ref(),
            _ => derived
                .kibana_snapshot
                .as_ref()
                .or(derived.es_rollback_snapshot.as_ref()),
        }?;
        Some(crate::model::report::v1::PlanSnapshot {
            name: choice.snapshot.clone(),
            repository: Some(choice.repository.clone()),
            taken_at: choice.start_time,
            age_seconds: None,
        })
    }

    fn target(bundle: &Bundle<Self>, derived: &Derived) -> crate::model::report::v1::Target {
        let cluster = bundle.facts.cluster.as_ref();
        crate::model::report::v1::Target {
            flavor: Some(derived.flavor.as_str().to_string()),
            flavor_source: Some(derived.flavor_source.clone()),
            cluster_name: cluster.and_then(|c| c.cluster_name.clone()),
            cluster_uuid: cluster.and_then(|c| c.cluster_uuid.clone()),
            kibana: bundle.target.kibana.clone(),
            ghes_primary: None,
            name: None,
        }
    }

    fn endpoints(bundle: &Bundle<Self>) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::from_iter([
            ("elasticsearch".to_string(), json!(bundle.target.es)),
            ("kibana".to_string(), json!(bundle.target.kibana)),
        ])
    }
}
