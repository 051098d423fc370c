//! The pipeline's steps, shared by the individual commands (`ingest`, `build`, `demo`) and by
//! `flowlake run`: commands parse, plan and render; steps do the work. Steps never call a
//! command, so there is no import cycle between command modules.

pub mod events;
pub mod ingest;
pub mod lock;
