"""Organizations, API keys (hashed, revocable) and the RELEVE_API_KEY start-up rule."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from releve.adapters.sql import tables
from releve.bootstrap import Container
from releve.services.errors import ValidationFailed
from releve.services.organizations import hash_api_key

pytestmark = pytest.mark.store


def test_key_is_shown_once_and_stored_hashed(container: Container, engine: sa.Engine) -> None:
    created = container.organizations.create("Acme")
    assert re.fullmatch(r"rlv_[A-Za-z0-9_-]{40}", created.api_key)
    with engine.connect() as c:
        stored = c.execute(sa.select(tables.api_keys.c.key_hash, tables.api_keys.c.prefix)).one()
    assert stored.key_hash == hash_api_key(created.api_key) != created.api_key
    assert created.api_key not in stored.key_hash
    org = container.authentication.authenticate(created.api_key)
    assert org is not None and org.id == created.organization_id


def test_revoked_and_unknown_keys_fail(container: Container) -> None:
    created = container.organizations.create("Acme")
    extra = container.organizations.issue_api_key(created.organization_id)
    assert container.organizations.revoke_api_key(created.api_key)
    assert container.authentication.authenticate(created.api_key) is None
    assert container.authentication.authenticate("rlv_" + "x" * 40) is None
    assert container.authentication.authenticate(None) is None
    still = container.authentication.authenticate(extra)
    assert still is not None and still.id == created.organization_id


def test_invalid_organization_is_rejected(container: Container) -> None:
    with pytest.raises(ValidationFailed) as err:
        container.organizations.create(" ", default_currency="XXQ", timezone="Mars/Base")
    assert err.value.error_details == {
        "name": ["value_is_mandatory"],
        "default_currency": ["value_is_invalid"],
        "timezone": ["invalid_timezone"],
    }
    assert container.organizations.count() == 0


def test_ensure_default_is_idempotent_and_adds_new_keys(container: Container) -> None:
    key1 = "rlv_" + "a" * 40
    key2 = "rlv_" + "b" * 40
    org1 = container.organizations.ensure_default(key1)
    assert container.organizations.ensure_default(key1) == org1
    assert container.organizations.ensure_default(key2) == org1
    assert container.organizations.count() == 1
    for key in (key1, key2):
        org = container.authentication.authenticate(key)
        assert org is not None and org.id == org1 and org.is_default
    with pytest.raises(ValidationFailed):
        container.organizations.ensure_default("too-short")
