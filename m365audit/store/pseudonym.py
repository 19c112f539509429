"""Pseudonymised storage: keyed pseudonyms instead of names, computed in SQL as data lands.

For organisations whose data-protection impact assessment requires it, the
database can hold HMAC-SHA256 pseudonyms instead of user principal names,
display names and mail addresses. The HMAC is computed by DuckDB inside the
loading SQL (no per-record Python): the key's inner and outer pads are bound
as session variables of the loading connection, never written to the file.
Joins still work because every table pseudonymises the lower-cased UPN the
same way, and the domain is kept so an organisation's users can still be
told apart in a shared tenant.

The key comes from the environment (``M365AUDIT_STORAGE_KEY`` by default; the
reports' own ``--pseudonymise`` key is another one, which may change without
harm, whereas this one never may).
The database records that it is pseudonymised and a fingerprint of the key
(an HMAC of a fixed text, which reveals nothing about the key), so loading
with a missing or different key is refused instead of mixing two schemes.

Every loading connection calls ``install`` first: with no key (and a
database that does not ask for one) the macros are the identity.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from m365audit import environment
from m365audit.errors import UsageError

DEFAULT_KEY_ENV = environment.STORAGE_KEY.name
_STATE = ("storage", "pseudonym_key_fingerprint")
_MIN_KEY_BYTES = 16

# Pseudonymising macros. m365_hmac(kind, value) is hex HMAC-SHA256 of
# "kind:value" with the bound key; the others shape it like what it replaces.
_KEYED = """
CREATE OR REPLACE TEMP MACRO m365_hmac(kind, v) AS
    sha256(getvariable('m365audit_opad') ||
           unhex(sha256(getvariable('m365audit_ipad') || encode(kind || ':' || lower(trim(v))))));
CREATE OR REPLACE TEMP MACRO m365_upn(v) AS
    CASE WHEN v IS NULL OR trim(v) = '' THEN v
         ELSE 'p-' || left(m365_hmac('upn', v), 20)
              || CASE WHEN contains(v, '@') THEN '@' || lower(split_part(v, '@', -1)) ELSE '' END END;
CREATE OR REPLACE TEMP MACRO m365_person(upn, name) AS
    CASE WHEN name IS NULL THEN NULL
         WHEN upn IS NULL OR trim(upn) = '' THEN 'Person ' || upper(left(m365_hmac('name', name), 10))
         ELSE 'Person ' || upper(left(m365_hmac('upn', upn), 10)) END;
CREATE OR REPLACE TEMP MACRO m365_site(url) AS
    CASE WHEN url IS NULL OR NOT regexp_matches(url, '/personal/[^/]+') THEN url
         ELSE regexp_replace(url, '/personal/[^/]+',
                             '/personal/p-' || left(m365_hmac('site', regexp_extract(url, '/personal/([^/]+)', 1)), 20))
    END;
"""
_IDENTITY = """
CREATE OR REPLACE TEMP MACRO m365_upn(v) AS v;
CREATE OR REPLACE TEMP MACRO m365_person(upn, name) AS name;
CREATE OR REPLACE TEMP MACRO m365_site(url) AS url;
"""


@dataclass(frozen=True)
class PseudonymKey:
    """An HMAC key, held as its pads; ``repr`` never shows it."""

    ipad: bytes
    opad: bytes
    fingerprint: str

    def __repr__(self) -> str:
        return f"PseudonymKey(fingerprint={self.fingerprint[:8]}...)"

    @classmethod
    def from_secret(cls, secret: bytes) -> PseudonymKey:
        if len(secret) < _MIN_KEY_BYTES:
            raise UsageError(f"The pseudonym key must be at least {_MIN_KEY_BYTES} bytes long; "
                             "generate one with: openssl rand -hex 32")
        block = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
        block = block.ljust(64, b"\0")
        fingerprint = hmac.new(secret, b"m365audit pseudonym key check", hashlib.sha256).hexdigest()
        return cls(bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block), fingerprint)


def key_from_env(env_var: str = DEFAULT_KEY_ENV) -> PseudonymKey:
    value = environment.value_of(env_var)
    if value is None:
        raise UsageError(f"Pseudonymised storage needs a key in the environment variable {env_var} "
                         "(e.g. from a key vault); generate one with: openssl rand -hex 32")
    return PseudonymKey.from_secret(value.encode())


def install(con: duckdb.DuckDBPyConnection, key: PseudonymKey | None) -> bool:
    """Create the loading macros on ``con``; returns whether pseudonyms are stored.

    Refuses (UsageError) a key the database was not started with, or no key
    for a database that stores pseudonyms.
    """
    recorded = _recorded(con)
    if key is None:
        if recorded:
            raise UsageError(f"This database stores pseudonyms; set the key it was created with "
                             f"({DEFAULT_KEY_ENV}, or the variable named in the config) to add data to it.")
        con.execute(_IDENTITY)
        return False
    if recorded and not hmac.compare_digest(recorded, key.fingerprint):
        raise UsageError("The pseudonym key differs from the one this database was created with; "
                         "use that key, or start a new database file.")
    if not recorded:
        if _holds_people(con):
            raise UsageError("This database already holds real names; pseudonymised storage must start "
                             "with a new database file.")
        con.execute("INSERT OR REPLACE INTO collection_state VALUES (?, ?, ?, 'setup', now())",
                    [*_STATE, key.fingerprint])
    _bind(con, key)
    return True


def _bind(con: duckdb.DuckDBPyConnection, key: PseudonymKey) -> None:
    con.execute("SET VARIABLE m365audit_ipad = ?", [key.ipad])
    con.execute("SET VARIABLE m365audit_opad = ?", [key.opad])
    con.execute(_KEYED)


def is_pseudonymised(con: duckdb.DuckDBPyConnection) -> bool:
    return _recorded(con) is not None


# Names the storage replaces, as they may appear in a finding's subject (a
# user's sign-in name, or a OneDrive address naming its owner), and the same
# names already in their stored, pseudonymised form.
_PERSONAL_SITE = re.compile(r"/personal/[^/]+")
_SITE_PSEUDONYM = re.compile(r"/personal/p-[0-9a-f]{20}(/|$)", re.IGNORECASE)
_UPN = re.compile(r"^[^@/\s]+@[^@/\s]+$")
_UPN_PSEUDONYM = re.compile(r"^p-[0-9a-f]{20}(@|$)", re.IGNORECASE)


def subject_kind(subject: str) -> str | None:
    """'upn' or 'site' when pseudonymised storage replaces this name; None for text it keeps as it is
    (a SKU, an app, a team site) and for a name that is already a pseudonym."""
    value = subject.strip()
    if _PERSONAL_SITE.search(value):
        return None if _SITE_PSEUDONYM.search(value) else "site"
    if _UPN.match(value):
        return None if _UPN_PSEUDONYM.match(value) else "upn"
    return None


def pseudonyms_of(con: duckdb.DuckDBPyConnection, key: PseudonymKey, subjects: Iterable[str]) -> dict[str, str]:
    """Each name (see ``subject_kind``) mapped to the pseudonym stored for it, computed by the loading
    macros themselves so the two cannot drift apart. Reads only: the key is bound on a separate session
    of ``con``'s database, closed afterwards, and refused (UsageError) unless it is the database's own."""
    recorded = _recorded(con)
    if recorded is None:
        return {}  # names are stored as they are
    if not hmac.compare_digest(recorded, key.fingerprint):
        raise UsageError("The pseudonym key differs from the one this database was created with, so names "
                         "cannot be matched with their pseudonyms; use that key.")
    wanted = {s: kind for s in subjects if (kind := subject_kind(s))}
    if not wanted:
        return {}
    session = con.cursor()
    try:
        _bind(session, key)
        rows = session.execute(
            "SELECT s, CASE k WHEN 'site' THEN m365_site(trim(s)) ELSE m365_upn(trim(s)) END "
            "FROM (SELECT unnest(?::VARCHAR[]) AS s, unnest(?::VARCHAR[]) AS k)",
            [list(wanted), list(wanted.values())]).fetchall()
    finally:
        session.close()
    return {str(s): str(p) for s, p in rows}


def _recorded(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT value FROM collection_state WHERE source = ? AND key = ?", list(_STATE)).fetchone()
    return None if row is None else str(row[0])


def _holds_people(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("SELECT (SELECT count(*) FROM user_versions) + (SELECT count(*) FROM audit_records)"
                      " + (SELECT count(*) FROM usage_report_rows)").fetchone()
    return bool(row and row[0])


# Activity rows landed by one run, pseudonymised in place inside the loading
# transaction (the audit and usage loaders write names as received). Guards
# keep it idempotent: values already shaped like pseudonyms are left alone.
_ACTIVITY = (
    """UPDATE usage_report_rows
       SET user_principal_name = m365_upn(user_principal_name),
           display_name = m365_person(user_principal_name, display_name)
       WHERE run_id = $run_id
         AND NOT regexp_matches(coalesce(user_principal_name, ''), '^p-[0-9a-f]{20}(@|$)')""",
    """UPDATE copilot_interaction_facts SET user_principal_name = m365_upn(user_principal_name)
       WHERE record_id IN (SELECT record_id FROM audit_records WHERE run_id = $run_id)
         AND NOT regexp_matches(coalesce(user_principal_name, ''), '^p-[0-9a-f]{20}(@|$)')""",
    # ClientIP identifies a person's device or home: not kept with pseudonymised storage.
    """UPDATE copilot_interaction_facts SET client_ip = NULL
       WHERE client_ip IS NOT NULL AND record_id IN (SELECT record_id FROM audit_records WHERE run_id = $run_id)""",
    """UPDATE copilot_interaction_facts f SET user_id = u.user_id
       FROM (SELECT user_id, user_principal_name FROM user_versions WHERE valid_to IS NULL) u
       WHERE f.user_id IS NULL AND f.user_principal_name = u.user_principal_name
         AND f.record_id IN (SELECT record_id FROM audit_records WHERE run_id = $run_id)""",
    """UPDATE copilot_accessed_resource_facts
       SET site_url = m365_site(site_url), resource_id = m365_site(resource_id)
       WHERE record_id IN (SELECT record_id FROM audit_records WHERE run_id = $run_id)
         AND NOT regexp_matches(coalesce(site_url, ''), '/personal/p-[0-9a-f]{20}(/|$)')
         AND NOT regexp_matches(coalesce(resource_id, ''), '/personal/p-[0-9a-f]{20}(/|$)')""",
    """UPDATE copilot_context_facts SET context_id = m365_site(context_id)
       WHERE record_id IN (SELECT record_id FROM audit_records WHERE run_id = $run_id)
         AND NOT regexp_matches(coalesce(context_id, ''), '/personal/p-[0-9a-f]{20}(/|$)')""",
    # Raw audit JSON carries names in many places; with pseudonymised storage
    # it is not kept once the facts are derived from it.
    """UPDATE audit_records
       SET user_principal_name = m365_upn(user_principal_name),
           user_key = CASE WHEN user_key IS NULL THEN NULL ELSE 'k-' || left(m365_hmac('key', user_key), 20) END,
           audit_data = NULL
       WHERE run_id = $run_id
         AND NOT regexp_matches(coalesce(user_principal_name, ''), '^p-[0-9a-f]{20}(@|$)')""",
)


def pseudonymise_loaded(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Replace names in the activity rows landed by ``run_id``; call inside its transaction."""
    for statement in _ACTIVITY:
        con.execute(statement, {"run_id": run_id})


def pseudonymise_if_required(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """For loaders without a run configuration (imports): when the database stores pseudonyms,
    replace the names this run landed, with the key from the environment (refused if missing or
    different, so the caller's transaction rolls back and nothing is imported)."""
    if not is_pseudonymised(con):
        return
    if environment.STORAGE_KEY.raw() is None:
        raise UsageError(f"This database stores pseudonyms; set the key it was created with in "
                         f"{DEFAULT_KEY_ENV} to add data to it. Nothing was imported.")
    install(con, key_from_env())
    pseudonymise_loaded(con, run_id)
