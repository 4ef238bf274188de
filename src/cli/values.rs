//! The plain value enums of the lower layers as clap parses them: each `Named` enum gets its
//! `ValueEnum` here, so clap stays in `cli/` and the names `--help` lists are the ones the
//! renderers print.

use crate::base::named::Named;
use clap::builder::PossibleValue;

macro_rules! value_enums {
    ($($ty:ty),* $(,)?) => {$(
        impl clap::ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                <$ty as Named>::ALL
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                let value = PossibleValue::new(Named::name(*self));
                Some(match Named::help(*self) {
                    Some(help) => value.help(help),
                    None => value,
                })
            }
        }
    )*};
}

value_enums!(
    crate::output::Format,
    crate::output::FleetFormat,
    crate::output::ColorChoice,
    crate::output::rules::ListFormat,
    crate::model::report::FailOn,
);
