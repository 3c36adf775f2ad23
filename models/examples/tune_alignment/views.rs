//! `--views FILE`: every usable photo's dlib chip under small jitters (rotation, scale, shift),
//! each also mirrored, embedded once by the raw dlib network (no unit-length scaling) and
//! written to FILE; then the named specs (`0+1/n`: views 0 and 1, each scaled to unit length,
//! averaged) are scored without embedding again. How `align-3` was chosen (docs/ACCURACY.md).

use super::*;
use rollcall_models::align::dlib_chip::ChipDetails;
use rollcall_models::matching::{EMBEDDING_DIM, Embedding};
use std::io::Read;

/// (rotation in degrees, scale of the chip rectangle, shift x, shift y as a share of its side)
pub const JITTERS: [(f64, f64, f64, f64); 9] = [
    (0.0, 1.0, 0.0, 0.0),
    (3.0, 1.0, 0.0, 0.0),
    (-3.0, 1.0, 0.0, 0.0),
    (0.0, 0.97, 0.0, 0.0),
    (0.0, 1.03, 0.0, 0.0),
    (0.0, 1.0, 0.02, 0.0),
    (0.0, 1.0, -0.02, 0.0),
    (0.0, 1.0, 0.0, 0.02),
    (0.0, 1.0, 0.0, -0.02),
];
/// Views: jitter j plain is 2j, mirrored 2j + 1.
pub const VIEWS: usize = JITTERS.len() * 2;

fn jitter(d: &ChipDetails, (rot, scale, sx, sy): (f64, f64, f64, f64)) -> ChipDetails {
    let r = d.rect;
    let side = r.right - r.left + 1.0;
    let (cx, cy) = ((r.left + r.right) / 2.0, (r.top + r.bottom) / 2.0);
    let (sin, cos) = d.angle.sin_cos();
    let (dx, dy) = (sx * side, sy * side);
    let (cx, cy) = (cx + cos * dx - sin * dy, cy + sin * dx + cos * dy);
    let half = (side * scale - 1.0) / 2.0;
    ChipDetails {
        rect: rollcall_models::align::dlib_chip::DRect {
            left: cx - half,
            top: cy - half,
            right: cx + half,
            bottom: cy + half,
        },
        angle: d.angle + rot.to_radians(),
        size: d.size,
    }
}

pub fn dump(
    embedder: &DlibResnet,
    sp: &ShapePredictor,
    photos: &[Photo],
    path: &Path,
) -> Result<(), Error> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    out.write_all(&(photos.len() as u32).to_le_bytes())?;
    out.write_all(&(VIEWS as u32).to_le_bytes())?;
    let started = Instant::now();
    for (i, p) in photos.iter().enumerate() {
        out.write_all(&(p.person as u32).to_le_bytes())?;
        let Some(det) = p.detection() else {
            out.write_all(&[0])?;
            continue;
        };
        out.write_all(&[1])?;
        let image = load_image(&p.path, ImageLimits::default())?;
        let rect = box_from_detection(&det, &SpBoxFit::FITTED);
        let pts: [[f64; 2]; 5] = sp
            .predict(&image, &rect)
            .rounded()
            .try_into()
            .map_err(|_| "not a 5-point model")?;
        let details = face_chip_details(&pts, 150, 0.25)?;
        let mut chips = Vec::with_capacity(VIEWS);
        for j in JITTERS {
            let c = Chip::try_from(&extract_chip(&image, &jitter(&details, j)))?;
            chips.push(c.mirrored());
            chips.insert(chips.len() - 1, c);
        }
        for d in embedder.embed_batch(&chips)? {
            for v in d {
                out.write_all(&v.to_le_bytes())?;
            }
        }
        if i % 200 == 0 {
            eprintln!("{i}/{} in {:.0?}", photos.len(), started.elapsed());
        }
    }
    Ok(())
}

pub struct Dump {
    pub persons: Vec<usize>,
    pub views: Vec<Option<Vec<[f32; EMBEDDING_DIM]>>>,
}

pub fn load(path: &Path) -> Result<Dump, Error> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    let mut at = 0;
    let mut take = |len: usize| {
        at += len;
        &bytes[at - len..at]
    };
    let mut u32_next = || u32::from_le_bytes(take(4).try_into().unwrap()) as usize;
    let (n, nv) = (u32_next(), u32_next());
    let mut dump = Dump {
        persons: Vec::new(),
        views: Vec::new(),
    };
    let mut at = 8;
    let mut take = |len: usize| {
        at += len;
        &bytes[at - len..at]
    };
    for _ in 0..n {
        dump.persons
            .push(u32::from_le_bytes(take(4).try_into().unwrap()) as usize);
        if take(1)[0] != 1 {
            dump.views.push(None);
            continue;
        }
        let vs = (0..nv)
            .map(|_| {
                let mut e = [0f32; EMBEDDING_DIM];
                for x in &mut e {
                    *x = f32::from_le_bytes(take(4).try_into().unwrap());
                }
                e
            })
            .collect();
        dump.views.push(Some(vs));
    }
    Ok(dump)
}

fn unit(e: &[f32; EMBEDDING_DIM]) -> [f32; EMBEDDING_DIM] {
    let n = e.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
    e.map(|v| v / n)
}

/// `spec`: view indices joined by `+`, or `all`, `plain` (even views), `mirror0` (0+1);
/// suffix `/n` to normalise each view first, `/N` to normalise the mean.
pub fn samples(dump: &Dump, spec: &str) -> Result<Vec<Sample>, Error> {
    let (set, norm) = spec.split_once('/').unwrap_or((spec, ""));
    let idx: Vec<usize> = match set {
        "all" => (0..VIEWS).collect(),
        "plain" => (0..VIEWS).step_by(2).collect(),
        s => s.split('+').map(|v| v.parse()).collect::<Result<_, _>>()?,
    };
    Ok(dump
        .persons
        .iter()
        .zip(&dump.views)
        .map(|(&person, vs)| Sample {
            person,
            grade: Grade::Good,
            embedding: vs.as_ref().map(|vs| {
                let mut m = [0f32; EMBEDDING_DIM];
                for &i in &idx {
                    let e = if norm.contains('n') {
                        unit(&vs[i])
                    } else {
                        vs[i]
                    };
                    for (a, b) in m.iter_mut().zip(e) {
                        *a += b / idx.len() as f32;
                    }
                }
                Embedding(if norm.contains('N') { unit(&m) } else { m })
            }),
        })
        .collect())
}
