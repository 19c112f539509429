"""Policy exceptions naming people match their findings when the database stores pseudonyms."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from m365audit.checks.catalogue import check_ids
from m365audit.checks.runner import check_database
from m365audit.policy import load_policy
from m365audit.store import pseudonym
from m365audit.store.db import open_db
from tests.checks.activity import Interaction, Resource, add_interaction
from tests.checks.golden import ANCHOR, CHECK_DATE, baseline_tenant, collect_tenant, upn
from tests.conftest import assert_clean_failure, run_cli
from tests.ops.runhelp import run, steps, write_config

KEY = "0123456789abcdef-storage-key-for-exception-tests"
ENV = pseudonym.DEFAULT_KEY_ENV
JAILBREAK = "usage_no_jailbreak_attempts"
INJECTION = "usage_no_prompt_injection"


def _hmac(kind: str, value: str) -> str:
    """The storage's HMAC-SHA256, computed independently of its SQL."""
    return hmac.new(KEY.encode(), f"{kind}:{value.strip().lower()}".encode(), hashlib.sha256).hexdigest()


def _upn_pseudonym(name: str) -> str:
    return f"p-{_hmac('upn', name)[:20]}@{name.split('@')[1].lower()}"


def _onedrive(name: str) -> str:
    return f"https://example-my.sharepoint.com/personal/{name.replace('@', '_').replace('.', '_')}"


ONE, TWO = upn(baseline_tenant(), 1), upn(baseline_tenant(), 2)
ONE_P, TWO_P = _upn_pseudonym(ONE), _upn_pseudonym(TWO)
SITE = _onedrive(TWO)
SITE_P = f"https://example-my.sharepoint.com/personal/p-{_hmac('site', SITE.rsplit('/', 1)[1])[:20]}"
REAL = [ONE.lower(), TWO.lower(), SITE.rsplit("/", 1)[1].lower()]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Licences collected with pseudonymised storage; users 1 and 2 attempted a jailbreak, and user 1's
    Copilot read a file with a prompt injection in user 2's OneDrive (stored pseudonymised, as loading does)."""
    db = tmp_path_factory.mktemp("pseudonymised") / "template.duckdb"
    key = pseudonym.PseudonymKey.from_secret(KEY.encode())
    collect_tenant(baseline_tenant(), db, pseudonym_key=key)
    when = ANCHOR - timedelta(days=2)
    with open_db(db) as con:
        pseudonym.install(con, key)
        stored_site = con.execute("SELECT m365_site(?)", [f"{SITE}/Documents/notes.docx"]).fetchone()[0]
        add_interaction(con, Interaction("pj-1", ONE_P, when, jailbreak=True,
                                         resources=(Resource("notes.docx", stored_site, xpia=True),)))
        add_interaction(con, Interaction("pj-2", TWO_P, when, jailbreak=True))
    return db


@pytest.fixture
def db(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(ENV, raising=False)
    path = tmp_path / "t.duckdb"
    shutil.copy(template, path)
    return path


def _policy_file(tmp_path: Path, *exceptions: tuple[str, str, str]) -> Path:
    body = [f'[policy]\nname = "Pseudonymised Council AI Policy"\nreviewed_on = {CHECK_DATE}\n']
    body += [f'[[exceptions]]\ncheck = "{c}"\nsubject = "{s}"\nreason = "{r}"\n' for c, s, r in exceptions]
    path = tmp_path / "policy.toml"
    path.write_text("\n".join(body))
    return path


def _findings(run, check_id: str) -> set[tuple[str | None, bool, str | None]]:  # type: ignore[no-untyped-def]
    return {(f.subject, f.excepted, f.exception_reason) for f in run.findings if f.check_id == check_id}


def test_exceptions_naming_people_match_their_pseudonyms_with_the_key(db: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    policy = load_policy(_policy_file(tmp_path, (JAILBREAK, ONE.upper(), "Red-team exercise"),
                                      (INJECTION, f" {SITE}/Documents/notes.docx ", "Planted by the red team")), check_ids())
    monkeypatch.setenv(ENV, KEY)
    run = check_database(db, policy, ANCHOR)
    assert _findings(run, JAILBREAK) == {(ONE_P, True, "Red-team exercise"), (TWO_P, False, None)}
    assert _findings(run, INJECTION) == {(f"{SITE_P}/Documents/notes.docx", True, "Planted by the red team")}


def test_the_nightly_run_passes_its_own_key(db: Path, tmp_path: Path) -> None:
    """`m365audit run` reads the key from [storage] key_env and hands it over; the environment is not read."""
    policy = load_policy(_policy_file(tmp_path, (JAILBREAK, TWO, "Red-team exercise")), check_ids())
    run = check_database(db, policy, ANCHOR, key=pseudonym.PseudonymKey.from_secret(KEY.encode()))
    assert _findings(run, JAILBREAK) == {(ONE_P, False, None), (TWO_P, True, "Red-team exercise")}


def test_the_nightly_run_matches_with_the_key_its_config_names(make_server, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    tenant = baseline_tenant()
    tenant.override_user(1, account_enabled=False)
    tenant.override_user(2, account_enabled=False)
    policy = _policy_file(tmp_path, ("licence_copilot_only_active_accounts", ONE, "Leaver: seat removed on Friday"))
    extra = (f'\n[collect]\nsources = ["licences"]\n\n[checks]\npolicy = "{policy}"\n\n'
             '[storage]\npseudonymise = true\nkey_env = "COUNCIL_STORAGE_KEY"\n')
    result = run(write_config(tmp_path, make_server(tenant).url, extra),
                 env={"COUNCIL_STORAGE_KEY": KEY, "M365AUDIT_NOW": ANCHOR.isoformat()})
    assert result.code == 0, result.stderr
    assert steps(result)["check"]["counts"]["excepted"] == 1
    with duckdb.connect(str(tmp_path / "audit.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT subject, excepted, exception_reason FROM check_findings "
                             "WHERE check_id = 'licence_copilot_only_active_accounts'").fetchall()
    assert set(stored) == {(ONE_P, True, "Leaver: seat removed on Friday"), (TWO_P, False, None)}


def test_without_the_key_an_exception_naming_a_person_is_refused(db: Path, tmp_path: Path) -> None:
    policy = _policy_file(tmp_path, (JAILBREAK, ONE, "Red-team exercise"))
    result = run_cli("check", "--db", str(db), "--policy", str(policy), "--check-date", str(CHECK_DATE))
    assert_clean_failure(result, 2, f"m365audit: This database stores pseudonyms and 1 of the policy's exceptions "
                                    f"(the first for {JAILBREAK}) name a person, which cannot be matched without "
                                    f"the storage key: set {ENV} to the key the database was created with, or "
                                    "write those subjects as the pseudonyms the findings show; nothing was checked.")
    assert ONE.lower() not in result.stderr.lower()
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM check_runs").fetchone() == (0,)


def test_a_different_key_is_refused(db: Path, tmp_path: Path) -> None:
    policy = _policy_file(tmp_path, (JAILBREAK, ONE, "Red-team exercise"))
    result = run_cli("check", "--db", str(db), "--policy", str(policy), env={ENV: KEY[::-1]})
    assert_clean_failure(result, 2, "The pseudonym key differs from the one this database was created with")
    assert KEY[::-1] not in result.stderr


def test_an_exception_written_as_the_pseudonym_needs_no_key(db: Path, tmp_path: Path) -> None:
    policy = load_policy(_policy_file(tmp_path, (JAILBREAK, ONE_P.upper(), "Red-team exercise"),
                                      (INJECTION, f"{SITE_P}/Documents/notes.docx", "Planted by the red team")), check_ids())
    run = check_database(db, policy, ANCHOR)
    assert _findings(run, JAILBREAK) == {(ONE_P, True, "Red-team exercise"), (TWO_P, False, None)}
    assert _findings(run, INJECTION) == {(f"{SITE_P}/Documents/notes.docx", True, "Planted by the red team")}


def test_the_real_names_reach_neither_the_findings_tables_nor_the_output(db: Path, tmp_path: Path) -> None:
    policy = _policy_file(tmp_path, (JAILBREAK, ONE, "Red-team exercise"),
                          (INJECTION, f"{SITE}/Documents/notes.docx", "Planted by the red team"))
    common = ("check", "--db", str(db), "--policy", str(policy), "--check-date", str(CHECK_DATE))
    as_json = run_cli(*common, "--format", "json", env={ENV: KEY})
    as_csv = run_cli(*common, "--format", "csv", env={ENV: KEY})
    assert (as_json.code, as_csv.code) == (0, 0), as_json.stderr + as_csv.stderr
    jailbreaks = {(f["subject"], f["excepted"]) for f in json.loads(as_json.stdout)["findings"]
                  if f["check_id"] == JAILBREAK}
    assert jailbreaks == {(ONE_P, True), (TWO_P, False)}
    rows = {(r["subject"], r["excepted"]) for r in csv.DictReader(io.StringIO(as_csv.stdout))
            if r["check_id"] == INJECTION}
    assert rows == {(f"{SITE_P}/Documents/notes.docx", "true")}
    output = (as_json.stdout + as_json.stderr + as_csv.stdout + as_csv.stderr).lower()
    assert [name for name in REAL if name in output] == []
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute("SELECT lower(string_agg(f::VARCHAR, ' ')) FROM check_findings f").fetchone()[0]
        stored += con.execute("SELECT lower(string_agg(r::VARCHAR, ' ')) FROM check_runs r").fetchone()[0]
        excepted = con.execute("SELECT check_id, subject, exception_reason FROM check_findings WHERE excepted "
                               "ORDER BY ALL").fetchall()
    assert [name for name in REAL if name in stored] == []
    assert excepted == sorted([(INJECTION, f"{SITE_P}/Documents/notes.docx", "Planted by the red team"),
                               (JAILBREAK, ONE_P, "Red-team exercise")] * 2)  # one of each per run


@pytest.mark.parametrize(("subject", "kind"), [
    ("Jo.Bloggs@Council.gov.uk", "upn"),
    ("p-0123456789abcdef0123@council.gov.uk", None),
    ("P-0123456789ABCDEF0123@council.gov.uk", None),
    ("https://c-my.sharepoint.com/personal/jo_bloggs_council_gov_uk/Documents/a.docx", "site"),
    ("https://c-my.sharepoint.com/personal/p-0123456789abcdef0123/Documents/a.docx", None),
    ("https://c.sharepoint.com/sites/Finance", None),
    ("Microsoft_365_Copilot", None),
    ("ChatGPT Enterprise", None),
    ("tenant", None),
])
def test_which_subjects_name_people(subject: str, kind: str | None) -> None:
    assert pseudonym.subject_kind(subject) == kind
