//! The viewers of one stream copy, in a slab indexed by [`ViewerId`].

use crate::{ViewerCursor, ViewerId};

#[derive(Debug)]
struct Slot {
    generation: u32,
    cursor: Option<ViewerCursor>,
}

/// A slab of cursors: lookups are an index and a generation check, and a
/// freed slot is reused under a new generation.
#[derive(Debug, Default)]
pub(crate) struct Viewers {
    slots: Vec<Slot>,
    free: Vec<u32>,
    len: usize,
}

impl Viewers {
    pub(crate) fn insert(&mut self, cursor: ViewerCursor) -> ViewerId {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.cursor = Some(cursor);
            return ViewerId::new(index, slot.generation);
        }
        // A cursor is tens of bytes: 2^32 of them cannot fit in memory.
        let index = u32::try_from(self.slots.len()).expect("fewer than 2^32 viewers per stream");
        self.slots.push(Slot {
            generation: 0,
            cursor: Some(cursor),
        });
        ViewerId::new(index, 0)
    }

    pub(crate) fn get(&self, id: ViewerId) -> Option<&ViewerCursor> {
        let slot = self.slots.get(id.index())?;
        if slot.generation != id.generation() {
            return None;
        }
        slot.cursor.as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: ViewerId) -> Option<&mut ViewerCursor> {
        let slot = self.slots.get_mut(id.index())?;
        if slot.generation != id.generation() {
            return None;
        }
        slot.cursor.as_mut()
    }

    pub(crate) fn remove(&mut self, id: ViewerId) -> Option<ViewerCursor> {
        let slot = self.slots.get_mut(id.index())?;
        if slot.generation != id.generation() {
            return None;
        }
        let cursor = slot.cursor.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index() as u32);
        self.len -= 1;
        Some(cursor)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn ids(&self) -> impl Iterator<Item = ViewerId> + '_ {
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            slot.cursor
                .as_ref()
                .map(|_| ViewerId::new(index as u32, slot.generation))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use super::*;
    use crate::ConfigSet;

    fn cursor() -> ViewerCursor {
        ViewerCursor::new(0, &Arc::new(ConfigSet::empty(0)), Instant::now())
    }

    #[test]
    fn a_reused_slot_does_not_answer_to_the_old_id() {
        let mut viewers = Viewers::default();
        let a = viewers.insert(cursor());
        let b = viewers.insert(cursor());
        assert!(viewers.remove(a).is_some());
        assert!(viewers.remove(a).is_none());
        let c = viewers.insert(cursor());
        assert_ne!(a, c);
        assert!(viewers.get(a).is_none());
        assert!(viewers.get_mut(c).is_some());
        assert_eq!(viewers.len(), 2);
        let mut ids: Vec<ViewerId> = viewers.ids().collect();
        ids.sort();
        let mut want = vec![b, c];
        want.sort();
        assert_eq!(ids, want);
    }
}
