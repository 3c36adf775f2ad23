//! The models directory: resolving where it is and checking what is in it.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

use super::{
    error::WeightsError,
    sha::sha256_file,
    sources::{ALL, DLIB_RESNET, RETINAFACE, SHAPE_PREDICTOR_5, WeightFile},
};

/// The directory holding the converted weight files (`dlib_resnet_v1.safetensors`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelsDir {
    path: PathBuf,
}

impl ModelsDir {
    /// Environment variable naming the models directory.
    pub const ENV: &'static str = "ROLLCALL_MODELS_DIR";

    /// Use exactly this directory.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Resolve the directory: `explicit` > `$ROLLCALL_MODELS_DIR` >
    /// `$XDG_DATA_HOME/rollcall/models` > `$HOME/.local/share/rollcall/models`.
    pub fn resolve(explicit: Option<&Path>) -> Result<Self, WeightsError> {
        Self::resolve_with(explicit, |name| std::env::var_os(name))
    }

    /// [`ModelsDir::resolve`] with the environment injected (empty values count as unset).
    pub fn resolve_with(
        explicit: Option<&Path>,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Self, WeightsError> {
        let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let path = explicit
            .map(Path::to_path_buf)
            .or_else(|| var(Self::ENV))
            .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("rollcall/models")))
            .or_else(|| var("HOME").map(|h| h.join(".local/share/rollcall/models")))
            .ok_or(WeightsError::NoModelsDir)?;
        Ok(Self { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where `file` lives in this directory (whether or not it exists).
    pub fn file(&self, file: &WeightFile) -> PathBuf {
        self.path.join(file.file_name)
    }

    /// Path of the dlib ResNet embedder weights.
    pub fn dlib_resnet(&self) -> PathBuf {
        self.file(&DLIB_RESNET)
    }

    /// Path of the RetinaFace detector weights.
    pub fn retinaface(&self) -> PathBuf {
        self.file(&RETINAFACE)
    }

    /// Path of dlib's 5-point shape predictor.
    pub fn shape_predictor_5(&self) -> PathBuf {
        self.file(&SHAPE_PREDICTOR_5)
    }

    /// Check every weight file exists with its pinned SHA-256. The error names the first
    /// missing or corrupt file and tells the user to run `rollcall-edge models fetch`.
    pub fn check(&self) -> Result<(), WeightsError> {
        ALL.iter().try_for_each(|f| self.check_file(f).map(drop))
    }

    /// Check one weight file; return its path if it is present and intact.
    pub fn check_file(&self, file: &WeightFile) -> Result<PathBuf, WeightsError> {
        let path = self.file(file);
        if !path.is_file() {
            return Err(WeightsError::Missing { path });
        }
        let actual = sha256_file(&path).map_err(WeightsError::io(&path))?;
        if actual != file.sha256 {
            let expected = file.sha256;
            return Err(WeightsError::Corrupt {
                path,
                expected,
                actual,
            });
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.into())
        }
    }

    #[test]
    fn explicit_path_wins() {
        let all = env(&[("ROLLCALL_MODELS_DIR", "/env"), ("HOME", "/home/u")]);
        let dir = ModelsDir::resolve_with(Some(Path::new("/x")), all).unwrap();
        assert_eq!(dir.path(), Path::new("/x"));
    }

    #[test]
    fn env_then_xdg_then_home() {
        let e = env(&[("ROLLCALL_MODELS_DIR", "/env"), ("XDG_DATA_HOME", "/xdg")]);
        assert_eq!(
            ModelsDir::resolve_with(None, e).unwrap().path(),
            Path::new("/env")
        );
        let x = env(&[
            ("ROLLCALL_MODELS_DIR", ""),
            ("XDG_DATA_HOME", "/xdg"),
            ("HOME", "/h"),
        ]);
        let xdg = ModelsDir::resolve_with(None, x).unwrap();
        assert_eq!(xdg.path(), Path::new("/xdg/rollcall/models"));
        let h = ModelsDir::resolve_with(None, env(&[("HOME", "/h")])).unwrap();
        assert_eq!(h.path(), Path::new("/h/.local/share/rollcall/models"));
        let none = ModelsDir::resolve_with(None, env(&[]));
        assert!(matches!(none, Err(WeightsError::NoModelsDir)));
    }

    #[test]
    fn check_names_missing_and_corrupt_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ModelsDir::new(tmp.path());
        let err = dir.check().unwrap_err();
        assert!(matches!(&err, WeightsError::Missing { path } if path == &dir.dlib_resnet()));
        assert!(err.to_string().contains("rollcall-edge models fetch"));
        std::fs::write(dir.dlib_resnet(), b"not weights").unwrap();
        let err = dir.check().unwrap_err();
        assert!(matches!(err, WeightsError::Corrupt { .. }), "{err}");
    }
}
