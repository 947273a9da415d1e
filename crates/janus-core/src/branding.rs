//! Branding of the hosted pages: SetUICustomization and GetUICustomization, with CSS and a
//! logo per app client or for the whole pool (`ALL`). The pages inline both (no external
//! assets); a client's own customization wins over the pool's.

use janus_types::{ClientId, Entity, EntityKey, Error, PoolId, Result, UiCustomization};

use crate::users::pool_of;
use crate::Services;

/// The key of a pool-wide customization.
pub const ALL: &str = "ALL";

/// The largest logo accepted, in bytes of base64 (Cognito: 100 KiB of image).
const MAX_IMAGE: usize = 140 * 1024;

impl Services {
    /// SetUICustomization: with neither CSS nor an image, the customization is removed.
    pub fn set_ui_customization(
        &self,
        pool: &PoolId,
        client: Option<&ClientId>,
        css: Option<String>,
        image: Option<String>,
    ) -> Result<UiCustomization> {
        if image.as_ref().is_some_and(|i| i.len() > MAX_IMAGE) {
            return Err(Error::invalid("ImageFile is larger than 100 KiB."));
        }
        if css.as_ref().is_some_and(|c| c.contains("</")) {
            return Err(Error::invalid("CSS must not contain markup."));
        }
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        pool_of(&*tx, pool)?;
        let key = match client {
            Some(c) => {
                tx.client(pool, c)?
                    .ok_or_else(|| Error::ResourceNotFoundException(format!("User pool client {c} does not exist.")))?;
                c.to_string()
            }
            None => ALL.to_owned(),
        };
        let existing = tx.ui_customization(pool, &key)?;
        let created_ms = existing.as_ref().map_or(now, |u| u.created_ms);
        let ui = UiCustomization { client: key.clone(), css, image, created_ms, modified_ms: now };
        if ui.css.is_none() && ui.image.is_none() {
            if existing.is_some() {
                tx.delete(pool, EntityKey::UiCustomization { client: key })?;
            }
        } else {
            tx.put(pool, Entity::UiCustomization(ui.clone()))?;
        }
        tx.commit()?;
        Ok(ui)
    }

    /// GetUICustomization: the client's own, else the pool's, else an empty one.
    pub fn ui_customization(&self, pool: &PoolId, client: Option<&ClientId>) -> Result<Option<UiCustomization>> {
        let r = self.store.read()?;
        pool_of(&*r, pool)?;
        if let Some(c) = client {
            if let Some(ui) = r.ui_customization(pool, c.as_str())? {
                return Ok(Some(ui));
            }
        }
        r.ui_customization(pool, ALL)
    }
}
