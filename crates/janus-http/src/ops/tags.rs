//! Tagging operations on user pools.

use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

use janus_core::Services;
use janus_types::Error;

use super::{admin, admin_read, empty, input, Operation};

pub const OPS: &[Operation] = &[
    admin("TagResource", tag_resource),
    admin("UntagResource", untag_resource),
    admin_read("ListTagsForResource", list_tags_for_resource),
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    resource_arn: String,
    tags: BTreeMap<String, String>,
}

fn tag_resource(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Tag = input(v)?;
    s.retag(&r.resource_arn, r.tags, &[])?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Untag {
    resource_arn: String,
    tag_keys: Vec<String>,
}

fn untag_resource(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Untag = input(v)?;
    s.retag(&r.resource_arn, BTreeMap::new(), &r.tag_keys)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Resource {
    resource_arn: String,
}

fn list_tags_for_resource(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Resource = input(v)?;
    Ok(json!({ "Tags": s.tags(&r.resource_arn)? }))
}
