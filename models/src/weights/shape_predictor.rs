//! dlib's shape predictor (an ensemble of regression trees, Kazemi & Sullivan 2014): read its
//! `.dat` serialisation and name its arrays for our safetensors file.
//!
//! Serialisation (dlib `serialize(shape_predictor)`, version 1), integers as in [`super::dat`],
//! a float as integer mantissa then integer exponent (`m·2^e`), a `matrix<float,0,1>` as
//! `−rows`, `−cols` then its floats, a `std::vector` as its length then its elements:
//!
//! 1. version (1);
//! 2. `initial_shape`: the mean shape, `2·parts` floats (x, y interleaved) in the unit box;
//! 3. `forests`: per cascade, per tree: `splits` (each `idx1`, `idx2`, `thresh`: go left,
//!    node `2i+1`, when `pixel[idx1] − pixel[idx2] > thresh`, else right, `2i+2`) and
//!    `leaf_values` (each a `2·parts` shape increment);
//! 4. `anchor_idx`: per cascade, per feature pixel, the shape point it hangs from;
//! 5. `deltas`: per cascade, per feature pixel, its offset (x, y) from that point.
//!
//! Tensor names in `shape_predictor_5.safetensors` (C cascades, T trees per cascade, S splits
//! and L = S + 1 leaves per tree, F feature pixels per cascade, P parts):
//!
//! | name | dtype | shape |
//! |---|---|---|
//! | `initial_shape` | f32 | `[P, 2]` |
//! | `splits` | i64 | `[C, T, S, 2]` (`idx1`, `idx2`) |
//! | `thresholds` | f32 | `[C, T, S]` |
//! | `leaf_values` | f32 | `[C, T, L, P, 2]` |
//! | `anchor_idx` | i64 | `[C, F]` |
//! | `deltas` | f32 | `[C, F, 2]` |
//!
//! Pure functions over bytes; nothing here runs the predictor (see [`crate::landmarks`]).

use super::{
    dat::{DatError, read_int},
    error::WeightsError,
    write::NamedTensor,
};

/// The arrays of a shape predictor, flattened in the layouts of the table above.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShapePredictorParams {
    pub parts: usize,
    pub cascades: usize,
    pub trees: usize,
    pub splits_per_tree: usize,
    pub features: usize,
    pub initial_shape: Vec<f32>,
    /// `idx1, idx2` per split.
    pub splits: Vec<[u32; 2]>,
    pub thresholds: Vec<f32>,
    pub leaf_values: Vec<f32>,
    pub anchor_idx: Vec<u32>,
    pub deltas: Vec<f32>,
}

impl ShapePredictorParams {
    /// Leaves per tree.
    pub fn leaves(&self) -> usize {
        self.splits_per_tree + 1
    }

    /// Checks sizes and indices, so that running the predictor cannot index out of bounds.
    pub fn validate(&self) -> Result<(), WeightsError> {
        let (c, t, s, f, p) = (
            self.cascades,
            self.trees,
            self.splits_per_tree,
            self.features,
            self.parts,
        );
        let sizes = [
            (self.initial_shape.len(), 2 * p),
            (self.splits.len(), c * t * s),
            (self.thresholds.len(), c * t * s),
            (self.leaf_values.len(), c * t * (s + 1) * 2 * p),
            (self.anchor_idx.len(), c * f),
            (self.deltas.len(), c * f * 2),
        ];
        if p == 0 || sizes.iter().any(|(got, want)| got != want) {
            return Err(layout(format!("inconsistent array sizes {sizes:?}")));
        }
        if !(s + 1).is_power_of_two() {
            return Err(layout(format!("{s} splits per tree: not a full tree")));
        }
        let bad_split = self.splits.iter().flatten().any(|&i| i as usize >= f);
        let bad_anchor = self.anchor_idx.iter().any(|&i| i as usize >= p);
        if bad_split || bad_anchor {
            return Err(layout("feature or anchor index out of range".into()));
        }
        Ok(())
    }

    /// The named tensors of our safetensors file.
    pub(crate) fn tensors(&self) -> Vec<NamedTensor> {
        let (c, t, s, f, p) = (
            self.cascades,
            self.trees,
            self.splits_per_tree,
            self.features,
            self.parts,
        );
        let splits: Vec<i64> = self
            .splits
            .iter()
            .flatten()
            .map(|&i| i64::from(i))
            .collect();
        let anchors: Vec<i64> = self.anchor_idx.iter().map(|&i| i64::from(i)).collect();
        vec![
            NamedTensor::f32("initial_shape", vec![p, 2], &self.initial_shape),
            NamedTensor::i64("splits", vec![c, t, s, 2], &splits),
            NamedTensor::f32("thresholds", vec![c, t, s], &self.thresholds),
            NamedTensor::f32("leaf_values", vec![c, t, s + 1, p, 2], &self.leaf_values),
            NamedTensor::i64("anchor_idx", vec![c, f], &anchors),
            NamedTensor::f32("deltas", vec![c, f, 2], &self.deltas),
        ]
    }
}

fn layout(msg: String) -> WeightsError {
    WeightsError::Layout(format!("shape predictor: {msg}"))
}

/// Parses a dlib `shape_predictor` `.dat` file. Every tree must be full and of the same
/// depth, every cascade the same size (true of the models dlib publishes).
pub fn parse(data: &[u8]) -> Result<ShapePredictorParams, WeightsError> {
    let mut r = Reader { data, at: 0 };
    let version = r.int("version")?;
    if version != 1 {
        return Err(layout(format!("version {version}, expected 1")));
    }
    let initial_shape = r.column("initial_shape")?;
    if initial_shape.len() % 2 != 0 {
        return Err(layout(format!("odd initial shape {}", initial_shape.len())));
    }
    let mut params = ShapePredictorParams {
        parts: initial_shape.len() / 2,
        initial_shape,
        ..ShapePredictorParams::default()
    };
    read_forests(&mut r, &mut params)?;
    read_anchors(&mut r, &mut params)?;
    read_deltas(&mut r, &mut params)?;
    params.validate()?;
    Ok(params)
}

fn read_forests(r: &mut Reader<'_>, params: &mut ShapePredictorParams) -> Result<(), WeightsError> {
    params.cascades = r.len("forests")?;
    for cascade in 0..params.cascades {
        let trees = r.len("forest")?;
        if cascade == 0 {
            params.trees = trees;
        }
        if trees != params.trees {
            return Err(layout(format!("cascade {cascade} has {trees} trees")));
        }
        for _ in 0..trees {
            read_tree(r, params)?;
        }
    }
    Ok(())
}

fn read_tree(r: &mut Reader<'_>, params: &mut ShapePredictorParams) -> Result<(), WeightsError> {
    let splits = r.len("splits")?;
    if params.splits.is_empty() {
        params.splits_per_tree = splits;
    }
    if splits != params.splits_per_tree {
        return Err(layout(format!("a tree with {splits} splits")));
    }
    for _ in 0..splits {
        let idx1 = r.index("split idx1")?;
        let idx2 = r.index("split idx2")?;
        params.splits.push([idx1, idx2]);
        params.thresholds.push(r.float("split threshold")?);
    }
    let leaves = r.len("leaf_values")?;
    if leaves != splits + 1 {
        return Err(layout(format!("{leaves} leaves for {splits} splits")));
    }
    for _ in 0..leaves {
        let leaf = r.column("leaf value")?;
        if leaf.len() != 2 * params.parts {
            return Err(layout(format!("leaf of {} values", leaf.len())));
        }
        params.leaf_values.extend(leaf);
    }
    Ok(())
}

fn read_anchors(r: &mut Reader<'_>, params: &mut ShapePredictorParams) -> Result<(), WeightsError> {
    let cascades = r.len("anchor_idx")?;
    for cascade in 0..cascades {
        let n = r.len("anchors")?;
        if cascade == 0 {
            params.features = n;
        }
        if n != params.features {
            return Err(layout(format!("cascade {cascade} has {n} feature pixels")));
        }
        for _ in 0..n {
            params.anchor_idx.push(r.index("anchor")?);
        }
    }
    if cascades != params.cascades {
        return Err(layout(format!("{cascades} anchor sets")));
    }
    Ok(())
}

fn read_deltas(r: &mut Reader<'_>, params: &mut ShapePredictorParams) -> Result<(), WeightsError> {
    let cascades = r.len("deltas")?;
    for _ in 0..cascades {
        let n = r.len("cascade deltas")?;
        if n != params.features {
            return Err(layout(format!("{n} deltas for {} pixels", params.features)));
        }
        for _ in 0..2 * n {
            params.deltas.push(r.float("delta")?);
        }
    }
    if cascades != params.cascades {
        return Err(layout(format!("{cascades} delta sets")));
    }
    Ok(())
}

/// A cursor over dlib-serialised data.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn int(&mut self, what: &'static str) -> Result<i64, DatError> {
        let (v, next) = read_int(self.data, self.at).map_err(|e| rename(e, what))?;
        self.at = next;
        Ok(v)
    }

    /// A non-negative integer used as a count or index (bounded to keep allocations sane).
    fn count(&mut self, what: &'static str, max: i64) -> Result<i64, DatError> {
        let at = self.at;
        let v = self.int(what)?;
        if !(0..=max).contains(&v) {
            let detail = format!("{v} out of 0..={max}");
            return Err(DatError::Malformed { at, what, detail });
        }
        Ok(v)
    }

    fn len(&mut self, what: &'static str) -> Result<usize, DatError> {
        Ok(self.count(what, 1 << 24)? as usize)
    }

    fn index(&mut self, what: &'static str) -> Result<u32, DatError> {
        Ok(self.count(what, i64::from(u32::MAX))? as u32)
    }

    /// dlib's portable float: mantissa and base-2 exponent (32000‥32002: ±∞, NaN).
    fn float(&mut self, what: &'static str) -> Result<f32, DatError> {
        let mantissa = self.int(what)?;
        let exponent = self.int(what)?;
        Ok(match exponent {
            32000 => f32::INFINITY,
            32001 => f32::NEG_INFINITY,
            32002 => f32::NAN,
            e => (mantissa as f64 * 2f64.powi(e.clamp(-2000, 2000) as i32)) as f32,
        })
    }

    /// A `matrix<float,0,1>`: `−rows`, `−cols` (positive in dlib's old format), values.
    fn column(&mut self, what: &'static str) -> Result<Vec<f32>, DatError> {
        let at = self.at;
        let rows = self.int(what)?.unsigned_abs();
        let cols = self.int(what)?.unsigned_abs();
        if cols != 1 || rows > 1 << 20 {
            let detail = format!("{rows}×{cols}, expected a column");
            return Err(DatError::Malformed { at, what, detail });
        }
        (0..rows).map(|_| self.float(what)).collect()
    }
}

fn rename(e: DatError, what: &'static str) -> DatError {
    match e {
        DatError::Truncated { at, .. } => DatError::Truncated { at, what },
        DatError::Malformed { at, detail, .. } => DatError::Malformed { at, what, detail },
    }
}

#[cfg(test)]
mod tests;
