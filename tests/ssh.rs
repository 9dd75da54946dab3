//! `lyncsh serve` driven by the real OpenSSH client: exec, shell, the
//! `lyncsh` subsystem, RBAC, and refused logins. Each test starts its own
//! server on a free port with a temporary store, host key and
//! authorized_keys; every ssh run is bounded by a timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lyncsh")
}

fn have_ssh() -> bool {
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
        eprintln!("ssh or ssh-keygen is missing: test skipped (.ci/run installs openssh-client)");
    }
    ok
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs a command with input, killing it past `limit`.
fn run_bounded(mut cmd: Command, input: &[u8], limit: Duration) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let o = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("command ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&o.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&e.join().unwrap_or_default()).into_owned(),
    }
}

struct Server {
    dir: PathBuf,
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", ""])
        .arg("-f")
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen");
    assert!(st.success());
}

impl Server {
    /// A server with roles: admin (CsAdministrator), viewer
    /// (CsViewOnlyAdministrator), useradmin (CsUserAdministrator).
    fn start(extra: &[&str]) -> Server {
        let dir = std::env::temp_dir().join(format!(
            "lyncsh-ssh-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        keygen(&dir.join("key"));
        keygen(&dir.join("stranger"));
        std::fs::copy(dir.join("key.pub"), dir.join("authorized_keys")).expect("copy key");
        let store = dir.join("store.db");
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
            .arg(dir.join("host_key"))
            .arg("--authorized-keys")
            .arg(dir.join("authorized_keys"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
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
        Server { dir, child, port }
    }

    fn store(&self) -> PathBuf {
        self.dir.join("store.db")
    }

    fn ssh(&self, key: &str, user: &str, args: &[&str], input: &str) -> Run {
        let mut cmd = Command::new("ssh");
        cmd.arg("-p")
            .arg(self.port.to_string())
            .arg("-i")
            .arg(self.dir.join(key))
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
            ])
            .arg(format!("{user}@127.0.0.1"))
            .args(args);
        run_bounded(cmd, input.as_bytes(), LIMIT)
    }

    fn exec(&self, user: &str, script: &str) -> Run {
        self.ssh("key", user, &[script], "")
    }
}

fn local(store: &Path, script: &str) -> Run {
    let mut cmd = Command::new(bin());
    cmd.arg("--store").arg(store).arg("-Command").arg(script);
    run_bounded(cmd, b"", LIMIT)
}

#[test]
fn exec_change_is_seen_by_the_next_connection() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let r = s.exec(
        "admin",
        "Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True",
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let r = s.exec(
        "admin",
        "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers",
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "True");
    // The change is logged as the SSH account, and a local process sees it.
    let r = local(
        &s.store(),
        "(Get-CsAdminChangeLog -Account admin -Target *AccessEdge* | Measure-Object).Count -gt 0; \
         (Get-CsAccessEdgeConfiguration).AllowAnonymousUsers",
    );
    assert_eq!(
        r.stdout.split_whitespace().collect::<Vec<_>>(),
        ["True", "True"],
        "{}",
        r.stderr
    );
    // Exit status as -Command returns it.
    let r = s.exec("admin", "exit 7");
    assert_eq!(r.code, Some(7));
    let r = s.exec("admin", "Write-Error 'bad'");
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("bad"), "{}", r.stderr);
}

#[test]
fn shell_runs_a_piped_script() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let script = "$x = 21\nif ($true) {\n  $x * 2\n}\n'done'\nexit 3\n";
    let r = s.ssh("key", "admin", &[], script);
    assert_eq!(r.code, Some(3), "{} {}", r.stdout, r.stderr);
    assert!(r.stdout.contains("42\n"), "{}", r.stdout);
    assert!(r.stdout.contains("done\n"), "{}", r.stdout);
    assert!(r.stdout.contains("PS lyncsh> "), "{}", r.stdout);
}

#[test]
fn shell_with_a_pty_echoes_and_stops_on_ctrl_c() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let mut cmd = Command::new("ssh");
    cmd.arg("-tt")
        .arg("-p")
        .arg(s.port.to_string())
        .arg("-i")
        .arg(s.dir.join("key"))
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            "-F",
            "/dev/null",
        ])
        .arg("admin@127.0.0.1");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ssh");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let steps: [&[u8]; 4] = [
        b"while ($true) { }\r",
        b"\x03",
        b"abc\x7f\x7f\x7f'after' + 1\r",
        b"exit 5\r",
    ];
    for step in steps {
        std::thread::sleep(Duration::from_millis(700));
        stdin.write_all(step).expect("write");
        stdin.flush().expect("flush");
    }
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("pty session did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    let text = reader.join().unwrap_or_default();
    assert_eq!(status.code(), Some(5), "{text}");
    assert!(text.contains("^C"), "{text}");
    assert!(text.contains("after1\r\n"), "{text:?}");
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

#[test]
fn subsystem_speaks_json_lines() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let input = concat!(
        r#"{"id":1,"op":"invoke","script":"Get-CsAccessEdgeConfiguration | Select-Object Identity; 6*7"}"#,
        "\n{not json\n",
        r#"{"id":2,"op":"complete","line":"Get-CsAccessE","cursor":13}"#,
        "\n",
        r#"{"id":3,"op":"invoke","script":"throw 'boom'"}"#,
        "\n",
    );
    let r = s.ssh("key", "admin", &["-s", "lyncsh"], input);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let lines = json_lines(&r.stdout);
    assert_eq!(lines[0]["op"], "hello");
    assert_eq!(lines[0]["user"], "admin");
    assert_eq!(lines[0]["roles"][0], "CsAdministrator");
    assert_eq!(lines[1]["stream"], "output");
    assert_eq!(lines[1]["object"]["Identity"], "Global");
    assert_eq!(lines[2]["object"], 42);
    assert_eq!(lines[2]["text"], "42");
    assert_eq!(lines[3]["state"], "completed");
    assert_eq!(lines[4]["stream"], "error");
    assert_eq!(lines[4]["error"]["kind"], "BadRequest");
    assert_eq!(lines[4]["error"]["text"], lines[4]["error"]["message"]);
    assert_eq!(
        lines[5],
        serde_json::json!({
            "id": 2,
            "op": "completion",
            "start": 0,
            "end": 13,
            "matches": [
                {"text": "Get-CsAccessEdgeConfiguration", "description": "Cmdlet", "space": true},
            ],
        })
    );
    assert_eq!(lines[6]["state"], "completed");
    // pwsh: FullyQualifiedErrorId "boom", OperationStopped, RuntimeException.
    assert_eq!(
        lines[7],
        serde_json::json!({
            "id": 3,
            "stream": "error",
            "error": {
                "message": "boom",
                "kind": "boom",
                "category": "OperationStopped",
                "exception": "System.Management.Automation.RuntimeException",
                "target": "boom",
                "position": {"line": 1, "column": 1},
                "text": "Exception: boom",
            },
        })
    );
    assert_eq!(lines[8]["state"], "failed");
}

/// Sends protocol lines as `user` and returns the replies.
fn subsystem(s: &Server, user: &str, requests: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let input: String = requests.iter().map(|r| format!("{r}\n")).collect();
    let r = s.ssh("key", user, &["-s", "lyncsh"], &input);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    json_lines(&r.stdout)
}

/// The `completion` reply to request `id`.
fn completion(lines: &[serde_json::Value], id: u64) -> &serde_json::Value {
    lines
        .iter()
        .find(|l| l["id"] == id && l["op"] == "completion")
        .unwrap_or_else(|| panic!("no completion for {id} in {lines:?}"))
}

fn texts(reply: &serde_json::Value) -> Vec<&str> {
    reply["matches"]
        .as_array()
        .map(|m| m.iter().filter_map(|x| x["text"].as_str()).collect())
        .unwrap_or_default()
}

#[test]
fn subsystem_completes_what_the_session_knows() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let complete = |id: u64, line: &str| serde_json::json!({"id": id, "op": "complete", "line": line, "cursor": line.chars().count()});
    let lines = subsystem(
        &s,
        "admin",
        &[
            serde_json::json!({"id": 1, "op": "invoke", "script":
                "$abc = 1; New-CsConferencingPolicy -Identity RedmondConferencing | Out-Null"}),
            complete(2, "Get-CsAccessEdgeConfiguration -Iden"),
            complete(3, "$ab"),
            complete(4, "Grant-CsConferencingPolicy -PolicyName "),
            complete(5, "Import-Csv "),
        ],
    );
    assert_eq!(lines[1], serde_json::json!({"id": 1, "state": "completed"}));
    assert_eq!(
        completion(&lines, 2),
        &serde_json::json!({
            "id": 2,
            "op": "completion",
            "start": 30,
            "end": 35,
            "matches": [{"text": "-Identity", "description": "[String]", "space": true}],
        })
    );
    assert_eq!(
        completion(&lines, 3),
        &serde_json::json!({
            "id": 3,
            "op": "completion",
            "start": 0,
            "end": 3,
            "matches": [{"text": "$abc", "description": null, "space": false}],
        })
    );
    assert_eq!(
        completion(&lines, 4),
        &serde_json::json!({
            "id": 4,
            "op": "completion",
            "start": 39,
            "end": 39,
            "matches": [{"text": "RedmondConferencing", "description": "CsConferencingPolicy", "space": true}],
        })
    );
    // A remote session may not use the file system: no file names either.
    assert_eq!(texts(completion(&lines, 5)), Vec::<&str>::new());
    let states = lines.iter().filter(|l| l["state"] == "completed").count();
    assert_eq!(states, 5, "{lines:?}");

    // A view-only account is offered only what it may run.
    let lines = subsystem(
        &s,
        "viewer",
        &[
            complete(1, "Set-CsAccessE"),
            complete(2, "Get-CsAccessE"),
            complete(3, "Set-CsAccessEdgeConfiguration -Iden"),
        ],
    );
    assert_eq!(texts(completion(&lines, 1)), Vec::<&str>::new());
    assert_eq!(
        texts(completion(&lines, 2)),
        ["Get-CsAccessEdgeConfiguration"]
    );
    assert_eq!(texts(completion(&lines, 3)), Vec::<&str>::new());
}

#[test]
fn subsystem_errors_carry_their_record() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let bad_type = "Set-CsAccessEdgeConfiguration -OutgoingTlsCountForFederatedPartners x";
    let lines = subsystem(
        &s,
        "admin",
        &[
            serde_json::json!({"id": 1, "op": "invoke", "script": bad_type}),
            serde_json::json!({"id": 2, "op": "invoke", "script":
                "Get-CsConferencingPolicy -Identity Tag:Nope -ErrorAction Stop\n'not reached'"}),
        ],
    );
    // The text is what the local shell prints for the same command.
    let here = local(&s.store(), bad_type);
    assert_eq!(
        lines[1],
        serde_json::json!({
            "id": 1,
            "stream": "error",
            "error": {
                "message": "Cannot bind parameter 'OutgoingTlsCountForFederatedPartners'. Cannot convert value \"x\" to type \"System.Int64\". Error: \"The input string 'x' was not in a correct format.\"",
                "kind": "CannotConvertArgumentNoMessage,Set-CsAccessEdgeConfiguration",
                "category": "InvalidArgument",
                "exception": "System.Management.Automation.ParameterBindingException",
                "target": null,
                "position": {"line": 1, "column": 69},
                "text": here.stderr.trim_end(),
            },
        })
    );
    assert_eq!(
        here.stderr,
        "Set-CsAccessEdgeConfiguration: Cannot bind parameter 'OutgoingTlsCountForFederatedPartners'. Cannot convert value \"x\" to type \"System.Int64\". Error: \"The input string 'x' was not in a correct format.\"\n"
    );
    assert_eq!(lines[2]["state"], "completed");
    // -ErrorAction Stop ends the script; the record arrives whole, with
    // the two-line script's underlined source as its text.
    assert_eq!(
        lines[3],
        serde_json::json!({
            "id": 2,
            "stream": "error",
            "error": {
                "message": "Cannot get a CsConferencingPolicy with the identity \"Tag:Nope\": no such instance exists.",
                "kind": "IdentityNotFound",
                "category": "ObjectNotFound",
                "exception": "System.Management.Automation.RuntimeException",
                "target": "Tag:Nope",
                "position": {"line": 1, "column": 1},
                "text": "Get-CsConferencingPolicy: \nLine |\n   1 |  Get-CsConferencingPolicy -Identity Tag:Nope -ErrorAction Stop\n     |  ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n     | Cannot get a CsConferencingPolicy with the identity \"Tag:Nope\": no such instance exists.",
            },
        })
    );
    assert_eq!(
        lines[4],
        serde_json::json!({"id": 2, "state": "failed", "exit": 1})
    );
    assert_eq!(lines.len(), 5, "{lines:?}");
}

#[test]
fn subsystem_cancel_stops_the_running_request() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let mut cmd = Command::new("sh");
    // The cancel follows the invoke while it runs.
    cmd.arg("-c").arg(format!(
        "(printf '%s\\n' '{{\"id\":1,\"op\":\"invoke\",\"script\":\"while ($true) {{ }}\"}}'; sleep 1; \
          printf '%s\\n' '{{\"op\":\"cancel\",\"id\":1}}'; \
          printf '%s\\n' '{{\"id\":2,\"op\":\"invoke\",\"script\":\"1\"}}') | \
         ssh -p {} -i {} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
         -o LogLevel=ERROR -F /dev/null -s admin@127.0.0.1 lyncsh",
        s.port,
        s.dir.join("key").display()
    ));
    let r = run_bounded(cmd, b"", LIMIT);
    let lines = json_lines(&r.stdout);
    let states: Vec<String> = lines
        .iter()
        .filter(|l| l.get("state").is_some())
        .map(|l| format!("{}:{}", l["id"], l["state"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(states, ["1:stopped", "2:completed"], "{}", r.stdout);
}

#[test]
fn view_only_account_cannot_set_and_the_store_is_unchanged() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let r = s.exec(
        "viewer",
        "Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True",
    );
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("is not recognized"), "{}", r.stderr);
    let r = s.exec(
        "viewer",
        "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers",
    );
    assert_eq!(r.stdout.trim(), "False", "{}", r.stderr);
    // Get-Command lists only what the account's roles let it run.
    let r = s.exec(
        "viewer",
        "Get-Command -Noun CsAccessEdgeConfiguration | ForEach-Object Name",
    );
    assert_eq!(
        r.stdout.trim(),
        "Get-CsAccessEdgeConfiguration",
        "{}",
        r.stderr
    );
    let r = local(
        &s.store(),
        "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers",
    );
    assert_eq!(r.stdout.trim(), "False");
    // A user administrator grants policies but does not edit them.
    let r = s.exec(
        "useradmin",
        "Set-CsConferencingPolicy -Identity Global -AllowIPAudio $False",
    );
    assert!(r.stderr.contains("is not recognized"), "{}", r.stderr);
    let r = s.exec("useradmin", "(Get-Command Grant-CsConferencingPolicy).Name");
    assert_eq!(
        r.stdout.trim(),
        "Grant-CsConferencingPolicy",
        "{}",
        r.stderr
    );
}

#[test]
fn remote_scripts_may_not_use_the_file_system() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let r = s.exec("admin", "Get-Content /etc/hostname");
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("may not use the file system"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_command_past_its_time_limit_is_stopped() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&["--command-timeout", "1"]);
    let t = Instant::now();
    let r = s.exec("admin", "while ($true) { }");
    assert!(t.elapsed() < Duration::from_secs(30));
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("ran longer"), "{}", r.stderr);
}

#[test]
fn an_account_without_a_role_is_refused_at_login() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let r = s.exec("nobody", "Get-Date");
    assert_eq!(r.code, Some(255));
    assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
}

#[test]
fn an_unknown_key_is_refused() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let r = s.ssh("stranger", "admin", &["Get-Date"], "");
    assert_eq!(r.code, Some(255));
    assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
}

#[test]
fn sshs_serves_the_protocol_on_stdio() {
    let dir = std::env::temp_dir().join(format!("lyncsh-sshs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut cmd = Command::new(bin());
    cmd.arg("--store").arg(dir.join("s.db")).arg("-sshs");
    let input = "{\"id\":1,\"op\":\"invoke\",\"script\":\"'a','b'\"}\n\u{1}\u{2}\n\n";
    let r = run_bounded(cmd, input.as_bytes(), LIMIT);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let lines = json_lines(&r.stdout);
    assert_eq!(lines[0]["op"], "hello");
    assert_eq!(lines[1]["object"], "a");
    assert_eq!(lines[2]["object"], "b");
    assert_eq!(lines[3]["state"], "completed");
    assert_eq!(lines[4]["stream"], "error");
}
