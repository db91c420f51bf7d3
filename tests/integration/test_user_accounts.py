"""Dashboard user accounts: scrypt hashes, the `releve users create` command, email sign-in."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from releve.adapters.sql.tables_accounts import dashboard_users
from releve.bootstrap import Container
from releve.entrypoints.cli import app
from releve.entrypoints.web.security import SESSION_COOKIE
from releve.services.errors import NotFound, ValidationFailed
from tests.integration.support import FakeClock
from tests.integration.web_support import csrf_of

pytestmark = pytest.mark.store
PASSWORD = "correct horse battery staple"


def _sign_in(client: TestClient, email: str, password: str) -> object:
    form = client.get("/sign-in")
    return client.post(
        "/sign-in",
        data={"csrf_token": csrf_of(form.text), "email": email, "password": password, "next": "/"},
        follow_redirects=False,
    )


def test_password_is_stored_as_a_salted_scrypt_hash_with_its_parameters(
    container: Container, org: tuple[UUID, str], engine: sa.Engine
) -> None:
    a = container.user_accounts.create(org[0], "  Ops@Acme.Example ", PASSWORD)
    b = container.user_accounts.create(org[0], "two@acme.example", PASSWORD)
    assert a.email == "ops@acme.example"
    with engine.connect() as c:
        rows = {r.email: r for r in c.execute(dashboard_users.select())}
    row = rows["ops@acme.example"]
    assert PASSWORD not in str(tuple(row))
    assert (row.scrypt_n, row.scrypt_r, row.scrypt_p) == (2**14, 8, 1)
    expected = hashlib.scrypt(
        PASSWORD.encode(), salt=bytes.fromhex(row.password_salt), n=2**14, r=8, p=1, dklen=64
    )
    assert row.password_hash == expected.hex()
    # Same password, another salt: another hash.
    assert rows["two@acme.example"].password_hash != row.password_hash
    assert b.password_salt != a.password_salt


@pytest.mark.parametrize(
    ("email", "password", "field", "code"),
    [
        ("not-an-email", PASSWORD, "email", "value_is_invalid"),
        ("a@b.example", "short", "password", "value_is_too_short"),
        ("a@b.example", "x" * 1025, "password", "value_is_too_long"),
    ],
)
def test_create_refuses_bad_input(
    container: Container, org: tuple[UUID, str], email: str, password: str, field: str, code: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        container.user_accounts.create(org[0], email, password)
    assert caught.value.error_details == {field: [code]}


def test_emails_are_unique_across_organizations(
    container: Container, org: tuple[UUID, str], other_org: tuple[UUID, str]
) -> None:
    container.user_accounts.create(org[0], "ops@acme.example", PASSWORD)
    with pytest.raises(ValidationFailed) as caught:
        container.user_accounts.create(other_org[0], "OPS@acme.example", PASSWORD)
    assert caught.value.error_details == {"email": ["value_already_exist"]}


def test_cli_creates_a_user_with_the_password_from_the_environment(
    database_url: str, container: Container, org: tuple[UUID, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELEVE_DATABASE_URL", database_url)
    monkeypatch.setenv("RELEVE_USER_PASSWORD", PASSWORD)
    result = CliRunner().invoke(
        app, ["users", "create", "--email", "cli@acme.example", "--organization", str(org[0])]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout.strip().splitlines()[-1])
    assert created["email"] == "cli@acme.example"
    assert created["organization_id"] == str(org[0])
    assert "password" not in result.stdout
    assert container.user_accounts.authenticate("cli@acme.example", PASSWORD) is not None


def test_cli_prompts_twice_and_refuses_a_mismatch(
    database_url: str, container: Container, org: tuple[UUID, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELEVE_DATABASE_URL", database_url)
    monkeypatch.delenv("RELEVE_USER_PASSWORD", raising=False)
    args = ["users", "create", "--email", "typed@acme.example", "--organization", str(org[0])]
    # A mismatch is asked again; then the same password twice is accepted.
    typed = f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n"
    result = CliRunner().invoke(app, args, input=typed)
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert container.user_accounts.authenticate("typed@acme.example", PASSWORD) is not None
    short = CliRunner().invoke(
        app, [*args[:2], "--email", "x@acme.example"], env={"RELEVE_USER_PASSWORD": "short"}
    )
    assert short.exit_code == 1
    assert "value_is_too_short" in short.output


def test_cli_unknown_organization_fails(
    database_url: str, container: Container, org: tuple[UUID, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELEVE_DATABASE_URL", database_url)
    monkeypatch.setenv("RELEVE_USER_PASSWORD", PASSWORD)
    missing = "00000000-0000-4000-8000-000000000000"
    result = CliRunner().invoke(
        app, ["users", "create", "--email", "x@y.example", "--organization", missing]
    )
    assert result.exit_code == 1
    with pytest.raises(NotFound):
        container.user_accounts.create(UUID(missing), "x@y.example", PASSWORD)


def test_sign_in_with_email_and_password_opens_a_session(
    client: TestClient, container: Container, org: tuple[UUID, str], clock: FakeClock
) -> None:
    container.user_accounts.create(org[0], "ops@acme.example", PASSWORD)
    r = _sign_in(client, "OPS@acme.example", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie and PASSWORD not in cookie
    page = client.get("/")
    assert page.status_code == 200 and "ops@acme.example" in page.text
    user = container.user_accounts.authenticate("ops@acme.example", PASSWORD)
    assert user is not None and user[0].last_sign_in_at == clock.now()
    # CSRF-protected forms work the same as with an API key session.
    r = client.post("/sign-out", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    clock.advance(timedelta(hours=13))  # sessions expire like API-key ones


def test_failed_sign_ins_do_not_say_which_part_was_wrong(
    client: TestClient, container: Container, org: tuple[UUID, str]
) -> None:
    container.user_accounts.create(org[0], "ops@acme.example", PASSWORD)
    wrong_password = _sign_in(client, "ops@acme.example", PASSWORD + "!")
    unknown_email = _sign_in(client, "nobody@acme.example", PASSWORD)
    for r in (wrong_password, unknown_email):
        assert r.status_code == 401
        assert "This email and password do not match an account." in r.text
        assert client.cookies.get(SESSION_COOKIE) is None
    strip = lambda html: html.replace("ops@acme.example", "").replace("nobody@acme.example", "")  # noqa: E731
    assert strip(wrong_password.text).count("do not match") == strip(unknown_email.text).count(
        "do not match"
    )


def test_changing_the_password_ends_the_users_sessions(
    client: TestClient, container: Container, org: tuple[UUID, str], engine: sa.Engine
) -> None:
    user = container.user_accounts.create(org[0], "ops@acme.example", PASSWORD)
    assert _sign_in(client, "ops@acme.example", PASSWORD).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    other = container.user_accounts.create(org[0], "tmp@acme.example", "another password!")
    with engine.begin() as c:  # as a password change would: a new salt and hash
        c.execute(
            dashboard_users.update()
            .where(dashboard_users.c.id == user.id)
            .values(password_hash=other.password_hash, password_salt=other.password_salt)
        )
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_tampered_user_session_is_refused(
    client: TestClient, container: Container, org: tuple[UUID, str]
) -> None:
    container.user_accounts.create(org[0], "ops@acme.example", PASSWORD)
    _sign_in(client, "ops@acme.example", PASSWORD)
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie
    payload, signature = cookie.split(".")
    client.cookies.set(SESSION_COOKIE, payload + "." + signature[::-1])
    assert client.get("/", follow_redirects=False).status_code == 303
