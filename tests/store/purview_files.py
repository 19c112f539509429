"""Writing Purview audit search CSV exports for tests, in the layouts Purview uses."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

CURRENT = ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData", "AssociatedAdminUnits",
           "AssociatedAdminUnitsNames"]
OLDER = ["CreationDate", "UserIds", "Operations", "AuditData"]
TYPE_CODES = {"CopilotInteraction": 261, "AIAppInteraction": 284}


def us_date(creation_time: str) -> str:
    """CreationDate as a US-locale browser writes it: 12/13/2023 5:12:36 PM."""
    try:
        ts = datetime.fromisoformat(creation_time.replace("Z", "+00:00"))
    except ValueError:
        return "1/1/2024 12:00:00 AM"  # Purview writes a date even when AuditData's is unreadable
    return f"{ts.month}/{ts.day}/{ts.year} {ts.strftime('%I:%M:%S %p').lstrip('0')}"


def row_for(data: dict[str, Any] | str, layout: list[str] = CURRENT) -> list[str]:
    """One export row for AuditData ``data`` (a dict, or raw text for malformed cases)."""
    text = data if isinstance(data, str) else orjson.dumps(data).decode()
    record = data if isinstance(data, dict) else {}
    operation = str(record.get("Operation", "CopilotInteraction"))
    values = {
        "RecordId": str(record.get("Id", "")),
        "CreationDate": us_date(str(record.get("CreationTime", ""))),
        "RecordType": str(TYPE_CODES.get(operation, record.get("RecordType", 261))),
        "Operation": operation, "Operations": operation,
        "UserId": str(record.get("UserId", "")), "UserIds": str(record.get("UserId", "")),
        "AuditData": text, "AssociatedAdminUnits": "", "AssociatedAdminUnitsNames": "",
    }
    return [values[c] for c in layout]


def export_text(rows: list[list[str]], layout: list[str] = CURRENT, delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(layout)
    writer.writerows(rows)
    return out.getvalue()


def write_export(path: Path, records: list[dict[str, Any] | str], *, layout: list[str] = CURRENT,
                 encoding: str = "utf-8", delimiter: str = ",") -> Path:
    text = export_text([row_for(r, layout) for r in records], layout, delimiter)
    if encoding == "utf-16":
        path.write_bytes(text.encode("utf-16"))  # with a byte-order mark, as Excel writes it
    else:
        path.write_bytes(text.encode(encoding))
    return path
