"""`fix` for a Deterministic Easy DKIM replica: never a command that would detach it, always its parent's region.

A replica (signing origin ``AWS_SES_<REGION>``) publishes its parent's CNAMEs.
``verify-domain-dkim`` or new signing attributes on it issue new tokens, and
its DKIM breaks. Its plan names the parent region and changes nothing on the
replica itself.
"""

from __future__ import annotations

from ses_dkim_monitor.cli import EXIT_FINDINGS
from tests.support.ses_world import PUBLIC_KEY_1024, customer_cname_records


def commands_in(text: str) -> list[str]:
    return ["aws " + part.split("\n")[0] for part in text.split("aws ")[1:]]


def test_the_plan_for_a_replica_never_restarts_or_resigns_it_and_names_its_parent(ses, knot, tld, fix):
    world = ses("us-east-1")
    failed = f"replica-failed.{tld}"
    weak = f"replica-weak.{tld}"
    t_failed = world.add_domain(failed, dkim_status="FAILED", verification="SUCCESS", origin="AWS_SES_EU_WEST_1")
    t_weak = world.add_domain(weak, origin="AWS_SES_EU_WEST_1")
    for domain, tokens in ((failed, t_failed), (weak, t_weak)):
        knot.set_zone(domain, customer_cname_records(tokens) + '\n_dmarc TXT "v=DMARC1; p=none"')
    keys = [f'{t} TXT "p={PUBLIC_KEY_1024}"' if i == 0 else f'{t} TXT ""' for i, t in enumerate(t_weak)]
    keys += [f'{t} TXT "p={PUBLIC_KEY_1024}"' if i == 0 else f'{t} TXT ""' for i, t in enumerate(t_failed)]
    knot.set_zone("dkim.amazonses.com", "\n".join(keys))

    run = fix("--identity", failed, "--identity", weak, "--format", "json")

    assert run.code == EXIT_FINDINGS, run.out + run.err
    assert "verify-domain-dkim" not in run.out
    on_the_replica = [
        cmd
        for cmd in commands_in(run.out)
        if "--region us-east-1" in cmd and ("signing-attributes" in cmd or "verify-domain" in cmd)
    ]
    assert on_the_replica == [], "a signing-origin change on the replica would detach it"
    assert "eu-west-1" in run.out and "replica" in run.out
    assert f"--region eu-west-1 --email-identity {weak}" in run.out  # the key is lengthened on the parent
