//! Small read-model values (effective policies, label views, an instance's default
//! organisation) kept per node while the data epoch stands still: the login reads several of
//! them on every page, and they change rarely. A commit that changes a read model moves the
//! epoch before its caller hears of it, so a node reads its own writes.

use crate::state::St;
use castellan_domain::Result;
use castellan_store::Conn;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Entries kept before the cache starts over.
const MAX_ENTRIES: usize = 20_000;

type Entry = (u64, Arc<dyn Any + Send + Sync>);

/// Values keyed by a string that names what they are (kind, instance, organisation).
#[derive(Default)]
pub struct ReadCache {
    map: RwLock<HashMap<String, Entry>>,
}

impl ReadCache {
    /// The value under `key`, loaded with `load` (a point read) when missing or stale.
    pub async fn get<T, F>(&self, st: &St, key: String, load: F) -> Result<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<T> + Send + 'static,
    {
        let epoch = st.db.data_epoch();
        let hit = {
            let m = self.map.read().unwrap_or_else(|e| e.into_inner());
            m.get(&key)
                .filter(|(e, _)| *e == epoch)
                .and_then(|(_, v)| v.clone().downcast::<T>().ok())
        };
        if let Some(v) = hit {
            return Ok(v);
        }
        let v = Arc::new(st.db.read_point(load).await?);
        let mut m = self.map.write().unwrap_or_else(|e| e.into_inner());
        if m.len() >= MAX_ENTRIES {
            m.clear();
        }
        m.insert(key, (epoch, v.clone() as Arc<dyn Any + Send + Sync>));
        Ok(v)
    }
}
