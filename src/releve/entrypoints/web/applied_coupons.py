"""Dashboard: apply a coupon to a customer — the same use case as POST /applied_coupons
(`CouponService.apply`). A refused form (no coupon chosen, not reusable, another currency)
comes back with one sentence per problem (422), nothing stored; another organization's
customer is a 404, and a coupon code of another organization is simply not found.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from releve.bootstrap import Container
from releve.entrypoints.web import forms, money_forms
from releve.entrypoints.web.customers import find_customer
from releve.entrypoints.web.security import CheckedFormDep, ContainerDep, SessionDep
from releve.entrypoints.web.views import form_page
from releve.services.dashboard_auth import DashboardSession
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import PageRequest
from releve.services.records import Customer

router = APIRouter(include_in_schema=False)
COUPON_CHOICES = 200


def _page(
    request: Request,
    session: DashboardSession,
    c: Container,
    customer: Customer,
    form: dict[str, Any],
    errors: list[forms.FieldError],
) -> Response:
    now = c.clock.now()
    coupons = [
        k
        for k in c.coupons.list(session.organization.id, PageRequest(1, COUPON_CHOICES)).items
        if k.applicable_at(now)
    ]
    return form_page(
        request,
        session,
        "dashboard/coupon_apply.html",
        active="customers",
        form=form,
        errors=errors,
        status_code=422 if errors else 200,
        customer=customer,
        coupons=coupons,
    )


@router.get("/customers/{external_id}/coupons/apply")
def apply_form(
    request: Request, external_id: str, session: SessionDep, c: ContainerDep
) -> Response:
    return _page(request, session, c, find_customer(c, session, external_id), {}, [])


@router.post("/customers/{external_id}/coupons/apply")
def apply(
    request: Request, external_id: str, session: SessionDep, c: ContainerDep, form: CheckedFormDep
) -> Response:
    customer = find_customer(c, session, external_id)
    code = forms.text(form, "coupon_code")
    raw = {"coupon_code": code or ""}
    try:
        c.coupons.apply(
            session.organization.id,
            {"external_customer_id": customer.external_id, "coupon_code": code},
        )
    except ValidationFailed as exc:
        return _page(request, session, c, customer, raw, money_forms.messages(exc.error_details))
    except NotFound:
        errors = [
            forms.FieldError(
                "coupon_code", "Coupon", "Coupon does not exist, has expired or was terminated."
            )
        ]
        return _page(request, session, c, customer, raw, errors)
    return RedirectResponse(
        f"/customers/{quote(customer.external_id, safe='')}?notice=Coupon+applied.#coupons",
        status_code=303,
    )
