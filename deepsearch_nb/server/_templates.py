"""The team server's report templates: one table per database, rows scoped by ``space_id``.

Why SQLAlchemy: a team's templates must outlive the server and be shared by its workers, so they live in
a real database; SQLAlchemy gives one code path for the default SQLite file and for whatever database a
team already runs (any SQLAlchemy URL, e.g. ``postgresql+psycopg://...``; only SQLite is tested here).
Every query filters by ``space_id``: a template of one space is invisible to another (it answers 404,
as an id that does not exist does, so ids of other spaces are not revealed).

The engine is created on first use, so a server that never sees a template creates no file.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, create_engine, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool

from .._errors import ConfigurationError

__all__ = ["TEMPLATE_DB_ENV", "StoredTemplate", "TemplateStore", "default_template_db"]

TEMPLATE_DB_ENV = "DEEPSEARCH_NB_TEMPLATE_DB"
"""An environment variable holding the SQLAlchemy URL of the template database (else the SQLite default)."""


def default_template_db() -> str:
    """``$DEEPSEARCH_NB_TEMPLATE_DB``, else a SQLite file ``.deepsearch/server/templates.sqlite3`` under the
    working directory (beside the transcripts the notebooks write there)."""
    configured = os.environ.get(TEMPLATE_DB_ENV)
    if configured:
        return configured
    return f"sqlite:///{Path.cwd() / '.deepsearch' / 'server' / 'templates.sqlite3'}"


class _Base(DeclarativeBase):
    pass


class _Row(_Base):
    __tablename__ = "deepsearch_report_templates"

    template_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    space_id: Mapped[str] = mapped_column(String(255), index=True)
    template_name: Mapped[str] = mapped_column(String(255))
    template_desc: Mapped[str] = mapped_column(Text, default="")
    template_content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    """One template of one space, as the routes answer it."""

    template_id: int
    space_id: str
    template_name: str
    template_desc: str
    template_content: str
    sha256: str
    created_at: str
    updated_at: str

    def summary(self) -> dict[str, Any]:
        """Everything but the content (what listing a space shows)."""
        return {k: v for k, v in self.full().items() if k != "template_content"}

    def full(self) -> dict[str, Any]:
        return {
            "template_id": self.template_id,
            "space_id": self.space_id,
            "template_name": self.template_name,
            "template_desc": self.template_desc,
            "template_content": self.template_content,
            "sha256": self.sha256,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def _stored(row: _Row) -> StoredTemplate:
    return StoredTemplate(
        row.template_id,
        row.space_id,
        row.template_name,
        row.template_desc,
        row.template_content,
        row.sha256,
        row.created_at.isoformat(),
        row.updated_at.isoformat(),
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TemplateStore:
    """Report templates per space in the database at ``url`` (a SQLAlchemy URL; default: the SQLite file).

    Thread-safe: the routes call it from FastAPI's thread pool, each call in its own session.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_template_db()
        try:
            self._parsed = make_url(self.url)
        except ArgumentError:
            raise ConfigurationError(
                f"The template database URL {self.url!r} is not a SQLAlchemy URL; give e.g. "
                "sqlite:////path/templates.sqlite3 or postgresql+psycopg://user@host/db."
            ) from None
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        """The URL without its password (for logs and /health)."""
        return self._parsed.render_as_string(hide_password=True)

    def _ready(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = self._connect()
            return self._engine

    def _connect(self) -> Engine:
        url = self._parsed
        kwargs: dict[str, Any] = {}
        if url.get_backend_name() == "sqlite":
            database = url.database or ""
            if database in ("", ":memory:"):  # one shared in-memory database for every thread
                kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
            else:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = create_engine(url, **kwargs)
            _Base.metadata.create_all(engine)
        except Exception as exc:
            raise ConfigurationError(
                f"Cannot open the template database {self.describe()} ({type(exc).__name__}): check the URL "
                "and that its driver is installed."
            ) from None
        return engine

    def create(self, space_id: str, name: str, content: str, desc: str = "") -> StoredTemplate:
        now = datetime.now(UTC)
        with Session(self._ready()) as session, session.begin():
            row = _Row(
                space_id=space_id,
                template_name=name,
                template_desc=desc,
                template_content=content,
                sha256=_sha(content),
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return _stored(row)

    def update(
        self, space_id: str, template_id: int, *, name: str | None, content: str | None, desc: str | None
    ) -> StoredTemplate | None:
        with Session(self._ready()) as session, session.begin():
            row = self._row(session, space_id, template_id)
            if row is None:
                return None
            if name is not None:
                row.template_name = name
            if desc is not None:
                row.template_desc = desc
            if content is not None:
                row.template_content = content
                row.sha256 = _sha(content)
            row.updated_at = datetime.now(UTC)
            session.flush()
            return _stored(row)

    def list(self, space_id: str) -> list[StoredTemplate]:
        with Session(self._ready()) as session:
            rows = session.scalars(select(_Row).where(_Row.space_id == space_id).order_by(_Row.template_id))
            return [_stored(r) for r in rows]

    def get(self, space_id: str, template_id: int) -> StoredTemplate | None:
        with Session(self._ready()) as session:
            row = self._row(session, space_id, template_id)
            return None if row is None else _stored(row)

    def delete(self, space_id: str, template_id: int) -> bool:
        with Session(self._ready()) as session, session.begin():
            row = self._row(session, space_id, template_id)
            if row is None:
                return False
            session.delete(row)
            return True

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    @staticmethod
    def _row(session: Session, space_id: str, template_id: int) -> _Row | None:
        return session.scalars(
            select(_Row).where(_Row.space_id == space_id, _Row.template_id == template_id)
        ).one_or_none()
