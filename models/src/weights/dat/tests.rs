use super::*;

/// Encode an integer the way dlib does.
fn int(v: i64) -> Vec<u8> {
    let mut magnitude = v.unsigned_abs();
    let mut bytes = Vec::new();
    loop {
        bytes.push((magnitude & 0xff) as u8);
        magnitude >>= 8;
        if magnitude == 0 {
            break;
        }
    }
    let sign = if v < 0 { 0x80 } else { 0 };
    let mut out = vec![sign | bytes.len() as u8];
    out.extend(bytes);
    out
}

fn tensor(values: &[f32]) -> Vec<u8> {
    let mut out = int(2);
    for dim in [values.len() as i64, 1, 1, 1] {
        out.extend(int(dim));
    }
    values.iter().for_each(|v| out.extend(v.to_le_bytes()));
    out
}

#[test]
fn integers_round_trip() {
    for v in [0, 1, 255, 256, 4736, -28, i64::from(i32::MAX), -70000] {
        let bytes = int(v);
        assert_eq!(read_int(&bytes, 0).unwrap(), (v, bytes.len()), "{v}");
    }
    assert_eq!(read_int(&[0x02, 0x80, 0x12], 0).unwrap(), (0x1280, 3));
    assert!(matches!(
        read_int(&[0x02, 0x80], 0),
        Err(DatError::Truncated { .. })
    ));
    assert!(matches!(
        read_int(&[0x09], 0),
        Err(DatError::Malformed { .. })
    ));
}

#[test]
fn tensor_reads_values_and_checks_version() {
    let bytes = tensor(&[1.5, -2.0]);
    assert_eq!(
        read_tensor(&bytes, 0).unwrap(),
        (vec![1.5, -2.0], bytes.len())
    );
    let mut wrong = bytes.clone();
    wrong[1] = 3;
    assert!(matches!(
        read_tensor(&wrong, 0),
        Err(DatError::Malformed { .. })
    ));
    let short = &bytes[..bytes.len() - 1];
    assert!(matches!(
        read_tensor(short, 0),
        Err(DatError::Truncated { .. })
    ));
}

fn conv_record() -> Vec<u8> {
    // 2 filters, 1 input channel, 1×2 kernel: 4 weights then 2 biases.
    let mut out = CON_TAG.to_vec();
    out.extend(tensor(&[1.0, 2.0, 3.0, 4.0, 0.5, -0.5]));
    for v in [2, 1, 2, 2, 2, 0, 0] {
        out.extend(int(v));
    }
    out.extend(b"\x01\x00trailing alias tensors etc");
    out
}

#[test]
fn finds_layers_in_order() {
    let mut file = b"\x01\x01\x01\x0dloss_metric_2 junk".to_vec();
    file.extend(conv_record());
    file.extend(AFFINE_TAG);
    file.extend(tensor(&[2.0, 3.0, 0.1, 0.2]));
    file.extend(FC_TAG);
    file.extend(int(1));
    file.extend(int(2));
    file.extend(tensor(&[7.0, 8.0]));
    let layers = parse_layers(&file).unwrap();
    let conv = &layers.convs[0];
    assert_eq!(
        (conv.num_filters, conv.in_channels, conv.kernel),
        (2, 1, (1, 2))
    );
    assert_eq!((conv.stride, conv.padding), ((2, 2), (0, 0)));
    assert_eq!(
        (conv.weight.clone(), conv.bias.clone()),
        (vec![1., 2., 3., 4.], vec![0.5, -0.5])
    );
    assert_eq!(layers.affines[0].gamma, vec![2.0, 3.0]);
    assert_eq!(layers.affines[0].beta, vec![0.1, 0.2]);
    assert_eq!(
        (layers.fcs[0].num_outputs, layers.fcs[0].num_inputs),
        (1, 2)
    );
    assert_eq!(layers.fcs[0].weight, vec![7.0, 8.0]);
}

#[test]
fn rejects_inconsistent_records() {
    let mut file = CON_TAG.to_vec();
    file.extend(tensor(&[1.0, 2.0, 3.0]));
    for v in [2, 1, 2, 1, 1, 0, 0] {
        file.extend(int(v));
    }
    assert!(matches!(
        parse_layers(&file),
        Err(DatError::Malformed { .. })
    ));
    let mut fc = FC_TAG.to_vec();
    fc.extend(int(2));
    fc.extend(int(2));
    fc.extend(tensor(&[1.0]));
    assert!(matches!(parse_layers(&fc), Err(DatError::Malformed { .. })));
}
