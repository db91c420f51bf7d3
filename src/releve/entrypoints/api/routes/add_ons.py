"""Add ons (Lago v1 shapes)."""

from __future__ import annotations

from fastapi import APIRouter

from releve.entrypoints.api.exact import ExactRoute

router = APIRouter(route_class=ExactRoute, tags=["add_ons"])
