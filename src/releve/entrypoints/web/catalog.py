"""Catalog: billable metrics (list, detail, create, edit) and, once they exist, plans.

Writes go through `BillableMetricService`, the same use case as the API; its validation codes
become sentences naming the field (forms.messages).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from releve.entrypoints.web import forms
from releve.entrypoints.web.security import CheckedFormDep, ContainerDep, PageNotFound, SessionDep
from releve.entrypoints.web.templating import render
from releve.entrypoints.web.views import METRIC_PAGE, chart_payload, form_page, formatter
from releve.services.billable_metrics import AGGREGATION_TYPES, ROUNDING_FUNCTIONS
from releve.services.dashboard_auth import DashboardSession
from releve.services.errors import NotFound, ValidationFailed
from releve.services.pagination import PageRequest
from releve.services.records import BillableMetric

router = APIRouter(include_in_schema=False)

AGGREGATION_LABELS = {
    "count_agg": "Count of events",
    "sum_agg": "Sum of a property",
    "max_agg": "Maximum of a property",
    "unique_count_agg": "Unique count of a property",
    "latest_agg": "Latest value of a property",
    "weighted_sum_agg": "Time-weighted sum of a property",
    "percentile_agg": "Percentile of a property",
    "increase_agg": "Increase of a counter property",
}
assert set(AGGREGATION_LABELS) == set(AGGREGATION_TYPES)


def _metric(c: ContainerDep, session: DashboardSession, code: str) -> BillableMetric:
    try:
        return c.billable_metrics.get(session.organization.id, code)
    except NotFound:
        raise PageNotFound("billable metric") from None


@router.get("/metrics")
def metric_list(request: Request, session: SessionDep, c: ContainerDep) -> Response:
    org = session.organization
    metrics = c.billable_metrics.list(org.id, PageRequest(1, METRIC_PAGE))
    series = c.analytics.daily_events(org.id, days=30, timezone=org.timezone)
    return render(
        request,
        "dashboard/metrics.html",
        fmt=formatter(request, session),
        active="catalog",
        metrics=metrics.items,
        totals=series.totals,
        labels=AGGREGATION_LABELS,
        plans_available=getattr(c, "plans", None) is not None,
    )


def _values(form: FormData) -> tuple[dict[str, Any], list[forms.FieldError]]:
    errors: list[forms.FieldError] = []
    values: dict[str, Any] = {
        name: forms.text(form, name)
        for name in (
            "name",
            "code",
            "description",
            "aggregation_type",
            "field_name",
            "expression",
            "rounding_function",
            "footprint_unit",
        )
    }
    values["recurring"] = form.get("recurring") == "on"
    values["rounding_precision"] = forms.integer(form, "rounding_precision")
    for name in ("percentile", "footprint_per_unit"):
        raw = forms.text(form, name)
        values[name] = raw  # the service parses decimal text exactly, or names the field
    pairs = forms.key_values(forms.text(form, "filters"), ":")
    if pairs is None:
        errors += forms.messages({"filters": ["value_is_invalid"]})
    else:
        values["filters"] = [
            {"key": key, "values": [v.strip() for v in raw.split(",") if v.strip()]}
            for key, raw in pairs
        ]
    return values, errors


def _form_from_metric(metric: BillableMetric | None) -> dict[str, Any]:
    if metric is None:
        return {"aggregation_type": "count_agg"}
    form: dict[str, Any] = {
        name: "" if getattr(metric, name) is None else getattr(metric, name)
        for name in (
            "name",
            "code",
            "description",
            "aggregation_type",
            "field_name",
            "expression",
            "rounding_function",
            "rounding_precision",
            "percentile",
            "footprint_per_unit",
            "footprint_unit",
        )
    }
    form["recurring"] = "on" if metric.recurring else ""
    form["filters"] = "\n".join(f"{f['key']}: {', '.join(f['values'])}" for f in metric.filters)
    return form


def _form_page(
    request: Request,
    session: DashboardSession,
    *,
    metric: BillableMetric | None,
    form: dict[str, Any],
    errors: list[forms.FieldError],
    status_code: int = 200,
) -> Response:
    return form_page(
        request,
        session,
        "dashboard/metric_form.html",
        active="catalog",
        form=form,
        errors=errors,
        status_code=status_code,
        metric=metric,
        labels=AGGREGATION_LABELS,
        rounding_functions=ROUNDING_FUNCTIONS,
    )


@router.get("/metrics/new")
def new_metric(request: Request, session: SessionDep) -> Response:
    return _form_page(request, session, metric=None, form=_form_from_metric(None), errors=[])


@router.post("/metrics/new")
def create_metric(
    request: Request, session: SessionDep, c: ContainerDep, form: CheckedFormDep
) -> Response:
    values, errors = _values(form)
    if not errors:
        try:
            metric = c.billable_metrics.create(session.organization.id, values)
        except ValidationFailed as exc:
            errors = forms.messages(exc.error_details)
        else:
            return RedirectResponse(f"/metrics/{quote(metric.code, safe='')}", status_code=303)
    return _form_page(
        request, session, metric=None, form=forms.submitted(form), errors=errors, status_code=422
    )


@router.get("/metrics/{code}")
def metric_detail(request: Request, code: str, session: SessionDep, c: ContainerDep) -> Response:
    org = session.organization
    metric = _metric(c, session, code)
    series = c.analytics.daily_events(org.id, days=30, timezone=org.timezone, code=metric.code)
    return render(
        request,
        "dashboard/metric.html",
        fmt=formatter(request, session),
        active="catalog",
        metric=metric,
        labels=AGGREGATION_LABELS,
        series=series,
        chart=chart_payload(series, {metric.code: metric.name}, "Events per day, last 30 days"),
        saved=request.query_params.get("saved") == "1",
        zero=Decimal(0),
    )


@router.get("/metrics/{code}/edit")
def edit_metric(request: Request, code: str, session: SessionDep, c: ContainerDep) -> Response:
    metric = _metric(c, session, code)
    return _form_page(request, session, metric=metric, form=_form_from_metric(metric), errors=[])


@router.post("/metrics/{code}/edit")
def update_metric(
    request: Request, code: str, session: SessionDep, c: ContainerDep, form: CheckedFormDep
) -> Response:
    metric = _metric(c, session, code)
    values, errors = _values(form)
    if not errors:
        try:
            updated = c.billable_metrics.update(session.organization.id, metric.code, values)
        except ValidationFailed as exc:
            errors = forms.messages(exc.error_details)
        except NotFound:
            raise PageNotFound("billable metric") from None
        else:
            return RedirectResponse(f"/metrics/{quote(updated.code, safe='')}?saved=1", 303)
    return _form_page(
        request, session, metric=metric, form=forms.submitted(form), errors=errors, status_code=422
    )
