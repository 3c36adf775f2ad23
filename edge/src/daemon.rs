//! The door-unit daemon behind `rollcall-edge run`.
//!
//! [`run`] wires the parts and owns shutdown; the parts sit in one folder per stage, in the
//! order a record goes: [`capture`] (triggers: [`trigger`](capture::trigger),
//! [`socket`](capture::socket), `gpio`; frames: [`camera`](capture::camera)) → the pipeline
//! thread ([`worker`]) runs [`decide`] ([`people`](decide::people): recognition,
//! [`cooldown`](decide::cooldown), [`record`](decide::record)) → [`deliver`]: the SQLite
//! [`outbox`](deliver::outbox) → the [`link`](deliver::link) task
//! ([`delivery`](deliver::delivery) protocol, [`mqtt`](deliver::mqtt)) → the hub; gallery
//! updates flow back through [`sync`] into the matcher ([`gallery`](decide::gallery)). The
//! daemon's frame stays here: `run`, [`worker`], [`shutdown`], [`clock`], the SQLite file
//! both the outbox and the gallery store use ([`db`]) and the hardware it is given
//! (`hardware`); its subcommands (`run`, `check-config`, `trigger`) are `crate::commands`',
//! like every other. Hardware and network sit behind traits ([`Trigger`],
//! [`FrameSource`], [`Recognizer`], [`Publisher`], the status light's
//! [`Lamps`](light::status_light::Lamps)) with in-tree fakes; [`light`] says what the status
//! light shows.

pub mod capture;
pub mod clock;
pub mod db;
pub mod decide;
pub mod deliver;
#[cfg(test)]
mod fixtures;
mod hardware;
pub mod light;
mod run;
pub mod shutdown;
pub mod sync;
pub mod worker;

pub use capture::camera::{FrameSource, ReplaySource};
pub use capture::trigger::Trigger;
pub use decide::recognizer::Recognizer;
pub use deliver::mqtt::Publisher;
pub use hardware::{Hardware, PublisherLayer};
pub use run::{DaemonError, run};
