"""The demo tenant's report renders in headless Chromium: a real screenshot, charts in the DOM.

Skipped only when no Chromium is installed; CI installs it and sets
M365AUDIT_REQUIRE_BROWSER=1, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH, HEIGHT = 1280, 4000


def chromium() -> str:
    found = os.environ.get("M365AUDIT_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    if not found:
        if os.environ.get("M365AUDIT_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (M365AUDIT_REQUIRE_BROWSER is set) but none is installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return found


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, timeout=180, check=True, cwd=tmp_path,
                          stdin=subprocess.DEVNULL)


def png_rows(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the (filtered) scanlines of a non-interlaced 8-bit PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    channels = {2: 3, 6: 4, 0: 1, 4: 2}[colour]
    assert depth == 8
    raw = zlib.decompress(idat)
    stride = 1 + width * channels
    return width, height, [raw[i:i + stride] for i in range(0, len(raw), stride)]


@pytest.fixture(scope="module")
def page(report_dir) -> Path:
    return report_dir / "copilot-report.html"


def test_report_screenshot_is_not_blank(page, tmp_path) -> None:
    shot = tmp_path / "report.png"
    run_chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page.as_uri())
    width, height, rows = png_rows(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    # A blank page is one scanline repeated; text, tables and charts make thousands of different ones.
    assert len(set(rows)) > 500, len(set(rows))


def test_charts_and_tables_are_in_the_rendered_dom(page, tmp_path) -> None:
    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout.decode("utf-8")
    # headline, departments, 2 adoption, trend, labels, first use, reconciliation, open findings by check
    # (no agent in this tenant: no agents chart)
    assert dom.count("<svg") == 9
    assert dom.count("<rect") > 50 and "<polyline" in dom
    groups = dom.count('class="finding-group"')
    # 14 section tables (reassign and agents among them), the policy checks and changes, a table per
    # failing check, and one long table's second page
    assert groups > 0 and dom.count("<table") == 17 + groups, (dom.count("<table"), groups)
    assert dom.count('<details class="page"') == 2
    assert dom.count('scope="col"') > 60
    assert "<script" not in dom  # the hostile display name stayed text in the browser's own parse
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


def test_findings_section_renders_with_remediation(page, tmp_path) -> None:
    """The compliance section alone (as docs/report-screenshot.png shows it): groups by check, what to do, evidence."""
    html = page.read_text(encoding="utf-8").replace(
        "</head>", "<style>main section:not(#compliance){display:none} nav{display:none}</style></head>")
    findings = tmp_path / "findings.html"
    findings.write_text(html, encoding="utf-8")
    shot = tmp_path / "findings.png"
    run_chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},2000", findings.as_uri())
    width, height, rows = png_rows(shot)
    assert (width, height) == (WIDTH, 2000) and len(set(rows)) > 300, len(set(rows))
    dom = run_chromium(tmp_path, "--dump-dom", findings.as_uri()).stdout.decode("utf-8")
    assert dom.count('class="finding-group"') >= 1 and "What to do." in dom and "Owner: " in dom
    assert "Results of the policy AI policy (" in dom and "SHA-256 " in dom
