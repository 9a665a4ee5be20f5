from __future__ import annotations

import unicodedata
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from services.builtin.file.models import FileSpace, StoredFile
from services.builtin.storable import check_write_room, json_size, reject_unstorable
from services.kit import BadRequest, CallContext, NotFound

PATH_RULE = (
    "Give a path such as /docs/readme.txt: names separated by single slashes, none of them '.' or '..', "
    "without control characters."
)
PROJECT_RULE = "Give a project name without slashes or control characters, such as my-website."


def _error_id(context: CallContext) -> str:
    return f"file.{context.endpoint.lower()}"


def _files(context: CallContext) -> QuerySet[StoredFile]:
    return StoredFile.objects.filter(account_id=context.account_id)


def _has_control_character(value: str) -> bool:
    return any(unicodedata.category(character) == "Cc" for character in value)


def _project(context: CallContext, value: str) -> str:
    if "/" in value or value in {".", ".."} or _has_control_character(value):
        raise BadRequest(
            f"Invalid project {value[:100]!r}. {PROJECT_RULE}", error_id=_error_id(context), fields={"project": PROJECT_RULE}
        )
    return value


def _path(context: CallContext, value: str, *, folder: bool = False) -> str:
    """Return the path with its leading slash; a folder may also be '/' or end with a slash."""
    path = value if value.startswith("/") else f"/{value}"
    if folder:
        path = path.rstrip("/")
        if not path:
            return "/"
    names = path[1:].split("/")
    if any(name in {"", ".", ".."} for name in names) or _has_control_character(path) or len(path) > 400:
        raise BadRequest(
            f"Invalid path {value[:100]!r}. {PATH_RULE}", error_id=_error_id(context), fields={"path": PATH_RULE}
        )
    return path


def _public_id(account_id: int) -> str | None:
    return FileSpace.objects.filter(account_id=account_id).values_list("public_id", flat=True).first()


def _missing(context: CallContext, project: str, path: str) -> NotFound:
    return NotFound(f"No file {path[:200]!r} in project {project[:100]!r}.", error_id=_error_id(context))


def save(context: CallContext) -> dict[str, Any]:
    """Create or replace a file, public or private, and return its public URL when public."""
    reject_unstorable(context.body, error_id=_error_id(context))
    requested_file = context.body["file"]
    project = _project(context, requested_file["project"])
    path = _path(context, requested_file["path"])
    content = requested_file.get("content", "")
    metadata = requested_file.get("metadata", {})
    public = context.body.get("public", False)
    size = len(content.encode("utf-8")) + json_size(metadata)

    # Two first saves of one path can race past the lookup. The unique constraint stops the
    # second insert, so its retry finds the first file and replaces it.
    for attempt in range(2):
        try:
            with transaction.atomic():
                stored, public_id = _save(context, project, path, content, metadata, public, size)
            break
        except IntegrityError:
            if attempt:
                raise
    return {"url": stored.url(public_id)}


def _save(
    context: CallContext, project: str, path: str, content: str, metadata: dict[str, str], public: bool, size: int
) -> tuple[StoredFile, str | None]:
    existing = _files(context).select_for_update().filter(project=project, path=path).first()
    check_write_room(
        rows=_files(context),
        account_id=context.account_id,
        service="file",
        size=size,
        replacing_size=existing.size_bytes if existing else None,
    )
    public_id = FileSpace.objects.get_or_create(account_id=context.account_id)[0].public_id if public else None
    stored = existing or StoredFile(account_id=context.account_id, project=project, path=path)
    stored.content = content
    stored.metadata = metadata
    stored.public = public
    stored.size_bytes = size
    stored.save()
    return stored, public_id


def read(context: CallContext) -> dict[str, Any]:
    project = _project(context, context.body["project"])
    path = _path(context, context.body["path"])
    stored = _files(context).filter(project=project, path=path).first()
    if stored is None:
        raise _missing(context, project, path)
    return {"file": stored.as_dict(_public_id(context.account_id))}


def list_files(context: CallContext) -> dict[str, Any]:
    """List a project's files, or those in one folder and its subfolders, by path, without their content."""
    project = _project(context, context.body["project"])
    folder = _path(context, context.body.get("path", "/"), folder=True)
    files = _files(context).filter(project=project)
    if folder != "/":
        files = files.filter(Q(path=folder) | Q(path__startswith=f"{folder}/"))
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", 100)
    public_id = _public_id(context.account_id)
    page = files.order_by("path")[offset : offset + limit]
    return {"files": [stored.as_dict(public_id, content=False) for stored in page]}


def delete(context: CallContext) -> dict[str, Any]:
    project = _project(context, context.body["project"])
    path = _path(context, context.body["path"])
    deleted, _ = _files(context).filter(project=project, path=path).delete()
    if not deleted:
        raise _missing(context, project, path)
    return {}


def purge_account(account_id: int) -> None:
    StoredFile.objects.filter(account_id=account_id).delete()
    FileSpace.objects.filter(account_id=account_id).delete()
