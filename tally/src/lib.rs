//! Tabella's tally service, ceremonies and command-line tool.
//!
//! Today this crate holds the `tabella demo` election run ([`demo`]), the trustees' and officials'
//! ceremony commands ([`trustee`], [`ceremony`]) and the write-once message store they exchange
//! messages through, a directory or an HTTP service ([`messages`]); the election service, its
//! storage and bulletin board, and the anchoring client arrive in later issues.
//! The `tabella` binary (`src/main.rs`) only parses the command line and calls into this library,
//! so tests can drive every command without a process.

pub mod ceremony;
pub mod demo;
pub mod messages;
pub mod trustee;
