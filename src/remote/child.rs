//! `lyncsh __session`: one remote session in a process of its own, started
//! by `lyncsh serve` ([`super::process`]) and spoken to over its standard
//! input and output ([`super::frames`]). Its address space is capped, each
//! command's CPU time too, and it leaves no core file: whatever goes wrong
//! in it (a stack overflow, a failed allocation, a panic, a value that is
//! never freed) ends this process and this session only.
//!
//! The process never frees its session one value at a time: once the exit
//! status is written it exits, and the kernel takes everything back (a
//! cycle of values, a two-million-deep array) at once.

use std::io::Write;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

use super::frames::{self, Down, Up};
use super::worker::{self, Ev, InputSlot, Shared};

/// Runs the session the server describes on standard input; the exit
/// status only matters when the session could not start.
pub fn main() -> u8 {
    let mut stdin = std::io::stdin();
    let (cfg, mode, store_checked) = match frames::read_down(&mut stdin) {
        Ok(Some(Down::Start {
            cfg,
            mode,
            store_checked,
        })) => (cfg, mode, store_checked),
        Ok(_) => {
            eprintln!("lyncsh: this process is started by `lyncsh serve`, not by hand");
            return 64;
        }
        Err(e) => {
            eprintln!("lyncsh: cannot read the session's start: {e}");
            return 64;
        }
    };
    // No core file: a session that dies says why on stderr; a core of a
    // process near its memory cap would only fill the disk.
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    let limits = cfg.limits.clone().unwrap_or_default();
    if let Err(e) = setrlimit(
        Resource::As,
        Rlimit {
            current: Some(limits.memory),
            maximum: Some(limits.memory),
        },
    ) {
        eprintln!("lyncsh: cannot cap the session's memory: {e}");
        return 70;
    }
    if store_checked {
        crate::config::store::assume_checked(&cfg.store);
    }

    // Frames are written straight to the pipe, not through std's
    // line-buffered stdout.
    let pipe = match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Arc::new(Mutex::new(std::fs::File::from(fd))),
        Err(e) => {
            eprintln!("lyncsh: cannot start the session: {e}");
            return 70;
        }
    };
    let emit_pipe = pipe.clone();
    let emit: worker::Emit = Box::new(move |ev| {
        let up = match ev {
            Ev::Stdout(b) => Up::Stdout(b),
            Ev::Stderr(b) => Up::Stderr(b),
            Ev::Exit(n) => Up::Exit(n),
        };
        let exit = matches!(up, Up::Exit(_));
        let mut w = emit_pipe.lock().unwrap_or_else(PoisonError::into_inner);
        let ok = frames::write_up(&mut *w, &up).is_ok();
        if exit {
            // Said all there is to say: leave without freeing anything.
            let _ = w.flush();
            std::process::exit(0);
        }
        ok
    });
    let want_pipe = pipe;
    let want = Box::new(move || {
        let mut w = want_pipe.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = frames::write_up(&mut *w, &Up::Want);
    });

    let (tx, rx) = tokio::sync::mpsc::channel(worker::QUEUE);
    let input: InputSlot = Arc::new(Mutex::new(Some(tx)));
    let shared = Arc::new(Shared::default());
    let reader_shared = shared.clone();
    let reader = std::thread::Builder::new()
        .name("lyncsh-pipe".into())
        .stack_size(256 << 10)
        .spawn(move || read_pipe(stdin, input, reader_shared));
    if let Err(e) = reader {
        eprintln!("lyncsh: cannot start the session: {e}");
        return 70;
    }
    let cpu = limits
        .command_cpu
        .max(limits.command_time + Duration::from_secs(5));
    let inbox = worker::Inbox {
        rx,
        want: Some(want),
    };
    let session = std::thread::Builder::new()
        .name("lyncsh-session".into())
        .stack_size(worker::STACK)
        .spawn(move || worker::session_main(cfg, mode, emit, inbox, shared, Some(cpu)));
    match session.map(|t| t.join()) {
        // The session thread ends the process when it sends its exit
        // status; getting here means it never did.
        Ok(Ok(())) => 70,
        Ok(Err(_)) => 70,
        Err(e) => {
            eprintln!("lyncsh: cannot start the session: {e}");
            70
        }
    }
}

/// Reads what the server sends: input into the session's queue, control
/// acted on at once. The server gone (end of the pipe) ends the process:
/// nobody is left to read what the session would say.
fn read_pipe(stdin: std::io::Stdin, input: InputSlot, shared: Arc<Shared>) {
    let mut stdin = stdin.lock();
    loop {
        match frames::read_down(&mut stdin) {
            Ok(Some(Down::Input(i))) => {
                // Pulled one at a time, so there is room; a hang-up may
                // have closed the queue, and then the input is moot.
                let tx = input.lock().unwrap_or_else(PoisonError::into_inner).clone();
                if let Some(tx) = tx {
                    let _ = tx.try_send(i);
                }
            }
            Ok(Some(Down::Cancel(id))) => shared.cancel_request(id),
            Ok(Some(Down::Interrupt)) => shared.interrupt(&input),
            Ok(Some(Down::HangUp)) => shared.stop(&input),
            Ok(Some(Down::Start { .. })) => {}
            Ok(None) | Err(_) => std::process::exit(0),
        }
    }
}

/// Lets the next command use `cpu` more CPU time than the process has
/// used so far; past it the kernel ends the process (SIGXCPU). The hard
/// limit stays where it is, so the soft one can move up again. Limits
/// count whole seconds: most commands find the soft limit already where
/// it should be, and then it is not set again.
pub(super) fn allow_cpu(cpu: Duration) {
    static HARD: OnceLock<Option<u64>> = OnceLock::new();
    static SOFT: AtomicU64 = AtomicU64::new(0);
    let used = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    let used = u64::try_from(used.tv_sec).unwrap_or(0) + 1;
    let hard = *HARD.get_or_init(|| getrlimit(Resource::Cpu).maximum);
    let soft = used.saturating_add(cpu.as_secs().max(1));
    let soft = hard.map_or(soft, |h| soft.min(h));
    if SOFT.swap(soft, Ordering::Relaxed) == soft {
        return;
    }
    let _ = setrlimit(
        Resource::Cpu,
        Rlimit {
            current: Some(soft),
            maximum: hard,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_gets_its_cpu_time_beyond_what_was_used() {
        let before = getrlimit(Resource::Cpu);
        let soft = || getrlimit(Resource::Cpu).current.unwrap_or(u64::MAX);
        let used = || {
            let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
            u64::try_from(t.tv_sec).unwrap_or(0)
        };
        let hour = Duration::from_secs(3600);
        allow_cpu(hour);
        let first = soft();
        assert!((used() + 3600..=used() + 3602).contains(&first), "{first}");
        // The same budget again: the limit stays (or moves with a second
        // of CPU time used meanwhile).
        allow_cpu(hour);
        assert!((first..=first + 1).contains(&soft()));
        // A larger one moves it.
        allow_cpu(hour * 2);
        assert!(soft() >= first + 3600);
        let _ = setrlimit(Resource::Cpu, before);
    }
}
