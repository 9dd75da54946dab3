"""pypsrp 1.0.0b1's own SSH connection (asyncssh, subsystem `powershell`)
against `lyncsh serve`: open a pool, run scripts, print their output.

    python pypsrp_client.py PORT USER KEYFILE SCRIPT...
"""

import asyncio
import json
import sys

import asyncssh
import psrp


async def main(port, user, key, scripts):
    opts = asyncssh.SSHClientConnectionOptions(username=user, client_keys=[key], known_hosts=None)
    conn = psrp.SSHInfo("127.0.0.1", port=port, options=opts)
    results = []
    async with psrp.AsyncRunspacePool(conn) as rp:
        for s in scripts:
            ps = psrp.AsyncPowerShell(rp)
            ps.add_script(s)
            out = await ps.invoke()
            results.append({
                "output": [str(o) for o in out],
                "types": [list(getattr(getattr(o, "PSObject", None), "type_names", [])) for o in out],
                "errors": [str(e) for e in ps.streams.error],
            })
    print(json.dumps(results))


asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]))
