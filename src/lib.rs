//! truecause reads worker logs and kernel messages together and explains
//! why a worker's child process died: it recognizes child exits, OOM
//! kills and misleading symptoms with rules, joins them by pid, process
//! name, cgroup and time, and annotates the symptom line with its root
//! cause.
//!
//! The data flow, one module per stage (see docs/architecture.md):
//!
//! ```text
//! input ─► framing ─► envelope ─► extract ─► correlate ─► output
//! ```
//!
//! [`record`], [`event`] and [`time`] are the shared types; they import
//! no stage. [`pipeline`] is the only module that knows the order.
//! [`metrics`] is the health a follow run serves to operators.

pub mod correlate;
pub mod envelope;
pub mod event;
pub mod extract;
pub mod input;
pub mod metrics;
pub mod output;
pub mod pipeline;
pub mod record;
pub mod rules;
pub mod time;
