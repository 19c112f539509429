"""``--scope``: one organisation inside a shared tenant.

The NHS shared tenant holds well over a million accounts across hundreds of
organisations; an audit of one of them collects only its users:

- ``au:<id>``: the user members of an Entra administrative unit (and audit
  queries filtered with ``administrativeUnitIdFilters``);
- ``domain:<a.gov.uk,b.gov.uk>``: users whose UPN ends in one of the domains;
- ``company:<name>``: users whose ``companyName`` is the name (any case).

Domain and company scopes name their users in ``userPrincipalNameFilters`` when
they are few, and drop other organisations' audit records on loading.

The canonical text (``str(scope)``) is what runs and snapshots record, so the
same scope written differently (``DOMAIN:B.gov.uk,a.gov.uk``) is the same scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from m365audit.errors import UsageError

KINDS = ("au", "domain", "company")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DOMAIN = re.compile(r"^(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EXAMPLE = "au:<administrative unit id>, domain:a.gov.uk,b.gov.uk or company:<company name>"


@dataclass(frozen=True)
class Scope:
    kind: str  # au, domain or company
    values: tuple[str, ...]  # one unit id, one or more domains, or one company name

    def __str__(self) -> str:
        return f"{self.kind}:{','.join(self.values)}"

    def describe(self, label: str | None = None) -> str:
        """Words for reports: 'administrative unit Northshire Trust (au:…)'."""
        if self.kind == "au":
            return f"administrative unit {label} ({self})" if label else f"administrative unit {self.values[0]}"
        if self.kind == "domain":
            return "users in the domain" + ("s " if len(self.values) > 1 else " ") + ", ".join(self.values)
        return f"users whose company name is {self.values[0]}"


def parse_scope(text: str | None) -> Scope | None:
    """``--scope`` text as a Scope (None: the whole tenant); a UsageError says what is wrong."""
    if text is None or not text.strip():
        return None
    kind, sep, rest = text.strip().partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in KINDS or not rest.strip():
        raise UsageError(f"--scope {text!r} is not one of {_EXAMPLE}.")
    if kind == "au":
        unit = rest.strip().lower()
        if not _GUID.match(unit):
            raise UsageError(f"--scope {text!r}: an administrative unit is named by its object id, a GUID.")
        return Scope("au", (unit,))
    if kind == "domain":
        domains = sorted({d.strip().lower().rstrip(".") for d in rest.split(",") if d.strip()})
        bad = [d for d in domains if not _DOMAIN.match(d)]
        if bad or not domains:
            raise UsageError(f"--scope {text!r}: {', '.join(bad) or 'nothing'} is not a domain name such as a.gov.uk.")
        return Scope("domain", tuple(domains))
    name = " ".join(rest.split())
    if len(name) > 256 or any(ord(c) < 32 for c in name):
        raise UsageError(f"--scope {text!r}: a company name is at most 256 printable characters.")
    return Scope("company", (name,))


def canonical_scope(text: str | None) -> str | None:
    scope = parse_scope(text)
    return None if scope is None else str(scope)
