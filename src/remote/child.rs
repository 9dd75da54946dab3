//! `lyncsh __session`: one remote session in a process of its own, started
//! by `lyncsh serve` (`remote::process`) and spoken to over its standard
//! input and output (`remote::frames`). Its address space is capped, each
//! command's CPU time too, and it leaves no core file: whatever goes wrong
//! in it (a stack overflow, a failed allocation, a panic, a value that is
//! never freed) ends this process and this session only.
//!
//! Two threads read standard input, one at a time. The interpreter reads
//! it while it waits for its next input, and so takes the input itself,
//! with any cancel or Ctrl-C that came before it. While a command runs, a
//! control frame is followed by SIGURG, and a control thread reads it then
//! and acts at once (stops the command, hangs up).
//!
//! The process never frees its session one value at a time: once the exit
//! status is written it exits, and the kernel takes everything back (a
//! cycle of values, a two-million-deep array) at once.

use std::fs::File;
use std::io::{BufReader, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, poll};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use signal_hook::consts::SIGURG;
use signal_hook::iterator::Signals;

use super::frames::{self, Down, Up};
use super::worker::{self, Ev, InputSlot, Shared};

/// Standard input, read by whichever of the interpreter and the control
/// thread holds it.
type Downlink = Arc<Mutex<BufReader<File>>>;

fn lock(down: &Downlink) -> MutexGuard<'_, BufReader<File>> {
    down.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the session the server describes on standard input; the exit
/// status only matters when the session could not start.
pub fn main() -> u8 {
    // Before anything else: SIGURG is ignored until it is registered, and
    // a frame it announced before then is read at the control thread's start.
    let signals = Signals::new([SIGURG]);
    let down: Downlink = match std::io::stdin().as_fd().try_clone_to_owned() {
        Ok(fd) => Arc::new(Mutex::new(BufReader::new(File::from(fd)))),
        Err(e) => {
            eprintln!("lyncsh: cannot start the session: {e}");
            return 70;
        }
    };
    let start = frames::read_down(&mut *lock(&down));
    let (cfg, mode, store_checked) = match start {
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
    let (tx, rx) = tokio::sync::mpsc::channel(worker::QUEUE);
    let input: InputSlot = Arc::new(Mutex::new(Some(tx)));
    let shared = Arc::new(Shared::default());
    let control = match signals {
        Ok(signals) => {
            let (down, input, shared) = (down.clone(), input.clone(), shared.clone());
            std::thread::Builder::new()
                .name("lyncsh-control".into())
                .stack_size(256 << 10)
                .spawn(move || control(signals, &down, &input, &shared))
        }
        Err(e) => Err(e),
    };
    if let Err(e) = control {
        eprintln!("lyncsh: cannot start the session: {e}");
        return 70;
    }
    let (pull_input, pull_shared) = (input.clone(), shared.clone());
    let pull: worker::Pull = Box::new(move |rx| {
        {
            let mut w = pipe.lock().unwrap_or_else(PoisonError::into_inner);
            let _ = frames::write_up(&mut *w, &Up::Want);
        }
        let mut r = lock(&down);
        loop {
            // The control thread may have read the answer (or a Ctrl-C, or
            // the hang-up) while it held the pipe.
            if let Some(input) = worker::queued(rx) {
                return input;
            }
            take_next(&mut r, &pull_input, &pull_shared);
        }
    });
    let cpu = limits
        .command_cpu
        .max(limits.command_time + Duration::from_secs(5));
    let inbox = worker::Inbox {
        rx,
        pull: Some(pull),
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

/// Reads what the server sent while a command runs, each time SIGURG says
/// there is something, and once at the start for what came before the
/// signal was registered. While the interpreter waits for input it holds
/// the pipe and reads the frames itself; then this waits for it.
fn control(mut signals: Signals, down: &Downlink, input: &InputSlot, shared: &Shared) {
    loop {
        let mut r = lock(down);
        while readable(&r) {
            take_next(&mut r, input, shared);
        }
        drop(r);
        if signals.wait().count() == 0 {
            return;
        }
    }
}

/// Whether a frame (or part of one) waits to be read, without reading.
fn readable(r: &BufReader<File>) -> bool {
    if !r.buffer().is_empty() {
        return true;
    }
    let mut fds = [PollFd::new(r.get_ref(), PollFlags::IN)];
    let zero = rustix::time::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    poll(&mut fds, Some(&zero)).is_ok_and(|n| n > 0)
}

/// Reads the next frame the server sent and acts on it: input goes into
/// the session's queue (pulled one at a time, so there is room; a hang-up
/// may have closed the queue, and then the input is moot), control at
/// once. The server gone (end of the pipe) ends the process: nobody is
/// left to read what the session would say.
fn take_next(r: &mut BufReader<File>, input: &InputSlot, shared: &Shared) {
    let Ok(Some(d)) = frames::read_down(r) else {
        std::process::exit(0);
    };
    match d {
        Down::Input(i) => {
            let tx = input.lock().unwrap_or_else(PoisonError::into_inner).clone();
            if let Some(tx) = tx {
                let _ = tx.try_send(i);
            }
        }
        Down::Cancel(id) => shared.cancel_request(id),
        Down::Interrupt => shared.interrupt(input),
        Down::HangUp => shared.stop(input),
        Down::Start { .. } => {}
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
