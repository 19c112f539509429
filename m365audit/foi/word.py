"""The FOI answer as a Word document (python-docx): a title, a heading and a table per section."""

from __future__ import annotations

import io
import re
from typing import Any

from m365audit.foi.layout import Section, sections, title

# XML 1.0 cannot hold most control characters; tenant text could contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def docx_bytes(answer: dict[str, Any]) -> bytes:
    from docx import Document

    document = Document()
    _a4(document)
    organisation = answer.get("organisation") or ""
    document.core_properties.author = _text(organisation) or "m365audit"
    document.core_properties.last_modified_by = "m365audit"
    document.core_properties.title = title(answer)
    document.core_properties.comments = ""
    if organisation:
        document.add_paragraph(_text(organisation), style="Subtitle")
    document.add_heading(_text(title(answer)), level=1)
    for section in sections(answer):
        document.add_heading(_text(section.title), level=2)
        if section.rows:
            _table(document, section)
        for paragraph in section.paragraphs:
            document.add_paragraph(_text(paragraph))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _a4(document: Any) -> None:
    """A4 paper with 2 cm margins (python-docx's template is US Letter)."""
    from docx.shared import Cm

    for section in document.sections:
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Cm(2)


def _table(document: Any, section: Section) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    table = document.add_table(rows=1, cols=len(section.columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, section.columns, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(_text(name)).bold = True
    for row in section.rows:
        cells = table.add_row().cells
        for cell, value, numeric in zip(cells, row, section.numeric, strict=True):
            cell.text = _text(value)
            if numeric:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
