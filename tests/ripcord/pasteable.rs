//! What "safe to paste" means, checked on the plan of every scenario: no placeholder inside a
//! command (bash reads `<x>` as a redirection, Markdown as a tag), every shell variable a
//! command uses is set by an earlier command of the plan (or is one of ripcord's documented
//! credential variables), and every command for a GHES appliance is one complete `ssh`.

use ripcord::model::report::v1::Plan;

/// Panics with the scenario and the command when a plan is not safe to paste.
pub fn assert_pasteable(scenario: &str, product: &str, plan: &Plan) {
    let mut defined: Vec<String> = Vec::new();
    check(scenario, product, plan, &mut defined);
}

fn check(scenario: &str, product: &str, plan: &Plan, defined: &mut Vec<String>) {
    for step in &plan.steps {
        for command in &step.commands {
            assert!(
                !has_placeholder(command),
                "{scenario}: a placeholder in {command:?}"
            );
            for var in used(command) {
                assert!(
                    var.starts_with("RIPCORD_")
                        || defined.contains(&var)
                        || defines(command).contains(&var),
                    "{scenario}: ${var} is used before any command sets it: {command:?}"
                );
            }
            defined.extend(defines(command));
            // Asking the operator (`[ -n "${X:-}" ] || read …`) runs here; all else on the appliance.
            let asks = command.starts_with("read ")
                || (command.contains("|| read -r -p ") && !command.contains("ssh "));
            // The VM restore runs the platform's CLI here, never on the appliance.
            let platform_cli = !command.contains("ssh ")
                && ["aws ec2 ", "gcloud compute ", "az vm ", "az disk "]
                    .iter()
                    .any(|cli| command.contains(cli));
            if product == "ghes" && !asks && !platform_cli {
                assert!(
                    (command.starts_with("ssh -p 122 ") || command.starts_with("ssh -t -p 122 "))
                        && command.contains(" -- "),
                    "{scenario}: not one complete ssh command: {command:?}"
                );
            }
        }
    }
    for alternative in &plan.alternatives {
        let mut scoped = defined.clone();
        check(scenario, product, alternative, &mut scoped);
    }
}

/// `<word…>` or `<word: …>` outside quotes-free JSON: what a placeholder looks like.
fn has_placeholder(command: &str) -> bool {
    let bytes = command.as_bytes();
    bytes.iter().enumerate().any(|(i, b)| {
        *b == b'<'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic)
            && command[i..].find('>').is_some_and(|end| {
                command[i + 1..i + end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " -_:,.".contains(c))
            })
    })
}

/// Upper-case shell variables a command expands: `$NAME`, `${NAME…}`.
fn used(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = command;
    while let Some(i) = rest.find('$') {
        let after = &rest[i + 1..];
        let braced = after.starts_with('{');
        let after = after.strip_prefix('{').unwrap_or(after);
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        // `${NAME:-default}` needs no earlier command: unset, it is the default.
        let defaulted = braced && after[name.len()..].starts_with(":-");
        if !name.is_empty() && name.starts_with(|c: char| c.is_ascii_uppercase()) && !defaulted {
            out.push(name);
        }
        rest = &rest[i + 1..];
    }
    out
}

/// Variables a command sets: `read … NAME`, `NAME=…` words.
fn defines(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in command.split(['&', ';', '|']) {
        let words: Vec<&str> = part.split_whitespace().skip_while(|w| *w == "{").collect();
        if words.first() == Some(&"read") {
            // `read -r -p 'prompt with spaces' NAME`: the name is the last word.
            if let Some(last) = words.last() {
                out.push(last.to_string());
            }
        }
        for w in &words {
            if let Some((name, _)) = w.split_once('=')
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            {
                out.push(name.to_string());
            }
        }
    }
    out
}

#[test]
fn the_checks_themselves() {
    assert!(has_placeholder("ssh admin@<primary-host> -- ghe-version"));
    assert!(has_placeholder(
        "curl x/_snapshot/<repository>/<snapshot>/_restore"
    ));
    assert!(has_placeholder(
        "apt-get install kibana=<from: unknown, pass --from>"
    ));
    assert!(!has_placeholder("grep -E 'a|b' <<< \"$x\""));
    assert!(!has_placeholder("curl -d '{\"a\":1}'"));
    assert_eq!(
        used("curl \"$NEW_ES_URL\"/x ${NEW_ES_CA:+--cacert \"$NEW_ES_CA\"} $?"),
        ["NEW_ES_URL", "NEW_ES_CA", "NEW_ES_CA"]
    );
    assert_eq!(
        used("ssh \"${KIBANA_1_SSH:-kb-1}\" -- x \"$KB_NAME\""),
        ["KB_NAME"]
    );
    assert_eq!(
        defines("read -r -s -p 'Password of x: ' NEW_ES_PASSWORD; echo"),
        ["NEW_ES_PASSWORD"]
    );
    assert_eq!(
        defines("KB_NAME=logs KB_NS=elastic   # from the URL"),
        ["KB_NAME", "KB_NS"]
    );
    assert_eq!(defines("KB_COUNT=$(kubectl get kibana)"), ["KB_COUNT"]);
}
