"""The run configuration is parsed strictly: every problem names the file, line and key; nothing runs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from m365audit.collect.audit_settings import AuditSettings
from m365audit.errors import UsageError
from m365audit.ops.config import load_config
from tests.conftest import assert_clean_failure, run_cli

GOOD = """\
[tenant]
name = "Example Borough Council"
graph_url = "https://graph.microsoft.com/v1.0"
auth = "managed-identity"

[database]
path = "data/m365audit.duckdb"

[collect]
sources = ["licences", "audit"]
groups = ["AI Trained Staff"]
time_budget_minutes = 90
attempts = 3

[audit]
record_types = ["CopilotInteraction", "AIAppInteraction"]
first_run_days = 7
poll_initial = 0.5

[checks]
policy = "policy.toml"
fail_on = "high"

[report]
folder = "reports"
formats = ["html", "xlsx"]
keep_days = 60

[foi]
enabled = true
formats = ["md", "csv"]

[retention]
raw_audit_days = 30
activity_days = 400

[email]
from = "m365audit@example.gov.uk"
to = ["ict@example.gov.uk", "dpo@example.gov.uk"]
subject = "Copilot audit {date}"

[storage]
pseudonymise = false
"""
POLICY = '[policy]\nname = "Example AI Policy"\n\n[usage]\ntraining_group = "AI Trained Staff"\n'


def _write(tmp_path: Path, text: str = GOOD) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "policy.toml").write_text(POLICY)
    path = tmp_path / "m365audit.toml"
    path.write_text(text)
    return path


def test_good_config(tmp_path) -> None:
    config = load_config(_write(tmp_path))
    assert config.tenant_name == "Example Borough Council"
    assert config.auth == "managed-identity"
    assert config.db == tmp_path / "data" / "m365audit.duckdb"  # relative to the config file
    assert config.sources == ("licences", "audit") and config.attempts == 3
    assert config.budget_seconds == 5400
    assert config.policy.name == "Example AI Policy" and config.policy.training_group == "AI Trained Staff"
    assert config.fail_on == "high"
    assert config.audit == AuditSettings(record_types=("CopilotInteraction", "AIAppInteraction"),
                                         first_run=timedelta(days=7), poll_initial=0.5)
    assert config.audit_retention_days is None
    assert config.report_folder == tmp_path / "reports" and config.report_formats == ("html", "xlsx")
    assert (config.raw_audit_days, config.activity_days) == (30, 400)
    assert config.email is not None and config.email.to == ("ict@example.gov.uk", "dpo@example.gov.uk")
    assert config.foi_enabled and config.foi_formats == ("md", "csv")


def test_empty_config_means_defaults(tmp_path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("# nothing yet\n")
    config = load_config(path)
    assert config.graph_url == "https://graph.microsoft.com/v1.0" and config.email is None
    assert config.db == tmp_path / "m365audit.duckdb"


@pytest.mark.parametrize(("change", "message"), [
    (('auth = "managed-identity"', 'auth = "password"'), "line 4: tenant.auth must be one of token, environment"),
    (('auth = "managed-identity"', 'auth = "device-code"'), "line 4: tenant.auth must be one of"),
    (('graph_url = "https://graph.microsoft.com/v1.0"', 'graph_url = "http://graph.example.org/v1.0"'),
     "line 3: tenant.graph_url 'http://graph.example.org/v1.0' uses plain http"),
    (("attempts = 3", 'attempts = 3\nscope = "au:not-a-guid"'), "line 14: collect.scope 'au:not-a-guid': an"),
    (("attempts = 3", "attempts = 0"), "line 13: collect.attempts must be between 1 and 5, not 0"),
    (("time_budget_minutes = 90", 'time_budget_minutes = "90"'),
     "line 12: collect.time_budget_minutes must be a whole"),
    (('sources = ["licences", "audit"]', 'sources = ["licences", "mail"]'), "line 10: collect.sources must be a"),
    (("first_run_days = 7", "first_run_days = 0"), "line 17: audit.first_run_days must be a number above 0"),
    (('fail_on = "high"', 'fail_on = "urgent"'), "line 22: checks.fail_on must be one of low, medium, high"),
    (('formats = ["html", "xlsx"]', 'formats = ["pdf"]'), "line 26: report.formats must be a non-empty list"),
    (("raw_audit_days = 30", "raw_audit_days = -1"), "line 34: retention.raw_audit_days must be between 1 and 3650"),
    (('to = ["ict@example.gov.uk", "dpo@example.gov.uk"]', 'to = ["not an address"]'),
     "line 39: email.to must be an email address"),
    (('to = ["ict@example.gov.uk", "dpo@example.gov.uk"]\n', ""), "email needs to"),
    (("[retention]", "[retain]"), "line 33: retain is not a known section"),
    (("keep_days = 60", "keep_for = 60"), "line 27: report.keep_for is not a known key (known: folder, formats"),
    (('auth = "managed-identity"', 'auth = "client-secret"\nclient_secret = "abc"'),
     "line 5: tenant.client_secret looks like a secret; secrets never go in this file"),
    (('path = "data/m365audit.duckdb"', 'path = "missing/m365audit.duckdb"'),
     "line 7: database.path is in"),
    (('policy = "policy.toml"', 'policy = "nowhere.toml"'), "line 21: checks.policy names"),
    (('pseudonymise = false', 'pseudonymise = true'),
     "storage.pseudonymise needs the key in the environment variable M365AUDIT_STORAGE_KEY"),
    (('formats = ["html", "xlsx"]', 'formats = ["html"]'), 'email.attach_xlsx needs "xlsx" in report.formats'),
    (('name = "Example', "name = Example"), "not valid TOML"),
])
def test_bad_config(tmp_path, monkeypatch, change: tuple[str, str], message: str) -> None:
    monkeypatch.delenv("M365AUDIT_STORAGE_KEY", raising=False)
    old, new = change
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(UsageError) as caught:
        load_config(path)
    assert message in caught.value.message
    assert str(path) in caught.value.message


def test_bad_policy_names_the_policy_file(tmp_path) -> None:
    path = _write(tmp_path)
    (tmp_path / "policy.toml").write_text("[policy]\nreview_every_months = 0\n")
    with pytest.raises(UsageError, match=r"policy.toml, line 2: policy.review_every_months"):
        load_config(path)


def test_run_refuses_a_bad_config_and_changes_nothing(tmp_path) -> None:
    path = _write(tmp_path, GOOD.replace("attempts = 3", "attempts = many"))
    result = run_cli("run", "--config", str(path))
    assert_clean_failure(result, 2, str(path), "not valid TOML")
    assert list((tmp_path / "data").iterdir()) == []
    assert not (tmp_path / "reports").exists()


def test_run_without_a_config_file(tmp_path) -> None:
    result = run_cli("run", cwd=tmp_path)
    assert_clean_failure(result, 2, "m365audit.toml does not exist")


def test_the_documented_example_is_valid(tmp_path) -> None:
    """docs/operations.md's configuration example parses, and documents every key."""
    import re

    from m365audit.ops.config import ConfigFile
    from m365audit.tomlfile import model_in

    doc = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    example = re.search(r"```toml\n(.*?)```", doc, re.S).group(1)
    example = example.replace("/var/lib/m365audit", str(tmp_path))
    (tmp_path / "policy.toml").write_text(POLICY)
    path = tmp_path / "m365audit.toml"
    path.write_text(example)
    config = load_config(path)
    assert config.db == tmp_path / "m365audit.duckdb" and config.email is not None
    for section, info in ConfigFile.model_fields.items():
        table = model_in(info.annotation)
        assert table is not None
        for name, field in table.model_fields.items():
            key = field.alias or name
            assert re.search(rf"^{key} = ", example, re.M), f"[{section}] {key} is not documented"


def test_every_problem_is_reported_at_once(tmp_path) -> None:
    text = (GOOD.replace("attempts = 3", "attempts = 0").replace("keep_days = 60", "keep_days = 60\ncolour = 1")
            .replace("enabled = true", 'enabled = "yes"'))
    path = _write(tmp_path, text)
    result = run_cli("run", "--config", str(path))
    assert_clean_failure(result, 2, "The configuration has 3 problems:", "collect.attempts", "report.colour",
                         "foi.enabled")
    assert list((tmp_path / "data").iterdir()) == []
