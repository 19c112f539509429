"""Exceptions naming people, matched with findings when the database stores pseudonyms.

With pseudonymised storage a finding's subject is the pseudonym stored for a
person (``p-<20 hex>@<domain>``, or a OneDrive address with ``/personal/p-<20 hex>``),
while the policy file names the person. Such a subject is replaced, for this
run only, by its pseudonym, computed with the storage key by the storage's
own SQL, so the real name is neither stored with the findings nor shown.
A subject already written as a pseudonym needs no key. Without the key an
exception naming a person cannot be matched: the check is refused rather
than reporting as a failure what the policy accepts.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb

from m365audit import environment
from m365audit.errors import UsageError
from m365audit.policy import Policy
from m365audit.store import pseudonym
from m365audit.store.pseudonym import PseudonymKey


def match_pseudonymised(con: duckdb.DuckDBPyConnection, policy: Policy, key: PseudonymKey | None) -> Policy:
    """``policy`` with the exception subjects that name people replaced by their stored pseudonyms
    when the database stores pseudonyms; otherwise ``policy`` itself."""
    named = [e for e in policy.exceptions if pseudonym.subject_kind(e.subject)]
    if not named or not pseudonym.is_pseudonymised(con):
        return policy
    if key is None:
        key = _key_from_env(len(named), named[0].check)
    mapped = pseudonym.pseudonyms_of(con, key, [e.subject for e in named])
    return replace(policy, exceptions=tuple(replace(e, subject=mapped.get(e.subject, e.subject))
                                            for e in policy.exceptions))


def _key_from_env(count: int, first_check: str) -> PseudonymKey:
    env = pseudonym.DEFAULT_KEY_ENV
    if environment.value_of(env) is None:
        # Names neither the person nor the key: the message may end up in a log.
        raise UsageError(f"This database stores pseudonyms and {count} of the policy's exceptions "
                         f"(the first for {first_check}) name a person, which cannot be matched without "
                         f"the storage key: set {env} to the key the database was created with, or write "
                         "those subjects as the pseudonyms the findings show; nothing was checked.")
    return pseudonym.key_from_env(env)
