//! The products ripcord knows, and the one door through which the layers above reach them.
//!
//! The pipeline is generic over [`Product`] and typed; the CLI, the rule loader and the fleet
//! hold a product as a `&dyn Entry` chosen by name at run time. [`Entry`] answers what every
//! layer asks of a product by name (its variables, credentials, examples, schemas), and
//! [`<dyn Entry>::with`](Entry) hands the concrete type to code of a layer above: the caller
//! writes a [`ForProduct`] (say, "run this product's pipeline"), the registry picks the type.
//! So the registry sits with the products and knows nothing of the pipeline.

use super::elastic::Elastic;
use super::ghes::Ghes;
use super::{CommandKind, CredentialForms, Product};
use crate::judge::ruleset::schema::InputSchema;
use crate::model::facts::Bundle;
use std::marker::PhantomData;

/// Code generic over the product, written by a layer above and run for one registered
/// product through [`<dyn Entry>::with`](Entry).
pub(crate) trait ForProduct {
    type Output;
    fn call<P: Product>(self) -> Self::Output;
}

/// A product as the registry holds it.
pub(crate) trait Entry: Sync {
    fn name(&self) -> &'static str;
    fn environment(&self) -> &'static str;
    /// What a fleet inventory's `credentials` may hold for it.
    fn credentials(&self) -> CredentialForms;
    /// `--help`'s Examples of `kind`.
    fn examples(&self, kind: CommandKind) -> &'static str;
    /// The schema of its rule inputs and its fact groups, for checking rules at load time.
    fn input_schema(&self) -> InputSchema;
    /// The JSON Schema of its facts bundles.
    fn bundle_schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema;
    /// Which type it is, for [`<dyn Entry>::with`](Entry).
    fn kind(&self) -> Kind;
}

impl dyn Entry + '_ {
    /// Runs `f` with this product's type.
    pub(crate) fn with<F: ForProduct>(&self, f: F) -> F::Output {
        match self.kind() {
            Kind::Elastic => f.call::<Elastic>(),
            Kind::Ghes => f.call::<Ghes>(),
        }
    }
}

/// The registered types, one per product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Elastic,
    Ghes,
}

/// The registry's handle on product `P`.
struct Registered<P>(Kind, PhantomData<fn() -> P>);

impl<P: Product> Entry for Registered<P> {
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn environment(&self) -> &'static str {
        P::ENVIRONMENT
    }

    fn credentials(&self) -> CredentialForms {
        P::CREDENTIALS
    }

    fn examples(&self, kind: CommandKind) -> &'static str {
        P::examples(kind)
    }

    fn input_schema(&self) -> InputSchema {
        InputSchema::of::<P::Inputs<'static>>(P::GROUPS)
    }

    fn bundle_schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<Bundle<P>>()
    }

    fn kind(&self) -> Kind {
        self.0
    }
}

/// Every product, in the order the CLI lists them.
pub(crate) static REGISTRY: &[&dyn Entry] = &[
    &Registered::<Elastic>(Kind::Elastic, PhantomData),
    &Registered::<Ghes>(Kind::Ghes, PhantomData),
];

/// The registered product called `name`.
pub(crate) fn find(name: &str) -> Option<&'static dyn Entry> {
    REGISTRY.iter().copied().find(|p| p.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Name;

    impl ForProduct for Name {
        type Output = &'static str;
        fn call<P: Product>(self) -> &'static str {
            P::NAME
        }
    }

    /// `with` reaches the type each entry was registered as.
    #[test]
    fn each_entry_dispatches_to_its_own_type() {
        for entry in REGISTRY {
            assert_eq!(entry.with(Name), entry.name());
            assert!(find(entry.name()).is_some_and(|e| e.kind() == entry.kind()));
        }
    }
}
