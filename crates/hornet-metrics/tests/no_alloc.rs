//! Recording on the request path does not allocate once an interval's histograms exist.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use hornet_metrics::{ErrorKind, Recorder, Timings, TracedRequest};

/// Counts allocations made by the current thread while counting is on.
struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.with(Cell::get) {
            COUNT.with(|c| c.set(c.get() + 1));
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ON.with(Cell::get) {
            COUNT.with(|c| c.set(c.get() + 1));
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn allocations(f: impl FnOnce()) -> u64 {
    COUNT.with(|c| c.set(0));
    ON.with(|on| on.set(true));
    f();
    ON.with(|on| on.set(false));
    COUNT.with(Cell::get)
}

fn timings(us: u64) -> Timings {
    Timings {
        dns: None,
        connect: Some(Duration::from_micros(us / 10)),
        tls: None,
        wait: Duration::from_micros(us / 2),
        receive: Duration::from_micros(us / 3),
        total: Duration::from_micros(us),
        corrected: None,
    }
}

#[test]
fn steady_state_recording_does_not_allocate() {
    let mut r = Recorder::new(2, 1);
    let record = |r: &mut Recorder, n: u64| {
        let us = 100 + n * 7_919 % 900_000;
        r.vu_created(0);
        r.lag(Duration::from_micros(n % 500));
        r.request_sent((n % 2) as u32, 200);
        let mut t = timings(us);
        // Every other response has an intended start earlier than its actual start.
        if n.is_multiple_of(2) {
            t.corrected = Some(Duration::from_micros(us + n % 50_000));
        }
        r.response((n % 2) as u32, [200, 404, 500][(n % 3) as usize], &t, 1_000);
        // A traced request: kept among the slowest or the first failures, or not.
        let traced = TracedRequest {
            trace_id: [(n % 251) as u8; 16],
            span_id: [(n % 13) as u8; 8],
            latency_us: us,
            status: 200,
            at_us: n,
            failed: n.is_multiple_of(3),
            ..TracedRequest::default()
        };
        r.traced((n % 2) as u32, &traced);
        r.dropped();
        r.late_iteration();
        r.error(Some((n % 2) as u32), ErrorKind::Timeout, &"timeout");
        r.expectation(
            (n % 2) as u32,
            ["statusCode", "hasProperty", "cdnHit"][(n % 3) as usize],
            !n.is_multiple_of(5),
        );
        r.vu_completed(Duration::from_micros(us * 3));
    };
    // The first values of an interval allocate the histograms, status-code slots and first messages.
    let warm_up = allocations(|| {
        for n in 0..1_000 {
            record(&mut r, n);
        }
    });
    assert!(warm_up > 0);
    // Afterwards, recording is plain adds.
    let steady = allocations(|| {
        for n in 1_000..20_000 {
            record(&mut r, n);
        }
    });
    assert_eq!(steady, 0, "allocations on the request path");
    let i = r.take_interval();
    assert_eq!(i.requests(), 20_000);
    assert_eq!(i.expectations_ok() + i.expectations_failed(), 20_000);
    assert_eq!(i.expectations_failed(), 4_000);
    assert_eq!((i.dropped(), i.iterations_late()), (20_000, 20_000));
    assert!(i.any_corrected());

    // Expectations alone never allocate, not even the first one of an interval.
    let first = allocations(|| {
        for n in 0..100 {
            r.expectation((n % 2) as u32, "matchesRegexp", n % 2 == 0);
        }
    });
    assert_eq!(first, 0);

    // Nor do drops and late iterations, not even the first ones of an interval.
    let first = allocations(|| {
        for _ in 0..100 {
            r.dropped();
            r.late_iteration();
        }
    });
    assert_eq!(first, 0);
    let i = r.take_interval();
    assert_eq!((i.dropped(), i.iterations_late()), (100, 100));
}

#[test]
fn websocket_recording_does_not_allocate_per_message() {
    let mut r = Recorder::new(3, 1);
    let record = |r: &mut Recorder, n: u64| {
        let ep = (n % 3) as u32;
        r.ws_step_started(ep);
        r.ws_message_sent(10 + n % 100);
        r.ws_message_received(20 + n % 100);
        r.ws_reply(ep, Duration::from_micros(100 + n * 7_919 % 900_000), 10, 20);
        r.ws_waited(ep, Duration::from_micros(50 + n % 1_000), 20);
        r.ws_connected(ep, Duration::from_micros(300 + n % 1_000));
        r.ws_closed([1000, 1006][(n % 2) as usize]);
    };
    // The interval's WebSocket section, its histograms and close-code slots: first values only.
    let warm_up = allocations(|| {
        for n in 0..1_000 {
            record(&mut r, n);
        }
    });
    assert!(warm_up > 0);
    let steady = allocations(|| {
        for n in 1_000..20_000 {
            record(&mut r, n);
        }
    });
    assert_eq!(steady, 0, "allocations on the WebSocket message path");
    let i = r.take_interval();
    assert_eq!((i.ws_messages_sent(), i.ws_messages_received()), (20_000, 20_000));
    assert_eq!(i.requests(), 0, "WebSocket steps are not HTTP requests");
}
