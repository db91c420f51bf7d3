"""Request dependencies: the container, the authenticated organization, pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from releve.bootstrap import Container
from releve.entrypoints.api.errors import Unauthorized
from releve.services.pagination import DEFAULT_PER_PAGE, PageRequest
from releve.services.records import Organization


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def current_organization(
    request: Request, container: Annotated[Container, Depends(get_container)]
) -> Organization:
    """Lago reads the second token of `Authorization` and ignores the scheme word."""
    header = request.headers.get("authorization", "")
    parts = header.split()
    key = parts[1] if len(parts) == 2 else None
    organization = container.authentication.authenticate(key)
    if organization is None:
        raise Unauthorized()
    return organization


def page_request(
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=1000)] = DEFAULT_PER_PAGE,
) -> PageRequest:
    return PageRequest(page=page, per_page=per_page)


ContainerDep = Annotated[Container, Depends(get_container)]
OrganizationDep = Annotated[Organization, Depends(current_organization)]
PageDep = Annotated[PageRequest, Depends(page_request)]
