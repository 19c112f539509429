"""docs/policy.md documents every key of the policy file, with its real default."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefinedType

from m365audit.policy import Policy, PolicyFile
from m365audit.tomlfile import model_in

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


def file_keys(table: type[BaseModel] = PolicyFile, default: object = None, prefix: str = "") -> dict[str, object]:
    """Every key of the file as "section.key" (arrays of tables too), with the default it has when absent."""
    keys: dict[str, object] = {}
    for attribute, field in table.model_fields.items():
        name = prefix + (field.alias or attribute)
        value = getattr(default, attribute) if default is not None else field.default
        inner = model_in(field.annotation)
        if inner is None:
            keys[name] = value
        else:
            keys |= file_keys(inner, value if isinstance(value, inner) else None, name + ".")
    return keys


def test_every_schema_key_is_documented_with_its_default() -> None:
    docs = documented()
    for name, default in file_keys().items():
        assert name in docs, f"{name} has no line in docs/policy.md"
        required = isinstance(default, PydanticUndefinedType)  # in [[costs.prices]] and [[exceptions]]
        assert docs[name] == ("required" if required else render_default(default)), name


def test_the_files_defaults_are_the_policys() -> None:
    """An empty file is the built-in policy: the tables' defaults and Policy's cannot drift apart."""
    assert PolicyFile().to_policy("x") == Policy(source="x")


def test_no_documented_key_is_unknown() -> None:
    assert set(documented()) <= set(file_keys())
