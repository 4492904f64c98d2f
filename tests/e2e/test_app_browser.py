"""The real app in headless Chromium, driven as its users drive it."""

import json
import re
import time

import pytest

from qa_review.services import accounts, ingest, review, scoring, transcription
from qa_review.storage import open_storage
from tests.audio_factory import write_turns
from tests.conftest import PIPELINE, FakeTranscriber

pytestmark = pytest.mark.e2e


@pytest.fixture
def clinic(settings, tmp_path):
    """One inbound call by operator anna, auto-scored and finalized by the supervisor."""
    db = open_storage(settings.db_path)
    write_turns(tmp_path / "in" / "call-e2e.wav", [(0, 0.0, 2.0), (1, 3.0, 5.0)], seconds=6.0)
    (tmp_path / "in" / "call-e2e.json").write_text(
        json.dumps(
            {
                "call_id": "call-e2e",
                "operator": "anna.smirnova",
                "started_at": "2026-11-02T09:15:00",
                "direction": "inbound",
            }
        )
    )
    admin = accounts.add_user(db, None, "admin", "admin-password", "admin")
    sup = accounts.add_user(db, admin, "svetlana", "svetlana-pass", "supervisor", team="registry")
    accounts.add_user(
        db, admin, "anna", "anna-password", "operator", team="registry", operator_id="anna.smirnova", spoken_name="Анна"
    )
    ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    transcription.transcribe_pending(db, PIPELINE, settings, FakeTranscriber)
    scoring.score_calls(db, PIPELINE, settings, checklist="clinic-inbound")
    ((row, _, _),) = review.call_for(db, sup, "call-e2e")["scorecards"]
    rev = review.set_verdict(db, sup, row["id"], "empathy", "pass", "вежливо", row["revision"])
    review.finalize(db, sup, row["id"], rev)
    return settings.db_path


def login(page, url, username, password):
    page.goto(url)
    page.get_by_label("Логин").fill(username)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти", exact=True).click()
    page.get_by_text("Выйти").wait_for(timeout=30000)
    wait_for_session_cookie(page)


def wait_for_session_cookie(page, timeout_s=30):
    """The page hands the token to the server after the login renders: a reload sooner logs out."""
    deadline = time.time() + timeout_s
    while not any(c["name"] == "qa_review_session" for c in page.context.cookies()):
        assert time.time() < deadline, "the session cookie was never set"
        page.wait_for_timeout(100)


def log_out(page):
    """Log out and wait for the login form: navigating sooner would race the server's logout."""
    page.get_by_role("button", name="Выйти").click()
    page.get_by_role("button", name="Войти", exact=True).wait_for(timeout=30000)


def open_call(page):
    page.get_by_role("link", name="Звонок").click()
    page.get_by_role("heading", name="call-e2e").wait_for(timeout=30000)


def score(page) -> float:
    return float(page.locator('[data-testid="stMetricValue"]').first.inner_text())


def test_dispute_upheld_end_to_end(browser, serve, clinic):
    url = serve(clinic)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})

    login(page, url, "anna", "anna-password")
    open_call(page)
    before = score(page)
    picker = page.locator('[data-testid="stMultiSelect"] input')
    picker.click()
    picker.fill("Поздоровался")
    page.get_by_role("option", name="Поздоровался").click()
    page.keyboard.press("Escape")
    page.get_by_label("Причина: Поздоровался").fill("Я поздоровалась в начале звонка")
    page.get_by_role("button", name="Отправить спор").click()
    page.get_by_text("Спор отправлен супервизору").wait_for(timeout=30000)
    log_out(page)

    login(page, url, "svetlana", "svetlana-pass")
    page.get_by_role("link", name="Споры").click()
    page.get_by_text("Я поздоровалась в начале звонка").wait_for(timeout=30000)
    page.get_by_label("Ответ оператору").fill("Да, приветствие было")
    page.get_by_role("button", name="Принять").click()
    page.get_by_text("Открытых споров нет.").wait_for(timeout=30000)
    log_out(page)

    login(page, url, "anna", "anna-password")
    open_call(page)
    page.get_by_text("Спор: принят").wait_for(timeout=30000)
    assert score(page) > before
    page.get_by_text(re.compile("Ответ: Да, приветствие было")).first.wait_for(state="attached", timeout=30000)
    page.screenshot(path=str(clinic.parent / "operator-after.png"), full_page=True)


def test_supervisor_plays_a_line_from_its_start(browser, serve, clinic):
    url = serve(clinic)
    page = browser.new_page()
    login(page, url, "svetlana", "svetlana-pass")
    open_call(page)
    page.locator("audio").wait_for(state="attached", timeout=15000)
    page.get_by_role("button", name="▶ 00:03").first.click()
    page.wait_for_function(
        "() => { const a = document.querySelector('audio'); "
        "return a && (a.src.includes('#t=3') || a.currentTime >= 3); }",
        timeout=15000,
    )


def test_a_reload_keeps_the_session_and_logging_out_ends_it(browser, serve, clinic):
    url = serve(clinic)
    page = browser.new_page()
    login(page, url, "svetlana", "svetlana-pass")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "qa_review_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"  # no script in the page can read the token
    assert "qa_review_session" not in page.evaluate("document.cookie")
    page.reload()
    page.get_by_text("Выйти").wait_for(timeout=30000)  # still logged in after F5
    page.get_by_role("heading", name="Очередь проверки").wait_for(timeout=30000)
    page.get_by_text("Выйти").click()
    page.get_by_role("button", name="Войти", exact=True).wait_for(timeout=30000)
    page.reload()
    page.get_by_role("button", name="Войти", exact=True).wait_for(timeout=30000)  # and stays logged out
    page.close()


def test_a_link_to_a_call_opens_it_after_logging_in(browser, serve, clinic):
    url = serve(clinic)
    page = browser.new_page()
    page.goto(url + "/call?call=call-e2e")
    page.get_by_role("button", name="Войти", exact=True).wait_for(timeout=30000)
    assert page.get_by_text("Page not found").count() == 0
    page.get_by_label("Логин").fill("svetlana")
    page.get_by_label("Пароль").fill("svetlana-pass")
    page.get_by_role("button", name="Войти", exact=True).click()
    page.get_by_role("heading", name="call-e2e").wait_for(timeout=30000)
    assert "/call" in page.url
    page.close()


def test_a_disabled_users_open_session_asks_to_log_in_again(browser, serve, clinic):
    url = serve(clinic)
    page = browser.new_page()
    login(page, url, "anna", "anna-password")
    db = open_storage(clinic)
    accounts.set_active(db, accounts.get(db, "admin"), "anna", False)
    page.reload()
    page.get_by_text("Сеанс завершён. Войдите снова.").wait_for(timeout=30000)
    page.get_by_role("button", name="Войти", exact=True).wait_for(timeout=30000)
    page.close()


def test_seven_wrong_passwords_in_a_row_are_told_to_wait(browser, serve, clinic):
    url = serve(clinic)
    page = browser.new_page()
    page.goto(url)
    for n in range(7):
        page.get_by_label("Логин").fill("anna")
        page.get_by_label("Пароль").fill(f"guess-{n}")
        page.get_by_role("button", name="Войти", exact=True).click()
        page.locator('[data-testid="stAlert"]').first.wait_for(timeout=30000)
        time.sleep(0.5)
    page.get_by_text("Слишком много неудачных попыток входа").wait_for(timeout=30000)
    page.close()


def test_single_sign_on_opens_the_linked_users_session_and_logging_out_ends_it(browser, serve, clinic, tmp_path):
    from tests.e2e.oidc_provider import Provider

    db = open_storage(clinic)
    accounts.link_sso(db, accounts.get(db, "admin"), "svetlana", "svetlana.ivanova@clinic.ru")
    with Provider() as idp:
        config = tmp_path / "sso.toml"
        config.write_text(idp.secrets_toml())
        url = serve(clinic, QA_REVIEW_SSO_CONFIG=str(config))
        page = browser.new_page()

        idp.identity = {"email": "stranger@clinic.ru", "email_verified": True}
        page.goto(url)
        page.get_by_role("button", name="Войти через единый вход").click()
        page.get_by_text("stranger@clinic.ru не связан ни с одним пользователем").wait_for(timeout=30000)

        idp.identity = {"email": "Svetlana.Ivanova@clinic.ru", "email_verified": True}
        page.get_by_role("button", name="Войти через единый вход").click()
        page.get_by_text("Выйти").wait_for(timeout=30000)
        page.get_by_role("heading", name="Очередь проверки").wait_for(timeout=30000)
        wait_for_session_cookie(page)
        page.reload()
        page.get_by_role("heading", name="Очередь проверки").wait_for(timeout=30000)

        log_out(page)
        page.reload()
        page.get_by_role("button", name="Войти через единый вход").wait_for(timeout=30000)
        assert page.get_by_text("Выйти").count() == 0  # the provider's sign-in did not open a second session
        assert idp.tokens_issued == 2
        page.close()


def test_only_the_apps_own_pages_set_the_session_cookie_and_only_for_a_live_session(serve, clinic):
    import urllib.error
    import urllib.request

    url = serve(clinic)
    db = open_storage(clinic)
    _, token = accounts.login(db, "anna", "anna-password")

    def post(origin, body):
        req = urllib.request.Request(
            url + "/qa-session",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Origin": origin},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers.get("set-cookie") or ""
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("set-cookie") or ""

    assert post("https://evil.example", {"token": token}) == (403, "")  # a login forced from another site
    assert post(url, {"token": "x" * 43}) == (403, "")  # no such session
    status, cookie = post(url, {"token": token})
    assert status == 200 and "HttpOnly" in cookie and "SameSite=strict" in cookie and token in cookie
    accounts.logout(db, token)
    assert post(url, {"token": token})[0] == 403  # an ended session is not set again
