"""The nightly job's configuration file (TOML): loading and strict validation.

One file says what `m365audit run` does: which tenant, how to sign in, what
to collect, which policy to check, where reports go, what to keep and for how
long, and who gets the report by email. Every key is documented in
docs/operations.md. A syntax error, an unknown key, a wrong type, a missing
file or an impossible value is refused with the file, line and key named
(exit code 2) before anything runs. Secrets never go in this file: a key
that looks like one is refused with a pointer to the environment variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from m365audit.checks.catalogue import SEVERITIES, check_ids
from m365audit.errors import UsageError
from m365audit.policy import Policy
from m365audit.tomlfile import Locator, Parser, number, read_toml
from m365audit.tomlfile import one_of as _one_of
from m365audit.tomlfile import text as _text
from m365audit.tomlfile import texts as _texts
from m365audit.tomlfile import whole as _whole
from m365audit.wording import plural

AUTH_MODES = ("token", "environment", "client-secret", "certificate", "managed-identity", "azure-cli")
SOURCES = ("licences", "audit", "usage", "labels")
REPORT_FORMATS = ("html", "xlsx", "csv")
FOI_FORMATS = ("md", "csv", "json", "docx")
_SECRET_KEY = re.compile(r"(secret|password|passwd|token|credential|private|^key$)", re.IGNORECASE)
_ADDRESS = re.compile(r"^[^@\s<>\"']+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@dataclass(frozen=True)
class EmailSettings:
    sender: str  # the service mailbox (UPN or id) sending through Graph sendMail
    to: tuple[str, ...]
    subject: str = "Microsoft 365 Copilot audit {date}"
    attach_xlsx: bool = True


@dataclass(frozen=True)
class RunConfig:
    source: str = "(defaults)"
    tenant_name: str | None = None
    graph_url: str = "https://graph.microsoft.com/v1.0"
    auth: str = "environment"
    db: Path = Path("m365audit.duckdb")
    sources: tuple[str, ...] | None = None  # None = every source this version can collect
    groups: tuple[str, ...] = ()
    scope: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # per-source settings, e.g. [audit] -> audit_*
    time_budget_minutes: int | None = None
    attempts: int = 2
    checks_enabled: bool = True
    policy_file: Path | None = None
    policy: Policy = field(default_factory=Policy)
    fail_on: str | None = None
    report_folder: Path = Path("reports")
    report_formats: tuple[str, ...] = REPORT_FORMATS
    report_pseudonymise: bool = False
    report_keep_days: int = 0  # 0 = keep every night's report folder
    foi_enabled: bool = False
    foi_formats: tuple[str, ...] = ("md",)
    foi_years: int = 3
    raw_audit_days: int | None = None  # None = keep raw audit JSON
    activity_days: int | None = None  # None = keep per-user activity
    email: EmailSettings | None = None
    pseudonymise_storage: bool = False
    pseudonym_key_env: str = "M365AUDIT_STORAGE_KEY"
    export_delta: str | None = None  # lakehouse URI the export step keeps Delta tables under

    @property
    def budget_seconds(self) -> float | None:
        return None if self.time_budget_minutes is None else self.time_budget_minutes * 60.0


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _subset(*choices: str) -> Parser:
    def parse(value: Any) -> tuple[str, ...]:
        items = _texts(value)
        unknown = [v for v in items if v not in choices]
        if unknown or not items:
            raise ValueError(f"must be a non-empty list drawn from {', '.join(choices)}")
        return tuple(dict.fromkeys(items))
    return parse


def _address(value: Any) -> str:
    text = _text(value)
    if not _ADDRESS.match(text):
        raise ValueError(f"must be an email address, not {text!r}")
    return text


def _addresses(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list of email addresses")
    return tuple(_address(v) for v in value)


def _env_name(value: Any) -> str:
    text = _text(value)
    if not _ENV_NAME.match(text):
        raise ValueError("must be the name of an environment variable, such as M365AUDIT_STORAGE_KEY")
    return text


# [audit] numbers: finite and within what Graph's audit log query can use (nan, inf, 1e308 refused).
AUDIT_NUMBERS: dict[str, Parser] = {
    "slice_hours": number(0, 24 * 31, above=True), "overlap_hours": number(0, 24 * 31, above=True),
    "first_run_days": number(0, 3650, above=True), "concurrency": number(0, 64, above=True),
    "poll_initial": number(0, 3600, above=True), "poll_max": number(0, 3600, above=True),
    "query_timeout": number(0, 7 * 86400, above=True), "requery_after_hours": number(0, 24 * 31),
}


def _scope(value: Any) -> str:
    from m365audit.scope import parse_scope

    try:
        return str(parse_scope(_text(value)))
    except UsageError as exc:
        raise ValueError(exc.message.replace("--scope ", "").rstrip(".")) from None


def _lake_uri(value: Any) -> str:
    from m365audit.export.lake_target import parse_lake_uri

    text = _text(value)
    try:
        parse_lake_uri(text)
    except UsageError as exc:
        raise ValueError(exc.message.rstrip(".")) from None
    return text


def _record_types(value: Any) -> tuple[str, ...]:
    from m365audit.collect.record_types import parse_record_types

    try:
        return parse_record_types(_texts(value))
    except UsageError as exc:
        raise ValueError(exc.message[0].lower() + exc.message[1:].rstrip(".")) from None


def _graph_url(value: Any) -> str:
    from m365audit.collect.graph import parse_graph_url

    text = _text(value)
    try:
        parse_graph_url(text)
    except UsageError as exc:
        raise ValueError(exc.message.replace("--graph-url ", "").rstrip(".")) from None
    return text


# section -> key -> (RunConfig attribute or "email.<field>", parser)
SCHEMA: dict[str, dict[str, tuple[str, Parser]]] = {
    "tenant": {"name": ("tenant_name", _text), "graph_url": ("graph_url", _graph_url),
               "auth": ("auth", _one_of(*AUTH_MODES))},
    "database": {"path": ("db", _text)},
    "collect": {"sources": ("sources", _subset(*SOURCES)), "groups": ("groups", _texts),
                "scope": ("scope", _scope), "time_budget_minutes": ("time_budget_minutes", _whole(1, 1440)),
                "attempts": ("attempts", _whole(1, 5))},
    # Passed to the audit source as CollectOptions.extra["audit_<key>"]; see collect/audit_settings.py.
    "audit": {"record_types": ("extra.audit_record_types", _record_types), "version": ("extra.audit_version",
                                                                               _one_of("v1.0", "beta")),
              "retention_days": ("extra.audit_retention_days", _whole(1, 3650)),
              "upn_filter_limit": ("extra.audit_upn_filter_limit", _whole(0, 100_000)),
              **{key: (f"extra.audit_{key}", parse) for key, parse in AUDIT_NUMBERS.items()},
              **{key: (f"extra.audit_{key}", _whole(1, 1_000_000)) for key in (
                  "daily_queries", "running_queries", "records_per_query")}},
    "checks": {"enabled": ("checks_enabled", _flag), "policy": ("policy_file", _text),
               "fail_on": ("fail_on", _one_of(*SEVERITIES))},
    "report": {"folder": ("report_folder", _text), "formats": ("report_formats", _subset(*REPORT_FORMATS)),
               "pseudonymise": ("report_pseudonymise", _flag), "keep_days": ("report_keep_days", _whole(0, 3650))},
    "foi": {"enabled": ("foi_enabled", _flag), "formats": ("foi_formats", _subset(*FOI_FORMATS)),
            "years": ("foi_years", _whole(1, 20))},
    "retention": {"raw_audit_days": ("raw_audit_days", _whole(1, 3650)),
                  "activity_days": ("activity_days", _whole(1, 3650))},
    "email": {"from": ("email.sender", _address), "to": ("email.to", _addresses),
              "subject": ("email.subject", _text), "attach_xlsx": ("email.attach_xlsx", _flag)},
    "storage": {"pseudonymise": ("pseudonymise_storage", _flag), "key_env": ("pseudonym_key_env", _env_name)},
    "export": {"delta": ("export_delta", _lake_uri)},
}
PATH_KEYS = {"db", "policy_file", "report_folder"}


def load_config(path: Path | str) -> RunConfig:
    path = Path(path)
    data, text = read_toml(path, "Configuration file", "; see docs/operations.md for an example")
    return parse_config(data, text=text, source=str(path), base=path.resolve().parent)


def parse_config(data: dict[str, Any], *, text: str = "", source: str = "config",
                 base: Path | None = None) -> RunConfig:
    """Validate parsed TOML into a RunConfig; relative paths are taken from ``base``."""
    locate = Locator(text)

    def fail(section: str, key: str | None, problem: str) -> UsageError:
        where = f"{section}.{key}" if key else section
        return UsageError(f"{source}, line {locate.line_of(section, key)}: {where} {problem}.")

    values, email = _parse_sections(data, fail)
    # Paths, given or default, are relative to the configuration file: cron and
    # systemd start jobs in folders nobody chose.
    values.setdefault("db", RunConfig.db)
    values.setdefault("report_folder", RunConfig.report_folder)
    for name in PATH_KEYS & set(values):
        values[name] = (base or Path.cwd()) / Path(values[name]).expanduser()
    if "export_delta" in values and "://" not in values["export_delta"]:
        values["export_delta"] = str((base or Path.cwd()) / Path(values["export_delta"]).expanduser())
    if email:
        values["email"] = _email(email, values, fail)
    if "policy_file" in values:
        values["policy"] = _policy(values["policy_file"], fail)
    config = RunConfig(source=source, **values)
    _check_paths(config, fail)
    _check_storage(config, fail)
    check_runtime(config)
    return config


def check_runtime(config: RunConfig) -> None:
    """What `run` would refuse only once started: the audit settings with their environment
    overrides, and the memory cap. Checked when the configuration is loaded, so `doctor`
    fails where `run` would (exit 2) and a run fails before it collects anything."""
    from m365audit.collect.audit_settings import AuditSettings
    from m365audit.collect.window import retention_days
    from m365audit.store.db import memory_limit_setting

    settings = AuditSettings.from_extra(dict(config.extra))
    days = retention_days(config.extra.get("audit_retention_days"))
    if settings.first_run.days > days:
        raise UsageError(f"{config.source}: [audit] first_run_days ({settings.first_run.days}) reaches further back "
                         f"than the audit log keeps ({plural(days, 'day')}; set [audit] retention_days for Audit "
                         "Premium).")
    memory_limit_setting()


def _parse_sections(data: dict[str, Any], fail: Callable[..., UsageError]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every section and key validated; all problems reported together, so one edit fixes them all."""
    values: dict[str, Any] = {}
    email: dict[str, Any] = {}
    problems: list[UsageError] = []
    for section, body in data.items():
        if section not in SCHEMA:
            problems.append(fail(section, None, f"is not a known section (known: {', '.join(sorted(SCHEMA))})"))
            continue
        if not isinstance(body, dict):
            problems.append(fail(section, None, "must be a table"))
            continue
        for key, value in body.items():
            spec = SCHEMA[section].get(key)
            if spec is None:
                problems.append(fail(section, key, _unknown_key(section, key)))
                continue
            attribute, parser = spec
            try:
                parsed = parser(value)
            except ValueError as exc:
                problems.append(fail(section, key, str(exc)))
                continue
            if attribute.startswith("email."):
                email[attribute.removeprefix("email.")] = parsed
            elif attribute.startswith("extra."):
                values.setdefault("extra", {})[attribute.removeprefix("extra.")] = parsed
            else:
                values[attribute] = parsed
    if len(problems) == 1:
        raise problems[0]
    if problems:
        # One line (the CLI's one-sentence rule), every problem in it.
        raise UsageError(f"The configuration has {len(problems)} problems: "
                         + "; ".join(p.message.rstrip(".") for p in problems) + ".")
    if "email" in data and not email.keys() >= {"sender", "to"}:
        missing = "from" if "sender" not in email else "to"
        raise fail("email", None, f"needs {missing} (the service mailbox and the recipients)")
    return values, email


def _unknown_key(section: str, key: str) -> str:
    if _SECRET_KEY.search(key):
        return ("looks like a secret; secrets never go in this file. Put them in the environment "
                "(AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PASSWORD, M365AUDIT_TOKEN) or use a "
                "managed identity")
    return f"is not a known key (known: {', '.join(sorted(SCHEMA[section]))})"


def _email(email: dict[str, Any], values: dict[str, Any], fail: Callable[..., UsageError]) -> EmailSettings:
    settings = EmailSettings(**email)
    if settings.attach_xlsx and "xlsx" not in values.get("report_formats", REPORT_FORMATS):
        raise fail("email", "attach_xlsx", "needs \"xlsx\" in report.formats")
    return settings


def _policy(path: Path, fail: Callable[..., UsageError]) -> Policy:
    from m365audit.policy import load_policy

    if not path.is_file():
        raise fail("checks", "policy", f"names {path}, which does not exist")
    return load_policy(path, check_ids())  # its own errors name the policy file, line and key


def _check_paths(config: RunConfig, fail: Callable[..., UsageError]) -> None:
    if not config.db.parent.is_dir():
        raise fail("database", "path", f"is in {config.db.parent}, which does not exist")
    if not config.report_folder.parent.is_dir():
        raise fail("report", "folder", f"is in {config.report_folder.parent}, which does not exist")
    if config.report_folder.exists() and not config.report_folder.is_dir():
        raise fail("report", "folder", f"names {config.report_folder}, which is a file")


def _check_storage(config: RunConfig, fail: Callable[..., UsageError]) -> None:
    if config.pseudonymise_storage and not os.environ.get(config.pseudonym_key_env, "").strip():
        raise fail("storage", "pseudonymise",
                   f"needs the key in the environment variable {config.pseudonym_key_env}, which is not set")
