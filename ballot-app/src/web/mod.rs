//! The browser side: the one module that talks HTTP ([`api`]), the event-loop and timing glue
//! ([`browser`]), and the served booth's digest ([`integrity`]).

pub(crate) mod api;
pub(crate) mod browser;
pub(crate) mod integrity;
