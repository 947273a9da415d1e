//! docs/operations.md lists every operation of the embedded botocore model with its state in
//! Janus; this test keeps it true against the operation table (`janus_http::ops::table`).

use std::collections::{BTreeMap, BTreeSet};

const MODEL: &str = include_str!("../model/cognito-idp.json");
const DOC: &str = include_str!("../../../docs/operations.md");

#[test]
fn the_operations_doc_matches_the_model_and_what_janus_serves() {
    let model: serde_json::Value = serde_json::from_str(MODEL).unwrap();
    let modelled: BTreeSet<&str> = model["operations"].as_object().unwrap().keys().map(String::as_str).collect();
    let served: BTreeSet<&str> = janus_http::ops::table().into_keys().filter(|n| !n.contains('.')).collect();
    let mut listed = BTreeMap::new();
    for line in DOC.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| operation") && !l.starts_with("|---")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert!(listed.insert(cells[0], cells[1]).is_none(), "{} is listed twice", cells[0]);
        if cells[1] != "implemented" {
            assert!(!cells[2].is_empty(), "{} says {} without saying why", cells[0], cells[1]);
        }
    }
    let unknown: Vec<&&str> = served.iter().filter(|n| !modelled.contains(**n)).collect();
    assert!(unknown.is_empty(), "served but not in the model: {unknown:?}");
    for op in &modelled {
        let state = listed.remove(op).unwrap_or_else(|| panic!("{op} is not in docs/operations.md"));
        let serves = served.contains(op);
        assert_eq!(state != "not yet", serves, "{op}: docs/operations.md says {state:?}, Janus serves it: {serves}");
        assert!(["implemented", "partly", "not yet"].contains(&state), "{op}: unknown state {state:?}");
    }
    assert!(listed.is_empty(), "listed but not in the model: {listed:?}");
    let count = format!("{} of {} operations are served.", served.len(), modelled.len());
    assert!(DOC.contains(&count), "the doc's count is stale: {count}");
}
