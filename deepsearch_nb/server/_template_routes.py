"""The seed server's template routes, per space: import, update, list, get, delete; and the run's lookup.

``POST /api/v1/agent/deepsearch/template`` imports (``{space_id, template_name, template_content,
template_desc?}``), ``PUT`` the same path updates (``{space_id, template_id, ...}``), ``GET .../{space_id}``
lists a space's templates (without their content), ``GET|DELETE .../{space_id}/{template_id}`` reads or
deletes one. An id that is not in the given space is 404 with a detail that says what to do, whether
it does not exist at all or belongs to another space. A run request's ``template_id`` is looked up the
same way (:func:`template_for`), before any stream starts.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from .._protocol import ReportTemplate
from ._request import DeepSearchRequest
from ._templates import StoredTemplate, TemplateStore

__all__ = ["TEMPLATE_PATH", "template_for", "template_router"]

TEMPLATE_PATH = "/api/v1/agent/deepsearch/template"
_MAX_CONTENT = 1_000_000  # characters: a report template is a page of headings, not a document store


class TemplateImport(BaseModel):
    space_id: str = Field(min_length=1, max_length=255)
    template_name: str = Field(min_length=1, max_length=255)
    template_content: str = Field(min_length=1, max_length=_MAX_CONTENT)
    template_desc: str = Field(default="", max_length=10_000)


class TemplateUpdate(BaseModel):
    space_id: str = Field(min_length=1, max_length=255)
    template_id: int
    template_name: str | None = Field(default=None, min_length=1, max_length=255)
    template_content: str | None = Field(default=None, min_length=1, max_length=_MAX_CONTENT)
    template_desc: str | None = Field(default=None, max_length=10_000)


def _not_found(space_id: str, template_id: int) -> HTTPException:
    return HTTPException(
        404,
        f"Report template {template_id} was not found in space {space_id!r}: list the space's templates with "
        f"GET {TEMPLATE_PATH}/{space_id}, or import one with POST {TEMPLATE_PATH}.",
    )


def _blank(text: str | None) -> bool:
    return text is not None and not text.strip()


def template_router(store: TemplateStore) -> APIRouter:
    """The routes over ``store`` (sync handlers: FastAPI runs them in its thread pool)."""
    router = APIRouter()

    def import_template(body: TemplateImport) -> dict[str, Any]:
        if _blank(body.template_content):
            raise HTTPException(400, "template_content is blank: give Markdown with a heading per section.")
        return store.create(body.space_id, body.template_name, body.template_content, body.template_desc).full()

    def update_template(body: TemplateUpdate) -> dict[str, Any]:
        if _blank(body.template_content):
            raise HTTPException(400, "template_content is blank: give Markdown with a heading per section.")
        updated = store.update(
            body.space_id,
            body.template_id,
            name=body.template_name,
            content=body.template_content,
            desc=body.template_desc,
        )
        if updated is None:
            raise _not_found(body.space_id, body.template_id)
        return updated.full()

    def list_templates(space_id: str) -> dict[str, Any]:
        return {"space_id": space_id, "templates": [t.summary() for t in store.list(space_id)]}

    def get_template(space_id: str, template_id: int) -> dict[str, Any]:
        found = store.get(space_id, template_id)
        if found is None:
            raise _not_found(space_id, template_id)
        return found.full()

    def delete_template(space_id: str, template_id: int) -> dict[str, Any]:
        if not store.delete(space_id, template_id):
            raise _not_found(space_id, template_id)
        return {"deleted": True, "space_id": space_id, "template_id": template_id}

    for path in (TEMPLATE_PATH, TEMPLATE_PATH + "/"):  # with or without the slash: no 307 for a POST
        router.add_api_route(path, import_template, methods=["POST"], include_in_schema=path == TEMPLATE_PATH)
        router.add_api_route(path, update_template, methods=["PUT"], include_in_schema=path == TEMPLATE_PATH)
    router.add_api_route(TEMPLATE_PATH + "/{space_id}", list_templates, methods=["GET"])
    router.add_api_route(TEMPLATE_PATH + "/{space_id}/{template_id}", get_template, methods=["GET"])
    router.add_api_route(TEMPLATE_PATH + "/{space_id}/{template_id}", delete_template, methods=["DELETE"])
    return router


async def template_for(store: TemplateStore, request: DeepSearchRequest) -> ReportTemplate | str:
    """The template a new run request asks for: stored (``template_id`` > 0, else 404), sent as content
    (``report_template``), or none (``""``)."""
    if request.template_id > 0:
        found: StoredTemplate | None = await run_in_threadpool(store.get, request.space_id, request.template_id)
        if found is None:
            raise _not_found(request.space_id, request.template_id)
        return ReportTemplate(found.template_name, found.template_content, f"server:{found.template_id}")
    return request.report_template
