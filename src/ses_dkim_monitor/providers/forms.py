"""What to type in a provider's record form, and how to undo the two mistakes such forms cause.

Pure: names, a record type and a value go in; the exact text for the form's
host and value fields comes out, with the conventions that decided it but are
not confirmed for the provider (``unknown``) and the reasons the form cannot
take the record as it is (``refused``). Where a convention is unknown the
generic spelling is used: the host relative to the zone (``@`` for the apex),
a target with its trailing dot, TXT as plain text. The result is data, not
sentences: the renderers word it in each language.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..catalogue import DOUBLED_DOMAIN, TARGET_MISSING_DOT
from .model import FieldLabels, HostForm, Provider, TargetForm, TxtQuotes, TxtSplit

ORDER = ("host", "apex", "target", "underscore", "txt-quotes", "txt-split")  # how ``unknown`` is ordered
NAME_VALUED = frozenset({"CNAME", "MX", "NS"})
_TXT_STRING = 255  # bytes in one TXT character-string (RFC 1035 section 3.3)


@dataclass(frozen=True, kw_only=True)
class FormEntry:
    """One record as one provider's form wants it typed."""

    provider: str | None  # the provider's id; None when the provider is not known
    name: str  # the record's full name, without the trailing dot
    rtype: str
    host: str  # exactly what to type in the host field ("" when the field is left empty)
    value: str  # exactly what to type in the value field
    labels: FieldLabels | None  # the form's own names for its fields, where a source gives them
    unknown: tuple[str, ...]  # conventions this entry relied on that are unconfirmed for the provider
    refused: tuple[str, ...]  # why the form cannot take the record: "underscore", "txt-too-long"
    # An MX's preference, typed in a field of its own; "" for other types, and for a form whose value field
    # takes "preference exchange" (Route 53's, whose console reads the value as "10 mail.example.com").
    priority: str = ""


@dataclass(frozen=True, kw_only=True)
class Repair:
    """A wrong record to delete (or change), as the form lists it, and what to type instead."""

    cause: str  # DOUBLED_DOMAIN or TARGET_MISSING_DOT
    remove: FormEntry  # the wrong record: its host and value as they stand in the provider's zone
    add: FormEntry  # the record to type in its place
    unknown: tuple[str, ...]


def form_entry(provider: Provider | None, *, name: str, zone_apex: str, rtype: str, value: str) -> FormEntry:
    """``name`` (in zone ``zone_apex``) of type ``rtype`` holding ``value``, as ``provider``'s form wants it.

    ``value`` may be spelled as a zone file spells it (a target with its dot,
    TXT in quoted strings) or plainly. A name outside the zone raises
    ``ValueError``: the caller picked the wrong zone.
    """
    full, zone, rtype = _bare(name), _bare(zone_apex), rtype.strip().upper()
    if full != zone and not full.endswith("." + zone):
        raise ValueError(f"{full} is not in the zone {zone}")
    unknown: set[str] = set()
    refused: list[str] = []
    host = _host(provider, full, zone, unknown)
    relative = full[: -len(zone)].rstrip(".")
    if any(label.startswith("_") for label in relative.split(".") if label):
        allowed = provider.underscore.value if provider else None
        if allowed is None:
            unknown.add("underscore")
        elif not allowed:
            refused.append("underscore")
    priority = ""
    if rtype in NAME_VALUED:
        if not value.split():
            raise ValueError(f"a {rtype} record with no target: {value!r}")
        typed = _name_value(provider, value, unknown)
        if rtype == "MX" and len(typed.split()) == 2 and not (provider and provider.id in _MX_IN_ONE_FIELD):
            priority, typed = typed.split()
    elif rtype == "TXT":
        typed = _txt_value(provider, value, unknown, refused)
    else:
        typed = value.strip()
    form_labels = provider.labels.value if provider else None
    labels = form_labels.for_type(rtype) if form_labels else None
    return FormEntry(
        provider=provider.id if provider else None,
        name=full,
        rtype=rtype,
        host=host,
        value=typed,
        labels=labels,
        unknown=_ordered(unknown),
        refused=tuple(refused),
        priority=priority,
    )


# Forms whose value field takes an MX as "preference exchange"; every other form is given the two apart, as
# most record forms have a priority field of their own.
_MX_IN_ONE_FIELD = frozenset({"route53"})


def repair(provider: Provider | None, *, cause: str, name: str, zone_apex: str, rtype: str, value: str) -> Repair:
    """What to type in ``provider``'s form to fix ``cause`` for the record ``name`` ``rtype`` ``value``.

    ``doubled-domain``: the record was typed with its full name into a form
    that appends the zone, so it stands at ``<name>.<zone>``; ``remove`` is that
    record as the form lists it. ``target-missing-dot``: the target was typed
    without its dot and got the zone appended; ``remove`` holds that value.
    Any other cause raises ``ValueError``: a form convention does not explain it.
    """
    zone = _bare(zone_apex)
    add = form_entry(provider, name=name, zone_apex=zone, rtype=rtype, value=value)
    if cause == DOUBLED_DOMAIN:
        remove = form_entry(provider, name=f"{add.name}.{zone}", zone_apex=zone, rtype=rtype, value=value)
    elif cause == TARGET_MISSING_DOT:
        if add.rtype not in NAME_VALUED:
            raise ValueError(f"{cause} applies to a record whose value is a name, not to {add.rtype}")
        remove = replace(add, value=_with_zone_appended(value, zone))
    else:
        raise ValueError(f"no form convention explains the cause {cause}")
    return Repair(cause=cause, remove=remove, add=add, unknown=_ordered({*remove.unknown, *add.unknown}))


def _host(provider: Provider | None, full: str, zone: str, unknown: set[str]) -> str:
    form = provider.host.value if provider else None
    if form is HostForm.FULL:
        return full
    if full == zone:
        apex = provider.apex.value if provider else None
        if apex is not None:
            return apex
        unknown.add("apex")
        if form is None:
            unknown.add("host")
        return "@"
    if form is None:
        unknown.add("host")
    return full[: -len(zone) - 1]


def _name_value(provider: Provider | None, value: str, unknown: set[str]) -> str:
    """A CNAME target (or an MX's ``preference exchange``) with or without the dot, as the form wants."""
    form = provider.target.value if provider else None
    if form is None:
        unknown.add("target")
        form = TargetForm.DOT
    *before, name = value.split()
    name = name.rstrip(".") + ("." if form is TargetForm.DOT else "")
    return " ".join([*before, name])


def _with_zone_appended(value: str, zone: str) -> str:
    *before, name = value.split()
    return " ".join([*before, f"{name.rstrip('.')}.{zone}"])


def _txt_value(provider: Provider | None, value: str, unknown: set[str], refused: list[str]) -> str:
    text = txt_text(value)
    quotes = provider.txt_quotes.value if provider else None
    split = provider.txt_split.value if provider else None
    long = len(text.encode()) > _TXT_STRING
    if quotes is None:
        unknown.add("txt-quotes")
    if long and split is None:
        unknown.add("txt-split")
    if long and split is TxtSplit.LIMIT:
        refused.append("txt-too-long")
    if quotes is not TxtQuotes.REQUIRED:
        return text
    if split is TxtSplit.AUTO:
        return _quoted(text)
    return " ".join(_quoted(chunk) for chunk in _strings(text))


def txt_text(value: str) -> str:
    """The text a TXT value holds: quoted strings joined without their quotes; unquoted text as it is."""
    stripped = value.strip()
    if not stripped.startswith('"'):
        return stripped
    out: list[str] = []
    i, inside = 0, False
    while i < len(stripped):
        ch = stripped[i]
        if ch == '"':
            inside = not inside
        elif ch == "\\" and i + 1 < len(stripped):
            digits = stripped[i + 1 : i + 4]
            if len(digits) == 3 and digits.isdigit():
                out.append(chr(int(digits)))
                i += 3
            else:
                out.append(stripped[i + 1])
                i += 1
        elif inside:
            out.append(ch)
        i += 1
    return "".join(out)


def _strings(text: str) -> list[str]:
    """``text`` cut into strings of at most 255 bytes, never inside a character."""
    chunks: list[str] = []
    current, size = "", 0
    for ch in text:
        width = len(ch.encode())
        if size + width > _TXT_STRING:
            chunks.append(current)
            current, size = "", 0
        current += ch
        size += width
    return [*chunks, current]


def _quoted(chunk: str) -> str:
    return '"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _bare(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _ordered(names: set[str]) -> tuple[str, ...]:
    return tuple(name for name in ORDER if name in names)
