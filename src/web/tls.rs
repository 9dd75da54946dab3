//! The Control Panel's certificate: the one given with `--tls-cert` and
//! `--tls-key` (PEM), or a self-signed one for localhost made on first
//! start and kept beside the SSH host key, so browsers see the same
//! certificate after a restart.

use std::path::{Path, PathBuf};

use super::WebError;

/// Where the certificate and key come from.
#[derive(Debug, Clone)]
pub enum Tls {
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
    /// Made on first start at `dir/control-panel.crt` and `.key`.
    SelfSigned {
        dir: PathBuf,
    },
    /// Plain HTTP (loopback only, when asked).
    Off,
}

/// The PEM files to serve with, making the self-signed pair when absent.
pub fn files(tls: &Tls) -> Result<Option<(PathBuf, PathBuf)>, WebError> {
    match tls {
        Tls::Off => Ok(None),
        Tls::Files { cert, key } => Ok(Some((cert.clone(), key.clone()))),
        Tls::SelfSigned { dir } => {
            let cert = dir.join("control-panel.crt");
            let key = dir.join("control-panel.key");
            if !cert.exists() || !key.exists() {
                make_self_signed(&cert, &key)?;
            }
            Ok(Some((cert, key)))
        }
    }
}

fn make_self_signed(cert: &Path, key: &Path) -> Result<(), WebError> {
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| WebError::Certificate(e.to_string()))?;
    if let Some(dir) = cert.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| WebError::Write {
            path: dir.to_path_buf(),
            source: e,
        })?;
    }
    write_private(key, made.key_pair.serialize_pem().as_bytes())?;
    std::fs::write(cert, made.cert.pem()).map_err(|e| WebError::Write {
        path: cert.to_path_buf(),
        source: e,
    })?;
    Ok(())
}

/// Writes the key readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), WebError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path).map_err(|e| WebError::Write {
        path: path.to_path_buf(),
        source: e,
    })?;
    f.write_all(bytes).map_err(|e| WebError::Write {
        path: path.to_path_buf(),
        source: e,
    })
}
