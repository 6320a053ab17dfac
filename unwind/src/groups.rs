//! Many continuations at once: those whose stacks are identical, grouped,
//! most frequent first, as Go's `debug=1` goroutine dump does; and the
//! continuations a program left behind (leaks), grouped by creation site.
//!
//! Grouping works on raw addresses (the walk's program counters, the
//! creation site's return addresses, the resume that caught a suspension),
//! so that 10,000 continuations cost 10,000 hash lookups and each group is
//! symbolized once.

use std::collections::HashMap;

use crate::registry::{Snapshot, StackRecord, State};
use crate::walk::Step;

/// Continuations with the same state, stack, creation site and catching
/// resume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Indices of the members in the list grouped, in its order.
    pub members: Vec<usize>,
}

impl Group {
    /// The member whose walk stands for the group.
    pub fn first(&self) -> usize {
        self.members[0]
    }
}

/// The return address that stands for where `r` was created: the first of
/// its creating stack outside the module that executed `cont.new` (so that
/// a fiber library's `fiber_new` does not hide the program's call site), or
/// the outermost Wasm one when all are in that module.
pub fn creation_site_pc(snapshot: &Snapshot, r: &StackRecord) -> Option<u64> {
    creation_site_among(&r.creation, |pc| {
        snapshot.module_at(pc - 1).map(|m| m.code_start)
    })
}

/// The rule of [`creation_site_pc`] over creation return addresses
/// `pcs` (innermost first, 0 after the last), for any reader:
/// `module_of(pc)` names the module of a Wasm return address (`None`
/// outside Wasm code).
pub fn creation_site_among<M: PartialEq>(
    pcs: &[u64],
    module_of: impl Fn(u64) -> Option<M>,
) -> Option<u64> {
    let mut wasm = pcs
        .iter()
        .filter(|&&pc| pc != 0)
        .filter_map(|&pc| Some((pc, module_of(pc)?)));
    let (first_pc, first_module) = wasm.next()?;
    let mut last = first_pc;
    for (pc, module) in wasm {
        if module != first_module {
            return Some(pc);
        }
        last = pc;
    }
    Some(last)
}

/// Groups `parked` (each record with the walk of its stack), largest group
/// first, then by first member. Fresh continuations have no walk:
/// `fresh_body` says what each will run (the code address of its bound
/// callee, `Sources::fresh_body`), so that fresh fibers of different
/// functions are not one group.
pub fn group_parked(
    snapshot: &Snapshot,
    parked: &[(&StackRecord, Vec<Step>)],
    fresh_body: &dyn Fn(&StackRecord) -> Option<u64>,
) -> Vec<Group> {
    type Key = (u32, Vec<u64>, Option<u64>, u64, Option<u64>);
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for (i, (r, steps)) in parked.iter().enumerate() {
        let pcs: Vec<u64> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Frame { pc, .. } => Some(*pc),
                _ => None,
            })
            .collect();
        let key = (
            state_key(r.state),
            pcs,
            creation_site_pc(snapshot, r),
            r.caught_pc,
            fresh_body(r),
        );
        match index.get(&key) {
            Some(&g) => groups[g].members.push(i),
            None => {
                index.insert(key, groups.len());
                groups.push(Group { members: vec![i] });
            }
        }
    }
    groups.sort_by_key(|g| (std::cmp::Reverse(g.members.len()), g.first()));
    groups
}

fn state_key(state: State) -> u32 {
    match state {
        State::Fresh => 0,
        State::Running => 1,
        State::Suspended => 2,
        State::Returned => 3,
        State::Trapped => 4,
        State::Unknown(v) => 5 + v,
    }
}

/// Live continuations grouped by their creation site (largest group
/// first): what a program created and never finished.
pub fn group_by_creation<'a>(
    snapshot: &Snapshot,
    records: &[&'a StackRecord],
) -> Vec<Vec<&'a StackRecord>> {
    let mut index: HashMap<Option<u64>, usize> = HashMap::new();
    let mut groups: Vec<Vec<&StackRecord>> = Vec::new();
    for r in records {
        let site = creation_site_pc(snapshot, r);
        match index.get(&site) {
            Some(&g) => groups[g].push(r),
            None => {
                index.insert(site, groups.len());
                groups.push(vec![r]);
            }
        }
    }
    groups.sort_by_key(|g| (std::cmp::Reverse(g.len()), g[0].id));
    groups
}

/// `#12 #13 #14 … #10011`: the ids of a group, all of them up to eight,
/// else the first three and the last.
pub fn id_list(ids: &[u64]) -> String {
    let all = |ids: &[u64]| {
        ids.iter()
            .map(|id| format!("#{id}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match ids.len() {
        0..=8 => all(ids),
        n => format!("{} … #{}", all(&ids[..3]), ids[n - 1]),
    }
}

/// `1203 continuations: 1200 suspended, 2 fresh, 1 running`.
pub fn state_summary<'a>(records: impl IntoIterator<Item = &'a StackRecord>) -> String {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    let mut total = 0;
    for r in records {
        if !r.state.is_live() {
            continue;
        }
        total += 1;
        match counts.iter_mut().find(|(n, _)| *n == r.state.name()) {
            Some((_, c)) => *c += 1,
            None => counts.push((r.state.name(), 1)),
        }
    }
    counts.sort_by_key(|&(n, c)| (std::cmp::Reverse(c), n));
    let parts: Vec<String> = counts.iter().map(|(n, c)| format!("{c} {n}")).collect();
    let noun = if total == 1 {
        "continuation"
    } else {
        "continuations"
    };
    if parts.is_empty() {
        format!("0 {noun}")
    } else {
        format!("{total} {noun}: {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_id_lists_are_cut_in_the_middle() {
        assert_eq!(id_list(&[1, 2]), "#1 #2");
        let ids: Vec<u64> = (12..=10011).collect();
        assert_eq!(id_list(&ids), "#12 #13 #14 … #10011");
    }
}
