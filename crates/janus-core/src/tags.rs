//! Tags on user pools: TagResource, UntagResource, ListTagsForResource. A resource is named
//! by its ARN, `arn:aws:cognito-idp:<region>:<account>:userpool/<id>`.

use std::collections::BTreeMap;

use janus_types::{Entity, Error, PoolId, Result};

use crate::users::pool_of;
use crate::Services;

fn pool_of_arn(arn: &str) -> Result<PoolId> {
    let id = arn
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":userpool/"))
        .map(|(_, id)| id)
        .ok_or_else(|| Error::invalid(format!("Invalid resource ARN: {arn}")))?;
    PoolId::parse(id)
}

impl Services {
    /// TagResource (add or overwrite) and UntagResource (remove), in one transaction.
    pub fn retag(&self, arn: &str, add: BTreeMap<String, String>, remove: &[String]) -> Result<()> {
        let id = pool_of_arn(arn)?;
        let mut tx = self.store.write(self.now_ms())?;
        let mut pool = pool_of(&*tx, &id)?;
        if pool.arn != arn {
            return Err(Error::pool_not_found(id.as_str()));
        }
        pool.tags.extend(add);
        for k in remove {
            pool.tags.remove(k);
        }
        if pool.tags.len() > 50 {
            // InvalidParameterException: TagResource's model has no LimitExceededException.
            return Err(Error::invalid("A resource can have at most 50 tags."));
        }
        crate::regional::record_own(&mut pool, &self.region);
        tx.put(&id, Entity::Pool(pool))?;
        tx.commit()
    }

    /// ListTagsForResource.
    pub fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>> {
        let id = pool_of_arn(arn)?;
        let pool = self.load_pool(&id)?;
        if pool.arn != arn {
            return Err(Error::pool_not_found(id.as_str()));
        }
        Ok(crate::regional::view_in(pool, &self.region).tags)
    }
}
