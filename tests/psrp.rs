//! PowerShell remoting (PSRP) end to end, with a client no one here
//! wrote: psrpcore 0.3.1 (the sans-IO PSRP library pypsrp is built on),
//! driven by `tests/psrp/client.py` over OpenSSH's `ssh -s … powershell`
//! exactly as pwsh spawns it, against `lyncsh serve`; and over standard
//! input and output against `lyncsh -sshs`, as sshd's `Subsystem` line
//! runs it. The client's virtualenv is made once under the target
//! directory (`.ci/run` makes it ahead of time).

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::server::{Server, have_ssh};
use common::{LIMIT, bin, local, run_bounded};
use serde_json::{Value, json};

/// The virtualenv's python with psrpcore and pypsrp, made on first use.
fn python() -> PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/psrp-venv");
        let py = dir.join("bin/python");
        let ready = Command::new(&py)
            .args(["-c", "import psrpcore, psrp"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ready {
            let st = Command::new("sh")
                .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/psrp/venv.sh"))
                .arg(&dir)
                .status()
                .expect("tests/psrp/venv.sh");
            assert!(
                st.success(),
                "the PSRP client's virtualenv could not be made"
            );
        }
        py
    })
    .clone()
}

/// Plays `scenario` with the client against the program `argv`.
fn play(scenario: Value, argv: &[String]) -> Value {
    let mut cmd = Command::new(python());
    cmd.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/psrp/client.py"))
        .arg(scenario.to_string())
        .arg("--")
        .args(argv);
    let r = run_bounded(cmd, b"", LIMIT * 2);
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("client said {:?} ({e}); stderr {}", r.stdout, r.stderr))
}

/// The argv pwsh runs for `-HostName 127.0.0.1 -UserName user`.
fn ssh_argv(s: &Server, user: &str) -> Vec<String> {
    let cmd = s.ssh_command("key", user);
    let mut argv = vec![cmd.get_program().to_string_lossy().into_owned()];
    argv.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    argv.extend(["-s".into(), "127.0.0.1".into(), "powershell".into()]);
    argv
}

fn ok(r: &Value) -> &Vec<Value> {
    assert!(r.get("error").is_none(), "{r:#}");
    assert_eq!(r["opened"], "Opened", "{r:#}");
    r["pipelines"].as_array().expect("pipelines")
}

#[test]
fn invoke_command_returns_objects_errors_input_and_stops() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let big = format!("'{}'.Length", "x".repeat(40_000));
    let r = play(
        json!({"pipelines": [
            {"script": "Get-CsAccessEdgeConfiguration"},
            {"commands": [["Get-CsAccessEdgeConfiguration", {"Identity": "Global"}]]},
            {"commands": [["Sort-Object", {}, [], ["Descending"]], ["Select-Object", {"First": 2}]],
             "input": [3, 1, 2]},
            {"script": "Write-Error -Message boom -Category InvalidData -ErrorId MyErr; 'after'"},
            {"script": "throw 'bad'"},
            {"script": big},
            {"script": "$x = 21"},
            {"script": "$x * 2"},
            {"script": "while ($true) {}", "signal_after": 1},
            {"script": "'still here'"},
            {"script": "Write-Progress -Activity Copying -Status 'Half way' -PercentComplete 50; Write-Progress -Activity Copying -Completed; 'done'"},
        ]}),
        &ssh_argv(&s, "admin"),
    );
    let p = ok(&r);
    let local_type = local(
        &s.store(),
        "(Get-CsAccessEdgeConfiguration).PSObject.TypeNames[0]",
    );
    let expected_type = format!("Deserialized.{}", local_type.stdout.trim());
    for i in [0, 1] {
        let o = &p[i]["output"][0];
        assert_eq!(o["types"][0], expected_type.as_str(), "{o:#}");
        assert_eq!(o["props"]["Identity"], "Global");
        assert_eq!(o["props"]["AllowAnonymousUsers"], false);
        assert_eq!(o["str"], "Global");
        assert_eq!(p[i]["state"], "Completed");
    }
    assert_eq!(p[2]["output"], json!([3, 2]));
    let err = &p[3]["errors"][0];
    assert_eq!(err["message"], "boom");
    assert_eq!(err["category"], "InvalidData");
    assert_eq!(err["fqid"], "MyErr");
    assert_eq!(p[3]["output"], json!(["after"]));
    assert_eq!(p[3]["state"], "Completed");
    assert_eq!(p[4]["state"], "Failed");
    assert_eq!(p[4]["reason"]["message"], "bad");
    assert_eq!(p[5]["output"], json!([40_000]));
    assert_eq!(p[7]["output"], json!([42]));
    assert_eq!(p[8]["state"], "Stopped");
    assert_eq!(p[9]["output"], json!(["still here"]));
    // Progress reaches the client as records, for its progress bar.
    assert_eq!(
        p[10]["progress"],
        json!([
            ["Copying", "Half way", 50, "Processing"],
            ["Copying", "Processing", -1, "Completed"]
        ])
    );
    assert_eq!(p[10]["output"], json!(["done"]));
    assert_eq!(r["exit"], 0);
}

#[test]
fn enter_pssession_sequence_renders_on_the_server() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let line = "Get-CsAccessEdgeConfiguration | Select-Object Identity,AllowOutsideUsers";
    let r = play(
        json!({"host": true, "pipelines": [
            {"metadata": ["Out-Default", "Exit-PSSession"]},
            {"commands": [["prompt"]]},
            {"script": line, "out_default": true},
            {"script": "Write-Error nope", "out_default": true},
            {"commands": [["TabExpansion2", {"inputScript": "Get-CsAccessEdge", "cursorColumn": 16}]]},
            {"commands": [["Exit-PSSession"]], "out_default": true},
        ]}),
        &ssh_argv(&s, "admin"),
    );
    let p = ok(&r);
    assert!(
        p[0]["output"].as_array().expect("metadata").len() >= 3,
        "{:#}",
        p[0]
    );
    assert_eq!(p[0]["output"][1]["props"]["Name"], "Out-Default");
    assert_eq!(p[0]["output"][2]["props"]["Name"], "Exit-PSSession");
    assert_eq!(p[1]["output"], json!(["PS lyncsh> "]));
    // What the console prints is what the local shell prints.
    assert_eq!(p[2]["output"], json!([]));
    let text: String = p[2]["host_calls"]
        .as_array()
        .expect("host calls")
        .iter()
        .map(|c| {
            assert_eq!(c["mi"], "WriteLine2");
            format!("{}\n", c["mp"][0].as_str().expect("text"))
        })
        .collect();
    assert_eq!(text, local(&s.store(), line).stdout);
    assert_eq!(p[3]["host_calls"][0]["mi"], "WriteErrorLine");
    assert_eq!(p[3]["host_calls"][0]["mp"][0], "Write-Error: nope");
    // Tab inside the session: pwsh's client runs TabExpansion2 there.
    let c = &p[4]["output"][0];
    assert_eq!(
        c["types"][0], "Deserialized.System.Management.Automation.CommandCompletion",
        "{c:#}"
    );
    assert_eq!(c["props"]["ReplacementIndex"], 0, "{c:#}");
    assert_eq!(c["props"]["ReplacementLength"], 16, "{c:#}");
    let first = &c["props"]["CompletionMatches"][0]["props"];
    assert_eq!(
        first["CompletionText"], "Get-CsAccessEdgeConfiguration",
        "{c:#}"
    );
    assert_eq!(p[5]["host_calls"], json!([{"mi": "PopRunspace", "mp": []}]));
}

#[test]
fn a_view_only_account_cannot_change_the_store() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let r = play(
        json!({"pipelines": [
            {"script": "Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $true"},
            {"commands": [["Set-CsAccessEdgeConfiguration", {"AllowAnonymousUsers": true}]]},
            {"script": "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers"},
        ]}),
        &ssh_argv(&s, "viewer"),
    );
    let p = ok(&r);
    for i in [0, 1] {
        let e = &p[i]["errors"][0];
        assert_eq!(e["fqid"], "CommandNotFoundException", "{:#}", p[i]);
        assert!(
            e["message"]
                .as_str()
                .expect("message")
                .starts_with("The term 'Set-CsAccessEdgeConfiguration' is not recognized"),
            "{e:#}"
        );
    }
    assert_eq!(p[2]["output"], json!([false]));
    let after = local(
        &s.store(),
        "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers",
    );
    assert_eq!(after.stdout, "False\n");
}

#[test]
fn questions_are_answered_by_the_clients_host_and_pipelines_queue_on_the_pool() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let r = play(
        json!({"host": true, "answers": ["pool01.contoso.com", "abc", 2, 0], "pipelines": [
            {"script": "$pool = Read-Host 'Registrar pool'; \"pool: $pool\""},
            {"script": "(Read-Host).Length"},
            {"script": "New-CsConferencingPolicy -Identity Tmp | Out-Null; Remove-CsConferencingPolicy -Identity Tmp -Confirm; (Get-CsConferencingPolicy -Filter Tag:Tmp).Identity"},
            {"script": "Remove-CsConferencingPolicy -Identity Tmp -Confirm; @(Get-CsConferencingPolicy -Filter Tag:Tmp).Count"},
            {"script": "Read-Host 'Password' -AsSecureString"},
            {"script": "Read-Host 'Nobody answers'; 'not reached'", "signal_after": 1},
            {"together": [
                {"script": "Start-Sleep -Milliseconds 500; 'first'"},
                {"script": "'second'"},
            ]},
        ]}),
        &ssh_argv(&s, "admin"),
    );
    let p = ok(&r);
    // Read-Host with a prompt asks a form of one field, as pwsh's does.
    assert_eq!(p[0]["host_calls"][0]["mi"], "Prompt", "{:#}", p[0]);
    assert_eq!(p[0]["output"], json!(["pool: pool01.contoso.com"]));
    assert_eq!(p[1]["host_calls"][0]["mi"], "ReadLine", "{:#}", p[1]);
    assert_eq!(p[1]["output"], json!([3]));
    // -Confirm: the client's choice decides; No keeps the policy.
    let call = &p[2]["host_calls"][0];
    assert_eq!(call["mi"], "PromptForChoice", "{call:#}");
    assert_eq!(call["mp"][0], "Confirm");
    assert!(
        call["mp"][1]
            .as_str()
            .expect("message")
            .starts_with("Are you sure you want to perform this action?"),
        "{call:#}"
    );
    assert_eq!(p[2]["output"], json!(["Tag:Tmp"]));
    assert_eq!(p[3]["output"], json!([0]));
    // A hidden answer would cross in the clear: refused, with the reason.
    let e = &p[4]["errors"][0];
    assert_eq!(
        e["fqid"], "ReadHostNotAvailable,Microsoft.PowerShell.Commands.ReadHostCommand",
        "{:#}",
        p[4]
    );
    assert!(
        e["message"]
            .as_str()
            .expect("message")
            .contains("SecureString"),
        "{e:#}"
    );
    // Ctrl-C while the question is open stops the pipeline.
    assert_eq!(p[5]["state"], "Stopped", "{:#}", p[5]);
    assert_eq!(p[5]["output"], json!([]));
    // Two pipelines started together both run, one after the other.
    let both = p[6].as_array().expect("two reports");
    assert_eq!(both[0]["output"], json!(["first"]), "{both:#?}");
    assert_eq!(both[0]["state"], "Completed");
    assert_eq!(both[1]["output"], json!(["second"]));
    assert_eq!(both[1]["state"], "Completed");
    assert_eq!(r["exit"], 0);
    let after = local(
        &s.store(),
        "@(Get-CsConferencingPolicy -Filter Tag:Tmp).Count",
    );
    assert_eq!(after.stdout, "0\n");
}

fn sshs_argv(store: &std::path::Path, user: &str) -> Vec<String> {
    vec![
        "env".into(),
        format!("USER={user}"),
        bin().into(),
        "--store".into(),
        store.to_string_lossy().into_owned(),
        "-sshs".into(),
    ]
}

#[test]
fn sshs_serves_psrp_and_json_from_the_first_byte() {
    let dir = common::TempDir::new("psrp-sshs");
    let store = dir.path("s.db");
    let seeded = local(
        &store,
        "Add-CsAdminRoleMember -Role CsAdministrator -Member admin",
    );
    assert_eq!(seeded.code, Some(0), "{}", seeded.stderr);
    let r = play(
        json!({"pipelines": [{"script": "Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $true; 'done'"}]}),
        &sshs_argv(&store, "admin"),
    );
    assert_eq!(ok(&r)[0]["output"], json!(["done"]));
    assert_eq!(r["exit"], 0);
    let after = local(
        &store,
        "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers",
    );
    assert_eq!(after.stdout, "True\n");
    // A JSON client on the same command line still gets its hello.
    let mut cmd = Command::new(bin());
    cmd.arg("--store")
        .arg(&store)
        .arg("-sshs")
        .env("USER", "admin");
    let j = run_bounded(
        cmd,
        b"{\"id\":1,\"op\":\"invoke\",\"script\":\"7\"}\n",
        LIMIT,
    );
    let lines = common::json_lines(&j.stdout);
    assert_eq!(lines[0]["op"], "hello");
    assert_eq!(lines[1]["object"], 7);
}

// ---- hostile input --------------------------------------------------------

const NIL: &str = "00000000-0000-0000-0000-000000000000";

fn fragment(object: u64, flags: u8, blob: &[u8], claimed: Option<u32>) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&object.to_be_bytes());
    f.extend_from_slice(&0u64.to_be_bytes());
    f.push(flags);
    f.extend_from_slice(&claimed.unwrap_or(blob.len() as u32).to_be_bytes());
    f.extend_from_slice(blob);
    f
}

fn message(kind: u32, data: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&2u32.to_le_bytes());
    m.extend_from_slice(&kind.to_le_bytes());
    m.extend_from_slice(&[7u8; 16]);
    m.extend_from_slice(&[0u8; 16]);
    m.extend_from_slice(data);
    m
}

fn data_line(guid: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    format!("<Data Stream='Default' PSGuid='{guid}'>{b64}</Data>\n")
}

/// Lines that end a PSRP session with `__NamedPipeError__`.
fn fatal_inputs() -> Vec<(&'static str, String)> {
    vec![
        (
            "bad base64",
            format!("<Data Stream='Default' PSGuid='{NIL}'>!!!not base64</Data>\n"),
        ),
        ("not a packet", "hello there\n".to_string()),
        ("unknown packet", format!("<Bogus PSGuid='{NIL}' />\n")),
        (
            "gigabyte claim",
            data_line(NIL, &fragment(1, 3, b"x", Some(1 << 30))),
        ),
        (
            "no start fragment",
            data_line(NIL, &fragment(1, 2, b"x", None)),
        ),
        (
            "short message",
            data_line(NIL, &fragment(1, 3, b"short", None)),
        ),
        (
            "unknown message type",
            data_line(NIL, &fragment(1, 3, &message(0x0BAD_0001, b"<S/>"), None)),
        ),
        (
            "long line",
            format!(
                "<Data Stream='Default' PSGuid='{NIL}'>{}</Data>\n",
                "A".repeat(2 << 20)
            ),
        ),
    ]
}

const CREATE_PIPELINE: u32 = 0x0002_1006;

/// CLIXML that fails the pipeline carrying it: 200 levels of nesting, and
/// an entity-expansion bomb.
fn bad_clixml() -> [(&'static str, String); 2] {
    let deep = format!(
        "<Obj RefId=\"0\"><MS>{}</MS></Obj>",
        "<Obj><LST>".repeat(200) + &"</LST></Obj>".repeat(200)
    );
    let bomb = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><S>&b;</S>";
    [("deep nesting", deep), ("XML bomb", bomb.to_string())]
}

/// What `lyncsh -sshs` answers to these lines.
fn sshs_raw(store: &std::path::Path, input: &str) -> common::Run {
    let mut cmd = Command::new(bin());
    cmd.arg("--store")
        .arg(store)
        .arg("-sshs")
        .env("USER", "admin");
    run_bounded(cmd, input.as_bytes(), LIMIT)
}

#[test]
fn hostile_psrp_input_gets_an_error_and_the_next_client_is_served() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let fatal = fatal_inputs();
    for (what, line) in &fatal {
        let mut cmd = s.ssh_command("key", "admin");
        cmd.args(["-s", "127.0.0.1", "powershell"]);
        let r = run_bounded(cmd, line.as_bytes(), LIMIT);
        let last = r.stdout.lines().last().unwrap_or("");
        assert!(
            last.starts_with("__NamedPipeError__:"),
            "{what}: {:?}",
            r.stdout
        );
    }
    // Bad CLIXML in a pipeline fails that pipeline, not the session.
    for (what, xml) in bad_clixml() {
        let pid = "11111111-2222-3333-4444-555555555555";
        let input = data_line(
            pid,
            &fragment(1, 3, &message(CREATE_PIPELINE, xml.as_bytes()), None),
        );
        let r = sshs_raw(&s.store(), &input);
        assert!(
            r.stdout.contains(&format!("<DataAck PSGuid='{pid}' />")),
            "{what}: {}",
            r.stdout
        );
        assert!(
            !r.stdout.contains("__NamedPipeError__"),
            "{what}: {}",
            r.stdout
        );
        assert_eq!(r.code, Some(0), "{what}");
    }
    // A truncated fragment, then the client goes: nothing is answered but
    // the ack, and the session ends cleanly.
    let half = fragment(1, 3, &message(0x0001_0002, b"<Obj/>"), None);
    let r = sshs_raw(&s.store(), &data_line(NIL, &half[..30]));
    assert_eq!(r.stdout, format!("<DataAck PSGuid='{NIL}' />\n"));
    // And the server still serves.
    let r = play(
        json!({"pipelines": [{"script": "'fine'"}]}),
        &ssh_argv(&s, "admin"),
    );
    assert_eq!(ok(&r)[0]["output"], json!(["fine"]));
    let _ = std::io::stderr().flush();
}

/// 1,000 sessions of hostile PSRP input, eight at a time, against a
/// `lyncsh serve` process: each gets its answer, the server still runs
/// commands after them, and its memory is back within 10% of what it held
/// after a warm-up of as many of the same sessions (what its allocator
/// keeps to serve eight at once is not a leak, and after 300 it was still
/// settling by up to 2 MiB; a leak grows with the count).
#[test]
fn a_thousand_hostile_psrp_sessions_leave_the_server_as_it_was() {
    use common::russh_client::{self as client, Conn};
    use std::sync::Arc;
    const SESSIONS: usize = 1_000;
    const WARM_UP: usize = 1_000;
    const AT_ONCE: usize = 8;
    if !have_ssh() {
        return;
    }
    let mut inputs: Vec<(String, String, &str)> = fatal_inputs()
        .into_iter()
        .map(|(what, line)| (what.to_string(), line, "__NamedPipeError__:"))
        .collect();
    for (what, xml) in bad_clixml() {
        let pid = "11111111-2222-3333-4444-555555555555";
        let line = data_line(
            pid,
            &fragment(1, 3, &message(CREATE_PIPELINE, xml.as_bytes()), None),
        );
        inputs.push((what.to_string(), line, "<DataAck PSGuid="));
    }
    let inputs = Arc::new(inputs);
    let s = Server::start(&[]);
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], s.port).into();
    let key =
        Arc::new(russh::keys::load_secret_key(s.dir.path("key"), None).expect("the test key"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // Sessions `from..to`, AT_ONCE at a time; each must get its answer.
        let round = |from: usize, to: usize| {
            let (key, inputs) = (key.clone(), inputs.clone());
            async move {
                let mut set = tokio::task::JoinSet::new();
                for n in from..to {
                    if set.len() == AT_ONCE {
                        set.join_next().await.expect("a task").expect("joins");
                    }
                    let (key, inputs) = (key.clone(), inputs.clone());
                    set.spawn(async move {
                        let (what, line, answer) = &inputs[n % inputs.len()];
                        let conn: Conn = client::connect(addr, "admin", &key)
                            .await
                            .unwrap_or_else(|e| panic!("session {n} ({what}): {e}"));
                        let out = tokio::time::timeout(
                            LIMIT,
                            conn.subsystem("powershell", line.as_bytes()),
                        )
                        .await
                        .unwrap_or_else(|_| panic!("session {n} ({what}) did not end"))
                        .unwrap_or_else(|e| panic!("session {n} ({what}): {e}"));
                        let out = String::from_utf8_lossy(&out);
                        assert!(out.contains(answer), "session {n} ({what}): {out:?}");
                        let _ = conn.close().await;
                    });
                }
                while let Some(r) = set.join_next().await {
                    r.expect("joins");
                }
            }
        };
        let settled = || async {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            common::vm_rss_kib(&s.pid().to_string())
        };
        round(0, WARM_UP).await;
        let before = settled().await;
        let t = std::time::Instant::now();
        round(WARM_UP, WARM_UP + SESSIONS).await;
        let took = t.elapsed();
        let after = settled().await;
        eprintln!(
            "{SESSIONS} hostile PSRP sessions in {took:?}: server VmRSS {before} KiB -> {after} KiB"
        );
        assert!(before > 0, "no VmRSS for the server");
        assert!(
            after * 10 <= before * 11,
            "server VmRSS {before} KiB -> {after} KiB"
        );
        // Still serving: a command over a fresh connection.
        let conn = client::connect(addr, "admin", &key).await.expect("login");
        let out = conn.exec("'fine'").await.expect("exec");
        assert_eq!(String::from_utf8_lossy(&out.0).trim(), "fine");
    });
}

#[test]
fn pypsrp_reaches_serve_over_its_own_ssh_connection() {
    if !have_ssh() {
        return;
    }
    let s = Server::start(&[]);
    let mut cmd = Command::new(python());
    cmd.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/psrp/pypsrp_client.py"))
        .arg(s.port.to_string())
        .arg("admin")
        .arg(s.dir.path("key"))
        .args(["Get-CsAccessEdgeConfiguration", "'a', 2"]);
    let r = run_bounded(cmd, b"", LIMIT);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {:?} {}", r.stdout, r.stderr));
    assert_eq!(v[0]["output"], json!(["Global"]), "{v:#}");
    let local_type = local(
        &s.store(),
        "(Get-CsAccessEdgeConfiguration).PSObject.TypeNames[0]",
    );
    assert_eq!(
        v[0]["types"][0][0],
        format!("Deserialized.{}", local_type.stdout.trim()).as_str()
    );
    assert_eq!(v[1]["output"], json!(["a", "2"]));
}

/// OpenSSH's sshd on loopback hosting `lyncsh -sshs` with the line
/// PowerShell's docs give for pwsh, killed when dropped. sshd logs users
/// in only when it runs as root, so the account is root's.
struct Sshd {
    child: std::process::Child,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sshd(dir: &common::TempDir, store: &std::path::Path) -> Option<Sshd> {
    let sshd = PathBuf::from("/usr/sbin/sshd");
    if !sshd.exists() || !nix_is_root() {
        common::skip("sshd is missing or we are not root (.ci/run installs openssh-server)");
        return None;
    }
    common::server::keygen(&dir.path("hostkey"));
    common::server::keygen(&dir.path("key"));
    std::fs::copy(dir.path("key.pub"), dir.path("authorized_keys")).expect("authorized_keys");
    let _ = std::fs::create_dir_all("/run/sshd");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let d = dir.root().display();
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/hostkey\nPidFile {d}/sshd.pid\n\
         AuthorizedKeysFile {d}/authorized_keys\nPubkeyAuthentication yes\nPasswordAuthentication no\n\
         KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n\
         Subsystem powershell {} --store {} -sshs\n",
        bin(),
        store.display()
    );
    std::fs::write(dir.path("sshd_config"), config).expect("sshd_config");
    let child = Command::new(sshd)
        .arg("-D")
        .arg("-f")
        .arg(dir.path("sshd_config"))
        .arg("-E")
        .arg(dir.path("sshd.log"))
        .spawn()
        .expect("sshd");
    let until = std::time::Instant::now() + LIMIT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < until, "sshd did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Some(Sshd { child, port })
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

#[test]
fn openssh_sshd_hosts_lyncsh_sshs_for_psrp() {
    if !have_ssh() {
        return;
    }
    let dir = common::TempDir::new("psrp-sshd");
    let store = dir.path("s.db");
    let seeded = local(
        &store,
        "Add-CsAdminRoleMember -Role CsAdministrator -Member root",
    );
    assert_eq!(seeded.code, Some(0), "{}", seeded.stderr);
    let Some(d) = sshd(&dir, &store) else {
        return;
    };
    let argv: Vec<String> = [
        "ssh",
        "-p",
        &d.port.to_string(),
        "-i",
        &dir.path("key").to_string_lossy(),
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
        "-l",
        "root",
        "-s",
        "127.0.0.1",
        "powershell",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let r = play(
        json!({"host": true, "pipelines": [
            {"script": "Get-CsAccessEdgeConfiguration"},
            {"script": "Write-Error -Message boom -ErrorId E1"},
            {"metadata": ["Out-Default", "Exit-PSSession"]},
            {"commands": [["Exit-PSSession"]], "out_default": true},
        ]}),
        &argv,
    );
    let p = ok(&r);
    assert_eq!(
        p[0]["output"][0]["props"]["Identity"], "Global",
        "{:#}",
        p[0]
    );
    assert_eq!(p[1]["errors"][0]["fqid"], "E1");
    assert_eq!(p[2]["output"].as_array().map(Vec::len), Some(3));
    assert_eq!(p[3]["host_calls"][0]["mi"], "PopRunspace");
    assert_eq!(r["exit"], 0);
}
