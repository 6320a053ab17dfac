//! Handler search in generated code, for `suspend` and `switch` in native
//! mode: which running continuation's resumer handles a tag.
//!
//! The search walks the chain of running continuations from the innermost
//! outwards (`parent_record`), and in each record the handler table its
//! resumer stored (tag identities, a `switch` clause marked by the low
//! bit). It only reads records, so the registry is the same at every
//! instruction of it. Three ways, the cheapest first:
//!
//! 1. the table of the innermost resume, scanned in line, its first
//!    clause before the loop (most suspensions and switches end here, at
//!    its first or second clause);
//! 2. the store's one-entry cache (`vm::layout::HandlerCache`): the record
//!    where the last walk for this continuation and tag ended. The walk
//!    then starts there instead of at the innermost resume's resumer;
//! 3. the walk, a loop in cold blocks at the end of the function, which
//!    refills the cache.
//!
//! Only a tag that nobody handles calls into the host, which records it
//! for the trap message.
//!
//! Why the cache is sound. A walk for `tag` from continuation `me` that
//! ends at record `h` saw no `tag` in the tables of the records from `me`
//! up to (not including) `h`. Those links and tables change only when a
//! record among them becomes the top of a suspended segment and is linked
//! in again by a later resume or switch. A suspension (or switch) by `me`
//! itself stores its handler in `me.last_ancestor`, so the entry is used
//! only while `me.last_ancestor` is still `h`: then `me`'s segment up to
//! `h` is the one walked (a segment stays whole while suspended). A
//! suspension by a continuation that `me` resumed, handled at or above
//! `me`, passes `me` by the cache or the walk of that continuation, which
//! leaves the one entry to that continuation, not `me`. Continuation ids
//! are never reused in a store. `h`'s own table may have changed (a new
//! resume linked the segment in), so the walk from `h` scans it again.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value, types};

use crate::compile::env::clif_trap;
use crate::compile::translate::{FuncTranslator, trusted};
use crate::error::TrapCode;
use crate::vm::layout::{VMSTORE_CACHE_CONT, VMSTORE_CACHE_HANDLER, VMSTORE_CACHE_TAG};
use crate::vm::stack_switching::continuation::ContinuationRecord;
use crate::vm::stack_switching::routines;

/// Offset of a record's id.
const RECORD_ID: i32 = std::mem::offset_of!(ContinuationRecord, id) as i32;

impl FuncTranslator<'_, '_> {
    /// Handler search from the running continuation `me` (0 on the host's
    /// stack) for `tag` (marked for switch clauses): the record whose
    /// resumer handles it and the clause index there. Traps "unhandled
    /// tag" when no running resume handles it.
    pub(in crate::compile) fn find_handler(
        &mut self,
        store: Value,
        me: Value,
        tag: Value,
    ) -> (Value, Value) {
        use crate::vm::stack_switching::continuation::offsets as rec;
        let t = trusted();
        let done = self.builder.create_block();
        let handler = self.builder.append_block_param(done, types::I64);
        let clause = self.builder.append_block_param(done, types::I64);

        // The walk: `record` is the record whose table is searched, `at`
        // the clause index in it.
        let walk = self.builder.create_block();
        let record = self.builder.append_block_param(walk, types::I64);
        let in_record = self.builder.create_block();
        let scan = self.builder.create_block();
        let at = self.builder.append_block_param(scan, types::I64);
        let compare = self.builder.create_block();
        let found = self.builder.create_block();
        let outwards = self.builder.create_block();
        let unhandled = self.builder.create_block();
        for b in [walk, in_record, scan, compare, found, outwards, unhandled] {
            self.builder.set_cold_block(b);
        }

        // 1. The innermost resume's table, scanned in line.
        let mine = self.builder.create_block();
        let my_scan = self.builder.create_block();
        let my_at = self.builder.append_block_param(my_scan, types::I64);
        let my_compare = self.builder.create_block();
        let cached = self.builder.create_block();
        let nothing = Self::args(&[me]);
        self.builder.ins().brif(me, mine, &[], walk, &nothing);
        self.builder.switch_to_block(mine);
        let my_table = self.builder.ins().load(types::I64, t, me, rec::HANDLERS);
        // The first clause without the loop: the common case, and every
        // table has a first word to read (a resume without clauses stores
        // `NO_HANDLERS`, whose word matches no tag).
        let first = self.builder.ins().load(types::I64, t, my_table, 0);
        let hit = self.builder.ins().icmp(IntCC::Equal, first, tag);
        let zero = self.builder.ins().iconst(types::I64, 0);
        let one = self.builder.ins().iconst(types::I64, 1);
        let here = Self::args(&[me, zero]);
        let my_rest = self.builder.create_block();
        self.builder.ins().brif(hit, done, &here, my_rest, &[]);
        self.builder.switch_to_block(my_rest);
        let my_len = self
            .builder
            .ins()
            .load(types::I64, t, me, rec::HANDLERS_LEN);
        self.builder.ins().jump(my_scan, &Self::args(&[one]));
        self.builder.switch_to_block(my_scan);
        let more = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedLessThan, my_at, my_len);
        self.builder.ins().brif(more, my_compare, &[], cached, &[]);
        self.builder.switch_to_block(my_compare);
        let byte = self.builder.ins().ishl_imm_u(my_at, 3);
        let entry = self.builder.ins().iadd(my_table, byte);
        let entry = self.builder.ins().load(types::I64, t, entry, 0);
        let hit = self.builder.ins().icmp(IntCC::Equal, entry, tag);
        let next = self.builder.ins().iadd_imm_s(my_at, 1);
        let here = Self::args(&[me, my_at]);
        let again = Self::args(&[next]);
        self.builder.ins().brif(hit, done, &here, my_scan, &again);

        // 2. The cache: same continuation, same tag, and its segment still
        // ends at the record found. Otherwise the walk goes on from the
        // innermost resume's resumer.
        self.builder.switch_to_block(cached);
        let id = self.builder.ins().load(types::I64, t, me, RECORD_ID);
        let cache_id = self
            .builder
            .ins()
            .load(types::I64, t, store, VMSTORE_CACHE_CONT);
        let cache_tag = self
            .builder
            .ins()
            .load(types::I64, t, store, VMSTORE_CACHE_TAG);
        let cache_handler = self
            .builder
            .ins()
            .load(types::I64, t, store, VMSTORE_CACHE_HANDLER);
        let ancestor = self
            .builder
            .ins()
            .load(types::I64, t, me, rec::LAST_ANCESTOR);
        let same_id = self.builder.ins().icmp(IntCC::Equal, id, cache_id);
        let same_tag = self.builder.ins().icmp(IntCC::Equal, tag, cache_tag);
        let same_end = self
            .builder
            .ins()
            .icmp(IntCC::Equal, ancestor, cache_handler);
        let ok = self.builder.ins().band(same_id, same_tag);
        let ok = self.builder.ins().band(ok, same_end);
        let parent = self
            .builder
            .ins()
            .load(types::I64, t, me, rec::PARENT_RECORD);
        let from_cache = Self::args(&[cache_handler]);
        let from_parent = Self::args(&[parent]);
        self.builder
            .ins()
            .brif(ok, walk, &from_cache, walk, &from_parent);

        // 3. The walk outwards, record by record.
        self.builder.switch_to_block(walk);
        self.builder
            .ins()
            .brif(record, in_record, &[], unhandled, &[]);
        self.builder.switch_to_block(in_record);
        let len = self
            .builder
            .ins()
            .load(types::I64, t, record, rec::HANDLERS_LEN);
        let table = self
            .builder
            .ins()
            .load(types::I64, t, record, rec::HANDLERS);
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.builder.ins().jump(scan, &Self::args(&[zero]));
        self.builder.switch_to_block(scan);
        let more = self.builder.ins().icmp(IntCC::UnsignedLessThan, at, len);
        self.builder.ins().brif(more, compare, &[], outwards, &[]);
        self.builder.switch_to_block(compare);
        let byte = self.builder.ins().ishl_imm_u(at, 3);
        let entry = self.builder.ins().iadd(table, byte);
        let entry = self.builder.ins().load(types::I64, t, entry, 0);
        let hit = self.builder.ins().icmp(IntCC::Equal, entry, tag);
        let next = self.builder.ins().iadd_imm_s(at, 1);
        let again = Self::args(&[next]);
        self.builder.ins().brif(hit, found, &[], scan, &again);
        self.builder.switch_to_block(outwards);
        let parent = self
            .builder
            .ins()
            .load(types::I64, t, record, rec::PARENT_RECORD);
        self.builder.ins().jump(walk, &Self::args(&[parent]));

        // Found by the walk: remember where (`me` is not 0 here, the walk
        // from 0 finds nothing).
        self.builder.switch_to_block(found);
        let id = self.builder.ins().load(types::I64, t, me, RECORD_ID);
        self.builder.ins().store(t, id, store, VMSTORE_CACHE_CONT);
        self.builder.ins().store(t, tag, store, VMSTORE_CACHE_TAG);
        self.builder
            .ins()
            .store(t, record, store, VMSTORE_CACHE_HANDLER);
        self.builder.ins().jump(done, &Self::args(&[record, at]));

        // Nobody handles the tag: the routine finds the same and records
        // the tag for the trap message.
        self.builder.switch_to_block(unhandled);
        let none = self.libcall(
            routines::find_handler as *const () as usize,
            &[tag],
            &[types::I64],
        )[0];
        self.builder
            .ins()
            .trapz(none, clif_trap(TrapCode::UnhandledTag));
        let h = self.builder.ins().band_imm_u(none, (1i64 << 48) - 1);
        let c = self.builder.ins().ushr_imm_u(none, 48);
        self.builder.ins().jump(done, &Self::args(&[h, c]));

        self.builder.switch_to_block(done);
        (handler, clause)
    }
}
