//! A newcomer's first ten minutes (issue "A newcomer's first ten minutes"): the table's prose
//! fits the terminal, commands stay whole.

use crate::common::{self, Ripcord};

/// At 80 columns, every line of every scenario's table is at most 80 characters wide, except
/// a command (`$ …`) or a request (`request: …`), which stay on one line to be copied whole.
#[test]
fn prose_fits_80_columns_and_commands_stay_whole() {
    for scenario in common::reported_scenarios() {
        let mut args = common::scenario_args(&scenario);
        args.extend(["--facts".to_string(), common::facts_path(&scenario)]);
        let out = Ripcord::new(&args).env("COLUMNS", "80").run();
        assert!(matches!(out.code, 0 | 1 | 3), "{scenario}: {}", out.stderr);
        for line in out.stdout.lines() {
            let body = line.trim_start();
            if body.starts_with("$ ") || body.starts_with("request: ") {
                continue;
            }
            assert!(
                line.chars().count() <= 80,
                "{scenario}: a prose line of {} columns: {line}",
                line.chars().count()
            );
        }
        // Commands are never wrapped: each one printed is one whole command of the plan.
        let report = Ripcord::new(&args).args(&["--format", "json"]).run();
        let json: serde_json::Value = serde_json::from_str(&report.stdout).expect("json");
        let printed: Vec<&str> = out
            .stdout
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("$ "))
            .collect();
        for step in json["plan"]["steps"].as_array().into_iter().flatten() {
            for c in step["commands"].as_array().into_iter().flatten() {
                let c = c.as_str().unwrap_or_default();
                assert!(printed.contains(&c), "{scenario}: {c:?} not printed whole");
            }
        }
    }
}
