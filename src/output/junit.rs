//! `--format junit`: one testcase per rule (fail → failure, unknown/error → error, skip → skipped).

use crate::report::v1::{Outcome, Report};
use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};

pub(super) fn render(r: &Report) -> String {
    let mut report = JReport::new("ripcord");
    let mut suite = TestSuite::new(format!("ripcord.{}.{}", r.product, r.mode));
    for f in &r.findings {
        let mut status = match f.outcome {
            Outcome::Pass => TestCaseStatus::success(),
            Outcome::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Outcome::Unknown | Outcome::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
            Outcome::Skip => TestCaseStatus::skipped(),
        };
        if f.outcome != Outcome::Pass {
            status.set_message(f.message.clone());
            status.set_type(format!("{}/{}", f.severity.as_str(), f.outcome.as_str()));
            if matches!(f.outcome, Outcome::Fail | Outcome::Unknown | Outcome::Error) {
                status.set_description(format!(
                    "{}\n\nremediation: {}\ndocs: {}",
                    f.message, f.remediation, f.docs
                ));
            }
        }
        let mut case = TestCase::new(f.rule.clone(), status);
        case.set_classname(format!("ripcord.{}.{}", r.product, f.severity.as_str()));
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}
