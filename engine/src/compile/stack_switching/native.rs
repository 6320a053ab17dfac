//! Native switching: `resume`, `suspend` and `switch` compile to one
//! Cranelift `stack_switch` each, with the bookkeeping (record state,
//! parent links, stack limit) inline in generated code, handler search in
//! `search.rs`. No host call on these paths, except for switch events when
//! they are on and for a tag that nobody handles.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value, types};

use super::Resumption;
use crate::compile::env::{clif_type, word_flags};
use crate::compile::translate::{FuncTranslator, trusted};
use crate::error::TrapCode;
use crate::vm::events;
use crate::vm::layout::*;
use crate::vm::stack_switching::continuation::payload as cpayload;

impl FuncTranslator<'_, '_> {
    /// In native mode with switch events on, calls the event routine
    /// (`vm::events::native_event`) with `what` and its operands.
    pub(in crate::compile) fn switch_event(&mut self, what: u64, operands: [Value; 3]) {
        if !self.env.switch_events || self.env.libcall_switching {
            return;
        }
        use crate::vm::events::native_event;
        let what = self.builder.ins().iconst(types::I64, what as i64);
        let [a, b, tag] = operands;
        self.libcall(native_event as *const () as usize, &[what, a, b, tag], &[]);
    }

    /// `resume`: passes the arguments, links the continuation's chain under
    /// the running stack with the handler clauses `(tag, label)` (no label:
    /// a `switch` clause), switches to it; on return releases its stack, on
    /// a suspension branches to the clause's label with the tag's values and
    /// the new continuation.
    pub(in crate::compile) fn resume_native(
        &mut self,
        cont_type_index: u32,
        clauses: &[(u32, Option<u32>)],
        how: Resumption,
    ) {
        use crate::vm::stack_switching::continuation::{offsets as rec, state};
        let ft = self.env.func_type(cont_type_index).clone();
        let contref = self.pop();
        let t = trusted();
        let (args, exn) = self.resume_operands(cont_type_index, how);
        let record = self.take_continuation(contref);
        // `resume_throw(_ref)`: the exception is raised where the
        // continuation is suspended; a continuation that never ran raises it
        // right here.
        let exn = match exn {
            None => None,
            Some(exn) => {
                let st = self.builder.ins().load(types::I32, t, record, rec::STATE);
                let fresh = self
                    .builder
                    .ins()
                    .icmp_imm_u(IntCC::Equal, st, state::FRESH as i64);
                let now = self.builder.create_block();
                let later = self.builder.create_block();
                self.builder.set_cold_block(now);
                self.builder.ins().brif(fresh, now, &[], later, &[]);
                self.builder.switch_to_block(now);
                let store = self.store_context();
                self.release_inline(record, store);
                self.raise_on_side_path(exn);
                self.builder.switch_to_block(later);
                Some(exn)
            }
        };

        // Arguments go after the values `cont.bind` put in the record.
        let base = self.consume_bound(record);
        self.store_words(&args, base, rec::ARGS);

        let throwing = self
            .builder
            .ins()
            .iconst(types::I64, i64::from(exn.is_some()));
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.switch_event(events::native::RESUME, [record, throwing, zero]);
        let ancestor = self
            .builder
            .ins()
            .load(types::I64, t, record, rec::LAST_ANCESTOR);
        let store = self.store_context();
        let resumer = self.current_record(store);
        self.builder
            .ins()
            .store(t, resumer, ancestor, rec::PARENT_RECORD);
        let table = self.handler_table(clauses);
        self.builder.ins().store(t, table, ancestor, rec::HANDLERS);
        let count = self.builder.ins().iconst(types::I64, clauses.len() as i64);
        self.builder
            .ins()
            .store(t, count, ancestor, rec::HANDLERS_LEN);
        let old_limit = self
            .builder
            .ins()
            .load(types::I64, t, store, VMSTORE_STACK_LIMIT);
        self.start_running(store, record, rec::RESUMES);

        let parent_ctx = self.builder.ins().iadd_imm_s(ancestor, rec::PARENT as i64);
        let own_ctx = self.builder.ins().iadd_imm_s(record, rec::OWN as i64);
        // The suspended site learns its own record from this word, or an
        // exception to raise from it flagged.
        let sent = match exn {
            Some(exn) => self.builder.ins().bor_imm_u(exn, cpayload::THROW as i64),
            None => record,
        };
        let payload = self.builder.ins().stack_switch(parent_ctx, own_ctx, sent);

        // Back on our stack: the payload is the record involved, with what
        // happened in its low bits.
        let store = self.store_context();
        self.builder
            .ins()
            .store(t, resumer, store, VMSTORE_CURRENT_CONT);
        self.builder
            .ins()
            .store(t, old_limit, store, VMSTORE_STACK_LIMIT);
        let involved = self
            .builder
            .ins()
            .band_imm_u(payload, !(cpayload::FLAGS_MASK as i64));
        let returned = self.split_on_return(payload, |t| {
            // Died of an exception: the one case the event is for, so the
            // call sits on this cold path, not after every suspension.
            let zero = t.builder.ins().iconst(types::I64, 0);
            t.switch_event(events::native::BACK, [payload, zero, zero]);
            t.builder
                .ins()
                .load(types::I64, trusted(), involved, rec::ARGS)
        });
        if clauses.is_empty() {
            // Handler search never picks a resume without clauses.
            self.trap(TrapCode::UnhandledTag);
        } else {
            let suspender = involved;
            let ancestor = self
                .builder
                .ins()
                .load(types::I64, t, suspender, rec::LAST_ANCESTOR);
            let zero = self.builder.ins().iconst(types::I64, 0);
            self.builder
                .ins()
                .store(t, zero, ancestor, rec::PARENT + rec::CTX_PC);
            self.switch_event(events::native::SUSPENDED, [suspender, zero, zero]);
            let new_ref = self.make_contref(suspender);
            let clause = (clauses.len() > 1).then(|| {
                let elsewhere = clause_in_context(self, payload);
                let zero = self.builder.ins().iconst(types::I64, 0);
                let stored = self
                    .builder
                    .ins()
                    .load(types::I64, t, store, VMSTORE_SUSPEND_CLAUSE);
                self.builder.ins().select(elsewhere, stored, zero)
            });
            self.branch_to_clause(clauses, clause, new_ref, |t, at, ty| {
                let off = rec::ARGS + 8 * at as i32;
                t.builder
                    .ins()
                    .load(clif_type(ty), word_flags(), suspender, off)
            });
        }

        self.builder.switch_to_block(returned);
        // The record that returned: the chain's outermost, or whatever took
        // its place through `switch`.
        let finished = involved;
        let results = self.load_words(ft.results(), finished, rec::ARGS);
        // Read before the release frees the record.
        let reported = self.env.switch_events.then(|| {
            let id_offset = std::mem::offset_of!(
                crate::vm::stack_switching::continuation::ContinuationRecord,
                id
            );
            let id = self
                .builder
                .ins()
                .load(types::I64, t, finished, id_offset as i32);
            let entry = self
                .builder
                .ins()
                .load(types::I64, t, finished, rec::ENTRY_FUNC);
            (id, entry)
        });
        self.release_inline(finished, store);
        if let Some((id, entry)) = reported {
            let zero = self.builder.ins().iconst(types::I64, 0);
            self.switch_event(events::native::RETURNED, [id, entry, zero]);
        }
        self.stack.extend(results);
    }

    /// Puts a finished continuation's record on the store's free list (the
    /// inline twin of `vm::stack_switching::store_continuations::release`).
    pub(in crate::compile) fn release_inline(&mut self, record: Value, store: Value) {
        use crate::vm::stack_switching::continuation::{offsets as rec, state};
        let t = trusted();
        let returned = self
            .builder
            .ins()
            .iconst(types::I32, state::RETURNED as i64);
        self.builder.ins().store(t, returned, record, rec::STATE);
        let generation = self
            .builder
            .ins()
            .load(types::I64, t, record, rec::GENERATION);
        let generation = self.builder.ins().iadd_imm_s(generation, 1);
        self.builder
            .ins()
            .store(t, generation, record, rec::GENERATION);
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.builder
            .ins()
            .store(t, zero, record, rec::PARENT + rec::CTX_PC);
        let free = self
            .builder
            .ins()
            .load(types::I64, t, store, VMSTORE_CONT_FREE);
        self.builder.ins().store(t, free, record, rec::NEXT_FREE);
        self.builder
            .ins()
            .store(t, record, store, VMSTORE_CONT_FREE);
        let live = self
            .builder
            .ins()
            .load(types::I64, t, store, VMSTORE_CONT_LIVE);
        let live = self.builder.ins().iadd_imm_s(live, -1);
        self.builder.ins().store(t, live, store, VMSTORE_CONT_LIVE);
    }

    /// `switch`: suspends the running continuation to the resume that has a
    /// `(on $tag switch)` clause for `tag_index`, and runs the target
    /// continuation in its place, handing it the values and a reference to
    /// the suspended one.
    pub(in crate::compile) fn switch_native(&mut self, cont_type_index: u32, tag_index: u32) {
        use crate::vm::stack_switching::continuation::offsets as rec;
        let t = trusted();
        let (sent, received) = self.switch_signature(cont_type_index);
        let target_ref = self.pop();
        let mut vals = self.popn(sent);
        let target = self.take_continuation(target_ref);
        let tag = self.tag_ptr(tag_index);
        let marked = self.builder.ins().bor_imm_u(tag, 1);
        let store = self.store_context();
        // Loaded here, even in a function that keeps its running record:
        // with the record kept in a register for switches too,
        // `switch_pingpong` took 20% longer in the layout measured, for a
        // reason not found (docs/performance.md, fifth pass).
        let me = self.current_record(store);
        let (handler, _) = self.find_handler(store, me, marked);
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.switch_event(events::native::SWITCH, [target, zero, tag]);

        // Suspend ourselves, with the handler's continuation as our chain's
        // outermost.
        self.mark_suspended(me, handler, tag);
        self.count(me, rec::SWITCHES);
        let zero = self.builder.ins().iconst(types::I64, 0);
        let my_ref = self.make_contref(me);

        // The target receives the values and our reference.
        let base = self.consume_bound(target);
        vals.push(my_ref);
        self.store_words(&vals, base, rec::ARGS);

        // The target's chain takes our chain's place under the resumer:
        // the handler's parent link, handler table and parent context, each
        // word loaded once (the resume site and resumer are also what we
        // were caught by).
        let outer = self
            .builder
            .ins()
            .load(types::I64, t, target, rec::LAST_ANCESTOR);
        let moved = [
            rec::PARENT_RECORD,
            rec::HANDLERS,
            rec::HANDLERS_LEN,
            rec::PARENT,
            rec::PARENT + 8,
            rec::PARENT + 16,
        ];
        let words: Vec<Value> = moved
            .iter()
            .map(|&off| self.builder.ins().load(types::I64, t, handler, off))
            .collect();
        let site = words[3 + rec::CTX_PC as usize / 8];
        self.note_caught_at(me, site, words[0]);
        for (&off, &v) in moved.iter().zip(&words) {
            self.builder.ins().store(t, v, outer, off);
        }
        self.builder
            .ins()
            .store(t, zero, handler, rec::PARENT + rec::CTX_PC);
        self.start_running(store, target, rec::SWITCHES);
        let own_ctx = self.builder.ins().iadd_imm_s(me, rec::OWN as i64);
        let target_ctx = self.builder.ins().iadd_imm_s(target, rec::OWN as i64);
        // Not the target's record but the throw flag alone, which the
        // target takes as "load it from the store context". Sending the
        // record, loaded again, made `switch_pingpong` 5% slower over 16
        // code layouts; sending `target` itself 20% (Cranelift spilled it
        // to hold it in the payload register across the handler search's
        // host call).
        let sent = self
            .builder
            .ins()
            .iconst(types::I64, cpayload::THROW as i64);
        let payload_in = self.builder.ins().stack_switch(own_ctx, target_ctx, sent);
        self.received_back(payload_in);

        // Switched back to or resumed: our values are in our record.
        let vals = self.load_words(&received, me, rec::ARGS);
        self.stack.extend(vals);
    }

    /// `suspend`: finds the handler, hands the tag's values and this
    /// continuation to it, and when resumed pushes the values it was
    /// resumed with.
    pub(in crate::compile) fn suspend_native(&mut self, tag_index: u32) {
        use crate::vm::stack_switching::continuation::offsets as rec;
        let t = trusted();
        let tag = self.tag_ptr(tag_index);
        let store = self.store_context();
        let me = self.running_record();
        let (handler, clause) = self.find_handler(store, me, tag);
        let params = self.tag_params(tag_index);
        let vals = self.popn(params.len());
        self.store_words(&vals, me, rec::ARGS);
        self.mark_suspended(me, handler, tag);
        // A clause other than the first goes through the store context,
        // flagged in the word; the first costs no store.
        // The word's flags come in as the next block's parameter, a
        // constant on each edge.
        let later = self.builder.create_block();
        let next = self.builder.create_block();
        let flags = self.builder.append_block_param(next, types::I64);
        self.builder.set_cold_block(later);
        let first = self
            .builder
            .ins()
            .iconst(types::I64, cpayload::SUSPENDED as i64);
        self.builder
            .ins()
            .brif(clause, later, &[], next, &[first.into()]);
        self.builder.switch_to_block(later);
        self.builder
            .ins()
            .store(t, clause, store, VMSTORE_SUSPEND_CLAUSE);
        let other = self.builder.ins().iconst(
            types::I64,
            (cpayload::SUSPENDED | cpayload::CLAUSE_IN_CONTEXT) as i64,
        );
        self.builder.ins().jump(next, &[other.into()]);
        self.builder.switch_to_block(next);
        self.note_caught(me, handler);
        let own_ctx = self.builder.ins().iadd_imm_s(me, rec::OWN as i64);
        let parent_ctx = self.builder.ins().iadd_imm_s(handler, rec::PARENT as i64);
        let word = self.builder.ins().bor(me, flags);
        let received = self.builder.ins().stack_switch(own_ctx, parent_ctx, word);
        let me = self.received_back(received).unwrap_or(me);

        // Resumed: the values are at the start of our record's arguments.
        let ty = self.env.info.tags[tag_index as usize];
        let results = self.env.func_type(ty).results().to_vec();
        let vals = self.load_words(&results, me, rec::ARGS);
        self.stack.extend(vals);
    }

    /// In the entry block of a function that suspends: the running record,
    /// as the store context says at entry. A frame never leaves its stack,
    /// so the record stays the same for the frame's whole life; each
    /// switch back hands it over again in a register (see
    /// [`Self::received_back`]). The next suspension in a loop then starts
    /// from that register instead of three dependent loads (VM context,
    /// store context, current record) on the round trip's critical path.
    pub(in crate::compile) fn define_running_record(&mut self) {
        if self.env.libcall_switching || self.running_record.is_some() {
            return;
        }
        let var = self.builder.declare_var(types::I64);
        let store = self.store_context();
        let current = self.current_record(store);
        self.builder.def_var(var, current);
        self.running_record = Some(var);
    }

    /// The record this frame runs on.
    fn running_record(&mut self) -> Value {
        match self.running_record {
            Some(var) => self.builder.use_var(var),
            None => {
                let store = self.store_context();
                self.current_record(store)
            }
        }
    }

    /// The running record as the store context says (null on the main
    /// stack).
    fn current_record(&mut self, store: Value) -> Value {
        self.builder
            .ins()
            .load(types::I64, trusted(), store, VMSTORE_CURRENT_CONT)
    }

    /// Back at a suspend or switch site: the word the resume or switch
    /// that brought us back handed over is our own record, an exception
    /// to raise here flagged with [`cpayload::THROW`], or that flag alone
    /// (a `switch` sends it: the record is then the store context's
    /// current one). Returns the record, in a function that keeps it.
    fn received_back(&mut self, word: Value) -> Option<Value> {
        let odd = self.builder.create_block();
        let raise = self.builder.create_block();
        let join = self.builder.create_block();
        let me = self.builder.append_block_param(join, types::I64);
        self.builder.set_cold_block(odd);
        self.builder.set_cold_block(raise);
        let flagged = self.builder.ins().band_imm_u(word, cpayload::THROW as i64);
        self.builder
            .ins()
            .brif(flagged, odd, &[], join, &[word.into()]);

        self.builder.switch_to_block(odd);
        let flag_alone = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::Equal, word, cpayload::THROW as i64);
        if self.running_record.is_some() {
            let load = self.builder.create_block();
            self.builder.set_cold_block(load);
            self.builder.ins().brif(flag_alone, load, &[], raise, &[]);
            self.builder.switch_to_block(load);
            let store = self.store_context();
            let current = self.current_record(store);
            self.builder.ins().jump(join, &[current.into()]);
        } else {
            self.builder
                .ins()
                .brif(flag_alone, join, &[word.into()], raise, &[]);
        }

        self.builder.switch_to_block(raise);
        let exn = self
            .builder
            .ins()
            .band_imm_u(word, !(cpayload::THROW as i64));
        self.raise_on_side_path(exn);

        self.builder.switch_to_block(join);
        let var = self.running_record?;
        self.builder.def_var(var, me);
        Some(me)
    }

    /// The one place where a record becomes the running one (`resume`
    /// and `switch`): its state, its `counter` (resumes or switches), and
    /// the store's current continuation and stack limit. Ordered so that
    /// the registry reads the record as running before the switch. No
    /// clock stamp: only a suspension's time is shown (how long it has
    /// waited), and this path runs at every resume.
    fn start_running(&mut self, store: Value, record: Value, counter: i32) {
        use crate::vm::stack_switching::continuation::{offsets as rec, state};
        let t = trusted();
        let running = self.builder.ins().iconst(types::I32, state::RUNNING as i64);
        self.builder.ins().store(t, running, record, rec::STATE);
        self.count(record, counter);
        self.builder
            .ins()
            .store(t, record, store, VMSTORE_CURRENT_CONT);
        let limit = self
            .builder
            .ins()
            .load(types::I64, t, record, rec::STACK_LIMIT);
        self.builder
            .ins()
            .store(t, limit, store, VMSTORE_STACK_LIMIT);
    }

    /// The one place where the running record `me` is marked suspended
    /// (`suspend` and `switch`), to be resumed under `handler`'s resumer,
    /// with the `tag` it suspended with.
    fn mark_suspended(&mut self, me: Value, handler: Value, tag: Value) {
        use crate::vm::stack_switching::continuation::{offsets as rec, state};
        let t = trusted();
        self.builder.ins().store(t, handler, me, rec::LAST_ANCESTOR);
        self.builder.ins().store(t, tag, me, rec::LAST_TAG);
        let suspended = self
            .builder
            .ins()
            .iconst(types::I32, state::SUSPENDED as i64);
        self.builder.ins().store(t, suspended, me, rec::STATE);
    }

    /// Where the values of a resume or switch to `record` go: after the
    /// ones `cont.bind` bound, which the switch consumes. The count goes
    /// back to 0 here, on the rare path where it is not 0, rather than at
    /// every suspension: a running continuation's count is always 0.
    fn consume_bound(&mut self, record: Value) -> Value {
        use crate::vm::stack_switching::continuation::offsets as rec;
        let t = trusted();
        let bound = self.builder.ins().load(types::I64, t, record, rec::BOUND);
        let reset = self.builder.create_block();
        let next = self.builder.create_block();
        self.builder.set_cold_block(reset);
        self.builder.ins().brif(bound, reset, &[], next, &[]);
        self.builder.switch_to_block(reset);
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.builder.ins().store(t, zero, record, rec::BOUND);
        self.builder.ins().jump(next, &[]);
        self.builder.switch_to_block(next);
        let bound_bytes = self.builder.ins().ishl_imm_u(bound, 3);
        self.builder.ins().iadd(record, bound_bytes)
    }

    /// Adds one to the record's counter at `offset` (resumes, switches).
    fn count(&mut self, record: Value, offset: i32) {
        let t = trusted();
        let n = self.builder.ins().load(types::I64, t, record, offset);
        let n = self.builder.ins().iadd_imm_s(n, 1);
        self.builder.ins().store(t, n, record, offset);
    }
}

/// Whether a suspension's payload `word` says its clause index is in the
/// store context ([`cpayload::CLAUSE_IN_CONTEXT`]).
fn clause_in_context(t: &mut FuncTranslator<'_, '_>, word: Value) -> Value {
    let bit = t
        .builder
        .ins()
        .band_imm_u(word, cpayload::CLAUSE_IN_CONTEXT as i64);
    t.builder.ins().icmp_imm_u(IntCC::NotEqual, bit, 0)
}
