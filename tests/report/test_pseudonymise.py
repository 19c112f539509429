"""--pseudonymise: keyed, stable, consistent pseudonyms; no names left; no key, no report."""

from __future__ import annotations

from pathlib import Path

import duckdb
import openpyxl
import pytest

from m365audit.report.manager import write_reports
from m365audit.report.pseudonym import KEY_ENV, KEY_FILE_ENV, Pseudonymiser
from tests.conftest import assert_clean_failure, run_cli
from tests.report.conftest import read_csv

KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def no_key_env() -> dict[str, str]:
    return {KEY_ENV: "", KEY_FILE_ENV: ""}


def reclaim_users(out: Path) -> list[str]:
    return [r["user_principal_name"] for r in read_csv(out / "csv" / "reclaim.csv")]


@pytest.fixture(scope="module")
def pseudonymised(report_db, policy, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pseudo") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, KEY)
        write_reports(db=report_db, out=out, policy=policy, pseudonymise=True)
    return out


def all_text(out: Path) -> str:
    parts = [(out / "copilot-report.html").read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8-sig") for p in (out / "csv").glob("*.csv")]
    book = openpyxl.load_workbook(out / "copilot-report.xlsx")
    parts += [str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    book.close()
    return "\n".join(parts)


def test_no_name_or_address_is_left(pseudonymised, report_db, report_dir) -> None:
    with duckdb.connect(str(report_db), read_only=True) as con:
        people = con.execute("SELECT user_principal_name, display_name FROM users").fetchall()
    text = all_text(pseudonymised).casefold()
    leaked = [upn for upn, _ in people if upn.casefold() in text]
    leaked += [name for _, name in people if name.casefold() in text]
    assert leaked == []
    plain = reclaim_users(report_dir)
    assert len(plain) == len(reclaim_users(pseudonymised)) > 0


def test_pseudonyms_are_keyed_hmacs_of_the_sign_in_name(pseudonymised, report_dir) -> None:
    plain = read_csv(report_dir / "csv" / "reclaim.csv")
    hidden = read_csv(pseudonymised / "csv" / "reclaim.csv")
    pseudonym = Pseudonymiser(KEY.encode()).pseudonym
    assert [r["user_principal_name"] for r in hidden] == [pseudonym(r["user_principal_name"]) for r in plain]
    assert [r["display_name"] for r in hidden] == [r["user_principal_name"] for r in hidden]  # one person, one name
    assert all(r["user_principal_name"].startswith("person-") for r in hidden)
    assert [r["department"] for r in hidden] == [r["department"] for r in plain]  # departments are not personal


def test_same_key_same_pseudonyms_other_key_other_pseudonyms(pseudonymised, report_db, policy, tmp_path,
                                                            monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    write_reports(db=report_db, out=tmp_path / "again", formats="csv", policy=policy, pseudonymise=True)
    assert reclaim_users(tmp_path / "again") == reclaim_users(pseudonymised)
    key_file = tmp_path / "keys" / "pseudonym.key"
    key_file.parent.mkdir()
    key_file.write_text("another-key-that-is-long-enough\n", encoding="utf-8")
    monkeypatch.setenv(KEY_ENV, "")
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    write_reports(db=report_db, out=tmp_path / "other", formats="csv", policy=policy, pseudonymise=True)
    other = reclaim_users(tmp_path / "other")
    assert len(other) == len(reclaim_users(pseudonymised))
    assert not set(other) & set(reclaim_users(pseudonymised))


def test_without_a_key_nothing_is_written(report_db, tmp_path) -> None:
    out = tmp_path / "out"
    result = run_cli("report", "--db", str(report_db), "--out", str(out), "--pseudonymise", env=no_key_env())
    assert_clean_failure(result, 2, "--pseudonymise needs a secret key", KEY_ENV)
    assert not out.exists()


def test_a_short_key_is_refused(report_db, tmp_path) -> None:
    result = run_cli("report", "--db", str(report_db), "--out", str(tmp_path / "out"), "--pseudonymise",
                     env={**no_key_env(), KEY_ENV: "short"})
    assert_clean_failure(result, 2, "at least 16")


def test_a_key_file_inside_the_report_folder_is_refused(report_db, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "key").write_text(KEY, encoding="utf-8")
    result = run_cli("report", "--db", str(report_db), "--out", str(out), "--pseudonymise",
                     env={**no_key_env(), KEY_FILE_ENV: str(out / "key")})
    assert_clean_failure(result, 2, "inside the report folder")
    assert sorted(p.name for p in out.iterdir()) == ["key"]
