//! The one place warnings, notes and `-v`'s request lines leave the process: a `tracing` layer
//! installed once at the top (`main`), writing each event to stderr through
//! [`super::diagnostics`] (one line, control characters escaped, secrets redacted). Lower
//! layers (the HTTP client, the products) only emit events: they never write to a terminal.
//!
//! Events: `warn!` → `ripcord: WARNING: …`; `info!` → `ripcord: …`; a `debug!` with target
//! [`REQUEST`] and the fields `method`, `url`, `outcome`, `duration_ms` → the request line
//! (the client emits it only under `-v`).

use std::fmt::Write as _;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::collect::http::REQUEST_TARGET as REQUEST;

/// Installs the stderr layer as the process's subscriber (once; later calls do nothing).
pub fn install() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let subscriber = tracing_subscriber::registry().with(Stderr);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// Writes ripcord's events to stderr; other crates' events are not the operator's business.
struct Stderr;

impl<S: Subscriber> Layer<S> for Stderr {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.target().starts_with("ripcord")
            && (*metadata.level() <= Level::INFO || metadata.target() == REQUEST)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = *event.metadata().level();
        if event.metadata().target() == REQUEST {
            super::diagnostics::request(
                &fields.method,
                &fields.url,
                &fields.outcome,
                fields.duration_ms,
            );
        } else if level == Level::WARN || level == Level::ERROR {
            super::diagnostics::warn(&fields.message);
        } else {
            super::diagnostics::note(&fields.message);
        }
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    method: String,
    url: String,
    outcome: String,
    duration_ms: u64,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "method" => self.method = value.to_string(),
            "url" => self.url = value.to_string(),
            "outcome" => self.outcome = value.to_string(),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "duration_ms" {
            self.duration_ms = value;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.record_str(field, &text);
    }
}
