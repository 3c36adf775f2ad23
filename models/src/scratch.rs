//! Per-thread scratch memory for the convolutions' patch matrices.
//!
//! A patch matrix is built, multiplied and dropped once per layer and image; allocating and
//! zeroing a fresh one each time cost about 8 % of a photo's time (`memset` in the profile,
//! docs/PERFORMANCE.md). Each thread keeps one buffer instead, grown to the largest matrix
//! it has built. The buffer holds whatever the last user left in it: a user must write every
//! entry before reading it.

use std::cell::Cell;

thread_local! {
    static BUFFER: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` on this thread's scratch buffer cut to `len` values (stale contents, not zeros).
/// A nested call on the same thread gets a buffer of its own.
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buffer = BUFFER.take();
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    let result = f(&mut buffer[..len]);
    BUFFER.set(buffer);
    result
}

/// `n` images of `bias.len()` planes of `plane` values, each plane filled with its bias: the
/// output buffer a convolution adds its product to.
pub(crate) fn bias_planes(bias: &[f32], plane: usize, n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n * bias.len() * plane);
    for _ in 0..n {
        for b in bias {
            out.extend(std::iter::repeat_n(*b, plane));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_is_reused_and_nested_calls_get_their_own() {
        let first = with_scratch(8, |b| {
            b.fill(3.0);
            b.as_ptr() as usize
        });
        let (again, stale) = with_scratch(4, |b| (b.as_ptr() as usize, b.to_vec()));
        assert_eq!(first, again, "the same memory, not a new allocation");
        assert_eq!(stale, vec![3.0; 4], "contents are left as they were");
        with_scratch(2, |outer| {
            with_scratch(2, |inner| {
                inner.fill(1.0);
                assert_ne!(outer.as_ptr(), inner.as_ptr());
            })
        });
    }

    #[test]
    fn bias_planes_repeat_per_image() {
        assert_eq!(
            bias_planes(&[1.0, 2.0], 3, 2),
            [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
        );
    }
}
