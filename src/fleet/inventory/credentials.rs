//! A target's `credentials`: the variables it names (never values), in one of the forms its
//! product accepts, mapped onto the collectors' `RIPCORD_*` names for that target only.

use super::*;

/// The target's `credentials`: every key names a set environment variable's name, and the set
/// of keys is one the product takes.
pub(super) fn credentials(
    name: &str,
    product: &'static dyn Entry,
    value: &Spanned<Value>,
    fail: &impl Fn(Range<usize>, String, Option<String>) -> Box<InventoryError>,
) -> Result<Credentials, Box<InventoryError>> {
    let forms = product.credentials();
    let Some(table) = value.get_ref().as_table() else {
        return Err(fail(
            value.span(),
            format!(
                "target {name:?}: credentials must be a table, e.g. {{ api_key_env = \"LOGS_PROD_ES_API_KEY\" }}"
            ),
            Some(forms_text(product)),
        ));
    };
    let mut pairs = Vec::new();
    let mut keys: Vec<&str> = Vec::new();
    for (key, variable) in table {
        if !CREDENTIAL_KEYS.contains(&key.as_str()) {
            let secret_like = variable.as_str().is_some_and(|v| !valid_variable(v));
            return Err(fail(
                value.span(),
                format!("target {name:?}: unknown credentials key {key:?}"),
                Some(if secret_like {
                    format!(
                        "credentials name environment variables, never hold secrets: {}",
                        forms_text(product)
                    )
                } else {
                    forms_text(product)
                }),
            ));
        }
        let Some(variable) = variable.as_str().filter(|v| valid_variable(v)) else {
            return Err(fail(
                value.span(),
                format!("target {name:?}: credentials.{key} must name an environment variable (letters, digits and _)"),
                Some("the inventory names the variable that holds the secret, never the secret itself".into()),
            ));
        };
        let suffix = key.trim_end_matches("_env").to_uppercase();
        pairs.push((
            format!("RIPCORD_{}_{suffix}", forms.service),
            variable.to_string(),
        ));
        keys.push(key.as_str());
    }
    keys.sort_unstable();
    let accepted = forms.forms.iter().any(|form| {
        let mut form: Vec<&str> = form.to_vec();
        form.sort_unstable();
        form == keys
    });
    if !accepted {
        return Err(fail(
            value.span(),
            format!(
                "target {name:?}: credentials {{ {} }} is not a form {} takes",
                keys.join(", "),
                product.name()
            ),
            Some(forms_text(product)),
        ));
    }
    let hint = format!(
        "{} (credentials of target {name:?} in the inventory)",
        pairs
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" and ")
    );
    Ok((pairs, hint))
}

/// The credential forms a product takes, for help texts.
pub(super) fn forms_text(product: &'static dyn Entry) -> String {
    let forms: Vec<String> = product
        .credentials()
        .forms
        .iter()
        .map(|f| {
            format!(
                "{{ {} }}",
                f.iter()
                    .map(|k| format!("{k} = \"VARIABLE\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    format!(
        "{} takes credentials = {}",
        product.name(),
        forms.join(" or ")
    )
}
