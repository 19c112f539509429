"""docs/policy.md documents every key of the policy file, with its real default."""

from __future__ import annotations

import re
from pathlib import Path

from m365audit.policy import EXCEPTION_KEYS, PRICE_KEYS, SCHEMA, Policy

DOC = Path(__file__).resolve().parents[2] / "docs" / "policy.md"
_ROW = re.compile(r"^\| `([a-z_.]+)` \| ([^|]+) \|", re.MULTILINE)


def documented() -> dict[str, str]:
    return {key: default.strip() for key, default in _ROW.findall(DOC.read_text(encoding="utf-8"))}


def render_default(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "`[]`" if not value else f"`{list(value)}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value}`"


def test_every_schema_key_is_documented_with_its_default() -> None:
    docs = documented()
    defaults = Policy()
    for section, keys in SCHEMA.items():
        for key, (attribute, _) in keys.items():
            name = f"{section}.{key}"
            assert name in docs, f"{name} has no line in docs/policy.md"
            assert docs[name] == render_default(getattr(defaults, attribute)), name


def test_price_and_exception_keys_are_documented() -> None:
    docs = documented()
    for key in PRICE_KEYS:
        assert f"costs.prices.{key}" in docs
    for key in EXCEPTION_KEYS:
        assert f"exceptions.{key}" in docs


def test_no_documented_key_is_unknown() -> None:
    known = {f"{s}.{k}" for s, keys in SCHEMA.items() for k in keys}
    known |= {f"costs.prices.{k}" for k in PRICE_KEYS} | {f"exceptions.{k}" for k in EXCEPTION_KEYS}
    assert set(documented()) <= known
