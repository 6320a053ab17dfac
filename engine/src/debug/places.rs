//! Where labelled values live at pcs Cranelift's value-label ranges do not
//! cover: after their last use (the VM context and the Wasm locals are
//! kept in frame slots under a debugger), and at the out-of-line `ud2` of
//! a conditional trap.
//!
//! Cranelift's x86-64 backend emits a conditional trap (`trapz`,
//! `trapnz`, the checks of a division) as a conditional jump to a `ud2`
//! placed after the function's code, in a trap island of its own (one
//! `ud2` per trapping instruction). No value-label range reaches that far,
//! so at a trap's stop every variable was `<optimized out>`. A jump
//! changes no register and no frame slot, so what was where at the jump is
//! still there at the `ud2`: the `ud2` gets, for each label, the place it
//! had at every jump that leads there (if those places agree).

use super::{LabelRange, Place};

/// Says that `label` is in the frame slot at `cfa_offset` wherever in
/// `within` (from just after the prologue's stores to the end of the
/// function's body, before its trap islands: the prologue's stack check
/// jumps to one before the stores) no other range places it. The
/// slot holds the label's latest value: every new value is stored there
/// right after it is made, and until that store its register range
/// covers it, so the ranges Cranelift gives stay first.
pub(crate) fn in_frame(
    ranges: &mut Vec<LabelRange>,
    label: u32,
    within: std::ops::Range<u32>,
    cfa_offset: i64,
) {
    let mut covered: Vec<(u32, u32)> = ranges
        .iter()
        .filter(|r| r.label == label)
        .map(|r| (r.start, r.end))
        .collect();
    covered.sort_unstable();
    let mut gaps = Vec::new();
    let mut at = within.start;
    for (start, end) in covered {
        if start > at {
            gaps.push((at, start.min(within.end)));
        }
        at = at.max(end);
    }
    if at < within.end {
        gaps.push((at, within.end));
    }
    ranges.extend(
        gaps.into_iter()
            .filter(|(s, e)| s < e)
            .map(|(start, end)| LabelRange {
                label,
                start,
                end,
                place: Place::Frame(cfa_offset),
            }),
    );
}

/// The `ud2` instruction.
const UD2: [u8; 2] = [0x0f, 0x0b];

/// The trap records of a function's trap islands: the trailing run of
/// trap records (`(offset, code)`, sorted by offset), each a `ud2` right
/// after the previous one. The first may be an inline `trap` that ends
/// the body (see `trap_islands`).
pub(crate) fn islands<'t>(code: &[u8], traps: &'t [(u32, u8)]) -> &'t [(u32, u8)] {
    let is_ud2 = |t: u32| code.get(t as usize..t as usize + 2) == Some(&UD2[..]);
    let mut first = traps.len();
    while first > 0 {
        let (t, _) = traps[first - 1];
        let adjacent = first == traps.len() || traps[first].0 == t + 2;
        if !adjacent || !is_ud2(t) {
            break;
        }
        first -= 1;
    }
    &traps[first..]
}

/// Adds ranges for the `ud2` of each out-of-line trap of a function:
/// `code` is its machine code, `traps` its trap records sorted by offset,
/// `inline` says which trap codes the engine emits as a `trap`
/// instruction (an inline `ud2`, which can also be reached by falling
/// through, so a jump's places need not hold there).
///
/// The islands (see `islands`) must lie past every range. Their jumps are
/// found by scanning the code before them for `jcc`/`jmp` (rel8 or
/// rel32) whose target is the `ud2`: the real jump is always among them,
/// and a chance match elsewhere can only remove a place (a label keeps a
/// place only where every candidate agrees), never give a wrong one.
pub(crate) fn trap_islands(
    ranges: &mut Vec<LabelRange>,
    code: &[u8],
    traps: &[(u32, u8)],
    inline: impl Fn(u8) -> bool,
) {
    let islands = islands(code, traps);
    let Some(&(island_start, _)) = islands.first() else {
        return;
    };
    if ranges.iter().any(|r| r.end > island_start) {
        // Not past every range: not the layout described above.
        return;
    }
    let body = &code[..island_start as usize];
    let mut labels: Vec<u32> = ranges.iter().map(|r| r.label).collect();
    labels.sort_unstable();
    labels.dedup();
    let mut added = Vec::new();
    for &(t, trap_code) in islands {
        if inline(trap_code) {
            continue;
        }
        let jumps = jumps_to(body, t);
        if jumps.is_empty() {
            continue;
        }
        for &label in &labels {
            let place_at = |pc: u32| {
                ranges
                    .iter()
                    .find(|r| r.label == label && r.start <= pc && pc < r.end)
                    .map(|r| r.place)
            };
            let Some(place) = place_at(jumps[0]) else {
                continue;
            };
            if jumps[1..].iter().all(|&j| place_at(j) == Some(place)) {
                added.push(LabelRange {
                    label,
                    start: t,
                    end: t + 2,
                    place,
                });
            }
        }
    }
    ranges.extend(added);
}

/// Offsets in `body` of every byte sequence that decodes as a `jcc` or
/// `jmp` with a relative target of `target`.
fn jumps_to(body: &[u8], target: u32) -> Vec<u32> {
    let target = i64::from(target);
    let mut out = Vec::new();
    for at in 0..body.len() {
        let rel32 = |len: usize| -> Option<i64> {
            let bytes = body.get(at + len - 4..at + len)?;
            Some(i64::from(i32::from_le_bytes(bytes.try_into().ok()?)))
        };
        let hit = match body[at] {
            0x70..=0x7f | 0xeb => body
                .get(at + 1)
                .is_some_and(|&d| (at + 2) as i64 + i64::from(d as i8) == target),
            0xe9 => rel32(5).is_some_and(|d| (at + 5) as i64 + d == target),
            0x0f => {
                body.get(at + 1).is_some_and(|b| (0x80..=0x8f).contains(b))
                    && rel32(6).is_some_and(|d| (at + 6) as i64 + d == target)
            }
            _ => false,
        };
        if hit {
            out.push(at as u32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debug::VMCTX_LABEL;

    fn range(label: u32, start: u32, end: u32, place: Place) -> LabelRange {
        LabelRange {
            label,
            start,
            end,
            place,
        }
    }

    #[test]
    fn an_island_ud2_gets_the_places_at_its_jump() {
        // 0: nop; 1: je +3 (to 6); 3: nop nop ret; 6: ud2; 8: ud2
        let code = [0x90, 0x74, 0x03, 0x90, 0x90, 0xc3, 0x0f, 0x0b, 0x0f, 0x0b];
        let mut ranges = vec![
            range(0, 0, 3, Place::Register(3)),
            range(1, 0, 1, Place::Register(5)),
            range(2, 0, 6, Place::Frame(-24)),
        ];
        trap_islands(&mut ranges, &code, &[(6, 1), (8, 1)], |_| false);
        let at_trap: Vec<_> = ranges
            .iter()
            .filter(|r| r.start == 6)
            .map(|r| (r.label, r.end, r.place))
            .collect();
        // Label 1 had ended before the jump; the second ud2 has no jump.
        assert_eq!(
            at_trap,
            vec![(0, 8, Place::Register(3)), (2, 8, Place::Frame(-24))]
        );
        assert!(!ranges.iter().any(|r| r.start == 8));
    }

    #[test]
    fn jumps_that_disagree_give_no_place_and_inline_traps_none() {
        // 0: je +4 (to 6); 2: jne +2 (to 6); 4: nop; 5: ret; 6: ud2
        let code = [0x74, 0x04, 0x75, 0x02, 0x90, 0xc3, 0x0f, 0x0b];
        let mut ranges = vec![
            range(0, 0, 2, Place::Register(3)),
            range(0, 2, 6, Place::Register(12)),
            range(1, 0, 6, Place::Register(13)),
        ];
        let before = ranges.len();
        trap_islands(&mut ranges, &code, &[(6, 1)], |c| c == 2);
        let at_trap: Vec<_> = ranges[before..].iter().map(|r| r.label).collect();
        assert_eq!(at_trap, vec![1]);
        ranges.truncate(before);
        trap_islands(&mut ranges, &code, &[(6, 2)], |c| c == 2);
        assert_eq!(ranges.len(), before);
    }

    #[test]
    fn a_frame_slot_fills_the_gaps_of_the_ranges_after_the_prologue() {
        let mut ranges = vec![
            range(VMCTX_LABEL, 0, 10, Place::Register(5)),
            range(VMCTX_LABEL, 14, 20, Place::Register(3)),
            range(4, 0, 30, Place::Register(12)),
        ];
        in_frame(&mut ranges, VMCTX_LABEL, 8..40, -32);
        let vmctx: Vec<_> = ranges
            .iter()
            .filter(|r| r.label == VMCTX_LABEL)
            .map(|r| (r.start, r.end, r.place))
            .collect();
        assert_eq!(
            vmctx,
            vec![
                (0, 10, Place::Register(5)),
                (14, 20, Place::Register(3)),
                (10, 14, Place::Frame(-32)),
                (20, 40, Place::Frame(-32)),
            ]
        );
    }
}
