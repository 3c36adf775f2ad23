//! The matrix product both networks' fused convolutions use: `dst += lhs · rhs` with `gemm`
//! (the kernel candle's CPU `matmul` calls) on the calling thread. The callers spread whole
//! layers or bands of rows over the cores themselves, at a coarser grain than `gemm` would.

/// `dst[m×n] += lhs[m×k] · rhs[k×n]`; `lhs` row-major, `rhs` and `dst` given as (pointer, row
/// stride), columns contiguous.
///
/// # Safety
/// `rhs` must point to `k` readable rows of `n` values `rhs.1` apart, `dst` to `m` writable
/// rows of `n` values `dst.1` apart, not overlapping `lhs` or `rhs`.
pub(crate) unsafe fn add_strided(
    lhs: &[f32],
    rhs: (*const f32, usize),
    dst: (*mut f32, usize),
    (m, n, k): (usize, usize, usize),
) {
    assert!(lhs.len() >= m * k);
    // SAFETY: as promised by the caller; `lhs` is checked above.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.0,
            1,
            dst.1 as isize,
            true,
            lhs.as_ptr(),
            1,
            k as isize,
            rhs.0,
            1,
            rhs.1 as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// `dst[m×n] += lhs[m×k] · rhs[k×n]`, all three dense and row-major.
pub(crate) fn add(lhs: &[f32], rhs: &[f32], dst: &mut [f32], (m, n, k): (usize, usize, usize)) {
    assert!(rhs.len() >= k * n && dst.len() >= m * n);
    // SAFETY: `rhs` holds k rows of n values and `dst` m rows of n values (checked above), and
    // a `&mut` slice overlaps neither of the others.
    unsafe { add_strided(lhs, (rhs.as_ptr(), n), (dst.as_mut_ptr(), n), (m, n, k)) }
}
