"""In Chromium: a manager logs in and downloads the retro brief and a csv from the team page."""

import csv
import io
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.conftest import LiveServer
from tests.exports.scenario import (
    BELOW_THRESHOLD_COMMENT,
    ELIGIBLE_COMMENT,
    OPEN_ROUND_COMMENT,
    build_retro,
)
from tests.factories import DEFAULT_PASSWORD


@pytest.mark.browser
def test_a_manager_downloads_exports_from_the_team_page(
    live_server: LiveServer, page: object, session: Session, artifacts_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    retro = build_retro(session)
    page.goto(f"{live_server.url}/teams/{retro.team.slug}")
    assert "/login" in page.url
    page.fill("#email", retro.manager_email)
    page.fill("#password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/teams/{retro.team.slug}")

    panel = page.locator(".export-panel")
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "export-panel.png"), full_page=True)
    with page.expect_download() as brief_download:
        panel.get_by_role("link", name="Retro brief (Markdown)").click()
    brief = brief_download.value
    assert brief.suggested_filename.startswith(f"redbutton-{retro.team.slug}-")
    assert brief.suggested_filename.endswith(".md")
    brief_path = tmp_path / brief.suggested_filename
    brief.save_as(brief_path)
    text = brief_path.read_text(encoding="utf-8")
    assert text.startswith("# Retro brief: Payments")
    assert "- " + ELIGIBLE_COMMENT in text
    assert BELOW_THRESHOLD_COMMENT not in text and OPEN_ROUND_COMMENT not in text

    # The form: a chosen range as csv.
    page.fill("#export-from", str(retro.start))
    page.fill("#export-to", str(retro.end))
    page.select_option("#export-format", "csv")
    with page.expect_download() as csv_download:
        panel.get_by_role("button", name="Download").click()
    sheet = csv_download.value
    assert sheet.suggested_filename == f"redbutton-{retro.team.slug}-{retro.start}-{retro.end}.csv"
    sheet_path = tmp_path / sheet.suggested_filename
    sheet.save_as(sheet_path)
    rows = list(csv.DictReader(io.StringIO(sheet_path.read_bytes().decode("utf-8"))))
    assert [row["week_start"] for row in rows][0] == str(retro.start) and len(rows) == 7
    assert float(rows[0]["trust_index"]) == 75.0
    assert rows[1]["suppressed"] == "true" and rows[1]["trust_index"] == ""
