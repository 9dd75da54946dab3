//! `lyncsh serve` under test: its own port, store, host key, the
//! accounts' authorized_keys files and its log in a temporary directory,
//! killed when dropped; and the
//! two clients that talk to it, OpenSSH's `ssh` and `lyncsh -HostName`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{LIMIT, Run, TempDir, bin, local, run_bounded};

/// Are OpenSSH's `ssh` and `ssh-keygen` here? (.ci/run installs them;
/// under CI their absence fails the test.)
pub fn have_ssh() -> bool {
    let ok = Command::new("ssh")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("ssh-keygen")
            .arg("-?")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
    if !ok {
        super::skip("ssh or ssh-keygen is missing (.ci/run installs openssh-client)");
    }
    ok
}

pub fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", ""])
        .arg("-f")
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
}

pub struct Server {
    child: Child,
    pub port: u16,
    // Last: the directory goes after the server that uses it.
    pub dir: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// A server with roles: admin (CsAdministrator), viewer
    /// (CsViewOnlyAdministrator), useradmin (CsUserAdministrator).
    /// `key` may log in; `stranger` may not. `{dir}` in `extra` stands for
    /// the server's directory, which has an empty `share/`.
    pub fn start(extra: &[&str]) -> Server {
        let dir = TempDir::new("ssh");
        std::fs::create_dir_all(dir.path("share")).expect("share dir");
        keygen(&dir.path("key"));
        keygen(&dir.path("stranger"));
        keygen(&dir.path("viewerkey"));
        // One file per account (`--authorized-keys …/%u`): `key` is every
        // account's (`nobody` has no role, so the store refuses it), and
        // `viewerkey` is only viewer's.
        std::fs::create_dir_all(dir.path("authorized_keys")).expect("keys dir");
        let key = std::fs::read_to_string(dir.path("key.pub")).expect("key.pub");
        let viewer_key = std::fs::read_to_string(dir.path("viewerkey.pub")).expect("viewerkey.pub");
        for account in ["admin", "useradmin", "nobody"] {
            std::fs::write(dir.path(&format!("authorized_keys/{account}")), &key).expect("keys");
        }
        std::fs::write(
            dir.path("authorized_keys/viewer"),
            format!("{key}{viewer_key}"),
        )
        .expect("keys");
        let store = dir.path("store.db");
        let local = local(
            &store,
            "Add-CsAdminRoleMember -Role CsAdministrator -Member admin; \
             Add-CsAdminRoleMember -Role CsViewOnlyAdministrator -Member viewer; \
             Add-CsAdminRoleMember -Role CsUserAdministrator -Member useradmin",
        );
        assert_eq!(local.code, Some(0), "{}", local.stderr);
        let mut child = Command::new(bin())
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--store"])
            .arg(&store)
            .arg("--host-key")
            .arg(dir.path("host_key"))
            .arg("--authorized-keys")
            .arg(dir.path("authorized_keys/%u"))
            .args(
                extra
                    .iter()
                    .map(|a| a.replace("{dir}", &dir.root().to_string_lossy())),
            )
            // Visible to the server, never to its sessions.
            .env("LYNCSH_STORE", &store)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path("server.log")).expect("server.log"))
            .spawn()
            .expect("start server");
        let stdout = child.stdout.take().expect("server stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server says where it listens");
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Server { child, port, dir }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote on its standard error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path("server.log")).unwrap_or_default()
    }

    /// Replaces `account`'s authorized_keys file (read on every login).
    pub fn authorize(&self, account: &str, lines: &str) {
        std::fs::write(self.dir.path(&format!("authorized_keys/{account}")), lines)
            .expect("authorized_keys");
    }

    /// The public key line of `key` (a file in the server's directory).
    pub fn public_key(&self, key: &str) -> String {
        std::fs::read_to_string(self.dir.path(&format!("{key}.pub"))).expect("public key")
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path("store.db")
    }

    /// OpenSSH's client with `key` as `user`, quiet and non-interactive,
    /// trusting this server's fresh host key.
    pub fn ssh_command(&self, key: &str, user: &str) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.arg("-p")
            .arg(self.port.to_string())
            .arg("-i")
            .arg(self.dir.path(key))
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "LogLevel=ERROR",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "ConnectTimeout=20",
                "-F",
                "/dev/null",
                "-l",
                user,
            ]);
        cmd
    }

    /// Runs `ssh [args] 127.0.0.1` with `input`.
    pub fn ssh(&self, key: &str, user: &str, args: &[&str], input: &str) -> Run {
        let mut cmd = self.ssh_command(key, user);
        cmd.arg("127.0.0.1").args(args);
        run_bounded(cmd, input.as_bytes(), LIMIT)
    }

    pub fn exec(&self, user: &str, script: &str) -> Run {
        self.ssh("key", user, &[script], "")
    }

    /// `lyncsh -HostName user@127.0.0.1:PORT -KeyFilePath key`, with a home
    /// of its own (for ~/.ssh/known_hosts) and a history file in the
    /// server's directory.
    pub fn client(&self, user: &str) -> Command {
        self.client_with_key(user, "key")
    }

    pub fn client_with_key(&self, user: &str, key: &str) -> Command {
        let mut cmd = Command::new(bin());
        cmd.arg("-HostName")
            .arg(format!("{user}@127.0.0.1:{}", self.port))
            .arg("-KeyFilePath")
            .arg(self.dir.path(key))
            .env("HOME", self.dir.path("home"))
            .env("LYNCSH_HISTORY", self.dir.path("history.txt"));
        cmd
    }
}
