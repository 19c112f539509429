"""Item 9: the audit log query API version is remembered per database; a validation 400 is never retried.

Microsoft moved the audit log query API back to beta in 2025 (MC1052169). The
simulated tenant serves it under beta only (``ApiBehaviour.audit_v1=False``) or
under v1.0 only (``audit_beta=False``); requests are counted per version.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from m365audit.collect.spool import spool_root
from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator.behaviour import ApiBehaviour
from m365audit.simulator.http import Request, Response, error_body
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, ANCHOR_CLOCK, assert_clean_failure, run_cli

QUERIES = "/security/auditLog/queries"


def _tenant(**api) -> Tenant:
    return Tenant(TenantConfig(users=300, seed=5, days=3, anchor=ANCHOR, api=replace(ApiBehaviour(), **api)))


def _collect(server, db, *extra: str, earlier: int = 0):
    """Collect the tenant's window, or the ``earlier`` days before it (a window no saved query covers)."""
    start, end = server.tenant.activity.window
    if earlier:
        start, end = start - timedelta(days=earlier), start
    return run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token", "--only", "audit",
                   "--since", start.isoformat(), "--until", end.isoformat(), *extra,
                   env={"M365AUDIT_TOKEN": "t", "M365AUDIT_AUDIT_POLL_SECONDS": "0.01", **ANCHOR_CLOCK})


def _posts(server, version: str) -> int:
    return server.graph.versioned_requests["POST", version, QUERIES]


def _remembered(db) -> str | None:
    with open_db(db, read_only=True) as con:
        row = con.execute("SELECT value FROM collection_state WHERE source = 'audit' AND key = 'api_version'")
        found = row.fetchone()
    return found[0] if found else None


def test_the_answering_version_is_remembered_and_tried_first(make_server, tmp_path) -> None:
    server = make_server(_tenant(audit_v1=False))
    db = tmp_path / "a.duckdb"
    assert _collect(server, db).code == 0
    assert (_posts(server, "v1.0"), _posts(server, "beta")) == (1, 1)  # one refused at v1.0, the query at beta
    assert _remembered(db) == "beta"
    assert _collect(server, db, earlier=2).code == 0
    assert (_posts(server, "v1.0"), _posts(server, "beta")) == (1, 2)  # the second run asked v1.0 nothing


def test_a_remembered_version_that_went_away_falls_back(make_server, tmp_path) -> None:
    db = tmp_path / "a.duckdb"
    beta_only = make_server(_tenant(audit_v1=False))
    assert _collect(beta_only, db).code == 0 and _remembered(db) == "beta"
    v1_only = make_server(_tenant(audit_beta=False))
    assert _collect(v1_only, db, earlier=2).code == 0
    assert (_posts(v1_only, "beta"), _posts(v1_only, "v1.0")) == (1, 1)
    assert _remembered(db) == "v1.0"


def test_a_validation_400_is_shown_and_not_retried_at_the_other_version(make_server, tmp_path) -> None:
    server = make_server(_tenant())
    message = "The value 'x' of userPrincipalNameFilters is not a valid user principal name."

    def refuse(request: Request) -> Response | None:
        if request.method == "POST" and request.path == QUERIES:
            return Response(400, error_body("BadRequest", message), {"Content-Type": "application/json"})
        return None

    server.graph.hooks.append(refuse)
    db = tmp_path / "a.duckdb"
    result = _collect(server, db)
    assert_clean_failure(result, 3, "Microsoft Graph refused the audit log query at v1.0 (400 BadRequest: "
                         + message + ")")
    assert (_posts(server, "v1.0"), _posts(server, "beta")) == (1, 0)  # not retried, not at beta, not per slice
    assert _remembered(db) is None
    assert not spool_root(db).exists()  # the failed step's spool folder went with it
