"""The real app in headless Chromium: a user opens a call and plays a line."""

import pytest

from qa_review import services
from qa_review.db import open_db
from tests.audio_factory import write_turns
from tests.conftest import FakeTranscriber

pytestmark = pytest.mark.e2e


@pytest.fixture
def db_path(settings, tmp_path):
    db = open_db(settings.db_path)
    write_turns(tmp_path / "in" / "call-e2e.wav", [(0, 0.0, 2.0), (1, 3.0, 5.0)], seconds=6.0)
    services.ingest(db, tmp_path / "in", settings)
    services.transcribe_pending(db, settings, FakeTranscriber)
    return settings.db_path


def test_user_opens_a_call_and_plays_from_a_line(browser, serve, db_path):
    url = serve(db_path)
    page = browser.new_page()
    page.goto(url + "/calls")
    page.get_by_text("Звонки и переписки").wait_for(timeout=30000)
    page.goto(url + "/call?call=call-e2e")
    page.get_by_role("heading", name="call-e2e").wait_for(timeout=30000)
    page.locator("audio").wait_for(state="attached", timeout=15000)
    assert page.locator("audio").count() == 1
    page.get_by_role("button", name="▶ 00:03").first.click()
    page.wait_for_function(
        "() => { const a = document.querySelector('audio'); return a && a.src && a.src.includes('#t=3') || (a && a.currentTime >= 3); }",
        timeout=15000,
    )
    page.screenshot(path=str(db_path.parent / "call.png"))
