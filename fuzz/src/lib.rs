//! What the fuzz targets share: an allocator that measures what one input costs.
//!
//! libFuzzer's `-malloc_limit_mb` needs a sanitizer's malloc hooks, so on a stable toolchain
//! (built without a sanitizer) it checks nothing. [`Counting`] works on any toolchain: a target
//! installs it as the global allocator, wraps the code under test in [`measure`] and asserts on
//! the [`Usage`]. A request over [`HARD_CAP`] is refused outright, which aborts the target with
//! "memory allocation of N bytes failed" before the machine is at risk.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Largest single request ever passed on to the system allocator.
pub const HARD_CAP: usize = 1 << 30;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes, their peak and the largest single request.
#[derive(Debug)]
pub struct Counting;

/// What one call allocated.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Largest single request, bytes (refused ones included).
    pub largest: usize,
    /// Most bytes live at once, above what was live before the call.
    pub peak: usize,
}

/// Runs `f` and reports the allocations it made. The targets are single-threaded, so every
/// allocation counted is `f`'s.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    LARGEST.store(0, Relaxed);
    let value = f();
    let usage = Usage {
        largest: LARGEST.load(Relaxed),
        peak: PEAK.load(Relaxed).saturating_sub(before),
    };
    (value, usage)
}

/// Counts a request of `size` bytes; false when it must be refused.
fn admit(size: usize) -> bool {
    LARGEST.fetch_max(size, Relaxed);
    if size > HARD_CAP {
        return false;
    }
    let live = LIVE.fetch_add(size, Relaxed) + size;
    PEAK.fetch_max(live, Relaxed);
    true
}

/// Uncounts `size` bytes that were freed, or admitted but never allocated.
fn release(size: usize) {
    LIVE.fetch_sub(size, Relaxed);
}

/// `ptr` from the system allocator, with `size` uncounted again when it failed.
fn checked(ptr: *mut u8, size: usize) -> *mut u8 {
    if ptr.is_null() {
        release(size);
    }
    ptr
}

// SAFETY: every call is passed on unchanged to `System`; only the counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !admit(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `layout` is `System`'s.
        checked(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !admit(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `alloc`.
        checked(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        release(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a fresh allocation beside the old one: a moving realloc holds both.
        if !admit(new_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` came from `System` with `layout`; the caller checked `new_size`.
        let moved = checked(unsafe { System.realloc(ptr, layout, new_size) }, new_size);
        if !moved.is_null() {
            release(layout.size());
        }
        moved
    }
}
