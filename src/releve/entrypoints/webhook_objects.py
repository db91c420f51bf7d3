"""Which JSON a webhook carries for each `object_type`: the very object the API returns.

A webhook emitted with `object_id=` is rendered at its first delivery attempt (then frozen, so
retries send the same bytes) by the renderer registered here for its `object_type`; one emitted
with `payload=` is sent as given and needs no renderer. Services cannot import the API
serializers, hence this registry in the entrypoints layer.

Register a renderer next to the serializer it uses, e.g.::

    from releve.entrypoints import webhook_objects

    @webhook_objects.renderer("wallet")
    def _wallet(c: Container, organization_id: UUID, object_id: str) -> dict[str, Any]:
        return serializers.wallet(c.wallets.get(organization_id, object_id))

A renderer raises `releve.services.errors.NotFound` when the object is gone; the webhook then
fails without retry (there is nothing to send). Register from a module that
`releve.entrypoints.api.app` imports (a route module): the delivery loop imports the app first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from releve.services.errors import NotFound

if TYPE_CHECKING:
    from releve.bootstrap import Container

Renderer = Callable[["Container", UUID, str], dict[str, Any]]
_RENDERERS: dict[str, Renderer] = {}


def renderer(object_type: str) -> Callable[[Renderer], Renderer]:
    """Decorator: register `fn` as the renderer of `object_type` (the last one registered wins)."""

    def register(fn: Renderer) -> Renderer:
        _RENDERERS[object_type] = fn
        return fn

    return register


def register(object_type: str, fn: Renderer) -> None:
    """The same as `@renderer(object_type)`, for an existing function."""
    _RENDERERS[object_type] = fn


def render(container: Container, organization_id: UUID, object_type: str, object_id: str) -> Any:
    """The API object `object_type` / `object_id`; NotFound when unknown or gone."""
    _load_builtin()
    fn = _RENDERERS.get(object_type)
    if fn is None:
        raise NotFound(object_type)
    return fn(container, organization_id, object_id)


def registered() -> frozenset[str]:
    _load_builtin()
    return frozenset(_RENDERERS)


def _invoice(c: Container, organization_id: UUID, object_id: str) -> dict[str, Any]:
    from releve.entrypoints.api import billing_serializers

    return billing_serializers.invoice(c.invoices.get(organization_id, object_id))


def _subscription(c: Container, organization_id: UUID, object_id: str) -> dict[str, Any]:
    from releve.entrypoints.api import serializers

    return serializers.subscription(c.webhooks.subscription_view(organization_id, object_id))


def _load_builtin() -> None:
    _RENDERERS.setdefault("invoice", _invoice)
    _RENDERERS.setdefault("subscription", _subscription)
