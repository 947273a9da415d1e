//! The audit's trigger checks. Triggers are regional: each region calls the functions of its
//! own `LambdaConfig`, and keeping the two sides alike is the operator's job (the drift
//! Cognito's replication guide warns of). `triggers` lays both regions' sets side by side and
//! FAILs when a trigger one region configures has no function in the other; with
//! `--probe-triggers`, `probes` sends each region's functions the same test event (through
//! `JanusAdmin.ProbeTriggers`) and FAILs when they answer differently (CreateAuthChallenge by
//! the names of its parameters: their values are fresh codes).

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

use super::{check, Check};
use crate::client::Client;

/// Trigger → function ARN (and `KMSKeyID` → key ARN), from a DescribeUserPool answer
/// (PreTokenGenerationConfig's function is PreTokenGeneration's: Janus requires the two to
/// agree when both are set).
fn functions(d: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in d["LambdaConfig"].as_object().into_iter().flatten() {
        let (name, arn) = match k.as_str() {
            "PreTokenGenerationConfig" => ("PreTokenGeneration", v["LambdaArn"].as_str()),
            // The custom senders are `{LambdaVersion, LambdaArn}`; KMSKeyID is a key's ARN.
            other => (other, v.as_str().or_else(|| v["LambdaArn"].as_str())),
        };
        if let Some(arn) = arn {
            out.insert(name.to_owned(), arn.to_owned());
        }
    }
    out
}

/// The function part of an ARN (`…:function:<name>`) and its region, for the report.
fn short(arn: &str) -> String {
    let parts: Vec<&str> = arn.split(':').collect();
    match (parts.get(3), parts.get(6)) {
        (Some(region), Some(name)) => format!("{name} ({region})"),
        _ => arn.to_owned(),
    }
}

/// Both regions' triggers side by side.
pub fn triggers(p: &Value, s: &Value) -> Check {
    let (a, b) = (functions(p), functions(s));
    if a.is_empty() && b.is_empty() {
        return check("triggers", "INFO", "no Lambda triggers in either region", "");
    }
    let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let side = |m: &BTreeMap<String, String>, t: &str| m.get(t).map_or_else(|| "—".to_owned(), |f| short(f));
    let detail: Vec<String> = names.iter().map(|t| format!("{t}: {} | {}", side(&a, t), side(&b, t))).collect();
    let missing: Vec<&str> =
        names.iter().filter(|t| !(a.contains_key(**t) && b.contains_key(**t))).map(|t| t.as_str()).collect();
    if !missing.is_empty() {
        return check(
            "triggers",
            "FAIL",
            format!("configured in one region only: {} ({})", missing.join(", "), detail.join("; ")),
            "give each region its own function for every trigger: UpdateUserPool with LambdaConfig in the region that lacks it",
        );
    }
    let shared: Vec<&str> = names.iter().filter(|t| a.get(**t) == b.get(**t)).map(|t| t.as_str()).collect();
    if !shared.is_empty() {
        return check(
            "triggers",
            "WARN",
            format!(
                "the secondary calls the primary's own functions for {} ({})",
                shared.join(", "),
                detail.join("; ")
            ),
            "deploy the functions in the secondary's region: a lost primary region takes them with it",
        );
    }
    check("triggers", "PASS", format!("each region has its own functions ({})", detail.join("; ")), "")
}

fn answers(c: &Client, pool: &str) -> Result<BTreeMap<String, Value>, String> {
    let v = c.admin("JanusAdmin.ProbeTriggers", &json!({"UserPoolId": pool})).map_err(|e| e.message)?;
    let mut out = BTreeMap::new();
    for p in v["Probes"].as_array().into_iter().flatten() {
        let answer = match p["Error"].as_str() {
            Some(e) => json!({"error": e}),
            None => Value::Object(p["Response"].as_object().cloned().unwrap_or_else(Map::new)),
        };
        out.insert(p["Trigger"].as_str().unwrap_or_default().to_owned(), answer);
    }
    Ok(out)
}

/// What of an answer must agree between regions: all of it, but for CreateAuthChallenge the
/// names of its parameters only (their values are usually a fresh random code).
fn comparable(trigger: &str, answer: &Value) -> Value {
    if trigger != "CreateAuthChallenge" {
        return answer.clone();
    }
    let mut shape = answer.clone();
    for member in ["publicChallengeParameters", "privateChallengeParameters"] {
        if let Some(Value::Object(m)) = shape.get_mut(member) {
            m.values_mut().for_each(|v| *v = Value::Null);
        }
    }
    shape
}

/// The same test event to both regions' functions: the answers must agree.
pub fn probes(p: &Client, s: &Client, pool: &str) -> Check {
    let (a, b) = match (answers(p, pool), answers(s, pool)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return check("trigger answers", "FAIL", e, "check both regions"),
    };
    let failed: Vec<String> =
        a.iter().chain(b.iter()).filter_map(|(t, v)| v["error"].as_str().map(|e| format!("{t}: {e}"))).collect();
    let differ: Vec<&String> =
        a.keys().filter(|t| b.get(*t).is_some_and(|v| comparable(t, v) != comparable(t, &a[*t]))).collect();
    if !failed.is_empty() {
        return check(
            "trigger answers",
            "FAIL",
            failed.join("; "),
            "fix the failing function before a failover needs it",
        );
    }
    if !differ.is_empty() {
        let list: Vec<&str> = differ.iter().map(|t| t.as_str()).collect();
        return check(
            "trigger answers",
            "FAIL",
            format!("the regions' functions answer the same event differently: {}", list.join(", ")),
            "deploy the same handler code in both regions",
        );
    }
    check("trigger answers", "PASS", format!("{} triggers answer alike in both regions", a.len()), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(config: Value) -> Value {
        json!({ "LambdaConfig": config })
    }

    #[test]
    fn fresh_challenge_codes_are_not_drift_but_other_answers_are() {
        let made = |code: &str, extra: bool| {
            let mut private = json!({"answer": code});
            if extra {
                private["hint"] = json!("x");
            }
            json!({"publicChallengeParameters": {"email": "p***"}, "privateChallengeParameters": private})
        };
        assert_eq!(
            comparable("CreateAuthChallenge", &made("123456", false)),
            comparable("CreateAuthChallenge", &made("654321", false))
        );
        assert_ne!(
            comparable("CreateAuthChallenge", &made("1", false)),
            comparable("CreateAuthChallenge", &made("1", true))
        );
        assert_ne!(
            comparable("PreSignUp", &json!({"autoConfirmUser": true})),
            comparable("PreSignUp", &json!({"autoConfirmUser": false}))
        );
    }

    #[test]
    fn a_trigger_missing_in_one_region_fails_and_shared_functions_warn() {
        let east = "arn:aws:lambda:us-east-1:1:function:pre";
        let west = "arn:aws:lambda:us-west-2:1:function:pre";
        assert_eq!(triggers(&pool(json!({})), &pool(json!({}))).result, "INFO");
        let c = triggers(&pool(json!({"PreSignUp": east})), &pool(json!({})));
        assert_eq!(c.result, "FAIL");
        assert!(c.detail.contains("PreSignUp: pre (us-east-1) | —"), "{}", c.detail);
        assert_eq!(triggers(&pool(json!({"PreSignUp": east})), &pool(json!({"PreSignUp": east}))).result, "WARN");
        assert_eq!(triggers(&pool(json!({"PreSignUp": east})), &pool(json!({"PreSignUp": west}))).result, "PASS");
        let v2 = |arn: &str| {
            pool(
                json!({"PreTokenGeneration": arn, "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": arn}}),
            )
        };
        assert_eq!(triggers(&v2(east), &v2(west)).result, "PASS");
        let senders = |arn: &str, key: &str| {
            pool(json!({"CustomEmailSender": {"LambdaVersion": "V1_0", "LambdaArn": arn}, "KMSKeyID": key}))
        };
        let key = "arn:aws:kms:us-east-1:1:key/mrk-1";
        let c = triggers(&senders(east, key), &pool(json!({})));
        assert_eq!(c.result, "FAIL");
        assert!(c.detail.contains("CustomEmailSender, KMSKeyID"), "{}", c.detail);
        assert_eq!(triggers(&senders(east, key), &senders(west, "arn:aws:kms:us-west-2:1:key/mrk-1")).result, "PASS");
    }
}
