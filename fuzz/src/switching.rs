//! A generator of stack-switching programs, which wasm-smith does not
//! make: random trees of functions that yield values (generators), drive
//! continuations with sets of handlers (schedulers, nested and forwarding
//! handlers: a tag a driver does not handle goes to the one above it),
//! bind arguments (`cont.bind`), throw into suspended continuations
//! (`resume_throw`), throw and catch exceptions across continuation
//! boundaries, switch between two continuations (`switch`), and trap at
//! random depths.
//!
//! Every node mixes what it sees into one global checksum (`acc`), so that
//! a difference anywhere shows in the result; `run` returns the root's
//! value. A global work budget traps (`unreachable`) when spent, so every
//! program ends.

use std::fmt::Write as _;

/// Calls to `$tick` (one per node entry and per loop turn) before the
/// program traps.
const BUDGET: u32 = 5_000;

/// Generates one program (WAT text).
pub fn generate(rng: &mut fastrand::Rng) -> String {
    let mut g = Generator {
        rng,
        funcs: Vec::new(),
        next: 0,
        budget_nodes: 40,
    };
    // Usually a scheduler at the root that handles every tag, so that
    // most programs run to their end rather than stop at the first
    // suspension.
    let root = if g.rng.u8(..4) == 0 {
        g.node(0)
    } else {
        g.driver(0, true)
    };
    let mut out = PRELUDE.replace("BUDGET", &BUDGET.to_string());
    for f in &g.funcs {
        out.push_str(f);
    }
    let names: Vec<String> = (0..g.next).map(|i| format!("$f{i}")).collect();
    let _ = writeln!(out, "  (elem declare func {})", names.join(" "));
    let _ = writeln!(
        out,
        "  (func (export \"run\") (param i32) (result i32)\n    (call {root} (local.get 0)))\n)"
    );
    out
}

/// Types, tags, the checksum and the budget (`BUDGET` is replaced).
const PRELUDE: &str = r#"(module
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))
  (type $fii (func (param i32 i32) (result i32)))
  (type $cii (cont $fii))
  (rec
    (type $fp (func (param i32 (ref null $cp)) (result i32)))
    (type $cp (cont $fp)))
  (tag $y0 (param i32) (result i32))
  (tag $y1 (param i32) (result i32))
  (tag $y2 (param i32) (result i32))
  (tag $sw (result i32))
  (tag $e0 (param i32))
  (tag $e1 (param i32))
  (global $acc (export "acc") (mut i32) (i32.const 0))
  (global $steps (export "steps") (mut i32) (i32.const 0))
  (func $mix (param $v i32)
    (global.set $acc
      (i32.add (i32.mul (global.get $acc) (i32.const 31)) (local.get $v))))
  (func $tick
    (global.set $steps (i32.add (global.get $steps) (i32.const 1)))
    (if (i32.gt_u (global.get $steps) (i32.const BUDGET)) (then (unreachable))))
"#;

struct Generator<'r> {
    rng: &'r mut fastrand::Rng,
    funcs: Vec<String>,
    next: usize,
    budget_nodes: usize,
}

impl Generator<'_> {
    fn fresh(&mut self) -> String {
        self.next += 1;
        format!("$f{}", self.next - 1)
    }

    /// Emits a node of type `$fi` and returns its function's name.
    fn node(&mut self, depth: usize) -> String {
        let leaf = depth >= 5 || self.budget_nodes == 0 || self.rng.u8(..8) == 0;
        if leaf {
            return self.leaf();
        }
        self.budget_nodes -= 1;
        match self.rng.u8(..7) {
            0 | 1 => self.yielder(depth),
            2 | 3 => self.driver(depth, false),
            4 => self.catcher(depth),
            5 => self.thrower(depth),
            _ => self.ping_pong(depth),
        }
    }

    fn tag(&mut self) -> usize {
        self.rng.usize(..3)
    }

    /// Mixes its argument, may trap, returns a function of it.
    fn leaf(&mut self) -> String {
        let name = self.fresh();
        let k = self.rng.i32(0..16);
        let trap = match self.rng.u8(..6) {
            0 => format!(
                "    (if (i32.eq (i32.and (local.get 0) (i32.const 15)) (i32.const {k})) (then (unreachable)))\n"
            ),
            1 => format!(
                "    (drop (i32.div_s (i32.const 1) (i32.sub (i32.and (local.get 0) (i32.const 15)) (i32.const {k}))))\n"
            ),
            _ => String::new(),
        };
        let m = self.rng.i32(2..100);
        self.funcs.push(format!(
            "  (func {name} (type $fi)\n    (call $tick)\n    (call $mix (local.get 0))\n{trap}    (i32.add (i32.mul (local.get 0) (i32.const {m})) (i32.const 1)))\n"
        ));
        name
    }

    /// Suspends `n` times on one tag, mixing what it is resumed with, then
    /// calls its child.
    fn yielder(&mut self, depth: usize) -> String {
        let child = self.node(depth + 1);
        let name = self.fresh();
        let tag = self.tag();
        let n = self.rng.i32(1..5);
        self.funcs.push(format!(
            r#"  (func {name} (type $fi) (local $i i32) (local $x i32)
    (call $tick)
    (local.set $x (local.get 0))
    (loop $l
      (local.set $x (suspend $y{tag} (i32.add (local.get $x) (local.get $i))))
      (call $mix (local.get $x))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_s (local.get $i) (i32.const {n}))))
    (call {child} (local.get $x)))
"#
        ));
        name
    }

    /// Runs its child in a continuation, handling a subset of the tags
    /// (the others go to the handlers above), resuming it up to `max`
    /// times (every tag with `all_tags`); may bind the first argument (`cont.bind`) and may answer a
    /// suspension with `resume_throw`.
    fn driver(&mut self, depth: usize, all_tags: bool) -> String {
        let child = self.node(depth + 1);
        let name = self.fresh();
        let handled: Vec<usize> = (0..3)
            .filter(|_| all_tags || self.rng.u8(..3) != 0)
            .collect();
        let max = self.rng.i32(1..20);
        let throw_on = self.rng.u8(..4) == 0;
        let bind = self.rng.u8(..3) == 0;
        let create = if bind {
            let adapter = self.fresh();
            self.funcs.push(format!(
                "  (func {adapter} (type $fii)\n    (call {child} (i32.xor (local.get 0) (local.get 1))))\n"
            ));
            let b = self.rng.i32(..);
            format!("(cont.bind $cii $ci (i32.const {b}) (cont.new $cii (ref.func {adapter})))")
        } else {
            format!("(cont.new $ci (ref.func {child}))")
        };
        let ons: String = handled
            .iter()
            .map(|t| format!(" (on $y{t} $h{t})"))
            .collect();
        let mut body = String::new();
        // Innermost: the resume; each handler block around it receives
        // [i32 (ref $ci)] and loops.
        for t in handled.iter().rev() {
            let _ = writeln!(body, "      (block $h{t} (result i32 (ref $ci))");
        }
        let _ = writeln!(
            body,
            "        (return (if (result i32) (local.get $throw)\n          (then (resume_throw $ci $e0{ons} (local.get $v) (local.get $k)))\n          (else (resume $ci{ons} (local.get $v) (local.get $k)))))"
        );
        for t in &handled {
            let _ = writeln!(body, "      ) ;; $h{t}");
            let throw = if throw_on {
                "(local.set $throw (i32.eq (i32.and (local.get $v) (i32.const 3)) (i32.const 1)))"
            } else {
                ""
            };
            let _ = writeln!(
                body,
                "      (local.set $k) (local.set $v)\n      (call $mix (i32.add (local.get $v) (i32.const {})))\n      (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 3)) (i32.const {t})))\n      {throw}\n      (local.set $n (i32.add (local.get $n) (i32.const 1)))\n      (br_if $again (i32.lt_s (local.get $n) (i32.const {max})))\n      (return (local.get $v))",
                1000 * (t + 1)
            );
        }
        self.funcs.push(format!(
            "  (func {name} (type $fi) (local $k (ref null $ci)) (local $v i32) (local $n i32) (local $throw i32)\n    (call $tick)\n    (local.set $k {create})\n    (local.set $v (local.get 0))\n    (loop $again\n      (call $tick)\n{body}    )\n    (unreachable))\n"
        ));
        name
    }

    /// Calls its child inside `try_table`, catching one exception tag (or
    /// all): exceptions thrown in continuations below come out of their
    /// `resume`.
    fn catcher(&mut self, depth: usize) -> String {
        let child = self.node(depth + 1);
        let name = self.fresh();
        let clause = match self.rng.u8(..3) {
            0 => "(catch $e0 $c)".to_string(),
            1 => "(catch $e1 $c)".to_string(),
            _ => "(catch_all $all)".to_string(),
        };
        self.funcs.push(format!(
            r#"  (func {name} (type $fi)
    (call $tick)
    (block $all
      (block $c (result i32)
        (try_table (result i32) {clause}
          (call {child} (local.get 0)))
        (return))
      (call $mix (i32.const 77))
      (return (i32.add (i32.const 5))))
    (call $mix (i32.const 99))
    (i32.const 13))
"#
        ));
        name
    }

    /// Throws one tag when its argument has some value, else calls its
    /// child.
    fn thrower(&mut self, depth: usize) -> String {
        let child = self.node(depth + 1);
        let name = self.fresh();
        let tag = self.rng.usize(..2);
        let k = self.rng.i32(0..8);
        self.funcs.push(format!(
            r#"  (func {name} (type $fi)
    (call $tick)
    (if (i32.eq (i32.and (local.get 0) (i32.const 7)) (i32.const {k}))
      (then (throw $e{tag} (local.get 0))))
    (call {child} (i32.add (local.get 0) (i32.const 1))))
"#
        ));
        name
    }

    /// Two continuations that `switch` to each other until a limit; each
    /// turn may call a child (whose suspensions pass through the switch
    /// handler to the handlers above).
    fn ping_pong(&mut self, depth: usize) -> String {
        let child = self.node(depth + 1);
        let name = self.fresh();
        let limit = self.rng.i32(0..12);
        let call_at = self.rng.i32(0..12);
        let mut workers = Vec::new();
        for w in 0..2 {
            let worker = self.fresh();
            self.funcs.push(format!(
                r#"  (func {worker} (type $fp) (local $v i32) (local $other (ref null $cp))
    (local.set $v (local.get 0))
    (local.set $other (local.get 1))
    (loop $l
      (call $tick)
      (call $mix (i32.add (local.get $v) (i32.const {w})))
      (if (i32.eq (local.get $v) (i32.const {call_at}))
        (then (local.set $v (i32.and (call {child} (local.get $v)) (i32.const 1023)))))
      (if (i32.ge_s (local.get $v) (i32.const {limit})) (then (return (local.get $v))))
      (switch $cp $sw (i32.add (local.get $v) (i32.const 1)) (local.get $other))
      (local.set $other)
      (local.set $v)
      (br $l))
    (unreachable))
"#
            ));
            workers.push(worker);
        }
        self.funcs.push(format!(
            r#"  (func {name} (type $fi)
    (call $tick)
    (resume $cp (on $sw switch)
      (i32.and (local.get 0) (i32.const 7)) (cont.new $cp (ref.func {b}))
      (cont.new $cp (ref.func {a}))))
"#,
            a = workers[0],
            b = workers[1]
        ));
        name
    }
}
