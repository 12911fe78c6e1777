//! The pages and their parts: one component per file.

pub(crate) mod alert;
pub(crate) mod app;
pub(crate) mod bench;
pub(crate) mod booth;
pub(crate) mod challenge_check;
pub(crate) mod code_form;
pub(crate) mod contest;
pub(crate) mod footer;
pub(crate) mod glossary;
pub(crate) mod observer;
pub(crate) mod officials;
pub(crate) mod receipt;
pub(crate) mod results;
pub(crate) mod review;
pub(crate) mod spoiled;
pub(crate) mod start;
pub(crate) mod table;
pub(crate) mod totals_chart;
pub(crate) mod tracker;
pub(crate) mod turnout_chart;
