//! Tabella's cross-crate tests.
//!
//! This crate hosts the end-to-end tests that exercise several crates together: full elections
//! from manifest to verified record, adversarial runs (a cheating trustee, a censoring board, a
//! ballot replayed onto another credential), and, as those parts land, browser and chain
//! integration tests (`hardhat`: a local Ethereum node from the npm registry). Unit tests stay next to their code in each crate; anything that crosses a
//! crate boundary belongs here, under `tests/`.
//!
//! The tests arrive with the issues that build the parts they cover; today they run the in-process
//! demo election end to end (`tests/demo_election.rs`).

pub mod browser;
pub mod hardhat;
pub mod postgres;
pub mod process;
pub mod smtp;
