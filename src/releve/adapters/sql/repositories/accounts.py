"""Dashboard user accounts (`services.user_accounts.UserAccountRepository`); never commits."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from releve.adapters.sql.repositories.base import to_record, to_row
from releve.adapters.sql.tables_accounts import dashboard_users
from releve.services.user_accounts import UserAccount


class SqlUserAccountRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._c = connection

    def add(self, user: UserAccount) -> None:
        self._c.execute(dashboard_users.insert().values(**to_row(user)))

    def by_email(self, email: str) -> UserAccount | None:
        row = self._c.execute(
            dashboard_users.select().where(dashboard_users.c.email == email)
        ).first()
        return to_record(UserAccount, row) if row else None

    def get(self, organization_id: UUID, user_id: UUID) -> UserAccount | None:
        row = self._c.execute(
            dashboard_users.select().where(
                dashboard_users.c.organization_id == organization_id,
                dashboard_users.c.id == user_id,
            )
        ).first()
        return to_record(UserAccount, row) if row else None

    def signed_in(self, user_id: UUID, at: datetime) -> None:
        self._c.execute(
            dashboard_users.update()
            .where(dashboard_users.c.id == user_id)
            .values(last_sign_in_at=at)
        )
