//! Tabella's tally service, ceremonies and command-line tool.
//!
//! It holds the election service `tabella serve` ([`service`]: HTTP API, storage over SQLite or
//! PostgreSQL, bulletin board, receipts, close and tally) with its JSON types ([`api`]) and a
//! typed client ([`client`]); the officials' commands against it ([`election`]); the load
//! generator `tabella simulate` ([`simulate`]); the `tabella demo` election run over HTTP
//! ([`demo`]); the trustees' and officials' ceremony commands ([`trustee`], [`ceremony`]) and the
//! write-once message store they exchange messages through, a directory or an HTTP service
//! ([`messages`]); the record verifier `tabella verify` ([`verify`]) and benchmark workloads
//! `tabella bench` ([`mod@bench`]); the chain side of the command line ([`chain`]) and a voter's
//! `tabella cast`, on the board or through the registry contract ([`cast`]); and the registrar,
//! which makes the voters' credentials off the election server and delivers them by letter and
//! e-mail (`tabella credentials`, [`registrar`]).
//! The `tabella` binary (`src/main.rs`) only parses the command line and calls into this library,
//! so tests can drive every command without a process.

pub mod api;
pub mod bench;
pub mod cast;
pub mod ceremony;
pub mod chain;
pub mod client;
pub mod demo;
mod durable;
pub mod election;
pub mod messages;
pub mod registrar;
pub mod service;
pub mod simulate;
pub mod trustee;
pub mod verify;
