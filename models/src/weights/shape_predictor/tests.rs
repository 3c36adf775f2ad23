use super::*;

/// Encodes like dlib's `serialize`.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn int(&mut self, v: i64) -> &mut Self {
        let mut magnitude = v.unsigned_abs();
        let mut bytes = Vec::new();
        while magnitude != 0 {
            bytes.push((magnitude & 0xff) as u8);
            magnitude >>= 8;
        }
        let sign = if v < 0 { 0x80 } else { 0 };
        self.0.push(sign | bytes.len() as u8);
        self.0.extend(bytes);
        self
    }

    /// dlib's float_details for values that are exact binary fractions.
    fn float(&mut self, v: f32) -> &mut Self {
        let exponent = -16i64;
        let mantissa = (f64::from(v) * 65536.0) as i64;
        self.int(mantissa).int(exponent)
    }

    fn column(&mut self, values: &[f32]) -> &mut Self {
        self.int(-(values.len() as i64)).int(-1);
        values.iter().for_each(|&v| {
            self.float(v);
        });
        self
    }
}

/// One cascade of one depth-1 tree over two parts and two feature pixels.
fn tiny() -> Vec<u8> {
    let mut w = Writer::default();
    w.int(1).column(&[0.25, 0.5, 0.75, 0.5]);
    w.int(1).int(1); // forests: 1 cascade of 1 tree
    w.int(1).int(0).int(1).float(-3.5); // 1 split: idx 0, 1, thresh
    w.int(2)
        .column(&[1.0, 0.0, 0.0, 0.0])
        .column(&[0.0, 0.0, 0.0, -1.0]);
    w.int(1).int(2).int(0).int(1); // anchor_idx
    w.int(1)
        .int(2)
        .float(0.125)
        .float(-0.25)
        .float(0.5)
        .float(1.0); // deltas
    w.0
}

#[test]
fn parses_a_tiny_predictor() {
    let p = parse(&tiny()).unwrap();
    assert_eq!(
        (p.parts, p.cascades, p.trees, p.splits_per_tree, p.features),
        (2, 1, 1, 1, 2)
    );
    assert_eq!(p.initial_shape, [0.25, 0.5, 0.75, 0.5]);
    assert_eq!(
        (p.splits.clone(), p.thresholds.clone()),
        (vec![[0, 1]], vec![-3.5])
    );
    assert_eq!(p.leaf_values[0], 1.0);
    assert_eq!(p.leaf_values[7], -1.0);
    assert_eq!(p.anchor_idx, [0, 1]);
    assert_eq!(p.deltas, [0.125, -0.25, 0.5, 1.0]);
    let names: Vec<String> = p.tensors().into_iter().map(|t| t.name).collect();
    assert_eq!(names.len(), 6, "{names:?}");
}

#[test]
fn rejects_truncated_and_wrong_files() {
    let bytes = tiny();
    for cut in [0, 1, 10, bytes.len() - 1] {
        assert!(parse(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut wrong = bytes.clone();
    wrong[1] = 2; // version 2
    assert!(matches!(parse(&wrong), Err(WeightsError::Layout(_))));
}

#[test]
fn validate_catches_out_of_range_indices() {
    let mut p = parse(&tiny()).unwrap();
    p.splits[0] = [0, 2];
    assert!(p.validate().is_err());
    let mut p = parse(&tiny()).unwrap();
    p.anchor_idx[1] = 5;
    assert!(p.validate().is_err());
}
