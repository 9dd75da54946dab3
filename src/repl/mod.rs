//! The interactive shell: reedline with the parser as validator, the token
//! scan as highlighter, completion from the command signatures and the
//! store, fish-style hints and a history file shared across sessions.
//!
//! reedline's helpers must be `Send`, and the interpreter is not; before
//! each prompt the loop copies what they need (commands, variables and
//! their members, the store path) into a [`Snapshot`] they share.

mod completer;
mod highlighter;
mod prompt;
pub mod remote;
mod validator;

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use lyncsh::complete::Snapshot;
use lyncsh::host::{CaptureHost, Stream};
use lyncsh::runtime::Interp;
use lyncsh::runtime::session::Outcome;
use lyncsh::runtime::value::Value;
use lyncsh::syntax::Source;
use nu_ansi_term::{Color, Style};
use reedline::{
    ColumnarMenu, DefaultHinter, Emacs, FileBackedHistory, KeyCode, KeyModifiers, MenuBuilder,
    Reedline, ReedlineEvent, ReedlineMenu, Signal, default_emacs_keybindings,
};

/// What the editor's helpers know of the session, refreshed before each
/// prompt.
pub type Shared = Arc<Mutex<Snapshot>>;

/// The cmdlets of a fresh local session, as the REPL starts with them.
#[cfg(test)]
pub fn shared_for_tests() -> Shared {
    let it = Interp::new(Box::new(CaptureHost::default()));
    Arc::new(Mutex::new(Snapshot::with_cmdlets(&it)))
}

/// The history file: `$env:LYNCSH_HISTORY`, else `<data dir>/lyncsh/history.txt`.
pub fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LYNCSH_HISTORY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    dirs::data_dir().map(|d| d.join("lyncsh").join("history.txt"))
}

/// `$PROFILE`: `<config dir>/lyncsh/profile.ps1`.
pub fn profile_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("lyncsh").join("profile.ps1"))
}

/// The line editor; `completer` answers Tab (locally or from a server).
fn editor(shared: &Shared, completer: Box<dyn reedline::Completer + Send>) -> Reedline {
    let mut keys = default_emacs_keybindings();
    keys.add_binding(
        KeyModifiers::NONE,
        KeyCode::Tab,
        ReedlineEvent::UntilFound(vec![
            ReedlineEvent::Menu("completion_menu".into()),
            ReedlineEvent::MenuNext,
        ]),
    );
    keys.add_binding(
        KeyModifiers::SHIFT,
        KeyCode::BackTab,
        ReedlineEvent::MenuPrevious,
    );
    let menu = ColumnarMenu::default()
        .with_name("completion_menu")
        .with_marker("");
    let mut ed = Reedline::create()
        .with_validator(Box::new(validator::ScriptValidator))
        .with_highlighter(Box::new(highlighter::ScriptHighlighter {
            shared: shared.clone(),
        }))
        .with_completer(completer)
        .with_menu(ReedlineMenu::EngineCompleter(Box::new(menu)))
        .with_quick_completions(true)
        .with_partial_completions(true)
        .with_hinter(Box::new(
            DefaultHinter::default().with_style(Style::new().fg(Color::DarkGray)),
        ))
        .with_edit_mode(Box::new(Emacs::new(keys)))
        .use_bracketed_paste(true);
    if let Some(path) = history_path() {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        match FileBackedHistory::with_file(10_000, path.clone()) {
            Ok(h) => ed = ed.with_history(Box::new(h)),
            Err(e) => eprintln!("lyncsh: history file {} unusable: {e}", path.display()),
        }
    }
    ed
}

/// The prompt text: the `prompt` function's output when the session has
/// one, else `PS lyncsh> `.
fn prompt_text(it: &mut Interp) -> String {
    if it.scopes.function("prompt").is_none() {
        return prompt::DEFAULT.to_string();
    }
    let host = std::mem::replace(&mut it.host, Box::new(CaptureHost::default()));
    let last_ok = it.last_ok;
    let outcome = it.run_text(Rc::new(Source::new(None, "prompt".into())), Vec::new());
    it.last_ok = last_ok;
    let captured = std::mem::replace(&mut it.host, host);
    let text = lyncsh::host::into_any(captured)
        .downcast::<CaptureHost>()
        .map(|c| c.stdout)
        .unwrap_or_default();
    let text = text.trim_end_matches(['\n', '\r']).to_string();
    if !matches!(outcome, Outcome::Completed { .. }) || text.is_empty() {
        return prompt::DEFAULT.to_string();
    }
    text
}

/// Runs the profile script, unless `-NoProfile`.
fn run_profile(it: &mut Interp, no_profile: bool) {
    let Some(path) = profile_path() else {
        return;
    };
    it.set_global("PROFILE", Value::from(path.display().to_string()));
    if no_profile || !path.is_file() {
        return;
    }
    match std::fs::read_to_string(&path) {
        // Dot-sourced, as pwsh does: its functions and variables stay.
        Ok(text) => {
            let _ = it.run_text(Rc::new(Source::new(None, text)), Vec::new());
        }
        Err(e) => it.host.write(
            Stream::Error,
            &format!("Cannot read the profile {}: {e}\n", path.display()),
        ),
    }
}

/// The read-run loop. Returns the exit status (`exit N`, 0 on Ctrl-D).
pub fn run(it: &mut Interp, no_profile: bool) -> i32 {
    // Ctrl-C while a command runs (the terminal is not in raw mode then)
    // raises SIGINT: it stops the pipeline, not the shell. At the prompt
    // reedline reads Ctrl-C as a key and clears the line.
    let cancel = it.cancel.clone();
    if let Err(e) = ctrlc::set_handler(move || cancel.store(true, Ordering::SeqCst)) {
        eprintln!("lyncsh: Ctrl-C cannot be caught: {e}");
    }
    run_profile(it, no_profile);
    let shared: Shared = Arc::new(Mutex::new(Snapshot::with_cmdlets(it)));
    let mut ed = editor(
        &shared,
        Box::new(completer::ScriptCompleter {
            shared: shared.clone(),
        }),
    );
    loop {
        if let Ok(mut s) = shared.lock() {
            s.refresh(it);
        }
        let prompt = prompt::ReplPrompt {
            text: prompt_text(it),
        };
        it.cancel.store(false, Ordering::SeqCst);
        match ed.read_line(&prompt) {
            Ok(Signal::Success(line)) => {
                if line.trim().is_empty() {
                    continue;
                }
                it.history.push(line.clone());
                it.cancel.store(false, Ordering::SeqCst);
                let outcome = it.run_text(Rc::new(Source::new(None, line)), Vec::new());
                let stopped = it.cancel.swap(false, Ordering::SeqCst);
                match outcome {
                    Outcome::Exit(n) => return n,
                    Outcome::Stopped => println!(),
                    _ if stopped => println!(),
                    _ => {}
                }
            }
            Ok(Signal::CtrlC) => continue,
            Ok(Signal::CtrlD) => return 0,
            Ok(_) => continue,
            Err(e) => {
                eprintln!("lyncsh: cannot read the terminal: {e}");
                return 74;
            }
        }
    }
}
