//! The command line, in pwsh's style: `-File`, `-Command`, `-NoProfile`,
//! `-NonInteractive`, `-Version`, plus `check FILE…`. pwsh spells long
//! options with one dash and any case; they are rewritten to clap's form
//! before clap parses them.

use std::path::PathBuf;

use clap::Parser;

#[derive(Parser, Debug, Default)]
#[command(
    name = "lyncsh",
    about = "A PowerShell-compatible shell for Lync Server 2013 style configuration.",
    disable_version_flag = true
)]
pub struct Cli {
    /// Runs a script file; the arguments after it go to the script.
    #[arg(long = "file", value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Runs a command (everything after -Command is the command text).
    #[arg(long = "command", value_name = "TEXT", allow_hyphen_values = true)]
    pub command: Option<String>,
    /// Reads the script from standard input (`lyncsh -`).
    #[arg(long = "stdin", hide = true)]
    pub stdin: bool,
    /// Skips the profile script.
    #[arg(long = "no-profile")]
    pub no_profile: bool,
    /// Never prompts: Read-Host and confirmations fail instead.
    #[arg(long = "non-interactive")]
    pub non_interactive: bool,
    #[arg(long = "no-logo", hide = true)]
    pub no_logo: bool,
    /// Prints the version.
    #[arg(long = "version")]
    pub version: bool,
    /// The configuration store to use (default: $env:LYNCSH_STORE, else the
    /// user's data directory).
    #[arg(long = "store", value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Serves the `lyncsh` JSON-lines protocol on standard input and output
    /// (an sshd subsystem).
    #[arg(long = "sshs")]
    pub sshs: bool,
    /// With -sshs: lets the sessions read and write this machine's files.
    #[arg(long, requires = "sshs")]
    pub allow_file_system: bool,
    /// With -sshs: lets one account's sessions use the files under one
    /// directory, where they also start: ACCOUNT=DIR (repeatable; `*=DIR`
    /// for every account without an entry of its own).
    #[arg(long, value_name = "ACCOUNT=DIR", requires = "sshs")]
    pub allow_directory: Vec<String>,
    /// Runs the session on a `lyncsh serve` host over SSH:
    /// `user@host[:port]`. With -Command or -File the command runs there;
    /// otherwise the interactive shell talks to the remote session.
    #[arg(long = "host-name", value_name = "[USER@]HOST[:PORT]")]
    pub host_name: Option<String>,
    /// The account to log in as (default: the one in -HostName, else $USER).
    #[arg(long = "user-name", value_name = "NAME")]
    pub user_name: Option<String>,
    /// The SSH port (default: the one in -HostName, else 22).
    #[arg(long = "port", value_name = "N")]
    pub port: Option<u16>,
    /// The private key to log in with (default: ~/.ssh/id_ed25519, then
    /// id_ecdsa, then id_rsa).
    #[arg(long = "key-file-path", value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Arguments for the script given with -File.
    #[arg(skip)]
    pub script_args: Vec<String>,
}

/// `lyncsh check FILE…`
#[derive(Parser, Debug)]
#[command(
    name = "lyncsh check",
    about = "Parses scripts without running them and reports every syntax error."
)]
pub struct CheckArgs {
    /// Scripts to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// `lyncsh serve`
#[derive(Parser, Debug)]
#[command(
    name = "lyncsh serve",
    about = "Serves lyncsh sessions over SSH (exec, shell, and the lyncsh subsystem)."
)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:2222")]
    pub listen: String,
    /// The configuration store (default: $env:LYNCSH_STORE, else the user's data directory).
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// The ed25519 host key; made on first start (default: beside the store).
    #[arg(long, value_name = "PATH")]
    pub host_key: Option<PathBuf>,
    /// Each account's OpenSSH authorized_keys file: a path with sshd's %u
    /// token for the account name; a key logs in only as the account whose
    /// file holds it (default: authorized_keys/%u beside the store).
    #[arg(long, value_name = "PATH")]
    pub authorized_keys: Option<PathBuf>,
    /// Seconds one command may run.
    #[arg(long, default_value_t = 60)]
    pub command_timeout: u64,
    /// Most session channels open at once.
    #[arg(long, default_value_t = 64)]
    pub max_sessions: usize,
    /// Most session channels one account may have open at once.
    #[arg(long, default_value_t = 8)]
    pub max_sessions_per_account: usize,
    /// Of --max-sessions, how many only CsAdministrator accounts may use.
    #[arg(long, default_value_t = 2)]
    pub reserved_admin_sessions: usize,
    /// Seconds without traffic after which a connection is closed.
    #[arg(long, default_value_t = 900)]
    pub idle_timeout: u64,
    /// Seconds after which a connection is closed however active it is.
    #[arg(long, default_value_t = 86400)]
    pub session_lifetime: u64,
    /// Bytes of output one command may send.
    #[arg(long, default_value_t = 64 << 20)]
    pub max_output: usize,
    /// Allows password logins for the accounts in this file (ACCOUNT:HASH
    /// lines, hashes from `lyncsh hash-password`); off when not given.
    #[arg(long, value_name = "PATH")]
    pub passwords: Option<PathBuf>,
    /// Lets remote scripts read and write this machine's files.
    #[arg(long)]
    pub allow_file_system: bool,
    /// Lets one account's scripts use the files under one directory, where
    /// its sessions also start: ACCOUNT=DIR (repeatable; `*=DIR` for every
    /// account without an entry of its own).
    #[arg(long, value_name = "ACCOUNT=DIR")]
    pub allow_directory: Vec<String>,
    /// Also serves the Control Panel (web pages) on this IP:port, over
    /// HTTPS; accounts sign in with --passwords.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// The Control Panel's certificate (PEM); without it a self-signed one
    /// is made on first start and kept beside the host key.
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serves the Control Panel over plain HTTP, without TLS: allowed only
    /// on a loopback address (127.0.0.1, ::1), for a local browser.
    #[arg(long)]
    pub http_insecure: bool,
    /// Seconds after which an unused Control Panel session signs out.
    #[arg(long, default_value_t = 1800)]
    pub http_session_timeout: u64,
}

/// Rewrites pwsh-style options (`-File`, `-c`, `-NoProfile`) for clap, and
/// splits off the script's own arguments and the command text.
pub fn normalize(args: &[String]) -> (Vec<String>, Vec<String>) {
    let mut out = vec!["lyncsh".to_string()];
    let mut script_args = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let key = a.trim_start_matches('-').to_ascii_lowercase();
        let dashed = a.starts_with('-') && a.len() > 1;
        match key.as_str() {
            "file" | "f" if dashed => {
                out.push("--file".into());
                if let Some(p) = args.get(i + 1) {
                    out.push(p.clone());
                }
                script_args = args.get(i + 2..).unwrap_or_default().to_vec();
                break;
            }
            "command" | "c" if dashed => {
                out.push("--command".into());
                out.push(args.get(i + 1..).unwrap_or_default().join(" "));
                break;
            }
            "noprofile" | "nop" | "no-profile" if dashed => out.push("--no-profile".into()),
            "noninteractive" | "noni" | "non-interactive" if dashed => {
                out.push("--non-interactive".into())
            }
            "nologo" | "nol" | "no-logo" if dashed => out.push("--no-logo".into()),
            "version" | "v" if dashed => out.push("--version".into()),
            "store" if dashed => {
                out.push("--store".into());
                if let Some(p) = args.get(i + 1) {
                    out.push(p.clone());
                }
                i += 1;
            }
            "sshs" if dashed => out.push("--sshs".into()),
            "allow-directory" | "allowdirectory" if dashed => {
                out.push("--allow-directory".into());
                if let Some(v) = args.get(i + 1) {
                    out.push(v.clone());
                }
                i += 1;
            }
            "hostname" | "host-name" | "username" | "user-name" | "port" | "keyfilepath"
            | "key-file-path"
                if dashed =>
            {
                let long = match key.as_str() {
                    "hostname" | "host-name" => "--host-name",
                    "username" | "user-name" => "--user-name",
                    "port" => "--port",
                    _ => "--key-file-path",
                };
                out.push(long.into());
                if let Some(v) = args.get(i + 1) {
                    out.push(v.clone());
                }
                i += 1;
            }
            "help" | "h" | "?" if dashed => out.push("--help".into()),
            "" if a == "-" => out.push("--stdin".into()),
            _ if !a.starts_with('-') => {
                // pwsh treats a first bare argument as the script file.
                out.push("--file".into());
                out.push(a.clone());
                script_args = args.get(i + 1..).unwrap_or_default().to_vec();
                break;
            }
            _ => out.push(a.clone()),
        }
        i += 1;
    }
    (out, script_args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn pwsh_style_options() {
        let (out, rest) = normalize(&s(&["-NoProfile", "-File", "x.ps1", "-Name", "Bob"]));
        assert_eq!(out, s(&["lyncsh", "--no-profile", "--file", "x.ps1"]));
        assert_eq!(rest, s(&["-Name", "Bob"]));
        let (out, _) = normalize(&s(&["-c", "Get-Date", "-Format", "yyyy"]));
        assert_eq!(out, s(&["lyncsh", "--command", "Get-Date -Format yyyy"]));
        let (out, _) = normalize(&s(&[
            "-HostName",
            "admin@srv:2222",
            "-KeyFilePath",
            "k",
            "-c",
            "1",
        ]));
        assert_eq!(
            out,
            s(&[
                "lyncsh",
                "--host-name",
                "admin@srv:2222",
                "--key-file-path",
                "k",
                "--command",
                "1"
            ])
        );
    }
}
