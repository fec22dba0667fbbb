"""The demo: the real `ses-dkim-monitor check` against local stand-ins for AWS and DNS.

Starts moto's server (SES) and Knot DNS on 127.0.0.1, loads a handful of
realistic identities and zones, and runs the CLI in text and JSON form.
Nothing leaves this machine.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.knot import BASE_ZONES, KnotServer
from tests.support.ses_world import SesWorld, consistent_v1, customer_cname_records, easy_dkim_zone_records

REGION = "us-east-1"


def main() -> int:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    env = dict(
        os.environ,
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
        AWS_ACCESS_KEY_ID="demo",
        AWS_SECRET_ACCESS_KEY="demo",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
    )
    env.pop("AWS_PROFILE", None)
    os.environ.update(
        {k: env[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    )

    with consistent_v1():
        ses = SesWorld(REGION)
        healthy = ses.add_domain("healthy.example.com")
        deleted = ses.add_domain("records-deleted.example.com")  # SES still says SUCCESS
        pasted = ses.add_domain("pasted.example.org", dkim_status="PENDING")
        wrong = ses.add_domain("wrong-target.example.org")
        ses.add_domain("dkim-off.example.com", signing=False)
        failed = ses.add_domain("failed.example.com", dkim_status="FAILED", verification="SUCCESS")
        outage = ses.add_domain("outage.example.net")
        ses.add_email("ops@healthy.example.com")
        ses.add_email("alerts@noreply.example.net")  # no DKIM domain identity: the Google Groups case

        example_com = "\n".join(
            [
                '_dmarc TXT "v=DMARC1; p=none"',
                customer_cname_records(healthy).replace("._domainkey", "._domainkey.healthy"),
                customer_cname_records(failed[:1]).replace("._domainkey", "._domainkey.failed"),
            ]
        )
        example_org = "\n".join(
            [
                # Pasted with the zone appended by the provider: <token>._domainkey.pasted.example.org.example.org
                customer_cname_records(pasted).replace("._domainkey", "._domainkey.pasted.example.org"),
                customer_cname_records(wrong[:2]).replace("._domainkey", "._domainkey.wrong-target"),
                # Target typed without its trailing dot: the provider appended the zone.
                f"{wrong[2]}._domainkey.wrong-target CNAME {wrong[2]}.dkim.amazonses.com",
            ]
        )
        zones = {
            **BASE_ZONES,  # the top-level zones and amazonses.com's SPF, as the real DNS tree has them
            "example.com": example_com,
            "example.org": example_org,
            "example.net": customer_cname_records(outage).replace("._domainkey", "._domainkey.outage"),
            "dkim.amazonses.com": "\n".join(
                easy_dkim_zone_records(t) for t in (healthy, deleted, pasted, wrong, failed, outage)
            ),
        }
        del deleted
        with KnotServer(zones) as knot:
            knot.break_zone("example.net")  # its authoritative server is failing: SERVFAIL
            env["DNS_AUTHORITATIVE_PORT"] = str(knot.port)  # where the zones' name servers listen here
            for fmt in ("text", "json"):
                cmd = ["ses-dkim-monitor", "check", "--region", REGION, "--nameserver", knot.address, "--format", fmt]
                print(f"$ {' '.join(cmd)}", flush=True)
                exe = str(ROOT / ".venv" / "bin" / "ses-dkim-monitor")
                result = subprocess.run([exe, *cmd[1:]], env=env, capture_output=True, text=True, timeout=300)
                out = result.stdout
                if fmt == "json":
                    document = json.loads(out)
                    out = json.dumps(
                        {"identities": document["identities"][:1], "summary": document["summary"]}, indent=2
                    )
                    print("(first identity and the summary shown)")
                print(out, end="" if out.endswith("\n") else "\n")
                sys.stderr.write(result.stderr)
                print(f"exit status {result.returncode}\n", flush=True)
    moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
