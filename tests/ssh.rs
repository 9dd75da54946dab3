//! `lyncsh serve` driven by the real OpenSSH client: exec, shell, the
//! `lyncsh` subsystem, RBAC, and refused logins. Each test starts its own
//! server on a free port with a temporary store, host key and
//! authorized_keys; every ssh run is bounded by a timeout.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::server::{Server, have_ssh};
use common::term::Term;
use common::{LIMIT, bin, json_lines, local, run_bounded, wait_bounded};

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
fn a_long_piped_script_waits_for_a_busy_session() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    // More lines than the session queues, behind a command that takes a
    // while: none may be lost.
    let mut script = String::from("Start-Sleep -Milliseconds 800\n$n = 0\n");
    for _ in 0..1000 {
        script.push_str("$n++\n");
    }
    script.push_str("\"n = $n\"\n");
    let r = s.ssh("key", "admin", &[], &script);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("n = 1000\n"), "{}", r.stdout);
}

#[test]
fn shell_with_a_pty_echoes_and_stops_on_ctrl_c() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let mut cmd = s.ssh_command("key", "admin");
    cmd.args(["-tt", "127.0.0.1"]);
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
    let steps: [&[u8]; 5] = [
        b"while ($true) { }\r",
        b"\x03",
        b"abc\x7f\x7f\x7f'after' + 1\r",
        // The up arrow brings the last line back.
        b"\x1b[A\r",
        b"exit 5\r",
    ];
    for step in steps {
        std::thread::sleep(Duration::from_millis(700));
        stdin.write_all(step).expect("write");
        stdin.flush().expect("flush");
    }
    let status = wait_bounded(&mut child, LIMIT);
    drop(stdin);
    let text = reader.join().unwrap_or_default();
    assert_eq!(status.code(), Some(5), "{text}");
    assert!(text.contains("^C"), "{text}");
    assert_eq!(text.matches("after1\r\n").count(), 2, "{text:?}");
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
                "message": "Cannot bind parameter 'OutgoingTlsCountForFederatedPartners'. Cannot convert value \"x\" to type \"System.UInt32\". Error: \"The input string 'x' was not in a correct format.\"",
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
        "Set-CsAccessEdgeConfiguration: Cannot bind parameter 'OutgoingTlsCountForFederatedPartners'. Cannot convert value \"x\" to type \"System.UInt32\". Error: \"The input string 'x' was not in a correct format.\"\n"
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
        s.dir.path("key").display()
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
    // Redirections are file writes too.
    let target = s.dir.path("share/out.txt");
    for script in [
        format!("Write-Error 'x' 2> '{}'", target.display()),
        format!("Write-Error 'x' 2>> '{}'", target.display()),
        format!("'x' *> '{}'", target.display()),
        format!("'x' > '{}'", target.display()),
    ] {
        let r = s.exec("admin", &script);
        assert_eq!(r.code, Some(1), "{script}");
        assert!(
            r.stderr.contains(&format!(
                "Access to '{}' is denied: this session may not use the file system.",
                target.display()
            )),
            "{script}: {}",
            r.stderr
        );
        assert!(!target.exists(), "{script} wrote the file");
    }
    // Nor run programs or script files of the server.
    for script in ["/bin/ls /", "& /bin/sh -c 'echo hi'", ". /etc/profile"] {
        let r = s.exec("admin", script);
        assert_eq!(r.code, Some(1), "{script}");
        assert_eq!(r.stdout, "", "{script}");
        assert!(
            r.stderr
                .contains("Running script files or programs is not allowed in this session."),
            "{script}: {}",
            r.stderr
        );
    }
}

#[test]
fn an_account_may_be_given_one_directory() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&["--allow-directory", "admin={dir}/share"]);
    let share = s.dir.path("share");
    std::fs::write(
        share.join("users.csv"),
        "Identity,Policy\nsip:ken@contoso.com,Tag:Anon\n",
    )
    .expect("csv");
    // A link inside the directory that leads out of it.
    std::os::unix::fs::symlink(s.dir.path("authorized_keys/admin"), share.join("keys"))
        .expect("link");
    std::os::unix::fs::symlink("/etc", share.join("etc")).expect("dir link");
    // Relative paths start in the directory; files in it can be read and written.
    let r = s.exec(
        "admin",
        "(Import-Csv users.csv).Identity; 'x' | Out-File out.txt; \"$PWD\"",
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let real = std::fs::canonicalize(&share).expect("canonical");
    assert_eq!(
        r.stdout,
        format!("sip:ken@contoso.com\n{}\n", real.display())
    );
    assert!(share.join("out.txt").is_file());
    // Out of it — by an absolute path, by `..`, by the link — is refused.
    for (script, shown) in [
        ("Get-Content /etc/hostname", "/etc/hostname".to_string()),
        (
            "Get-Content ../store.db",
            format!("{}/store.db", real.parent().expect("parent").display()),
        ),
        ("Get-Content keys", format!("{}/keys", real.display())),
        (
            "Set-Location ..; Get-Content store.db",
            real.parent().expect("parent").display().to_string(),
        ),
        // A wildcard that walks through the link is held to the rule too.
        (
            "Get-Content e*/hostname",
            format!("{}/etc/hostname", real.display()),
        ),
    ] {
        let r = s.exec("admin", script);
        assert_eq!(r.code, Some(1), "{script}");
        assert!(
            r.stderr.contains(&format!(
                "Access to '{shown}' is denied: this session may only use files under '{}'.",
                real.display()
            )),
            "{script}: {}",
            r.stderr
        );
    }
    // Listing does not enter the linked directory.
    let r = s.exec("admin", "(Get-ChildItem -Recurse).Name -join ','");
    assert_eq!(r.stdout, "etc,keys,out.txt,users.csv\n", "{}", r.stderr);
    // Another account has no directory at all.
    let r = s.exec("viewer", "Get-Content users.csv");
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("this session may not use the file system"),
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
fn a_runaway_allocation_ends_the_command_with_one_error() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    // A catch inside the loop must not keep it going: the size limit ends
    // the whole command, as the time limit does.
    let r = s.exec(
        "admin",
        "$s = 'x'; while ($true) { try { $s = $s * 2 } catch { 'caught' } }",
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "LimitsExceeded: The operation would create a value larger than this session allows.\n"
    );
    // Locally the same error is an ordinary one, and a catch sees it.
    let r = local(&s.store(), "try { $x = 'x' * 1e10 } catch { 'caught' }");
    assert_eq!(r.stdout, "caught\n");
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
    let dir = common::TempDir::new("sshs");
    let seeded = local(
        &dir.path("s.db"),
        "Add-CsAdminRoleMember -Role CsAdministrator -Member admin",
    );
    assert_eq!(seeded.code, Some(0), "{}", seeded.stderr);
    let mut cmd = Command::new(bin());
    cmd.arg("--store")
        .arg(dir.path("s.db"))
        .arg("-sshs")
        .env("USER", "admin");
    let input = "{\"id\":1,\"op\":\"invoke\",\"script\":\"'a','b'\"}\n\u{1}\u{2}\n\n";
    let r = run_bounded(cmd, input.as_bytes(), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let lines = json_lines(&r.stdout);
    assert_eq!(lines[0]["op"], "hello");
    assert_eq!(lines[1]["object"], "a");
    assert_eq!(lines[2]["object"], "b");
    assert_eq!(lines[3]["state"], "completed");
    assert_eq!(lines[4]["stream"], "error");
}

#[test]
fn host_name_runs_commands_and_scripts_remotely() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    // First contact records the server's key, and says so once.
    let mut cmd = s.client("admin");
    cmd.arg("-Command")
        .arg("Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True");
    let r = run_bounded(cmd, b"", LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stderr.contains("is now recorded in"), "{}", r.stderr);
    let known = std::fs::read_to_string(s.dir.path("home/.ssh/known_hosts")).expect("known_hosts");
    let entry = format!("[127.0.0.1]:{} ssh-ed25519 ", s.port);
    assert!(known.lines().any(|l| l.starts_with(&entry)), "{known}");
    // The change is in the store the server uses.
    let r = local(
        &s.store(),
        "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers",
    );
    assert_eq!(r.stdout.trim(), "True", "{}", r.stderr);

    // Output is formatted as the local shell formats it; errors go to
    // stderr; -Command's exit status is the last command's.
    let script = "Get-CsAccessEdgeConfiguration | Select-Object Identity, AllowAnonymousUsers; \
                  Get-CsUser -Identity nobody";
    let mut cmd = s.client("admin");
    cmd.arg("-Command").arg(script);
    let r = run_bounded(cmd, b"", LIMIT);
    assert_eq!(
        r.stdout,
        "\nIdentity AllowAnonymousUsers\n-------- -------------------\nGlobal                  True\n\n"
    );
    assert_eq!(r.stdout, local(&s.store(), script).stdout);
    assert_eq!(
        r.stderr,
        "Get-CsUser: No user enabled for Lync Server matches the identity \"nobody\".\n"
    );
    assert_eq!(r.code, Some(1));

    // -File sends a local script with its arguments; `exit` is the status.
    let script = s.dir.path("greet.ps1");
    std::fs::write(
        &script,
        "param($Name, [int]$Times = 1)\n1..$Times | ForEach-Object { \"hi $Name\" }\nexit $Times\n",
    )
    .expect("script");
    let mut cmd = s.client("admin");
    cmd.arg("-File")
        .arg(&script)
        .args(["-Name", "Bob", "-Times", "2"]);
    let r = run_bounded(cmd, b"", LIMIT);
    assert_eq!(r.stdout, "hi Bob\nhi Bob\n");
    assert_eq!(r.code, Some(2), "{}", r.stderr);

    // A script on standard input runs as -Command does.
    let r = run_bounded(s.client("admin"), b"$x = 6\n$x * 7\nexit 4\n", LIMIT);
    assert_eq!(
        (r.stdout.as_str(), r.code),
        ("42\n", Some(4)),
        "{}",
        r.stderr
    );

    // Roles hold: a view-only account does not have Set-*.
    let mut cmd = s.client("viewer");
    cmd.arg("-Command")
        .arg("Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $False");
    let r = run_bounded(cmd, b"", LIMIT);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.starts_with(
            "Set-CsAccessEdgeConfiguration: The term 'Set-CsAccessEdgeConfiguration' is not recognized"
        ),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("recorded"), "{}", r.stderr);
}

#[test]
fn host_name_refuses_what_it_cannot_trust() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    // A known_hosts entry with another key for this host: refused before
    // anything is sent.
    let stranger = std::fs::read_to_string(s.dir.path("stranger.pub")).expect("stranger.pub");
    let mut fields = stranger.split_whitespace();
    let (kind, key) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
    std::fs::create_dir_all(s.dir.path("home/.ssh")).expect("mkdir");
    std::fs::write(
        s.dir.path("home/.ssh/known_hosts"),
        format!("[127.0.0.1]:{} {kind} {key}\n", s.port),
    )
    .expect("known_hosts");
    let mut cmd = s.client("admin");
    cmd.arg("-Command")
        .arg("Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True");
    let r = run_bounded(cmd, b"", LIMIT);
    assert_eq!(r.code, Some(255));
    assert!(
        r.stderr.contains(&format!(
            "lyncsh: the host key of [127.0.0.1]:{} does not match the one recorded in",
            s.port
        )),
        "{}",
        r.stderr
    );
    let r = local(
        &s.store(),
        "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers",
    );
    assert_eq!(r.stdout.trim(), "False", "{}", r.stderr);

    // An account without a role, a key the server does not know, a key
    // file that is not there: each a one-line reason and status 255.
    std::fs::remove_file(s.dir.path("home/.ssh/known_hosts")).expect("rm");
    for (user, key, reason) in [
        (
            "nobody",
            "key",
            format!("lyncsh: nobody@[127.0.0.1]:{} refused the key ", s.port),
        ),
        (
            "admin",
            "stranger",
            format!("lyncsh: admin@[127.0.0.1]:{} refused the key ", s.port),
        ),
        (
            "admin",
            "missing",
            "lyncsh: cannot use the key ".to_string(),
        ),
    ] {
        let mut cmd = s.client_with_key(user, key);
        cmd.args(["-Command", "1"]);
        let r = run_bounded(cmd, b"", LIMIT);
        assert_eq!(r.code, Some(255), "{user} {key}");
        assert!(r.stderr.contains(&reason), "{}", r.stderr);
        assert_eq!(r.stdout, "");
    }
}

#[test]
fn host_name_opens_the_shell_on_the_server() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let mut t = Term::spawn(s.client("admin"), "[127.0.0.1]: PS lyncsh> ");
    // Variables live in the remote session between lines.
    t.run("$abc = 6 * 7");
    t.run("\"answer $abc\"");
    t.wait("answer 42");
    // Tab asks the server: a cmdlet, a parameter, a variable of the session.
    t.send("Get-CsAccessE\t");
    t.wait_line("Get-CsAccessEdgeConfiguration ");
    t.send("-Iden\t");
    t.wait_line("-Identity ");
    t.send("\x03");
    t.wait_ready();
    t.send("$ab\t");
    t.wait_line("$abc");
    t.send("\r");
    t.wait_ready();
    // Ctrl-C stops a command on the server and the session goes on.
    t.send("while ($true) { }\r");
    t.wait_until("the loop to run", |t| !t.at_prompt());
    let end = Instant::now() + common::term::DEADLINE;
    while !t.at_prompt() {
        t.send("\x03");
        let wait = Instant::now() + Duration::from_millis(500);
        while Instant::now() < wait && !t.at_prompt() {
            t.pump();
            std::thread::sleep(Duration::from_millis(15));
        }
        assert!(Instant::now() < end, "Ctrl-C did not stop:\n{}", t.screen());
    }
    t.run("$abc + 1");
    t.wait("43");
    t.send("exit 6\r");
    t.wait_exit();
}

#[test]
fn passwords_are_off_unless_configured_and_never_plain_text() {
    if !have_ssh() {
        return;
    }
    let hashed = run_bounded(
        {
            let mut c = Command::new(bin());
            c.arg("hash-password");
            c
        },
        b"s3cret\n",
        LIMIT,
    );
    assert_eq!(hashed.code, Some(0), "{}", hashed.stderr);
    assert!(hashed.stdout.starts_with("$argon2id$"), "{}", hashed.stdout);

    // A plain-text password in the file stops the server at start.
    let dir = common::TempDir::new("plain");
    std::fs::write(dir.path("passwords"), "admin:s3cret\n").expect("write");
    let mut cmd = Command::new(bin());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--store"])
        .arg(dir.path("store.db"))
        .arg("--host-key")
        .arg(dir.path("host_key"))
        .arg("--passwords")
        .arg(dir.path("passwords"));
    let r = run_bounded(cmd, b"", LIMIT);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("passwords:1: expected ACCOUNT:HASH with an argon2 hash"),
        "{}",
        r.stderr
    );

    // With passwords off, ssh is never even asked for one; with the file,
    // the right password gets in and a wrong one does not.
    let login = |s: &Server, password: &str| {
        let askpass = s.dir.path("askpass.sh");
        std::fs::write(&askpass, format!("#!/bin/sh\necho '{password}'\n")).expect("askpass");
        std::fs::set_permissions(
            &askpass,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod");
        let mut cmd = Command::new("ssh");
        cmd.arg("-p")
            .arg(s.port.to_string())
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "PubkeyAuthentication=no",
                "-o",
                "PreferredAuthentications=password",
                "-o",
                "NumberOfPasswordPrompts=1",
                "-o",
                "LogLevel=ERROR",
                "-F",
                "/dev/null",
                "admin@127.0.0.1",
                "(Get-CsAccessEdgeConfiguration).Identity",
            ])
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0");
        run_bounded(cmd, b"", LIMIT)
    };
    let off = Server::start(&[]);
    let r = login(&off, "s3cret");
    assert_eq!(r.code, Some(255));
    assert!(
        r.stderr.contains("Permission denied (publickey)"),
        "{}",
        r.stderr
    );

    let dir = common::TempDir::new("pw");
    std::fs::write(
        dir.path("passwords"),
        format!("# admins\nadmin:{}", hashed.stdout),
    )
    .expect("write");
    let file = format!("{}", dir.path("passwords").display());
    let on = Server::start(&["--passwords", &file]);
    let r = login(&on, "s3cret");
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (Some(0), "Global\n"),
        "{}",
        r.stderr
    );
    let r = login(&on, "wrong");
    assert_eq!(r.code, Some(255));
    assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
}

/// `lyncsh -sshs` as sshd runs it for `user`, with these requests.
fn sshs(store: &std::path::Path, user: &str, requests: &[serde_json::Value]) -> common::Run {
    let input: String = requests.iter().map(|r| format!("{r}\n")).collect();
    let mut cmd = Command::new(bin());
    cmd.arg("--store").arg(store).arg("-sshs").env("USER", user);
    run_bounded(cmd, input.as_bytes(), LIMIT)
}

#[test]
fn sshs_gives_an_account_its_directory() {
    let dir = common::TempDir::new("sshs-dir");
    let store = dir.path("s.db");
    let share = dir.path("share");
    std::fs::create_dir_all(&share).expect("share");
    std::fs::write(share.join("notes.txt"), "hello\n").expect("notes");
    let seeded = local(
        &store,
        "Add-CsAdminRoleMember -Role CsViewOnlyAdministrator -Member viewer",
    );
    assert_eq!(seeded.code, Some(0), "{}", seeded.stderr);
    let real = std::fs::canonicalize(&share).expect("canonical");
    let run = |user: &str| {
        let requests = [
            serde_json::json!({"id": 1, "op": "invoke", "script": "Get-Content notes.txt"}),
            serde_json::json!({"id": 2, "op": "invoke", "script": "Get-Content /etc/hostname"}),
        ];
        let input: String = requests.iter().map(|r| format!("{r}\n")).collect();
        let mut cmd = Command::new(bin());
        cmd.arg("--store")
            .arg(&store)
            .arg("-sshs")
            .arg("--allow-directory")
            .arg(format!("viewer={}", share.display()))
            .env("USER", user);
        let r = run_bounded(cmd, input.as_bytes(), LIMIT);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        json_lines(&r.stdout)
    };
    let message = |lines: &[serde_json::Value], id: u64| -> String {
        lines
            .iter()
            .find(|l| l["id"] == id && l["stream"] == "error")
            .and_then(|l| l["error"]["message"].as_str())
            .unwrap_or("")
            .to_string()
    };
    // The session starts in the account's directory and reads there...
    let lines = run("viewer");
    assert!(
        lines
            .iter()
            .any(|l| l["id"] == 1 && l["object"] == serde_json::json!("hello")),
        "{lines:?}"
    );
    // ...and nowhere else.
    assert_eq!(
        message(&lines, 2),
        format!(
            "Access to '/etc/hostname' is denied: this session may only use files under '{}'.",
            real.display()
        )
    );
    // An account without an entry gets no file system at all.
    let seeded = local(
        &store,
        "Add-CsAdminRoleMember -Role CsViewOnlyAdministrator -Member other",
    );
    assert_eq!(seeded.code, Some(0), "{}", seeded.stderr);
    let lines = run("other");
    assert!(
        message(&lines, 1).ends_with("this session may not use the file system."),
        "{lines:?}"
    );
    // A malformed entry stops -sshs before it serves anything.
    let mut cmd = Command::new(bin());
    cmd.arg("--store")
        .arg(&store)
        .args(["-sshs", "--allow-directory", "viewer"])
        .env("USER", "viewer");
    let r = run_bounded(cmd, b"", LIMIT);
    assert_eq!(r.code, Some(64));
    assert_eq!(
        r.stderr,
        "lyncsh -sshs: --allow-directory takes ACCOUNT=DIR, not 'viewer'\n"
    );
    assert_eq!(r.stdout, "");
}

#[test]
fn sshs_holds_the_account_to_its_roles_and_the_remote_limits() {
    let dir = common::TempDir::new("sshs-roles");
    let store = dir.path("s.db");
    let seeded = local(
        &store,
        "Add-CsAdminRoleMember -Role CsViewOnlyAdministrator -Member viewer",
    );
    assert_eq!(seeded.code, Some(0), "{}", seeded.stderr);
    let r = sshs(
        &store,
        "viewer",
        &[
            serde_json::json!({"id": 1, "op": "invoke", "script": "Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True"}),
            serde_json::json!({"id": 2, "op": "invoke", "script": "Get-Content /etc/hostname"}),
            serde_json::json!({"id": 3, "op": "invoke", "script": "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers"}),
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let lines = json_lines(&r.stdout);
    assert_eq!(lines[0]["user"], "viewer");
    assert_eq!(
        lines[0]["roles"],
        serde_json::json!(["CsViewOnlyAdministrator"])
    );
    let errors = |id: u64| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["id"] == id && l["stream"] == "error")
            .map(|l| l["error"]["message"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert!(
        errors(1)[0].starts_with(
            "The term 'Set-CsAccessEdgeConfiguration' is not recognized as a name of a cmdlet"
        ),
        "{lines:?}"
    );
    assert_eq!(
        errors(2),
        ["Access to '/etc/hostname' is denied: this session may not use the file system."]
    );
    assert!(
        lines
            .iter()
            .any(|l| l["id"] == 3 && l["object"] == serde_json::json!(false)),
        "{lines:?}"
    );
    let r = local(
        &store,
        "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers",
    );
    assert_eq!(r.stdout, "False\n");

    // No role: refused, with the reason and a failing exit status, even
    // while the client keeps its input open (once it has spoken: until
    // then `-sshs` is silent, as a PSRP client needs).
    let mut child = Command::new(bin())
        .arg("--store")
        .arg(&store)
        .arg("-sshs")
        .env("USER", "nobody")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("lyncsh -sshs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"{\"id\":1,\"op\":\"invoke\",\"script\":\"1\"}\n")
        .expect("write");
    let status = wait_bounded(&mut child, LIMIT);
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    assert_eq!(status.code(), Some(1), "{out}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{out}");
    assert_eq!(lines[0]["error"]["kind"], "SessionRefused");
    assert_eq!(
        lines[0]["error"]["message"],
        "The account 'nobody' holds no administrator role."
    );
}

/// Changes logged in the store, as a local process counts them.
fn logged_changes(s: &Server) -> String {
    let r = local(&s.store(), "(Get-CsAdminChangeLog | Measure-Object).Count");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r.stdout
}

#[test]
fn a_key_logs_in_only_as_the_account_whose_file_holds_it() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let before = logged_changes(&s);
    let r = s.ssh(
        "viewerkey",
        "admin",
        &["Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True"],
        "",
    );
    assert_eq!(r.code, Some(255), "{}", r.stdout);
    assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
    assert_eq!(logged_changes(&s), before);
    let r = local(
        &s.store(),
        "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers",
    );
    assert_eq!(r.stdout, "False\n");
    // The same key is viewer's.
    let r = s.ssh(
        "viewerkey",
        "viewer",
        &["(Get-CsAccessEdgeConfiguration).Identity"],
        "",
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (Some(0), "Global\n"),
        "{}",
        r.stderr
    );
    // A name that would lead out of the keys directory has no file.
    let r = s.ssh("key", "..", &["1"], "");
    assert_eq!(r.code, Some(255), "{}", r.stdout);
}

#[test]
fn key_options_are_honoured_or_the_key_is_refused() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let key = s.public_key("key");
    let login = |s: &Server| s.ssh("key", "admin", &["'in'"], "");
    // from=: the client's address must match, and no negated pattern.
    for (options, ok) in [
        (r#"from="10.1.2.*""#, false),
        (r#"from="127.0.0.*,!127.0.0.1""#, false),
        (r#"from="10.0.0.0/8,127.0.0.0/8""#, true),
        (r#"from="127.0.0.?""#, true),
    ] {
        s.authorize("admin", &format!("{options} {key}"));
        let r = login(&s);
        if ok {
            assert_eq!(
                (r.code, r.stdout.as_str()),
                (Some(0), "in\n"),
                "{options}: {}",
                r.stderr
            );
        } else {
            assert_eq!(r.code, Some(255), "{options}");
        }
    }
    assert!(
        s.log()
            .contains("the key is not allowed from 127.0.0.1 (from=\"10.1.2.*\")"),
        "{}",
        s.log()
    );
    // command= and options lyncsh does not know refuse the line, logged.
    for (options, why) in [
        (
            r#"command="/bin/sh""#,
            "command= is not supported: a lyncsh login always runs a lyncsh session",
        ),
        (
            r#"environment="A=1""#,
            r#"the option 'environment="A=1"' is not supported by lyncsh serve; the key on this line is refused"#,
        ),
    ] {
        s.authorize("admin", &format!("{options} {key}"));
        let r = login(&s);
        assert_eq!(r.code, Some(255), "{options}");
        assert!(s.log().contains(why), "{}", s.log());
    }
    // A later line with the same key and options that hold still counts.
    s.authorize("admin", &format!("command=\"x\" {key}{key}"));
    assert_eq!(login(&s).code, Some(0));

    // no-pty (and restrict): the pty request is refused, which `ssh -tt`
    // takes as fatal (tests/remote.rs runs the shell that follows).
    for options in ["no-pty", "restrict"] {
        s.authorize("admin", &format!("{options} {key}"));
        let mut cmd = s.ssh_command("key", "admin");
        cmd.args(["-tt", "127.0.0.1"]);
        let r = run_bounded(cmd, b"'x' + 1\nexit 4\n", LIMIT);
        assert_eq!(r.code, Some(255), "{options}: {} {}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("PTY allocation request failed"),
            "{options}: {}",
            r.stderr
        );
    }
    s.authorize("admin", &key);
    let mut cmd = s.ssh_command("key", "admin");
    cmd.args(["-tt", "127.0.0.1"]);
    let r = run_bounded(cmd, b"exit 4\r", LIMIT);
    assert_eq!(r.code, Some(4), "{} {}", r.stdout, r.stderr);
}

#[test]
fn an_authorized_keys_path_without_the_account_is_refused_at_start() {
    let dir = common::TempDir::new("keys-path");
    for (path, why) in [
        (
            dir.path("authorized_keys"),
            "the path must contain %u, the account name",
        ),
        (dir.path("keys/%h/%u"), "unknown token %h"),
    ] {
        let mut cmd = Command::new(bin());
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--store"])
            .arg(dir.path("store.db"))
            .arg("--host-key")
            .arg(dir.path("host_key"))
            .arg("--authorized-keys")
            .arg(&path);
        let r = run_bounded(cmd, b"", LIMIT);
        assert_eq!(r.code, Some(1), "{}", r.stdout);
        assert!(
            r.stderr.starts_with(&format!(
                "lyncsh serve: --authorized-keys {}: ",
                path.display()
            )) && r.stderr.contains(why),
            "{}",
            r.stderr
        );
        assert_eq!(r.stdout, "");
    }
}

/// A script of about `bytes` bytes: statements that each print a line
/// (more output in all than the client's window, so the session must
/// wait for window space while input keeps coming), then the count.
fn big_script(bytes: usize) -> (String, usize) {
    let mut script = String::from("$n = 0\n");
    let mut lines = 0;
    while script.len() < bytes {
        script.push_str("$n++; \"line $n of a piped script, long enough to take some room\"\n");
        lines += 1;
    }
    script.push_str("\"n = $n\"\nexit 3\n");
    (script, lines)
}

#[test]
fn a_five_megabyte_script_through_the_shell_runs_whole() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let (script, lines) = big_script(5 << 20);
    let r = s.ssh("key", "admin", &[], &script);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stdout.ends_with(&format!("n = {lines}\nPS lyncsh> ")),
        "{}",
        &r.stdout[r.stdout.len().saturating_sub(200)..]
    );
    assert_eq!(r.stdout.matches(" of a piped script").count(), lines);
    assert_eq!(r.stderr, "");
}

/// Refusals are answered even while the client is not reading: the
/// session's output queue is full behind a large answer when they happen.
/// (OpenSSH, unlike the russh test client, keeps the connection going
/// while its own reader lags, as a real admin's client does.)
#[test]
fn refused_requests_are_answered_behind_unread_output() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let mut cmd = s.ssh_command("key", "admin");
    cmd.args(["-s", "127.0.0.1", "lyncsh"]);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ssh");
    // 8 MB of output, then a pause in which 39 MB of requests pile up
    // past what the session holds, so some are refused.
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let first = serde_json::json!({"id": 1, "op": "invoke",
            "script": "1..800 | % { 'y' * 10000 }; Start-Sleep -Seconds 2"});
        let _ = stdin.write_all(format!("{first}\n").as_bytes());
        let big = format!("#{}\n1", "x".repeat(3 << 20));
        for id in 2..=14 {
            let line = serde_json::json!({"id": id, "op": "invoke", "script": big});
            let _ = stdin.write_all(format!("{line}\n").as_bytes());
        }
    });
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        // Nobody reads until the flood is in.
        std::thread::sleep(Duration::from_secs(3));
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    writer.join().expect("writer");
    let status = wait_bounded(&mut child, LIMIT);
    assert!(status.success(), "{status:?}");
    let lines = json_lines(&reader.join().expect("reader"));
    let states: std::collections::BTreeMap<u64, &str> = lines
        .iter()
        .filter_map(|l| Some((l["id"].as_u64()?, l["state"].as_str()?)))
        .collect();
    assert_eq!(states.len(), 14, "{states:?}");
    let busy = lines
        .iter()
        .filter(|l| l["error"]["kind"] == "Busy")
        .count();
    assert!(busy > 0, "nothing was refused: {states:?}");
    assert_eq!(states.values().filter(|s| **s == "failed").count(), busy);
    assert_eq!(states[&1], "completed");
}

/// `ssh` as `user` with a shell whose input stays open: the session holds
/// its slot until the child is killed. Returns once the prompt came.
fn hold(s: &Server, key: &str, user: &str, extra: &[&str]) -> std::process::Child {
    let mut cmd = s.ssh_command(key, user);
    cmd.args(extra).arg("127.0.0.1");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ssh");
    let mut out = child.stdout.take().expect("stdout");
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("PS lyncsh> ") {
        match out.read(&mut buf) {
            Ok(0) | Err(_) => panic!("{user}: no prompt: {}", String::from_utf8_lossy(&seen)),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    // Keep draining, so the session never waits on its output.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    child
}

#[test]
fn the_slot_of_a_client_that_vanished_while_piping_is_freed() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&["--max-sessions", "1", "--reserved-admin-sessions", "0"]);
    let (script, _) = big_script(5 << 20);
    for round in 0..2 {
        let mut cmd = s.ssh_command("key", "admin");
        cmd.arg("127.0.0.1");
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = script.clone();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        std::thread::sleep(Duration::from_millis(1500));
        let _ = child.kill();
        let _ = child.wait();
        let _ = writer.join();
        // The one slot comes back once the server notices.
        let t = Instant::now();
        loop {
            let r = s.exec("admin", "'free'");
            if r.code == Some(0) {
                assert_eq!(r.stdout, "free\n");
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "round {round}: the slot is still taken: {}",
                r.stderr
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

#[test]
fn an_unfinished_input_past_its_cap_is_dropped() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    // A block that never closes within 5 MiB, then more statements.
    let mut script = String::from("if ($true) {\n");
    let comment = format!("# {}\n", "c".repeat(1000));
    while script.len() < 5 << 20 {
        script.push_str(&comment);
    }
    script.push_str("'after'\nexit 2\n");
    let r = s.ssh("key", "admin", &[], &script);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "The unfinished input is longer than this session keeps (4 MiB); it was dropped.\n"
    );
    assert!(
        r.stdout.ends_with("PS lyncsh> after\nPS lyncsh> "),
        "{}",
        &r.stdout[r.stdout.len().saturating_sub(200)..]
    );
}

#[test]
fn sessions_are_capped_per_account_and_admins_keep_a_reserve() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[
        "--max-sessions",
        "3",
        "--max-sessions-per-account",
        "1",
        "--reserved-admin-sessions",
        "1",
    ]);
    let seeded = local(
        &s.store(),
        "Add-CsAdminRoleMember -Role CsViewOnlyAdministrator -Member viewer2",
    );
    assert_eq!(seeded.code, Some(0), "{}", seeded.stderr);
    s.authorize("viewer2", &s.public_key("key"));
    let mut held = vec![hold(&s, "key", "viewer", &[])];
    let r = s.exec("viewer", "'second'");
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "lyncsh: The account 'viewer' already has 1 session(s) open, the most one account may have.\n"
    );
    held.push(hold(&s, "key", "useradmin", &[]));
    // Two of three taken: the last is an administrator's.
    let r = s.exec("viewer2", "'third'");
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "lyncsh: The server's last 1 session(s) are kept for CsAdministrator accounts; try again later.\n"
    );
    let r = s.exec("admin", "'admin'");
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (Some(0), "admin\n"),
        "{}",
        r.stderr
    );
    held.push(hold(&s, "key", "admin", &[]));
    let r = s.exec("admin", "'fourth'");
    assert_eq!(
        r.stderr,
        "lyncsh: The server already has 3 sessions open, the most it allows; try again later.\n"
    );
    for mut c in held {
        let _ = c.kill();
        let _ = c.wait();
    }
}

#[test]
fn a_connection_ends_at_its_lifetime_despite_keep_alives() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&["--session-lifetime", "2", "--idle-timeout", "60"]);
    let t = Instant::now();
    let mut child = hold(&s, "key", "admin", &["-o", "ServerAliveInterval=1"]);
    let status = wait_bounded(&mut child, LIMIT);
    let took = t.elapsed();
    assert_eq!(status.code(), Some(255));
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
fn remote_sessions_see_a_minimal_environment() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let r = s.exec(
        "viewer",
        "\"[$env:PATH][$env:LYNCSH_STORE][$env:HOSTNAME][$([Environment]::MachineName)][$PID][$PWD][$HOME][$env:USER]\"",
    );
    assert_eq!(
        (r.stdout.as_str(), r.code),
        (
            "[/usr/local/bin:/usr/bin:/bin][][][localhost][0][/][/][viewer]\n",
            Some(0)
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn running_a_path_tells_nothing_about_whether_it_exists() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&["--allow-directory", "viewer={dir}/share"]);
    // Same length, so that the underlined source lines match too.
    let answer = |user: &str, path: &str| {
        let r = s.exec(user, &format!("& {path}"));
        (r.code, r.stdout, r.stderr.replace(path, "PATH"))
    };
    let (code, out, err) = answer("admin", "/etc/passwd");
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert!(
        err.contains("Running script files or programs is not allowed in this session."),
        "{err}"
    );
    assert_eq!(answer("admin", "/etc/passwx"), (code, out, err));
    // Outside an account's directory, the same.
    let (code, out, err) = answer("viewer", "/etc/passwd");
    assert_eq!(code, Some(1));
    assert!(
        err.contains("is denied: this session may only use files under"),
        "{err}"
    );
    assert_eq!(answer("viewer", "/etc/passwx"), (code, out, err));
}

#[test]
fn crash_lines_from_a_view_only_account_end_in_errors_and_the_server_goes_on() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    // Each of these once ended the server (stack overflow, failed
    // allocation or arithmetic panic); now each is output or an error.
    let cases: &[(&str, &str, &str)] = &[
        ("$a = @(1); $a[0] = $a; \"$a\"", "System.Object[]\n", ""),
        ("$c = 'iex $c'; iex $c", "", "call depth overflow"),
        (
            "$h = @{}; $h.self = $h; $h | Format-List",
            "\nName  : self\nValue : {[self, System.Collections.Hashtable]}\n\n",
            "",
        ),
        (
            "$o = [pscustomobject]@{ a = 1 }; $o | Add-Member ScriptProperty P { $this.P }; $o.P",
            "",
            "call depth overflow",
        ),
        (
            "$x = 1; foreach ($i in 1..200000) { $x = @(,$x) }; \"$x\"; $x.ToString()",
            "System.Object[]\nSystem.Object[]\n",
            "",
        ),
        (
            "$x = 1; foreach ($i in 1..2000000) { $x = @(,$x) }; $x = 0; 'freed'",
            "freed\n",
            "",
        ),
        (
            "'x'.PadLeft(2147483647)",
            "",
            "larger than this session allows",
        ),
        (
            "'{0,-2147483648}' -f 1",
            "",
            "Input string was not in a correct format",
        ),
        (
            "('x' * 1MB) -replace 'x', ('y' * 100)",
            "",
            "larger than this session allows",
        ),
        ("[long]::MinValue / -1", "9.22337203685478E+18\n", ""),
        (
            "(Get-Date).AddMilliseconds(1e300)",
            "",
            "Value to add was out of range",
        ),
    ];
    for (line, out, err) in cases {
        let r = s.exec("viewer", line);
        assert_eq!(&r.stdout, out, "{line}: {}", r.stderr);
        assert!(r.stderr.contains(err), "{line}: {}", r.stderr);
    }
    let r = s.exec("admin", "'still serving'");
    assert_eq!(r.stdout, "still serving\n", "{}", r.stderr);
}

#[test]
fn roles_other_than_administrator_keep_the_csv_cmdlets() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    for user in ["viewer", "useradmin"] {
        let r = s.exec(user, "'a,b', '1,2' | ConvertFrom-Csv | ForEach-Object b");
        assert_eq!(r.stdout, "2\n", "{user}: {}", r.stderr);
        let r = s.exec(user, "(Get-Command Import-Csv).Name");
        assert_eq!(r.stdout, "Import-Csv\n", "{user}: {}", r.stderr);
    }
}
