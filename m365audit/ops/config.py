"""The nightly job's configuration file (TOML): loading and strict validation.

One file says what `m365audit run` does: which tenant, how to sign in, what
to collect, which policy to check, where reports go, what to keep and for how
long, and who gets the report by email. Every key is documented in
docs/operations.md. A syntax error, an unknown key, a wrong type, a missing
file or an impossible value is refused with the file, line and key named
(exit code 2) before anything runs, every problem at once. Secrets never go
in this file: a key that looks like one is refused with a pointer to the
environment variable.

The file is parsed once into immutable pydantic tables (``ConfigFile``), then
into the ``RunConfig`` the job reads; its ``[audit]`` table is the one
validator of the collector's ``AuditSettings``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from m365audit import environment
from m365audit.checks.catalogue import SEVERITIES, check_ids
from m365audit.collect.audit_settings import VERSIONS, AuditSettings, environment_defaults
from m365audit.errors import UsageError
from m365audit.policy import Policy
from m365audit.tomlfile import Locator, Parser, Table, number, parsed, read_toml, validate
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
    audit: AuditSettings = field(default_factory=AuditSettings)  # [audit], built once
    audit_retention_days: int | None = None  # [audit] retention_days; None: M365AUDIT_AUDIT_RETENTION_DAYS or 180
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
    pseudonym_key_env: str = environment.STORAGE_KEY.name
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
# overlap_hours is above 0 too: records reach the audit log hours or days late, and a run that
# re-read nothing before its watermark would lose them (docs/operations.md).
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


Text = Annotated[str, parsed(_text)]
MaybeText = Annotated[str | None, parsed(_text)]  # TOML has no null: None is only ever the default
Texts = Annotated[tuple[str, ...], parsed(_texts)]
Flag = Annotated[bool, parsed(_flag)]
Days = Annotated[int | None, parsed(_whole(1, 3650))]


# The file's tables, key for key as docs/operations.md documents them.
class TenantTable(Table):
    name: MaybeText = None
    graph_url: Annotated[str, parsed(_graph_url)] = RunConfig.graph_url
    auth: Annotated[str, parsed(_one_of(*AUTH_MODES))] = RunConfig.auth


class DatabaseTable(Table):
    path: Text = str(RunConfig.db)


class CollectTable(Table):
    sources: Annotated[tuple[str, ...] | None, parsed(_subset(*SOURCES))] = None
    groups: Texts = ()
    scope: Annotated[str | None, parsed(_scope)] = None
    time_budget_minutes: Annotated[int | None, parsed(_whole(1, 1440))] = None
    attempts: Annotated[int, parsed(_whole(1, 5))] = RunConfig.attempts


Count = Annotated[int | None, parsed(_whole(1, 1_000_000))]


class AuditTable(Table):
    """[audit]: the one validator of the audit source's settings; unset keys keep AuditSettings' defaults."""

    record_types: Annotated[tuple[str, ...] | None, parsed(_record_types)] = None
    version: Annotated[str | None, parsed(_one_of(*VERSIONS))] = None
    retention_days: Days = None
    upn_filter_limit: Annotated[int | None, parsed(_whole(0, 100_000))] = None
    slice_hours: Annotated[float | None, parsed(AUDIT_NUMBERS["slice_hours"])] = None
    overlap_hours: Annotated[float | None, parsed(AUDIT_NUMBERS["overlap_hours"])] = None
    first_run_days: Annotated[float | None, parsed(AUDIT_NUMBERS["first_run_days"])] = None
    concurrency: Annotated[float | None, parsed(AUDIT_NUMBERS["concurrency"])] = None
    poll_initial: Annotated[float | None, parsed(AUDIT_NUMBERS["poll_initial"])] = None
    poll_max: Annotated[float | None, parsed(AUDIT_NUMBERS["poll_max"])] = None
    query_timeout: Annotated[float | None, parsed(AUDIT_NUMBERS["query_timeout"])] = None
    requery_after_hours: Annotated[float | None, parsed(AUDIT_NUMBERS["requery_after_hours"])] = None
    daily_queries: Count = None
    running_queries: Count = None
    records_per_query: Count = None

    def settings(self) -> AuditSettings:
        """The audit source's settings: these keys, else the environment's defaults, else AuditSettings'."""
        convert: dict[str, tuple[str, Callable[[Any], Any]]] = {
            "record_types": ("record_types", tuple), "version": ("version", str),
            "upn_filter_limit": ("upn_filter_limit", int), "slice_hours": ("slice", _hours),
            "overlap_hours": ("overlap", _hours), "first_run_days": ("first_run", _days),
            "concurrency": ("concurrency", int), "poll_initial": ("poll_initial", float),
            "poll_max": ("poll_max", float), "query_timeout": ("query_timeout", float),
            "requery_after_hours": ("requery_after", _hours), "daily_queries": ("daily_queries", int),
            "running_queries": ("running_queries", int), "records_per_query": ("records_per_query", int)}
        given = {convert[key][0]: convert[key][1](getattr(self, key)) for key in self.model_fields_set
                 if key in convert}
        return AuditSettings(**{**environment_defaults(), **given})


class ChecksTable(Table):
    enabled: Flag = RunConfig.checks_enabled
    policy: MaybeText = None
    fail_on: Annotated[str | None, parsed(_one_of(*SEVERITIES))] = None


class ReportTable(Table):
    folder: Text = str(RunConfig.report_folder)
    formats: Annotated[tuple[str, ...], parsed(_subset(*REPORT_FORMATS))] = RunConfig.report_formats
    pseudonymise: Flag = RunConfig.report_pseudonymise
    keep_days: Annotated[int, parsed(_whole(0, 3650))] = RunConfig.report_keep_days


class FoiTable(Table):
    enabled: Flag = RunConfig.foi_enabled
    formats: Annotated[tuple[str, ...], parsed(_subset(*FOI_FORMATS))] = RunConfig.foi_formats
    years: Annotated[int, parsed(_whole(1, 20))] = RunConfig.foi_years


class RetentionTable(Table):
    raw_audit_days: Days = None
    activity_days: Days = None


class EmailTable(Table):
    sender: Annotated[str | None, parsed(_address)] = Field(default=None, alias="from")
    to: Annotated[tuple[str, ...] | None, parsed(_addresses)] = None
    subject: Text = EmailSettings.subject
    attach_xlsx: Flag = EmailSettings.attach_xlsx


class StorageTable(Table):
    pseudonymise: Flag = RunConfig.pseudonymise_storage
    key_env: Annotated[str, parsed(_env_name)] = RunConfig.pseudonym_key_env


class ExportTable(Table):
    delta: Annotated[str | None, parsed(_lake_uri)] = None


class ConfigFile(Table):
    tenant: TenantTable = TenantTable()
    database: DatabaseTable = DatabaseTable()
    collect: CollectTable = CollectTable()
    audit: AuditTable = AuditTable()
    checks: ChecksTable = ChecksTable()
    report: ReportTable = ReportTable()
    foi: FoiTable = FoiTable()
    retention: RetentionTable = RetentionTable()
    email: EmailTable | None = None
    storage: StorageTable = StorageTable()
    export: ExportTable = ExportTable()


def _hours(value: float) -> timedelta:
    return timedelta(hours=value)


def _days(value: float) -> timedelta:
    return timedelta(days=value)


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

    file = validate(ConfigFile, data, text=text, source=source, kind="configuration",
                    unknown_key=_unknown_key)
    # Paths, given or default, are relative to the configuration file: cron and
    # systemd start jobs in folders nobody chose.
    folder = base or Path.cwd()
    delta = file.export.delta
    config = RunConfig(
        source=source, tenant_name=file.tenant.name, graph_url=file.tenant.graph_url, auth=file.tenant.auth,
        db=folder / Path(file.database.path).expanduser(), sources=file.collect.sources, groups=file.collect.groups,
        scope=file.collect.scope, audit=file.audit.settings(), audit_retention_days=file.audit.retention_days,
        time_budget_minutes=file.collect.time_budget_minutes, attempts=file.collect.attempts,
        checks_enabled=file.checks.enabled,
        policy_file=None if file.checks.policy is None else folder / Path(file.checks.policy).expanduser(),
        fail_on=file.checks.fail_on, report_folder=folder / Path(file.report.folder).expanduser(),
        report_formats=file.report.formats, report_pseudonymise=file.report.pseudonymise,
        report_keep_days=file.report.keep_days, foi_enabled=file.foi.enabled, foi_formats=file.foi.formats,
        foi_years=file.foi.years, raw_audit_days=file.retention.raw_audit_days,
        activity_days=file.retention.activity_days, email=_email(file, fail),
        pseudonymise_storage=file.storage.pseudonymise, pseudonym_key_env=file.storage.key_env,
        export_delta=delta if delta is None or "://" in delta else str(folder / Path(delta).expanduser()))
    if config.policy_file is not None:
        config = replace(config, policy=_policy(config.policy_file, fail))
    _check_paths(config, fail)
    _check_storage(config, fail)
    check_runtime(config)
    return config


def check_runtime(config: RunConfig) -> None:
    """What `run` would refuse only once started: the audit window against the log's retention, and
    the memory cap. Checked when the configuration is loaded, so `doctor` fails where `run` would
    (exit 2) and a run fails before it collects anything."""
    from m365audit.collect.window import retention_days
    from m365audit.store.db import memory_limit_setting

    days = retention_days(config.audit_retention_days)
    if config.audit.first_run.days > days:
        raise UsageError(f"{config.source}: [audit] first_run_days ({config.audit.first_run.days}) reaches further "
                         f"back than the audit log keeps ({plural(days, 'day')}; set [audit] retention_days for "
                         "Audit Premium).")
    memory_limit_setting()


def _unknown_key(section: str, key: str, known: list[str]) -> str:
    if _SECRET_KEY.search(key):
        return ("looks like a secret; secrets never go in this file. Put them in the environment "
                "(AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PASSWORD, M365AUDIT_TOKEN) or use a "
                "managed identity")
    return f"is not a known key (known: {', '.join(known)})"


def _email(file: ConfigFile, fail: Callable[..., UsageError]) -> EmailSettings | None:
    email = file.email
    if email is None:
        return None
    if email.sender is None or email.to is None:
        missing = "from" if email.sender is None else "to"
        raise fail("email", None, f"needs {missing} (the service mailbox and the recipients)")
    if email.attach_xlsx and "xlsx" not in file.report.formats:
        raise fail("email", "attach_xlsx", "needs \"xlsx\" in report.formats")
    return EmailSettings(email.sender, email.to, email.subject, email.attach_xlsx)


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
    if config.pseudonymise_storage and environment.value_of(config.pseudonym_key_env) is None:
        raise fail("storage", "pseudonymise",
                   f"needs the key in the environment variable {config.pseudonym_key_env}, which is not set")
