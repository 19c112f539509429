"""``$filter`` and ``$count`` on ``GET /users``, as far as the collector and ``--scope`` use them.

Supported, as Graph documents them (learn.microsoft.com/graph/aad-advanced-queries
and the user resource's property notes):

- ``assignedLicenses/any(u:u/skuId eq <guid>)``;
- ``companyName eq '<name>'`` (string comparison is case-insensitive, as in Entra ID);
- ``endsWith(userPrincipalName,'@<domain>')``: an advanced query, refused with
  400 Request_UnsupportedQuery unless the request has ``ConsistencyLevel: eventual``
  and ``$count=true``.

``$count=true`` also needs ``ConsistencyLevel: eventual`` and adds ``@odata.count``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from m365audit.simulator.http import GraphHttpError, Request
from m365audit.simulator.model import SimUser

UserPredicate = Callable[[SimUser], bool]

_SKU = re.compile(r"^assignedLicenses/any\((\w+):\s*\1/skuId\s+eq\s+([0-9a-fA-F-]{36})\)$", re.IGNORECASE)
_COMPANY = re.compile(r"^companyName\s+eq\s+'((?:[^']|'')*)'$", re.IGNORECASE)
_ENDS_WITH = re.compile(r"^endsWith\(\s*userPrincipalName\s*,\s*'((?:[^']|'')*)'\s*\)$", re.IGNORECASE)


def advanced(request: Request) -> bool:
    """Whether the request asks for an advanced query (ConsistencyLevel: eventual)."""
    return request.headers.get("consistencylevel", "").strip().lower() == "eventual"


def wants_count(request: Request) -> bool:
    """``$count=true``; refused without ConsistencyLevel: eventual, as Graph does on /users."""
    if request.query.get("$count", "").strip().lower() != "true":
        return False
    if not advanced(request):
        raise GraphHttpError(400, "Request_BadRequest", "$count is not currently supported.")
    return True


def user_filter(request: Request) -> UserPredicate | None:
    """A predicate for the request's ``$filter``; 400 for what Graph would refuse or we do not serve."""
    raw = (request.query.get("$filter") or "").strip()
    if not raw:
        return None
    match = _SKU.match(raw)
    if match:
        sku = match.group(2).lower()
        return lambda u: sku in u.active_skus()
    match = _COMPANY.match(raw)
    if match:
        company = match.group(1).replace("''", "'").lower()
        return lambda u: (u.company_name or "").lower() == company
    match = _ENDS_WITH.match(raw)
    if match:
        if not (advanced(request) and request.query.get("$count", "").lower() == "true"):
            raise GraphHttpError(400, "Request_UnsupportedQuery", "Operator 'endsWith' is not supported because "
                                 "the required parameters might be missing. Try adding $count with its value set "
                                 "to true and the ConsistencyLevel header set to eventual.")
        suffix = match.group(1).replace("''", "'").lower()
        return lambda u: u.user_principal_name.lower().endswith(suffix)
    raise GraphHttpError(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause "
                         "specified for property 'assignedLicenses' of resource 'User'.")
