//! A shard's copies of immutable HLS files (segments, parts, init
//! segments) fetched from other shards' packagers, bounded by bytes and
//! evicted oldest first. The bytes are shared with the owner's window
//! (`Bytes`), so a hit costs no copy and no cross-shard message.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use arcly_engine::StreamKey;
use arcly_media::hls::Resource;
use bytes::Bytes;

use super::answer::{Answer, Body};

/// Bytes one shard keeps at most.
const CAPACITY: usize = 64 << 20;

type Name = (StreamKey, Resource);

#[derive(Default)]
struct Cache {
    /// The packaging instance whose files are held, per stream.
    instances: HashMap<StreamKey, u64>,
    files: HashMap<Name, (Body, Bytes)>,
    order: VecDeque<Name>,
    size: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The file, if this shard holds it.
pub(super) fn get(key: &StreamKey, resource: Resource) -> Option<(Body, Bytes)> {
    CACHE.with_borrow(|cache| cache.files.get(&(key.clone(), resource)).cloned())
}

/// Learns from an owner's reply: a new packaging instance drops the files
/// of the old one (a restarted stream reuses names), and an immutable file
/// is kept, evicting the oldest past [`CAPACITY`].
pub(super) fn keep(key: &StreamKey, instance: u64, resource: Resource, answer: &Answer) {
    CACHE.with_borrow_mut(|cache| {
        if instance != 0 && cache.instances.get(key) != Some(&instance) {
            cache.forget(key);
            cache.instances.insert(key.clone(), instance);
        }
        if let Answer::Found(body, bytes) = answer
            && body.is_immutable()
            && instance != 0
        {
            cache.put((key.clone(), resource), *body, bytes.clone());
        }
    });
}

impl Cache {
    fn forget(&mut self, key: &StreamKey) {
        let size = &mut self.size;
        self.files.retain(|(k, _), (_, bytes)| {
            let keep = k != key;
            if !keep {
                *size -= bytes.len();
            }
            keep
        });
        self.order.retain(|(k, _)| k != key);
    }

    fn put(&mut self, name: Name, body: Body, bytes: Bytes) {
        if bytes.len() > CAPACITY {
            return;
        }
        let cache = self;
        cache.size += bytes.len();
        if let Some((_, old)) = cache.files.insert(name.clone(), (body, bytes)) {
            cache.size -= old.len();
        } else {
            cache.order.push_back(name);
        }
        while cache.size > CAPACITY {
            let Some(oldest) = cache.order.pop_front() else {
                break;
            };
            if let Some((_, old)) = cache.files.remove(&oldest) {
                cache.size -= old.len();
            }
        }
    }
}
