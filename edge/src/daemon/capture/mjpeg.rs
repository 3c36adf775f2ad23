//! Splits an MJPEG byte stream (one JPEG after another, as `rpicam-vid --codec mjpeg -o -`
//! writes it) into whole JPEG files. Pure: bytes in, frames out, no I/O.
//!
//! A frame is found by walking the JPEG's marker segments by their lengths up to the start
//! of scan, then its entropy-coded data, where `FF` is always followed by `00` (stuffing) or a
//! restart marker until the next real marker. So an `FF D9` inside an EXIF thumbnail never
//! ends a frame early. Bytes that are not a frame (a truncated one, noise before the first
//! `FF D8`) are skipped, and a frame larger than the limit is dropped rather than buffered.

/// Start of image.
const SOI: u8 = 0xD8;
/// End of image.
const EOI: u8 = 0xD9;
/// Start of scan: entropy-coded data follows its header.
const SOS: u8 = 0xDA;

/// Frames from a stream fed in chunks of any size.
#[derive(Debug)]
pub struct Splitter {
    buffer: Vec<u8>,
    max_frame: usize,
    /// Bytes thrown away: noise, truncated or oversized frames.
    pub skipped: u64,
}

/// Where one parse of the buffer got to.
#[derive(Debug, PartialEq, Eq)]
enum Scan {
    /// A whole frame: `buffer[..end]`.
    Frame { end: usize },
    /// The frame goes on past the buffer: wait for more bytes.
    Incomplete,
    /// Not a JPEG from here: drop `skip` bytes and look for the next start.
    Corrupt { skip: usize },
}

impl Splitter {
    /// A splitter that drops frames longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        Self {
            buffer: Vec::new(),
            max_frame,
            skipped: 0,
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole frame, if the bytes so far hold one.
    pub fn next_frame(&mut self) -> Option<Vec<u8>> {
        loop {
            self.align_to_start();
            match scan(&self.buffer) {
                Scan::Frame { end } if end > self.max_frame => self.discard(end),
                Scan::Frame { end } => return Some(self.buffer.drain(..end).collect()),
                Scan::Corrupt { skip } => self.discard(skip),
                Scan::Incomplete if self.buffer.len() > self.max_frame => self.discard(2),
                Scan::Incomplete => return None,
            }
        }
    }

    /// Drops everything before the first `FF D8` (keeping a last `FF` that may start one).
    fn align_to_start(&mut self) {
        let start = match self.buffer.windows(2).position(|w| w == [0xFF, SOI]) {
            Some(at) => at,
            None if self.buffer.last() == Some(&0xFF) => self.buffer.len() - 1,
            None => self.buffer.len(),
        };
        self.discard(start);
    }

    fn discard(&mut self, n: usize) {
        let n = n.min(self.buffer.len());
        self.skipped += n as u64;
        self.buffer.drain(..n);
    }
}

/// Parses the JPEG that `bytes` starts with (`FF D8` at 0).
fn scan(bytes: &[u8]) -> Scan {
    if bytes.len() < 2 {
        return Scan::Incomplete;
    }
    let mut at = 2;
    loop {
        let Some(&first) = bytes.get(at) else {
            return Scan::Incomplete;
        };
        if first != 0xFF {
            return Scan::Corrupt { skip: 2 };
        }
        // Any number of FF fill bytes may come before a marker.
        let Some(marker_at) = bytes[at..].iter().position(|&b| b != 0xFF).map(|p| at + p) else {
            return Scan::Incomplete;
        };
        let marker = bytes[marker_at];
        at = marker_at + 1;
        match marker {
            EOI => return Scan::Frame { end: at },
            SOI | 0x00 => return Scan::Corrupt { skip: 2 },
            0x01 | 0xD0..=0xD7 => {}
            _ => {
                let Some(length) = segment_length(bytes, at) else {
                    return Scan::Incomplete;
                };
                if length < 2 {
                    return Scan::Corrupt { skip: 2 };
                }
                at += length;
                if marker == SOS {
                    match entropy_end(bytes, at) {
                        Some(end) => at = end,
                        None => return Scan::Incomplete,
                    }
                }
            }
        }
    }
}

/// The big-endian length at `at`, which counts its own two bytes.
fn segment_length(bytes: &[u8], at: usize) -> Option<usize> {
    let pair = bytes.get(at..at + 2)?;
    Some(usize::from(u16::from_be_bytes([pair[0], pair[1]])))
}

/// Where the entropy-coded data starting at `from` ends: the next `FF` that starts a marker
/// (not `FF 00` stuffing, a restart marker or an `FF` fill byte).
fn entropy_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let ff = at + bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
        match bytes.get(ff + 1)? {
            0x00 | 0xD0..=0xD7 | 0xFF => at = ff + 1,
            _ => return Some(ff),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small but well-formed JPEG-shaped frame: SOI, an APP1 holding `FF D9`, SOS with
    /// stuffed and restart bytes in its data, then fill bytes before EOI.
    fn frame(tag: u8) -> Vec<u8> {
        let mut f = vec![0xFF, SOI];
        f.extend([0xFF, 0xE1, 0x00, 0x06, 0xFF, EOI, tag, 0x00]);
        f.extend([0xFF, SOS, 0x00, 0x04, 0x01, 0x02]);
        f.extend([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, tag, 0x56]);
        f.extend([0xFF, 0xFF, EOI]);
        f
    }

    fn split_in_chunks(stream: &[u8], chunk: usize) -> (Vec<Vec<u8>>, u64) {
        let mut splitter = Splitter::new(1 << 20);
        let mut frames = Vec::new();
        for piece in stream.chunks(chunk) {
            splitter.push(piece);
            while let Some(f) = splitter.next_frame() {
                frames.push(f);
            }
        }
        (frames, splitter.skipped)
    }

    #[test]
    fn frames_come_out_whole_whatever_the_chunk_size() {
        let stream: Vec<u8> = [frame(1), frame(2), frame(3)].concat();
        for chunk in [1, 2, 3, 7, 64, stream.len()] {
            let (frames, skipped) = split_in_chunks(&stream, chunk);
            assert_eq!(frames, [frame(1), frame(2), frame(3)], "chunks of {chunk}");
            assert_eq!(skipped, 0);
        }
    }

    #[test]
    fn an_end_marker_inside_a_header_segment_does_not_end_the_frame() {
        let (frames, _) = split_in_chunks(&frame(9), 4);
        assert_eq!(frames, [frame(9)]);
    }

    #[test]
    fn noise_and_a_truncated_frame_are_skipped() {
        // A process that dies mid-frame stops somewhere in its entropy-coded data.
        let truncated = &frame(1)[..20];
        let stream: Vec<u8> = [&[0x00, 0x42, 0xFF][..], truncated, &frame(2)].concat();
        let (frames, skipped) = split_in_chunks(&stream, 5);
        assert_eq!(frames, [frame(2)]);
        assert_eq!(skipped, 3 + truncated.len() as u64);
    }

    #[test]
    fn an_oversized_frame_is_dropped_not_buffered() {
        let mut big = frame(1);
        big.splice(16..16, std::iter::repeat_n(0x11, 5_000));
        let mut splitter = Splitter::new(1_000);
        splitter.push(&big);
        assert_eq!(splitter.next_frame(), None);
        assert!(splitter.buffer.len() <= 1_000, "{}", splitter.buffer.len());
        splitter.push(&frame(2));
        let mut out = Vec::new();
        while let Some(f) = splitter.next_frame() {
            out.push(f);
        }
        assert_eq!(out, [frame(2)]);
    }

    #[test]
    fn a_real_jpeg_is_one_frame() {
        let image =
            image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
            .encode_image(&image)
            .unwrap();
        let stream = [jpeg.clone(), jpeg.clone()].concat();
        let (frames, skipped) = split_in_chunks(&stream, 100);
        assert_eq!(frames, [jpeg.clone(), jpeg]);
        assert_eq!(skipped, 0);
    }
}
