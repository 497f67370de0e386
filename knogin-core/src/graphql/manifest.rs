//! Bundles from a manifest file: the operator's way to curate operations without code.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Bundle, BundleError, Bundles};

/// Why a manifest could not be loaded. Each names the file at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// A file could not be read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The manifest is not in the expected shape.
    #[error("{path} is not a bundle manifest: {error}")]
    Shape {
        /// The manifest.
        path: PathBuf,
        /// Where and why.
        error: serde_json::Error,
    },
    /// A bundle or one of its documents was refused.
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    bundles: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    scopes: Vec<String>,
    documents: Vec<PathBuf>,
}

impl Bundles {
    /// Loads the bundles of a JSON manifest: each with a `name`, the `scopes` a token needs,
    /// and its `documents`, paths of `.graphql` files relative to the manifest's folder.
    ///
    /// ```json
    /// {
    ///   "bundles": [
    ///     {
    ///       "name": "incident-sync",
    ///       "scopes": ["incidents:read"],
    ///       "documents": ["incident-sync/IncidentById.graphql"]
    ///     }
    ///   ]
    /// }
    /// ```
    pub fn load(manifest: &Path) -> Result<Self, ManifestError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|error| ManifestError::Read {
                path: path.to_owned(),
                error,
            })
        };
        let parsed: Manifest =
            serde_json::from_str(&read(manifest)?).map_err(|error| ManifestError::Shape {
                path: manifest.to_owned(),
                error,
            })?;
        let folder = manifest.parent().unwrap_or(Path::new("."));
        let mut bundles = Vec::with_capacity(parsed.bundles.len());
        for entry in parsed.bundles {
            let mut bundle = Bundle::new(&entry.name, &entry.scopes)?;
            for document in entry.documents {
                let path = folder.join(&document);
                bundle = bundle.named_document(&document.display().to_string(), &read(&path)?)?;
            }
            bundles.push(bundle);
        }
        Ok(Self::new(bundles)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("knogin-manifest-{}", crate::random::hex(8)));
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn a_manifest_loads_its_documents_relative_to_its_folder() {
        let dir = folder(&[
            (
                "bundles.json",
                r#"{"bundles":[{"name":"incident-sync","scopes":["incidents:read"],"documents":["ops/IncidentById.graphql"]}]}"#,
            ),
            (
                "ops/IncidentById.graphql",
                "query IncidentById($id: ID!) { incident(id: $id) { id } }\n",
            ),
        ]);
        let bundles = Bundles::load(&dir.join("bundles.json")).unwrap();
        let ops: Vec<&str> = bundles.bundles()[0].operations().collect();
        assert_eq!(ops, ["IncidentById"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn errors_name_the_file_at_fault() {
        let dir = folder(&[
            (
                "missing.json",
                r#"{"bundles":[{"name":"a","scopes":["incidents:read"],"documents":["nope.graphql"]}]}"#,
            ),
            ("typo.json", r#"{"bundles":[{"name":"a","scope":["x"]}]}"#),
            (
                "introspection.json",
                r#"{"bundles":[{"name":"a","scopes":["incidents:read"],"documents":["i.graphql"]}]}"#,
            ),
            ("i.graphql", "query I { __schema { types { name } } }"),
        ]);
        let message = |name: &str| Bundles::load(&dir.join(name)).unwrap_err().to_string();
        assert!(message("missing.json").contains("nope.graphql"));
        assert!(message("typo.json").contains("typo.json"));
        assert!(message("introspection.json").contains("i.graphql"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
