"""A PSRP client for lyncsh's tests, on psrpcore (the sans-IO PSRP library),
speaking the OutOfProc transport exactly as pwsh does: one <Data> in
flight per target until its DataAck, <Command> before a pipeline, <Signal>
to stop one, <Close> for each pipeline and then the pool.

    python client.py SCENARIO_JSON -- ARGV...

runs ARGV (`lyncsh -sshs`, or `ssh … -s host powershell` as pwsh does),
plays the scenario and prints one JSON document with what the client saw.

Scenario: {"pipelines": [P…]}, where P is one of
  {"script": "…"}                              add_script
  {"commands": [["Get-X", {"Name": v}, [positional…], ["Switch"]], …]}
  {"statements": [[commands…], …]}             several statements
  {"input": [v…]}                              pipeline input (with the above)
  {"signal_after": seconds}                    Ctrl-C after that long
  {"metadata": ["Out-Default", "Exit-PSSession"]}   GET_COMMAND_METADATA
  {"out_default": true}                        append Out-Default like the console
  {"together": [P…]}                            start them all, then wait for all
The scenario's "answers": […] answer the server's host calls in order, as
pwsh's console would: a line for ReadLine, a form {field: answer} for
Prompt, a choice's index for PromptForChoice.
"""

import base64
import json
import queue
import subprocess
import sys
import threading
import time
import uuid

import psrpcore
from psrpcore.types import PSInvocationState, RunspacePoolState, HostInfo

NIL = uuid.UUID(int=0)
TIMEOUT = 60


class Transport:
    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.lines = queue.Queue()
        self.acks = set()
        self.raw = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.decode("utf-8", "replace").rstrip("\r\n"))
        self.lines.put(None)

    def write(self, text):
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()

    def next_line(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer from the server")
        line = self.lines.get(timeout=left)
        if line is None:
            raise EOFError("the server closed the connection")
        self.raw.append(line)
        return line


class Client:
    def __init__(self, argv, host=False, answers=()):
        self.t = Transport(argv)
        hi = HostInfo(IsHostNull=False, IsHostUINull=False, IsHostRawUINull=False, UseRunspaceHost=False) if host else None
        self.pool = psrpcore.ClientRunspacePool(host=hi)
        self.events = []
        self.answers = list(answers)

    def pump(self, done, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while not done():
            line = self.t.next_line(deadline)
            if line.startswith("__NamedPipeError__:"):
                raise RuntimeError(line)
            tag = line[1:].split(" ", 1)[0]
            guid = uuid.UUID(line.split("PSGuid='", 1)[1][:36])
            if tag == "Data":
                body = line.split(">", 1)[1].rsplit("</Data>", 1)[0]
                self.pool.receive_data(
                    psrpcore.PSRPPayload(base64.b64decode(body), psrpcore.StreamType.default, None if guid == NIL else guid)
                )
                while True:
                    ev = self.pool.next_event()
                    if ev is None:
                        break
                    self.events.append(ev)
                    if type(ev).__name__ == "PipelineHostCallEvent" and ev.ci > 0:
                        self.answer(ev)
            else:
                self.t.acks.add((tag, guid))

    def answer(self, ev):
        """Answers a host call that waits for one, from the scenario; with
        none left, the user has not answered yet (a Signal may come)."""
        if not self.answers:
            return
        given = self.answers.pop(0)
        mi = ev.method_identifier.name
        if mi == "Prompt":
            field = ev.method_parameters[2][0]
            name = getattr(field, "Name", None) or getattr(field, "name")
            value = {name: given}
        elif mi == "PromptForChoice":
            value = int(given)
        else:
            value = given
        self.pool.host_response(ev.ci, value)
        self.send_all()

    def ack(self, tag, guid):
        def done():
            if (tag, guid) in self.t.acks:
                self.t.acks.discard((tag, guid))
                return True
            return False

        self.pump(done)

    def send_all(self):
        while True:
            p = self.pool.data_to_send(32768)
            if p is None:
                return
            guid = p.pipeline_id or NIL
            stream = "PromptResponse" if p.stream_type == psrpcore.StreamType.prompt_response else "Default"
            self.t.write(
                f"<Data Stream='{stream}' PSGuid='{guid}'>{base64.b64encode(p.data).decode()}</Data>"
            )
            self.ack("DataAck", guid)

    def open(self):
        self.pool.open()
        self.send_all()
        self.pump(lambda: self.pool.state != RunspacePoolState.Opening)

    def start(self, ps):
        self.t.write(f"<Command PSGuid='{ps.pipeline_id}' />")
        self.ack("CommandAck", ps.pipeline_id)
        ps.start()
        self.send_all()

    def together(self, specs):
        """Starts every pipeline before any has ended; one report each."""
        first = len(self.events)
        started = [build(self.pool, spec) for spec in specs]
        for ps in started:
            self.start(ps)
        self.pump(lambda: all(ps.state not in (PSInvocationState.Running, PSInvocationState.NotStarted) for ps in started))
        reports = []
        for ps in started:
            mine = [e for e in self.events[first:] if getattr(e, "pipeline_id", None) == ps.pipeline_id]
            self.t.write(f"<Close PSGuid='{ps.pipeline_id}' />")
            self.ack("CloseAck", ps.pipeline_id)
            reports.append(report(ps, mine, []))
        return reports

    def run(self, ps, spec):
        self.start(ps)
        if "input" in spec:
            for v in spec["input"]:
                ps.send(v)
                self.send_all()
            ps.send_eof()
            self.send_all()
        if "signal_after" in spec:
            time.sleep(spec["signal_after"])
            self.t.write(f"<Signal PSGuid='{ps.pipeline_id}' />")
            self.ack("SignalAck", ps.pipeline_id)
        first = len(self.events)
        self.pump(lambda: ps.state not in (PSInvocationState.Running, PSInvocationState.NotStarted))
        mine = [e for e in self.events[first:] if getattr(e, "pipeline_id", None) == ps.pipeline_id]
        self.t.write(f"<Close PSGuid='{ps.pipeline_id}' />")
        self.ack("CloseAck", ps.pipeline_id)
        return report(ps, mine, self.events[:first])

    def close(self):
        self.t.write(f"<Close PSGuid='{NIL}' />")
        self.ack("CloseAck", NIL)
        self.t.proc.stdin.close()
        try:
            return self.t.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.t.proc.kill()
            return None


def plain(v, depth=0):
    """A deserialised value as JSON: objects with their type names."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict):
        return {str(k): plain(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x, depth + 1) for x in v]
    obj = getattr(v, "PSObject", None)
    if obj is not None and depth < 4:
        props = {}
        for p in list(obj.adapted_properties) + list(obj.extended_properties):
            props[p.name] = plain(p.get_value(v), depth + 1)
        return {"types": list(obj.type_names), "str": str(v), "props": props}
    return str(v)


def report(ps, events, earlier):
    out = {"output": [], "errors": [], "host_calls": [], "information": [], "warnings": [], "verbose": [], "progress": [], "state": None}
    for e in events + [e for e in earlier if getattr(e, "pipeline_id", None) == ps.pipeline_id]:
        name = type(e).__name__
        if name == "PipelineOutputEvent":
            out["output"].append(plain(e.data))
        elif name == "ErrorRecordEvent":
            r = e.record
            out["errors"].append({
                "fqid": r.FullyQualifiedErrorId,
                "category": str(r.CategoryInfo.Category.name),
                "message": str(r.Exception.Message),
                "category_message": str(r.CategoryInfo),
            })
        elif name == "PipelineHostCallEvent":
            out["host_calls"].append({"mi": e.method_identifier.name, "mp": [plain(x) for x in (e.method_parameters or [])]})
        elif name == "InformationRecordEvent":
            out["information"].append(str(e.record.MessageData))
        elif name == "WarningRecordEvent":
            out["warnings"].append(str(e.record.Message))
        elif name == "VerboseRecordEvent":
            out["verbose"].append(str(e.record.Message))
        elif name == "ProgressRecordEvent":
            r = e.record
            out["progress"].append([str(r.Activity), str(r.StatusDescription), int(r.PercentComplete), str(r.RecordType.name)])
        elif name == "PipelineStateEvent":
            out["state"] = e.state.name
            if e.reason is not None:
                r = e.reason
                out["reason"] = {
                    "fqid": r.FullyQualifiedErrorId,
                    "category": str(r.CategoryInfo.Category.name),
                    "message": str(r.Exception.Message),
                }
    return out


def build(pool, spec):
    if "metadata" in spec:
        return psrpcore.ClientGetCommandMetadata(pool, spec["metadata"])
    ps = psrpcore.ClientPowerShell(pool, no_input="input" not in spec)
    if "script" in spec:
        ps.add_script(spec["script"])
    statements = spec.get("statements") or [spec.get("commands", [])]
    for si, cmds in enumerate(statements):
        if si > 0:
            ps.add_statement()
        for c in cmds:
            ps.add_command(c[0])
            for k, v in (c[1] if len(c) > 1 else {}).items():
                ps.add_parameter(k, v)
            for v in c[2] if len(c) > 2 else []:
                ps.add_argument(v)
            for s in c[3] if len(c) > 3 else []:
                ps.add_parameter(s)
    if spec.get("out_default"):
        ps.add_command("Out-Default")
    return ps


def main():
    scenario = json.loads(sys.argv[1])
    argv = sys.argv[sys.argv.index("--") + 1:]
    c = Client(argv, host=scenario.get("host", False), answers=scenario.get("answers", []))
    result = {"pipelines": []}
    try:
        c.open()
        result["opened"] = c.pool.state.name
        result["app_data"] = plain(c.pool.application_private_data)
        for spec in scenario.get("pipelines", []):
            if "together" in spec:
                result["pipelines"].append(c.together(spec["together"]))
                continue
            ps = build(c.pool, spec)
            result["pipelines"].append(c.run(ps, spec))
        result["exit"] = c.close()
    except Exception as e:  # reported, so the test can show what happened
        result["error"] = f"{type(e).__name__}: {e}"
        try:
            c.t.proc.kill()
        except Exception:
            pass
    result["lines"] = len(c.t.raw)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
