"""The check catalogue: one SQL file per check in queries/checks/, validated at load.

A check file starts with a header of ``-- field: value`` lines (a value may
continue on lines indented by at least two spaces after ``--``):

    -- id: licence_copilot_only_members            (must equal the file name)
    -- title: Only members of the organisation hold Copilot seats   (the compliant state)
    -- severity: high                              (low, medium, high or critical)
    -- clause: which clause of the policy file it enforces
    -- rationale: why the clause matters
    -- remediation: Owner: who fixes a failure. What to do: the admin-centre page, PowerShell or
    --   Graph action (one paragraph, written for the person who must fix it)
    -- reads: copilot_seat_holders                 (public views it reads, or none)
    -- needs: licence_snapshot                     (data it needs, or none; see needs.py)

A check that the Spark translation (m365audit.lakehouse.translate) cannot carry keeps
a hand-written Spark SQL variant beside it, ``<id>.spark.sql``: it is not a check of its
own, and one whose id names no check is refused.

The body is one SELECT returning the offending rows as (subject, detail);
no rows means pass. Policy values arrive as named parameters ($name, see
params.py). A file with a missing or unknown header field, an id that differs
from its name, or a parameter or view this module does not know is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from m365audit.checks.needs import NEEDS
from m365audit.checks.params import PARAMS
from m365audit.resources import queries_dir

SEVERITIES = ("low", "medium", "high", "critical")
FIELDS = ("id", "title", "severity", "clause", "rationale", "remediation", "reads", "needs")
MIN_REMEDIATION = 120  # characters: a paragraph, not a placeholder
_FIELD = re.compile(r"^--\s?(\w+):\s*(.*)$")
_CONTINUATION = re.compile(r"^--\s{2,}(\S.*)$")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_SOURCE = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_]\w*)\s*(\()?", re.IGNORECASE)
_CTE = re.compile(r"\b([A-Za-z_]\w*)\s+AS\s+(?:NOT\s+)?(?:MATERIALIZED\s+)?\(", re.IGNORECASE)
_MACRO = re.compile(r"CREATE\s+OR\s+REPLACE\s+MACRO\s+(\w+)", re.IGNORECASE)
_VIEW = re.compile(r"CREATE\s+OR\s+REPLACE\s+VIEW\s+(\w+)", re.IGNORECASE)
_TABLE_FUNCTIONS = {"unnest", "range", "generate_series"}


class CatalogueError(Exception):
    """A check file is malformed: a bug in the shipped SQL, not in the user's input."""


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: str
    clause: str
    rationale: str
    remediation: str  # one paragraph for the person who must fix a failure: owner, then what to do
    reads: tuple[str, ...]
    needs: tuple[str, ...]
    params: tuple[str, ...]
    sql: str
    path: Path

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)


def checks_dir() -> Path:
    return queries_dir() / "checks"


def parse_header(text: str, name: str) -> tuple[dict[str, str], str]:
    """The header fields and the SQL body of one check file."""
    fields: dict[str, str] = {}
    lines = text.splitlines()
    current = None
    body_start = len(lines)
    for number, line in enumerate(lines):
        if not line.startswith("--"):
            body_start = number
            break
        continuation = _CONTINUATION.match(line)
        field = _FIELD.match(line)
        if continuation and current and not field:
            fields[current] += " " + continuation.group(1).strip()
        elif field:
            current = field.group(1)
            if current not in FIELDS:
                raise CatalogueError(f"{name}, line {number + 1}: unknown header field {current!r}")
            if current in fields:
                raise CatalogueError(f"{name}, line {number + 1}: header field {current!r} given twice")
            fields[current] = field.group(2).strip()
        elif line.strip() != "--":
            raise CatalogueError(f"{name}, line {number + 1}: not a header line: {line!r}")
    return fields, "\n".join(lines[body_start:]).strip()


def _names(value: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    return () if names == ("none",) else names


@cache
def public_relations() -> frozenset[str]:
    """Names of the public views and table macros a check may read."""
    names: set[str] = set()
    for file in sorted((queries_dir() / "views").glob("*.sql")):
        text = file.read_text(encoding="utf-8")
        names.update(_VIEW.findall(text))
        names.update(_MACRO.findall(text))
    return frozenset(names)


def relations_read(sql: str) -> set[str]:
    """Views and macros named after FROM or JOIN, less the query's own CTEs and table functions."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    ctes = {m.lower() for m in _CTE.findall(code)}
    found = set()
    for name, call in _SOURCE.findall(code):
        lowered = name.lower()
        if lowered in ctes or (call and lowered in _TABLE_FUNCTIONS):
            continue
        found.add(lowered)
    return found


def parse_check(path: Path) -> Check:
    name = path.name
    fields, sql = parse_header(path.read_text(encoding="utf-8"), name)
    for field in FIELDS:
        if not fields.get(field):
            raise CatalogueError(f"{name}: the header lacks the {field!r} field")
    if fields["id"] != path.stem:
        raise CatalogueError(f"{name}: id {fields['id']!r} differs from the file name {path.stem!r}")
    if fields["severity"] not in SEVERITIES:
        raise CatalogueError(f"{name}: severity {fields['severity']!r} is not one of {', '.join(SEVERITIES)}")
    if not sql:
        raise CatalogueError(f"{name}: no SQL after the header")
    _require_remediation(name, fields["remediation"])
    reads, needs = _names(fields["reads"]), _names(fields["needs"])
    _require_known(name, "reads", reads, public_relations())
    _require_known(name, "needs", needs, NEEDS)
    read = relations_read(sql)
    if read != set(reads):
        raise CatalogueError(f"{name}: reads lists {sorted(reads)} but the SQL reads {sorted(read)}")
    params = tuple(dict.fromkeys(_PARAM.findall(sql)))
    _require_known(name, "parameter", params, PARAMS)
    return Check(fields["id"], fields["title"], fields["severity"], fields["clause"], fields["rationale"],
                 fields["remediation"], reads, needs, params, sql, path)


def _require_remediation(name: str, text: str) -> None:
    """A remediation names who owns the fix and says what to do, in a paragraph."""
    if not text.startswith("Owner: "):
        raise CatalogueError(f"{name}: the remediation must start with 'Owner: ' naming who fixes a failure")
    if len(text) < MIN_REMEDIATION:
        raise CatalogueError(f"{name}: the remediation is {len(text)} characters; write a paragraph of at least "
                             f"{MIN_REMEDIATION} saying what to do")


def _require_known(name: str, what: str, values: tuple[str, ...], known: object) -> None:
    for value in values:
        if value not in known:  # type: ignore[operator]
            raise CatalogueError(f"{name}: {what} {value!r} is not known")


SPARK_SUFFIX = ".spark.sql"


@cache
def load_catalogue() -> tuple[Check, ...]:
    """Every check, ordered by id."""
    files = sorted(checks_dir().glob("*.sql"))
    checks = tuple(parse_check(p) for p in files if not p.name.endswith(SPARK_SUFFIX))
    if not checks:
        raise CatalogueError(f"no checks found in {checks_dir()}")
    ids = {c.id for c in checks}
    for variant in files:
        owner = variant.name.removesuffix(SPARK_SUFFIX)
        if variant.name.endswith(SPARK_SUFFIX) and owner not in ids:
            raise CatalogueError(f"{variant.name}: a Spark variant of no check (there is no {owner}.sql)")
    return checks


def spark_variant(check: Check) -> str | None:
    """The hand-written Spark SQL kept beside a check, when it has one."""
    path = check.path.with_name(check.id + SPARK_SUFFIX)
    return path.read_text(encoding="utf-8") if path.exists() else None


def check_ids() -> tuple[str, ...]:
    return tuple(c.id for c in load_catalogue())


def render_checks_doc() -> str:
    from m365audit.checks.docs import render

    return render(load_catalogue())
