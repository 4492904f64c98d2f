"""Single sign-on settings: a mistake in the provider's file is said at `qa-review serve`, not at the first login."""

import pytest

from qa_review.core.errors import ConfigError
from qa_review.services import settings, sso
from tests.cli_runner import invoke

GOOD = """[auth]
redirect_uri = "https://qa.clinic.ru/oauth2callback"
cookie_secret = "0123456789abcdef0123456789abcdef"
client_id = "qa-review"
client_secret = "secret"
server_metadata_url = "https://idp.clinic.ru/realms/clinic/.well-known/openid-configuration"
"""


def write(tmp_path, text):
    path = tmp_path / "sso.toml"
    path.write_text(text)
    return path


def test_a_provider_in_auth_itself_or_one_named(tmp_path):
    assert sso.check_config(write(tmp_path, GOOD)) == "default"
    named = GOOD.replace("client_id", "[auth.keycloak]\nclient_id")
    assert sso.check_config(write(tmp_path, named)) == "keycloak"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[auth\n", "not valid TOML"),
        ("[server]\nport = 1\n", "no [auth] section"),
        (GOOD.replace('redirect_uri = "https://qa.clinic.ru/oauth2callback"\n', ""), "redirect_uri is missing"),
        (GOOD.replace("/oauth2callback", "/callback"), "must end with /oauth2callback"),
        (GOOD.replace("0123456789abcdef0123456789abcdef", "short"), "cookie_secret is too short"),
        (GOOD.replace('client_secret = "secret"\n', ""), "[auth]: client_secret is missing"),
        (GOOD.replace("client_id", "[auth.keycloak]\nclient_id") + "[auth.adfs]\nclient_id='x'\n", "2 providers"),
    ],
)
def test_each_mistake_is_named_with_the_file_and_key(tmp_path, text, said):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        sso.check_config(path)
    assert said in str(e.value) and str(path) in str(e.value)


def test_serve_refuses_a_broken_provider_file_before_starting(tmp_path):
    db = tmp_path / "clinic.db"
    assert invoke("--db", db, "users", "add", "admin", "--role", "admin", "--password", "password-1").exit_code == 0
    path = write(tmp_path, GOOD.replace("/oauth2callback", "/callback"))
    result = invoke("--db", db, "serve", "--sso-config", path)
    assert result.exit_code == 2 and "must end with /oauth2callback" in result.output
    result = invoke("--db", db, "serve", env={"QA_REVIEW_SSO_CONFIG": str(tmp_path / "missing.toml")})
    assert result.exit_code == 2 and "QA_REVIEW_SSO_CONFIG" in result.output and "missing.toml" in result.output


def test_the_linked_claim_is_configurable():
    assert settings.from_env({}).sso_claim == "email"
    assert settings.from_env({"QA_REVIEW_SSO_CLAIM": "upn"}).sso_claim == "upn"


def test_users_link_sso_from_the_command_line(tmp_path):
    db = tmp_path / "clinic.db"
    invoke("--db", db, "users", "add", "admin", "--role", "admin", "--password", "password-1")
    invoke("--db", db, "users", "add", "svetlana", "--role", "supervisor", "--password", "password-2")
    linked = invoke("--db", db, "users", "link-sso", "svetlana", "Svetlana@Clinic.ru")
    assert linked.exit_code == 0 and "svetlana@clinic.ru" in linked.output
    assert "svetlana@clinic.ru" in invoke("--db", db, "users", "list").output
    taken = invoke("--db", db, "users", "link-sso", "admin", "svetlana@clinic.ru")
    assert taken.exit_code == 2 and "already linked to svetlana" in taken.output
    assert invoke("--db", db, "users", "unlink-sso", "svetlana").exit_code == 0
    assert "svetlana@clinic.ru" not in invoke("--db", db, "users", "list").output
