//! The test world every test crate shares: [`Services`] on a store of a chosen [`Backend`],
//! a capturing outbox, the manual clock and seeded randomness, and [`pair`] for two regions.
//! A test that should hold on every backend loops over [`backends`]; the backend matrix is
//! that one parameter, not a copy of the test.
//!
//! PostgreSQL comes from `JANUS_TEST_PG` (an admin URL; `scripts/test` starts a throw-away
//! server with `scripts/postgres-for-tests` and sets it). Each store gets a fresh database in
//! it. Without the variable the PostgreSQL cases are skipped with a notice, unless
//! `JANUS_TEST_REQUIRE_PG=1` (set by `scripts/test`), which turns the skip into a failure.
#![forbid(unsafe_code)]

mod backend;
mod world;

pub use backend::{backends, Backend, TestStore};
pub use world::{pair, Captured, Quiet, World, WorldBuilder};
