"""Rendering an FOI answer as JSON, Markdown, CSV or DOCX bytes (written by m365audit.outputs)."""

from __future__ import annotations

import re
from typing import Any

from m365audit.csv_output import csv_text as write_csv_text
from m365audit.errors import UsageError
from m365audit.foi.layout import Section, sections, title

FORMATS = ("md", "csv", "json", "docx")
# Backslash-escape what could make tenant text markup: emphasis, code, tables, headings, links, HTML tags.
# Intraword underscores (Microsoft_365_Copilot) are left alone: CommonMark never reads them as emphasis.
_MD_SPECIAL = re.compile(r"[\\`*|\[]|^#|<(?=[A-Za-z/!?])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MARKS = re.compile(r"<\d+|\[c\]")


def render(answer: dict[str, Any], fmt: str) -> bytes:
    if fmt == "json":
        import orjson

        return orjson.dumps(answer, option=orjson.OPT_INDENT_2) + b"\n"
    if fmt == "md":
        return markdown(answer).encode("utf-8")
    if fmt == "csv":
        return csv_text(answer).encode("utf-8")
    if fmt == "docx":
        from m365audit.foi.word import docx_bytes

        return docx_bytes(answer)
    raise UsageError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}.")


def officer_note_text(answer: dict[str, Any]) -> str:
    """The note for the FOI officer (Markdown): not part of the answer sent to the requester."""
    lines = ["# Note for the FOI officer (do not send to the requester)", ""]
    for paragraph in answer.get("officer_note", []):
        lines += [md_text(paragraph).replace("\\`", "`").replace("\\[", "["), ""]
    return "\n".join(lines)


def md_text(value: str, *, keep_marks: bool = False) -> str:
    """Tenant-controlled text made inert in Markdown: one line, special characters escaped."""
    flat = " ".join(value.split())
    if keep_marks and _MARKS.fullmatch(flat):
        return flat
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), flat)


def markdown(answer: dict[str, Any]) -> str:
    lines = [f"# {md_text(title(answer))}", ""]
    for section in sections(answer):
        lines += [f"## {md_text(section.title)}", ""]
        if section.rows:
            lines += _md_table(section) + [""]
        for paragraph in section.paragraphs:
            # "[c]" with no link target stays literal text in Markdown.
            lines += [md_text(paragraph).replace("\\[c]", "[c]"), ""]
    return "\n".join(lines)


def _md_table(section: Section) -> list[str]:
    head = "| " + " | ".join(md_text(c) for c in section.columns) + " |"
    rule = "|" + "|".join("---:" if n else "---" for n in section.numeric) + "|"
    body = ["| " + " | ".join(md_text(cell, keep_marks=True) for cell in row) + " |" for row in section.rows]
    return [head, rule, *body]


def csv_text(answer: dict[str, Any]) -> str:
    """Long form, one value a line: section, item, measure, value. Suppressed counts stay text."""
    rows: list[tuple[str, str, str, Any]] = [("answer", "", "as_of", answer["as_of"]),
                                             ("answer", "", "scope", answer.get("scope") or "the whole tenant")]
    for s in answer["systems"]:
        rows += [("systems", s["name"], k, s[k]) for k in ("purpose", "entitled_users", "licensed_users",
                                                           "active_users")]
    for a in answer.get("agents", []):
        rows += [("agents", a["kind"], k, a[k]) for k in ("name", "agents_in_use", "active_users")]
    for lic in answer["licences"]:
        rows += [("licences", lic["sku_part_number"], k, lic[k]) for k in ("purchased", "assigned")]
    for d in answer["departments"]:
        rows += [("departments", d["department"], k, d[k]) for k in ("licensed_users", "active_users")]
    for e in answer["expenditure"]:
        item = f"{e['financial_year']} {e['start']} to {e['end']}"
        rows += [("expenditure", item, k, e[k]) for k in ("financial_year", "start", "end", "amount", "currency",
                                                         "basis", "held")]
    rows += [("suppression", "", k, v) for k, v in answer["suppression"].items()]
    rows.append(("method", "", "text", answer["method"]))
    return write_csv_text(["section", "item", "measure", "value"],
                          ([section, item, measure, "" if value is None else str(value).lower()
                            if isinstance(value, bool) else value] for section, item, measure, value in rows))
