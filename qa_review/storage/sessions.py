"""Login sessions (kept by the browser as a token; stored here only as its hash) and failed logins."""

from __future__ import annotations

from sqlite_utils import Database

from qa_review.storage.queries import marks, now_iso, one


class Sessions:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self, token_sha256: str, username: str, *, now: float, client: str | None, sso_signin: str | None = None
    ) -> None:
        self._db["sessions"].insert(
            {
                "token_sha256": token_sha256,
                "username": username,
                "created_at": now_iso(),
                "last_seen": now,
                "revoked_at": None,
                "client": client,
                "sso_signin": sso_signin,
            }
        )

    def sso_signin_used(self, sso_signin: str) -> bool:
        """Whether a session was already opened from this single sign-on (ended ones count)."""
        return one(self._db, "sessions", "sso_signin = ?", [sso_signin]) is not None

    def get(self, token_sha256: str) -> dict | None:
        return one(self._db, "sessions", "token_sha256 = ? and revoked_at is null", [token_sha256])

    def touch(self, token_sha256: str, now: float) -> None:
        self._db.execute("update sessions set last_seen = ? where token_sha256 = ?", [now, token_sha256])

    def revoke(self, token_sha256: str) -> None:
        self._db.execute(
            "update sessions set revoked_at = ? where token_sha256 = ? and revoked_at is null",
            [now_iso(), token_sha256],
        )

    def revoke_user(self, username: str) -> int:
        return self._db.execute(
            "update sessions set revoked_at = ? where username = ? and revoked_at is null", [now_iso(), username]
        ).rowcount

    # --- failed logins, counted per user name and per client -------------------------

    def failures_since(self, keys: list[str], since: float) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {k: [] for k in keys}
        for key, at in self._db.execute(
            f"select key, at from login_failures where at >= ? and key in ({marks(keys)}) order by at",
            [since, *keys],
        ):
            out[key].append(at)
        return out

    def add_failure(self, keys: list[str], at: float) -> None:
        self._db["login_failures"].insert_all({"key": k, "at": at} for k in keys)

    def clear_failures(self, key: str) -> None:
        self._db.execute("delete from login_failures where key = ?", [key])

    def forget_failures_before(self, at: float) -> None:
        self._db.execute("delete from login_failures where at < ?", [at])
