//! The browser side: the one module that talks HTTP ([`api`]), the event-loop and timing glue
//! ([`browser`]), the served booth's digest ([`integrity`]) and the booth's Web Worker
//! ([`worker`]).

pub(crate) mod api;
pub(crate) mod browser;
pub(crate) mod integrity;
pub(crate) mod worker;
