"""Sensitivity labels: both documented API shapes, the beta fallback and a missing permission."""

from __future__ import annotations

import httpx
import pytest

from m365audit.simulator import catalogue as cat
from m365audit.simulator.http import Request, Response, error_body
from m365audit.store.db import open_db
from tests.conftest import assert_clean_failure, collect_from, run_cli, samples_dir

AUTH = {"Authorization": "Bearer anything"}
V1 = "/security/dataSecurityAndGovernance/sensitivityLabels"
BETA = "/security/informationProtection/sensitivityLabels"


def _labels(db) -> list[tuple]:
    with open_db(db, read_only=True) as con:
        return con.execute("SELECT label_id, name, sensitivity, parent_id, is_active FROM sensitivity_labels "
                           "ORDER BY label_id").fetchall()


def _answer(path: str, version: str, status: int, body: bytes):
    def hook(request: Request) -> Response | None:
        if request.path == path and request.version == version:
            return Response(status, body, {"Content-Type": "application/json"})
        return None
    return hook


def test_simulator_serves_both_shapes(make_server) -> None:
    server = make_server(users=10)
    v1 = httpx.get(f"{server.url}{V1}", headers=AUTH).json()["value"]
    assert [label["name"] for label in v1] == [x.name for x in cat.LABELS if x.parent_id is None]
    nested = next(label for label in v1 if label["name"] == "Official-Sensitive")["sublabels"]
    assert [s["name"] for s in nested] == ["Personal Data"]
    assert {"priority", "isEnabled", "displayName", "applicableTo"} <= set(v1[0]) and "sensitivity" not in v1[0]
    beta = httpx.get(f"{server.base_url}/beta{BETA}", headers=AUTH).json()["value"]
    personal = next(label for label in beta if label["name"] == "Personal Data")
    assert personal["parent"]["name"] == "Official-Sensitive" and personal["sensitivity"] == 4
    assert next(label for label in beta if label["name"] == "Official-Sensitive")["isAppliable"] is False
    assert httpx.get(f"{server.url}{BETA}", headers=AUTH).status_code == 400  # beta only


def test_v1_catalogue_lands_in_the_view(make_server, tmp_path) -> None:
    server = make_server(users=10)
    db = tmp_path / "t.duckdb"
    result = collect_from(server, db, only=("labels",))
    assert result.counts["labels"] == {"labels": 7, "changed": 7, "api": "v1.0"}
    # v1.0 has no sensitivity field: the label order (priority) stands in for it.
    assert _labels(db) == [(x.label_id, x.name, i, x.parent_id, x.is_active) for i, x in enumerate(cat.LABELS)]
    collect_from(server, db, only=("labels",))
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sensitivity_label_versions").fetchone() == (7,)


@pytest.mark.parametrize("status", [404, 400])
def test_beta_fallback(make_server, tmp_path, status: int) -> None:
    server = make_server(users=10)
    server.graph.hooks.append(_answer(V1, "v1.0", status, error_body("BadRequest", "Resource not found.")))
    db = tmp_path / "t.duckdb"
    assert collect_from(server, db, only=("labels",)).counts["labels"]["api"] == "beta"
    assert _labels(db) == [(x.label_id, x.name, x.sensitivity, x.parent_id, x.is_active) for x in cat.LABELS]
    with open_db(db, read_only=True) as con:
        protected = con.execute("SELECT name FROM sensitivity_label_versions WHERE has_protection ORDER BY name")
        assert [r[0] for r in protected.fetchall()] == sorted(x.name for x in cat.LABELS if x.has_protection)


def test_missing_permission_is_one_sentence(make_server, tmp_path) -> None:
    server = make_server(users=10)
    server.graph.hooks.append(_answer(V1, "v1.0", 403, error_body(
        "Forbidden", "Missing role permissions on the request.")))
    db = tmp_path / "t.duckdb"
    result = run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token", "--only", "labels",
                     env={"M365AUDIT_TOKEN": "t", "M365AUDIT_MAX_ATTEMPTS": "2"})
    assert_clean_failure(result, 3, "denied access to " + V1, "SensitivityLabels.Read.All")
    assert server.graph.requests[BETA] == 0  # a missing permission is not a reason to try beta


def test_documented_sample_payloads_parse(make_server, tmp_path) -> None:
    samples = samples_dir() / "microsoft-docs"
    server = make_server(users=10)
    server.graph.hooks.append(_answer(V1, "v1.0", 200, (
        samples / "sensitivityLabels.dataSecurityAndGovernance.list.v1.example.json").read_bytes()))
    db = tmp_path / "v1.duckdb"
    collect_from(server, db, only=("labels",))
    assert _labels(db) == [("4e4234dd-377b-42a3-935b-0e42f138fa23", "General", 10, None, True)]
    server.graph.hooks[:] = [
        _answer(V1, "v1.0", 404, error_body("NotFound", "Not found.")),
        _answer(BETA, "beta", 200, (samples / "sensitivityLabels.informationProtection.list.beta.example.json"
                                    ).read_bytes())]
    db = tmp_path / "beta.duckdb"
    collect_from(server, db, only=("labels",))
    assert _labels(db) == [
        ("285ccb20-8260-4b1a-9e08-b5e051ffc848", "Contoso Public", 1, None, True),
        ("8cf764ac-ef2b-4787-8ccd-0a8a65e7bafa", "Contoso Confidential", 4, None, False),
        ("a20cbae4-0c05-448c-b342-cb6c618d0957", "Full Time Employees", 4, "8cf764ac-ef2b-4787-8ccd-0a8a65e7bafa",
         True),
    ]


def test_a_403_is_asked_once_never_retried(make_server, tmp_path) -> None:
    """A permission that is not granted stays not granted: one request, then the sentence naming it."""
    server = make_server(users=10)
    server.graph.hooks.append(_answer(V1, "v1.0", 403, error_body(
        "Forbidden", "Missing role permissions on the request.")))
    result = run_cli("collect", "--db", str(tmp_path / "t.duckdb"), "--graph-url", server.url, "--auth", "token",
                     "--only", "labels", env={"M365AUDIT_TOKEN": "t", "M365AUDIT_MAX_ATTEMPTS": "5"})
    assert_clean_failure(result, 3, "denied access to " + V1)
    assert server.graph.requests[V1] == 1
