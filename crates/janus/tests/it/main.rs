//! Integration tests: the real `janus` binary on loopback, driven over HTTP. One test binary
//! with modules keeps link time down.

mod autofailover;
mod durability;
mod failover;
mod proxy;
mod replication;
mod serve;
mod support;
