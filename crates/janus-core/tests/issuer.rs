//! The issuer a pool's tokens carry (issue 15): with IssuerConfiguration `UPDATED` every region
//! issues as the primary did when the setting was made, whatever its own issuer URL; with
//! `ORIGINAL` (or none) each region issues as itself.

use serde_json::{json, Value};

use janus_core::pools::{CreatePool, UpdatePool};
use janus_core::Services;
use janus_testkit::{backends, World, WorldBuilder};
use janus_types::Pool;

fn region(backend: janus_testkit::Backend, name: &'static str, base: &str, seed: u64) -> World {
    WorldBuilder::new(backend).region(name).seed(seed).rsa_bits(1024).issuer_base(base).build()
}

fn create(s: &Services, issuer: Value) -> Pool {
    s.create_pool(
        serde_json::from_value::<CreatePool>(json!({"PoolName": "p", "IssuerConfiguration": issuer})).unwrap(),
    )
    .unwrap()
}

/// Copy `pool`'s change log from `from` into `to` (what replication does).
fn replicate(from: &World, to: &World, pool: &Pool) -> Pool {
    let head = to.s.store.read().unwrap().log_head(&pool.id).unwrap().0;
    let changes = from.s.store.read().unwrap().changes(&pool.id, head, 10_000).unwrap();
    let mut tx = to.s.store.write(0).unwrap();
    for c in &changes {
        tx.apply(c).unwrap();
    }
    tx.commit().unwrap();
    to.s.load_pool(&pool.id).unwrap()
}

#[test]
fn with_issuer_configuration_updated_every_region_issues_as_the_primary() {
    for backend in backends() {
        let east = region(backend, "us-east-1", "https://east.example", 5);
        let west = region(backend, "us-west-2", "https://west.example", 6);
        let shared = create(&east.s, json!({"Type": "UPDATED"}));
        let own = create(&east.s, json!({"Type": "ORIGINAL"}));
        let iss = |base: &str, p: &Pool| format!("{base}/{}", p.id);

        assert_eq!(west.s.issuer(&replicate(&east, &west, &shared)), iss("https://east.example", &shared));
        assert_eq!(east.s.issuer(&shared), iss("https://east.example", &shared));
        assert_eq!(west.s.issuer(&replicate(&east, &west, &own)), iss("https://west.example", &own), "{backend:?}");
        assert_eq!(east.s.issuer(&own), iss("https://east.example", &own));
        assert_eq!(west.s.openid_configuration(&shared.id).unwrap()["issuer"], iss("https://east.example", &shared));

        // Back to ORIGINAL: each region its own issuer again.
        let update = json!({"UserPoolId": shared.id.as_str(), "IssuerConfiguration": {"Type": "ORIGINAL"}});
        east.s.update_pool(serde_json::from_value::<UpdatePool>(update).unwrap()).unwrap();
        assert_eq!(west.s.issuer(&replicate(&east, &west, &shared)), iss("https://west.example", &shared));
    }
}
