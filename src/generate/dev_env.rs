//! The project's `.env`: a random development `JWT_SECRET`, so that `cargo run` works
//! at once with authorization on.
//!
//! Written by `rtgen new` after the planned files, and only when no `.env` exists:
//! it is a secret of this checkout, not a generated file. It is not in the manifest or
//! the plan, so snapshots, dry runs and anything comparing generated files never see
//! it; the generated `.gitignore` and `.dockerignore` list it.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;

/// The file name, relative to the project.
pub const FILE: &str = ".env";
/// Random bytes in the secret; written as twice as many hex digits (the service needs
/// at least 32 bytes).
const SECRET_BYTES: usize = 32;

/// What [`write_dev_env`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum DevEnv {
    Written,
    /// A `.env` was there already (from an earlier `rtgen new --force`, or the user's
    /// own): it is left as it is.
    Kept,
}

/// Writes `<project>/.env` with a fresh `JWT_SECRET` from the OS's random source,
/// unless the file exists. Never overwrites, even when the file appears meanwhile.
pub fn write_dev_env(project: &Path) -> io::Result<DevEnv> {
    let path = project.join(FILE);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A secret: readable by its owner only.
        options.mode(0o600);
    }
    let mut file = match options.open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(DevEnv::Kept),
        Err(e) => return Err(e),
    };
    let written = file
        .write_all(contents(&secret()?).as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        // No half-written secret left behind.
        drop(file);
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    Ok(DevEnv::Written)
}

/// 64 hex digits of OS randomness.
fn secret() -> io::Result<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn contents(secret: &str) -> String {
    format!(
        "# Development settings, read by the service when it starts; variables already set\n\
         # in the environment win. Written once by `rtgen new`. Never commit or ship this\n\
         # file (.gitignore and .dockerignore list it): production sets its own JWT_SECRET\n\
         # or JWT_PUBLIC_KEY.\n\
         JWT_SECRET={secret}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_fresh_secret_once() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(write_dev_env(dir.path()).unwrap(), DevEnv::Written);
        let first = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        let secret = first
            .lines()
            .find_map(|line| line.strip_prefix("JWT_SECRET="))
            .unwrap();
        assert_eq!(secret.len(), 64);
        assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(write_dev_env(dir.path()).unwrap(), DevEnv::Kept);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(FILE)).unwrap(),
            first
        );
        let other = tempfile::tempdir().unwrap();
        write_dev_env(other.path()).unwrap();
        assert_ne!(
            std::fs::read_to_string(other.path().join(FILE)).unwrap(),
            first
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_its_owner_may_read_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        write_dev_env(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
