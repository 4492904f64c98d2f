"""Users: accounts, their roles and teams, and the operator ids calls carry."""

from __future__ import annotations

from sqlite_utils import Database

from qa_review.core.permissions import SUPERVISOR, User
from qa_review.storage.queries import now_iso, one


def _user(row: dict) -> User:
    return User(
        username=row["username"],
        role=row["role"],
        display_name=row["display_name"] or "",
        team=row["team"] or None,
        operator_id=row["operator_id"] or None,
        spoken_name=row.get("spoken_name") or None,
        kind=row.get("kind") or None,
        sso_identity=row.get("sso_identity") or None,
    )


class Users:
    def __init__(self, db: Database) -> None:
        self._db = db

    def count(self) -> int:
        return self._db["users"].count

    def exists(self, username: str) -> bool:
        return one(self._db, "users", "username = ?", [username]) is not None

    def add(
        self,
        username: str,
        *,
        role: str,
        password_hash: str,
        display_name: str = "",
        team: str | None = None,
        operator_id: str | None = None,
        spoken_name: str | None = None,
        kind: str | None = None,
    ) -> None:
        self._db["users"].insert(
            {
                "username": username,
                "display_name": display_name,
                "role": role,
                "team": team,
                "operator_id": operator_id,
                "password_hash": password_hash,
                "active": 1,
                "created_at": now_iso(),
                "spoken_name": spoken_name,
                "kind": kind,
            }
        )

    def get(self, username: str) -> User | None:
        """The active user, or None."""
        row = one(self._db, "users", "username = ? and active = 1", [username])
        return _user(row) if row else None

    def credentials(self, username: str) -> tuple[User, str] | None:
        """(user, password hash) of an active user, for logging in."""
        row = one(self._db, "users", "username = ? and active = 1", [username])
        return (_user(row), row["password_hash"]) if row else None

    def by_sso_identity(self, identity: str) -> tuple[User, bool] | None:
        """(user, active) linked to a single sign-on identity."""
        row = one(self._db, "users", "sso_identity = ?", [identity])
        return (_user(row), bool(row["active"])) if row else None

    def update(self, username: str, **fields) -> None:
        self._db["users"].update(username, fields)

    def active(self) -> list[User]:
        return [_user(r) for r in self._db["users"].rows_where("active = 1", order_by="role, username")]

    def disabled(self) -> list[str]:
        return [r["username"] for r in self._db["users"].rows_where("active = 0", order_by="username")]

    def spoken_names(self) -> dict[str, str]:
        """{operator_id: spoken name} of active operators who have one."""
        return {
            r["operator_id"]: r["spoken_name"]
            for r in self._db["users"].rows_where("operator_id is not null and spoken_name is not null and active = 1")
        }

    def operator_team(self, operator_id: str) -> str | None:
        """The team of the operator user linked to a call's operator id."""
        row = one(self._db, "users", "operator_id = ? and active = 1", [operator_id])
        return row["team"] if row else None

    def teams_by_operator(self) -> dict[str, str | None]:
        """operator id -> team, for filtering many calls with one query."""
        return {
            r["operator_id"]: r["team"] for r in self._db["users"].rows_where("operator_id is not null and active = 1")
        }

    def for_operator(self, operator_id: str) -> list[str]:
        """User names linked to an operator id (who is told about their scorecards)."""
        return [r["username"] for r in self._db["users"].rows_where("operator_id = ? and active = 1", [operator_id])]

    def supervisors_of(self, team: str | None) -> list[str]:
        """Supervisors of the team, and those without a team (they oversee every team)."""
        return [
            r["username"]
            for r in self._db["users"].rows_where(
                "role = ? and active = 1 and (team is null or team = ?)", [SUPERVISOR.value, team], order_by="username"
            )
        ]
