"""The DNS provider and its record form, in words: who serves a zone and exactly what to type in its form.

``providers`` gives data (the provider recognised from the zone's NS, the
host and value to type, the form's own field labels, the conventions nobody
could source); this module words it in the current language for the checks'
fix text, the reports, the alerts and ``fix``. Pure: names go in, sentences
come out.

Sentences that are the same for every record of one zone (who serves it, the
form's conventions, what is unconfirmed) come after the record's own
sentence, so a report that groups a check's findings can say them once
(``render.grouping``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from . import i18n, providers
from .catalogue import DOUBLED_DOMAIN, TARGET_MISSING_DOT
from .i18n import N_, _, pgettext
from .providers import FormEntry, HostForm, Provider, ServedBy, TargetForm

# What each convention ``providers.FormEntry.unknown`` names leaves open, said where it is not confirmed.
UNKNOWN = {
    "host": N_("whether the host field takes the name relative to the zone or the full name"),
    "apex": N_("how the zone's own name (the apex) is entered in the host field"),
    "target": N_("whether a target needs its trailing dot or gets the zone appended"),
    "underscore": N_("whether a host with an underscore (_domainkey) is accepted"),
    "txt-quotes": N_("whether TXT text is typed in double quotes"),
    "txt-split": N_("how a TXT value longer than 255 characters is split"),
}


def provider_name(provider: Provider) -> str:
    """The provider's name as readers of the current language know it (お名前.com, Onamae.com)."""
    return provider.name_ja if i18n.current() == "ja" else provider.name_en


def served_sentence(zone: str, nameservers: Sequence[str]) -> str:
    """ "DNS for example.jp is served by お名前.com (dns1.onamae.com)." ("" without name servers)."""
    if not nameservers:
        return ""
    served = providers.served_by(nameservers)
    if served is not None:
        return _("DNS for {zone} is served by {provider} ({nameserver}).").format(
            zone=zone, provider=provider_name(served.provider), nameserver=served.nameservers[0]
        )
    return _("DNS for {zone} is served by {nameserver}, a DNS provider the monitor does not recognise.").format(
        zone=zone, nameserver=sorted(n.rstrip(".").lower() for n in nameservers)[0]
    )


def served(nameservers: Iterable[str]) -> ServedBy | None:
    return providers.served_by(nameservers)


def _labels(entry: FormEntry) -> tuple[str, str, str]:
    """The form's own names for its host, type and value fields, or the usual ones where no source gives them."""
    own = entry.labels
    return (
        (own.host if own and own.host else None) or pgettext("form field", "host"),
        (own.type if own and own.type else None) or pgettext("form field", "type"),
        (own.value if own and own.value else None) or pgettext("form field", "value"),
    )


def _host(entry: FormEntry) -> str:
    # TRANSLATORS: shown as the host to type when the form's host field is left empty (the zone apex).
    return entry.host if entry.host else _("(left empty)")


def entry_text(entry: FormEntry) -> str:
    """``host "abc._domainkey", type CNAME, value "abc.dkim.amazonses.com."``, in the form's own field names."""
    host_label, type_label, value_label = _labels(entry)
    fields = dict(
        host_label=host_label,
        host=_host(entry),
        type_label=type_label,
        type=entry.rtype,
        value_label=value_label,
        value=entry.value,
    )
    if entry.priority:
        return _(
            '{host_label} "{host}", {type_label} {type}, {priority_label} "{priority}", {value_label} "{value}"'
        ).format(priority_label=pgettext("form field", "priority"), priority=entry.priority, **fields)
    if entry.value.startswith('"'):  # a form that wants the quotes typed (Route 53's TXT): shown bare, said so
        return _('{host_label} "{host}", {type_label} {type}, {value_label} {value} (with its quotes)').format(**fields)
    return _('{host_label} "{host}", {type_label} {type}, {value_label} "{value}"').format(**fields)


def repair_sentence(provider: Provider | None, *, cause: str, name: str, zone: str, rtype: str, value: str) -> str:
    """What to type for this one record to undo ``cause`` (doubled-domain, target-missing-dot) in the form."""
    fix = providers.repair(provider, cause=cause, name=name, zone_apex=zone, rtype=rtype, value=value)
    host_label, _type_label, value_label = _labels(fix.add)
    if cause == DOUBLED_DOMAIN:
        return _('In the form: delete the record whose {host_label} is "{wrong_host}", then add {entry}.').format(
            host_label=host_label, wrong_host=_host(fix.remove), entry=entry_text(fix.add)
        )
    return _(
        'In the form: in the record whose {host_label} is "{host}", change {value_label} "{wrong}" to "{value}".'
    ).format(
        host_label=host_label, host=_host(fix.add), value_label=value_label, wrong=fix.remove.value, value=fix.add.value
    )


def conventions_sentence(
    provider: Provider | None, *, cause: str, name: str, zone: str, rtype: str, value: str, identity: str
) -> str:
    """What the form does with what is typed, and what is not confirmed for this provider (the same for a zone)."""
    fix = providers.repair(provider, cause=cause, name=name, zone_apex=zone, rtype=rtype, value=value)
    host_label, _type_label, value_label = _labels(fix.add)
    parts: list[str] = []
    check = f"ses-dkim-monitor check --identity {identity}"
    if provider is None and cause == TARGET_MISSING_DOT:
        parts.append(
            _(
                "The DNS provider serving {zone} is not known, so how its form treats what is typed is not known: type "
                "the target with its trailing dot (or choose the form's 'fully qualified' option), or the form "
                "appends the zone ({zone}) again."
            ).format(zone=zone)
        )
    elif provider is None:
        parts.append(
            _(
                "The DNS provider serving {zone} is not known, so how its form treats what is typed is not known: in a "
                "form that appends the zone ({zone}) to the host, enter only the host shown."
            ).format(zone=zone)
        )
    else:
        name_of = provider_name(provider)
        if provider.host.value is HostForm.RELATIVE:
            parts.append(
                _(
                    "{provider}'s {host_label} field takes the name relative to the zone and appends {zone} itself."
                ).format(provider=name_of, host_label=host_label, zone=zone)
            )
        elif provider.host.value is HostForm.FULL:
            parts.append(
                _("{provider}'s {host_label} field takes the full name.").format(
                    provider=name_of, host_label=host_label
                )
            )
        if fix.add.rtype in providers.forms.NAME_VALUED and provider.target.value is TargetForm.DOT:
            parts.append(
                _(
                    "{provider} appends the zone to a {value_label} typed without its trailing dot: keep the dot."
                ).format(provider=name_of, value_label=value_label)
            )
        elif fix.add.rtype in providers.forms.NAME_VALUED and provider.target.value is TargetForm.ABSOLUTE:
            parts.append(
                _("{provider} takes the {value_label} as a full name, with or without the trailing dot.").format(
                    provider=name_of, value_label=value_label
                )
            )
        if fix.unknown:
            parts.append(
                _("Not confirmed for {provider} (no help page of it says): {conventions}.").format(
                    provider=name_of,
                    # TRANSLATORS: the separator between the unconfirmed conventions listed.
                    conventions=_("; ").join(_(UNKNOWN[u]) for u in fix.unknown),
                )
            )
    for refused in dict.fromkeys(fix.add.refused):
        if refused == "underscore":
            parts.append(
                _("This form does not accept an underscore in {host_label}: publish the record another way.").format(
                    host_label=host_label
                )
            )
        elif refused == "txt-too-long":
            parts.append(_("This form takes at most 255 characters of TXT: publish the record another way."))
    parts.append(_("After saving, confirm with {command}.").format(command=check))
    return i18n.sentences(*parts)


FORM_CAUSES = (DOUBLED_DOMAIN, TARGET_MISSING_DOT)
