//! The AWS KMS key provider: CMKs stay in KMS (or anything speaking its JSON 1.1 API, such as
//! moto's server in the tests); Janus calls GenerateDataKey, Encrypt, Decrypt and DescribeKey
//! over SigV4, with the pool id as encryption context (`{"janus:pool": "<id>"}`, which KMS binds
//! to the ciphertext and key policies can condition on). A key's state is checked with
//! DescribeKey on use, cached for `cache_ms` (0: every use asks). Management covers create,
//! list, enable, disable and ReplicateKey; policies and rotation are KMS's own (console/CLI).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use janus_types::Clock;

use super::kms_api::KmsClient;
use super::sigv4::Credentials;
use super::{DataKey, KeyAdmin, KeyArn, KeyError, KeyErrorKind, KeyInfo, KeyPolicy, KeyProvider};

/// How to reach KMS.
#[derive(Debug, Clone)]
pub struct AwsKmsOptions {
    /// Base URL (`https://kms.<region>.amazonaws.com`, or a local server).
    pub endpoint: String,
    /// The region requests are signed for (this Janus region's KMS region).
    pub region: String,
    /// The key used for pools with `AWS_OWNED_KEY`.
    pub default_key: String,
    /// Credentials.
    pub credentials: Credentials,
    /// How long a DescribeKey answer is trusted, ms.
    pub cache_ms: i64,
}

/// The provider.
pub struct AwsKms {
    opts: AwsKmsOptions,
    client: KmsClient,
    clock: Arc<dyn Clock>,
    described: Mutex<HashMap<String, (i64, KeyInfo)>>,
}

fn fixed(c: &Credentials) -> Arc<dyn super::aws_credentials::CredentialSource> {
    let resolved = super::aws_credentials::Resolved { creds: c.clone(), session_token: None };
    Arc::new(super::aws_credentials::Fixed(Some(resolved)))
}

fn err(kind: KeyErrorKind, msg: String) -> KeyError {
    KeyError::new(kind, msg)
}

impl AwsKms {
    /// A provider for `opts`.
    pub fn new(opts: AwsKmsOptions, clock: Arc<dyn Clock>) -> Result<Self, KeyError> {
        let client = KmsClient::new(&opts.endpoint, &opts.region, fixed(&opts.credentials), clock.clone())?;
        Ok(Self { opts, client, clock, described: Mutex::default() })
    }

    /// The key as this region's KMS knows it: a multi-region key by its ARN in this region.
    fn local(&self, key: &str) -> String {
        match KeyArn::parse(key) {
            Ok(a) if a.multi_region() => a.in_region(&self.opts.region).to_string(),
            _ => key.to_owned(),
        }
    }

    fn call(&self, op: &str, key: &str, body: Value) -> Result<Value, KeyError> {
        self.client.call(op, key, body)
    }

    fn info(v: &Value) -> KeyInfo {
        let m = &v["KeyMetadata"];
        KeyInfo {
            arn: m["Arn"].as_str().unwrap_or_default().to_owned(),
            key_id: m["KeyId"].as_str().unwrap_or_default().to_owned(),
            multi_region: m["MultiRegion"].as_bool().unwrap_or(false),
            aws_owned: m["KeyManager"].as_str() == Some("AWS"),
            enabled: m["KeyState"].as_str() == Some("Enabled"),
            current_version: 1,
            policy: KeyPolicy::default(),
            description: m["Description"].as_str().unwrap_or_default().to_owned(),
            created_ms: m["CreationDate"].as_f64().map_or(0, |s| (s * 1000.0) as i64),
        }
    }

    fn context(pool: &str) -> Value {
        json!({"janus:pool": pool})
    }

    /// ReplicateKey: KMS copies a multi-region key to `region` itself.
    pub fn replicate_key(&self, key: &str, region: &str) -> Result<KeyInfo, KeyError> {
        let id = super::arn::key_id_of(key).to_owned();
        let v = self.call("ReplicateKey", key, json!({"KeyId": id, "ReplicaRegion": region}))?;
        Ok(Self::info(&json!({"KeyMetadata": v["ReplicaKeyMetadata"]})))
    }
}

impl KeyProvider for AwsKms {
    fn name(&self) -> &'static str {
        "aws-kms"
    }

    fn region(&self) -> &str {
        &self.opts.region
    }

    fn default_key(&self) -> Result<String, KeyError> {
        Ok(self.opts.default_key.clone())
    }

    fn describe(&self, key: &str) -> Result<KeyInfo, KeyError> {
        let now = self.clock.now_ms();
        let cached = self.described.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned();
        if let Some((at, info)) = cached.filter(|(at, _)| now - at < self.opts.cache_ms) {
            let _ = at;
            return Ok(info);
        }
        let info = Self::info(&self.call("DescribeKey", key, json!({"KeyId": self.local(key)}))?);
        self.described.lock().unwrap_or_else(|p| p.into_inner()).insert(key.to_owned(), (now, info.clone()));
        Ok(info)
    }

    fn authorize(&self, key: &str, pool: &str) -> Result<KeyInfo, KeyError> {
        let info = self.describe(key)?;
        if !info.enabled {
            return Err(err(
                KeyErrorKind::Disabled,
                format!(
                    "key {key} is disabled in AWS KMS in region {}; pool {pool} refuses to sign in until it is enabled",
                    self.opts.region
                ),
            ));
        }
        Ok(info)
    }

    fn generate_data_key(&self, key: &str, pool: &str) -> Result<DataKey, KeyError> {
        self.authorize(key, pool)?;
        let context = BTreeMap::from([("janus:pool".to_owned(), pool.to_owned())]);
        let k = self.client.generate_data_key(&self.local(key), &context)?;
        let (plaintext, wrapped) = (k.plaintext, k.ciphertext);
        Ok(DataKey { plaintext, wrapped })
    }

    fn unwrap_data_key(&self, key: &str, pool: &str, wrapped: &[u8]) -> Result<[u8; 32], KeyError> {
        self.authorize(key, pool)?;
        let body = json!({"KeyId": self.local(key), "CiphertextBlob": B64.encode(wrapped), "EncryptionContext": Self::context(pool)});
        let v = self.call("Decrypt", key, body)?;
        B64.decode(v["Plaintext"].as_str().unwrap_or_default()).ok().and_then(|p| p.try_into().ok()).ok_or_else(|| {
            err(KeyErrorKind::Integrity, format!("Decrypt with {key} did not return a 256-bit data key"))
        })
    }

    fn wrap_data_key(&self, key: &str, pool: &str, plaintext: &[u8; 32]) -> Result<Vec<u8>, KeyError> {
        self.authorize(key, pool)?;
        let body = json!({"KeyId": self.local(key), "Plaintext": B64.encode(plaintext), "EncryptionContext": Self::context(pool)});
        let v = self.call("Encrypt", key, body)?;
        B64.decode(v["CiphertextBlob"].as_str().unwrap_or_default())
            .map_err(|_| err(KeyErrorKind::Unavailable, format!("Encrypt with {key} returned no ciphertext")))
    }

    fn admin(&self) -> Option<&dyn KeyAdmin> {
        Some(self)
    }
}

fn unsupported(what: &str) -> KeyError {
    err(
        KeyErrorKind::Invalid,
        format!("{what} is managed in AWS KMS itself with the AWS KMS provider (console or `aws kms`)"),
    )
}

impl KeyAdmin for AwsKms {
    fn create(&self, multi_region: bool, description: &str, _policy: KeyPolicy) -> Result<KeyInfo, KeyError> {
        let body = json!({"MultiRegion": multi_region, "Description": description, "KeyUsage": "ENCRYPT_DECRYPT"});
        Ok(Self::info(&self.call("CreateKey", "(new)", body)?))
    }

    fn list(&self) -> Result<Vec<KeyInfo>, KeyError> {
        let v = self.call("ListKeys", "(all)", json!({}))?;
        let ids: Vec<String> = v["Keys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k["KeyArn"].as_str().map(str::to_owned))
            .collect();
        ids.iter().map(|k| self.describe(k)).collect()
    }

    fn set_enabled(&self, key: &str, enabled: bool) -> Result<KeyInfo, KeyError> {
        // The bare key id: AWS takes an ARN here too, moto only the id.
        let id = super::arn::key_id_of(key).to_owned();
        self.call(if enabled { "EnableKey" } else { "DisableKey" }, key, json!({"KeyId": id}))?;
        self.described.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        self.describe(key)
    }

    fn rotate(&self, _key: &str) -> Result<KeyInfo, KeyError> {
        Err(unsupported("rotation"))
    }

    fn set_policy(&self, _key: &str, _policy: KeyPolicy) -> Result<KeyInfo, KeyError> {
        Err(unsupported("a key policy"))
    }

    fn transport_public_key(&self) -> Result<String, KeyError> {
        Ok("aws-kms".into())
    }

    fn export_replica(&self, key: &str, target_region: &str, _transport_key: &str) -> Result<String, KeyError> {
        let info = self.replicate_key(key, target_region)?;
        serde_json::to_string(&json!({"format": "aws-kms-replica", "v": 1, "Arn": info.arn}))
            .map_err(|e| err(KeyErrorKind::Unavailable, e.to_string()))
    }

    fn import_replica(&self, bundle: &str) -> Result<KeyInfo, KeyError> {
        let v: Value = serde_json::from_str(bundle).map_err(|e| err(KeyErrorKind::Invalid, e.to_string()))?;
        self.describe(v["Arn"].as_str().unwrap_or_default())
    }
}
