//! Logical backtraces across continuation stacks.
