//! The `lyncsh` binary: turns the command line into a session run and the
//! session's outcome into an exit status.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;

use clap::Parser;
use lyncsh::cli::{CheckArgs, Cli, ServeArgs, normalize};
use lyncsh::host::ConsoleHost;
use lyncsh::runtime::Interp;
use lyncsh::runtime::session::cli_args;
use lyncsh::syntax::Source;

mod repl;

/// The interpreter recurses; scripts get a roomy stack of their own.
const STACK: usize = 256 << 20;

fn main() -> ExitCode {
    // A session of `lyncsh serve`, in a process of its own: started by the
    // server, not a command for people (so not in --help).
    if std::env::args_os().nth(1).is_some_and(|a| a == "__session") {
        return ExitCode::from(lyncsh::remote::child::main());
    }
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let worker = std::thread::Builder::new()
        .name("lyncsh".into())
        .stack_size(STACK)
        .spawn(move || run(argv));
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => ExitCode::from(code.clamp(0, 255) as u8),
        _ => {
            eprintln!("lyncsh: internal error");
            ExitCode::from(70)
        }
    }
}

fn run(argv: Vec<String>) -> i32 {
    if argv.first().map(String::as_str) == Some("check") {
        return match CheckArgs::try_parse_from(
            std::iter::once("lyncsh check".to_string()).chain(argv[1..].iter().cloned()),
        ) {
            Ok(a) => check(&a.files),
            Err(e) => {
                let _ = e.print();
                2
            }
        };
    }
    if argv.first().map(String::as_str) == Some("hash-password") {
        return hash_password();
    }
    if argv.first().map(String::as_str) == Some("serve") {
        return match ServeArgs::try_parse_from(
            std::iter::once("lyncsh serve".to_string()).chain(argv[1..].iter().cloned()),
        ) {
            Ok(a) => serve(a),
            Err(e) => {
                let _ = e.print();
                if e.use_stderr() { 64 } else { 0 }
            }
        };
    }
    let (args, script_args) = normalize(&argv);
    let mut cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 64 } else { 0 };
        }
    };
    cli.script_args = script_args;
    if cli.version {
        println!("lyncsh {}", env!("CARGO_PKG_VERSION"));
        return 0;
    }
    if cli.sshs {
        let store = cli
            .store
            .clone()
            .unwrap_or_else(lyncsh::config::store::default_path);
        let directories = match lyncsh::remote::directories::parse(&cli.allow_directory) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("lyncsh -sshs: {e}");
                return 64;
            }
        };
        return lyncsh::remote::protocol::serve_stdio(store, cli.allow_file_system, &directories);
    }
    if cli.host_name.is_some() {
        return remote(&cli);
    }
    let stdin_tty = std::io::stdin().is_terminal();
    let interactive = !cli.non_interactive && stdin_tty;
    let mut it = Interp::new(Box::new(ConsoleHost::new(interactive)));
    it.store_path = cli.store.clone();

    match job(&cli, stdin_tty) {
        Err(code) => code,
        Ok(Job::Command(text)) => {
            let src = Rc::new(Source::new(None, text));
            it.run_text(src, Vec::new()).exit_code(true)
        }
        Ok(Job::File { path, text }) => {
            let abs = std::fs::canonicalize(&path).unwrap_or(path);
            let src = Rc::new(Source::new(Some(abs), text));
            it.run_text(src, cli_args(&cli.script_args))
                .exit_code(false)
        }
        Ok(Job::Interactive) => repl::run(&mut it, cli.no_profile),
    }
}

/// What the command line asks a session to run, local or remote alike.
enum Job {
    /// -Command, or a script on standard input: -Command's exit status.
    Command(String),
    /// -File: the script's arguments bind to its param(); -File's status.
    File { path: PathBuf, text: String },
    /// Nothing given at a terminal: the interactive shell.
    Interactive,
}

/// Reads the script the command line names; `Err` is the exit status
/// after the reason was printed.
fn job(cli: &Cli, stdin_tty: bool) -> Result<Job, i32> {
    if let Some(cmd) = &cli.command {
        return Ok(Job::Command(cmd.clone()));
    }
    if let Some(path) = &cli.file {
        return match std::fs::read_to_string(path) {
            Ok(text) => Ok(Job::File {
                path: path.clone(),
                text,
            }),
            Err(e) => {
                eprintln!(
                    "The argument '{}' is not recognized as the name of a script file: {e}.",
                    path.display()
                );
                Err(64)
            }
        };
    }
    if cli.stdin || !stdin_tty {
        let mut text = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            eprintln!("lyncsh: cannot read standard input: {e}");
            return Err(74);
        }
        return Ok(Job::Command(text));
    }
    Ok(Job::Interactive)
}

/// `lyncsh -HostName`: the same front doors (-Command, -File, standard
/// input, the interactive shell) with the session on a `lyncsh serve` host.
fn remote(cli: &Cli) -> i32 {
    use lyncsh::host::Host;
    use lyncsh::remote::client::{self, Remote, Target};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let connected = Target::parse(
        cli.host_name.as_deref().unwrap_or_default(),
        cli.user_name.as_deref(),
        cli.port,
    )
    .and_then(|target| {
        let (path, key) = client::find_key(cli.key_file.as_deref())?;
        Remote::connect(target, &path, key, client::known_hosts_path()?)
    });
    let mut remote = match connected {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lyncsh: {e}");
            return repl::remote::LOST;
        }
    };
    if let Some(n) = remote.notice.take() {
        eprintln!("{n}");
    }
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        eprintln!("lyncsh: Ctrl-C cannot be caught: {e}");
    }
    let (script, args, command_mode) = match job(cli, std::io::stdin().is_terminal()) {
        Err(code) => return code,
        Ok(Job::Command(text)) => (text, Vec::new(), true),
        Ok(Job::File { text, .. }) => (text, cli.script_args.clone(), false),
        Ok(Job::Interactive) => return repl::remote::run(remote, cancel),
    };
    let mut host = ConsoleHost::new(false);
    let width = host.width;
    let done = remote.invoke(&script, &args, width, &cancel, |s, t| host.write(s, t));
    remote.close();
    match done {
        Ok(f) => f.exit_code(command_mode),
        Err(e) => {
            eprintln!("lyncsh: {e}");
            repl::remote::LOST
        }
    }
}

/// `lyncsh serve`: the SSH server; the host key and the accounts'
/// authorized_keys files live beside the store unless given.
fn serve(a: ServeArgs) -> i32 {
    use lyncsh::remote::server::{ServeOptions, serve};
    use lyncsh::remote::worker::RemoteLimits;
    let directories = match lyncsh::remote::directories::parse(&a.allow_directory) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("lyncsh serve: {e}");
            return 64;
        }
    };
    let store = a.store.unwrap_or_else(lyncsh::config::store::default_path);
    let dir = store
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let opts = ServeOptions {
        listen: a.listen,
        host_key: a
            .host_key
            .unwrap_or_else(|| dir.join("ssh_host_ed25519_key")),
        authorized_keys: a
            .authorized_keys
            .unwrap_or_else(|| dir.join("authorized_keys").join("%u")),
        store,
        limits: RemoteLimits {
            command_time: std::time::Duration::from_secs(a.command_timeout.max(1)),
            max_output: a.max_output,
            file_system: a.allow_file_system,
            ..RemoteLimits::default()
        },
        directories,
        passwords: a.passwords,
        max_sessions: a.max_sessions.max(1),
        max_sessions_per_account: a.max_sessions_per_account.max(1),
        admin_reserve: a.reserved_admin_sessions,
        idle_timeout: std::time::Duration::from_secs(a.idle_timeout.max(1)),
        session_lifetime: std::time::Duration::from_secs(a.session_lifetime.max(1)),
    };
    if let Some(listen) = a.http {
        let tls = match (a.tls_cert, a.tls_key, a.http_insecure) {
            (_, _, true) => lyncsh::web::Tls::Off,
            (Some(cert), Some(key), false) => lyncsh::web::Tls::Files { cert, key },
            _ => lyncsh::web::Tls::SelfSigned {
                dir: opts
                    .host_key
                    .parent()
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(".")),
            },
        };
        let Some(passwords) = opts.passwords.clone() else {
            eprintln!("lyncsh serve: {}", lyncsh::web::WebError::NoPasswords);
            return 64;
        };
        let web = lyncsh::web::WebOptions {
            listen,
            store: opts.store.clone(),
            passwords,
            tls,
            session_idle: std::time::Duration::from_secs(a.http_session_timeout.max(1)),
        };
        if let Err(e) = control_panel(web) {
            eprintln!("lyncsh serve: {e}");
            return 1;
        }
    }
    serve(opts)
}

/// Starts the Control Panel on a runtime of its own, beside the SSH
/// server, and says where it listens; it ends with the process.
fn control_panel(opts: lyncsh::web::WebOptions) -> Result<(), lyncsh::web::WebError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let started = std::thread::Builder::new()
        .name("control-panel".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(lyncsh::web::WebError::Listen(String::new(), e)));
                    return;
                }
            };
            rt.block_on(async move {
                match lyncsh::web::start(opts).await {
                    Ok(running) => {
                        let _ = tx.send(Ok(running.url()));
                        std::future::pending::<()>().await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        });
    if let Err(e) = started {
        return Err(lyncsh::web::WebError::Listen(String::new(), e));
    }
    match rx.recv() {
        Ok(Ok(url)) => {
            println!("control panel on {url}");
            Ok(())
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(lyncsh::web::WebError::Listen(
            String::new(),
            std::io::Error::other("the Control Panel thread ended"),
        )),
    }
}

/// `lyncsh hash-password`: reads a password (without echo at a terminal,
/// else the first line of standard input) and prints the line to put after
/// `ACCOUNT:` in the file of `lyncsh serve --passwords`.
fn hash_password() -> i32 {
    use lyncsh::host::Host;
    let password = if std::io::stdin().is_terminal() {
        ConsoleHost::new(true).read_line("Password: ", true).ok()
    } else {
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(n) if n > 0 => Some(line.trim_end_matches(['\r', '\n']).to_string()),
            _ => None,
        }
    };
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        eprintln!("lyncsh hash-password: no password given");
        return 64;
    };
    match lyncsh::remote::passwords::hash(&password) {
        Ok(h) => {
            println!("{h}");
            0
        }
        Err(e) => {
            eprintln!("lyncsh hash-password: {e}");
            70
        }
    }
}

/// `lyncsh check`: every syntax error as `file:line:col: message`.
fn check(files: &[PathBuf]) -> i32 {
    let mut bad = false;
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", f.display());
                bad = true;
                continue;
            }
        };
        let src = Rc::new(Source::new(Some(f.clone()), text));
        for e in lyncsh::syntax::check::check_all(src) {
            println!("{}", e.short());
            bad = true;
        }
    }
    i32::from(bad)
}
