//! The Firefox Profiler's processed format (fxprof-processed-profile):
//! one process, one thread, every frame a label, with one category per
//! kind of frame so that Wasm, continuation boundaries and host code have
//! their own colours.

use std::time::SystemTime;

use fxprof_processed_profile::{
    CategoryColor, CpuDelta, Frame, FrameFlags, FrameInfo, Profile as FxProfile,
    ReferenceTimestamp, SamplingInterval, Timestamp,
};

use crate::{Frame as StackFrame, Profile, frame_name};

/// The profile as Firefox Profiler JSON.
pub fn firefox_json(profile: &Profile) -> String {
    let interval = SamplingInterval::from_hz(profile.hz as f32);
    let mut fx = FxProfile::new(
        "switchyard",
        ReferenceTimestamp::from_system_time(SystemTime::now()),
        interval,
    );
    let start = Timestamp::from_nanos_since_reference(0);
    let process = fx.add_process("switchyard", std::process::id(), start);
    let thread = fx.add_thread(process, std::process::id(), start, true);
    fx.set_thread_name(thread, "main");
    // Every frame is already a name.
    fx.set_symbolicated(true);
    let wasm = fx.add_category("Wasm", CategoryColor::Blue).into();
    let boundary = fx
        .add_category("Continuation", CategoryColor::Purple)
        .into();
    let host = fx.add_category("Host", CategoryColor::Gray).into();
    let cpu = CpuDelta::from_nanos(interval.nanos());
    for s in &profile.samples {
        let frames: Vec<FrameInfo> = s
            .stack
            .iter()
            .map(|f| {
                let (label, category_pair) = match f {
                    StackFrame::Boundary(b) => {
                        (format!("{} #{}", frame_name(f), b.continuation), boundary)
                    }
                    StackFrame::Wasm(_) => (frame_name(f).into_owned(), wasm),
                    _ => (frame_name(f).into_owned(), host),
                };
                FrameInfo {
                    frame: Frame::Label(fx.intern_string(&label)),
                    category_pair,
                    flags: FrameFlags::empty(),
                }
            })
            .collect();
        let stack = fx.intern_stack_frames(thread, frames.into_iter());
        let time = Timestamp::from_nanos_since_reference(s.time_ns);
        fx.add_sample(thread, time, stack, cpu, 1);
    }
    serde_json::to_string(&fx).expect("a profile serializes")
}
