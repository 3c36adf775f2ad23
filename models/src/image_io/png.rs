//! A check on PNG palettes before the decoder sees them.
//!
//! png 0.18.1 (image's PNG decoder) panics while expanding a palette whose `PLTE` chunk is not
//! a whole number of RGB entries (140 bytes, say) when a `tRNS` chunk gives it alpha values:
//! an 8×8 file found by `fuzz/`'s `image_input` target. The hub and the door unit abort on a
//! panic, so such a file would take the process down. The PNG standard allows a palette of
//! 1 to 256 entries of 3 bytes only, so other lengths are refused before decoding.

const SIGNATURE_LEN: usize = 8;
/// A chunk's length and type before its data, and its CRC after.
const CHUNK_FRAMING: usize = 12;
const MAX_PALETTE_BYTES: usize = 256 * 3;

/// Why the PNG is refused, if a `PLTE` chunk is not 1 to 256 whole RGB entries.
pub fn unsupported_palette(bytes: &[u8]) -> Option<String> {
    chunks(bytes).find_map(|(kind, len)| {
        let whole = len > 0 && len % 3 == 0 && len <= MAX_PALETTE_BYTES;
        (&kind == b"PLTE" && !whole)
            .then(|| format!("PNG palette of {len} bytes is not 1 to 256 RGB entries"))
    })
}

/// The type and data length of each chunk, walked by their lengths, until one runs past the
/// end of `bytes`.
fn chunks(bytes: &[u8]) -> impl Iterator<Item = ([u8; 4], usize)> + '_ {
    let mut at = SIGNATURE_LEN;
    std::iter::from_fn(move || {
        let header = bytes.get(at..at.checked_add(8)?)?;
        let (len, kind) = header.split_at(4);
        let len = u32::from_be_bytes(len.try_into().ok()?) as usize;
        let kind: [u8; 4] = kind.try_into().ok()?;
        at = at.checked_add(CHUNK_FRAMING)?.checked_add(len)?;
        Some((kind, len))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&[0; 4]);
        out
    }

    fn png_with_palette(len: usize) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        out.extend(chunk(b"IHDR", &[0; 13]));
        out.extend(chunk(b"PLTE", &vec![7; len]));
        out.extend(chunk(b"IEND", &[]));
        out
    }

    #[test]
    fn whole_palettes_pass_and_others_are_refused() {
        for len in [3, 48, 768] {
            assert_eq!(unsupported_palette(&png_with_palette(len)), None, "{len}");
        }
        for len in [0, 2, 140, 771] {
            let why = unsupported_palette(&png_with_palette(len)).expect("refused");
            assert!(why.contains(&format!("{len} bytes")), "{why}");
        }
    }

    #[test]
    fn the_file_the_fuzzer_found_is_refused() {
        let bytes = include_bytes!("../../tests/fixtures/png-palette-partial-entry.png");
        assert!(unsupported_palette(bytes).is_some());
    }

    #[test]
    fn truncated_files_end_the_walk() {
        let whole = png_with_palette(6);
        for end in 0..whole.len() {
            let _ = unsupported_palette(&whole[..end]);
        }
    }
}
