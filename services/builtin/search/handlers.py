from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum

from services.builtin.quota import check_room
from services.builtin.search.fulltext import phrase_filter, words
from services.builtin.search.models import SearchDocument, SearchField, SearchIndex
from services.builtin.search.query import QueryError, Term, parse
from services.kit import BadRequest, CallContext, NotFound


def _error_id(context: CallContext) -> str:
    return f"search.{context.endpoint.lower()}"


def _indexes(context: CallContext) -> QuerySet[SearchIndex]:
    return SearchIndex.objects.filter(account_id=context.account_id)


def _index(context: CallContext) -> SearchIndex:
    index = _indexes(context).filter(name=context.body["index"]).first()
    if index is None:
        raise NotFound(
            f"No index named {context.body['index'][:100]!r}.",
            error_id=_error_id(context),
            fields={"index": "No such index."},
        )
    return index


def _stored_rows(context: CallContext) -> int:
    return _indexes(context).count() + SearchDocument.objects.filter(account_id=context.account_id).count()


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (dotted path, text) for every string, number and boolean in a JSON value; lists keep their parent's path."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _flatten(item, path)
    elif isinstance(value, bool):
        yield path, "true" if value else "false"
    elif value is not None:
        yield path, str(value)


def create_index(context: CallContext) -> dict[str, Any]:
    with transaction.atomic():
        check_room(account_id=context.account_id, service="search", stored=_stored_rows(context))
        try:
            with transaction.atomic():
                index = SearchIndex.objects.create(account_id=context.account_id, name=context.body["index"])
        except IntegrityError:
            raise BadRequest(
                f"An index named {context.body['index'][:100]!r} already exists.",
                error_id=_error_id(context),
                fields={"index": "Already exists."},
            ) from None
    return {"index": index.as_dict()}


def _index_for_write(context: CallContext) -> SearchIndex:
    """Return the named index, creating it when missing (Index creates indexes on first use)."""
    index = _indexes(context).filter(name=context.body["index"]).first()
    if index is not None:
        return index
    check_room(account_id=context.account_id, service="search", stored=_stored_rows(context))
    try:
        with transaction.atomic():
            return SearchIndex.objects.create(account_id=context.account_id, name=context.body["index"])
    except IntegrityError:
        # A concurrent call created it first.
        return _indexes(context).get(name=context.body["index"])


def index_record(context: CallContext) -> dict[str, Any]:
    """Store a record in an index, replacing the record stored under the same id."""
    doc_id = context.body.get("id") or str(uuid.uuid4())
    data = context.body["data"]
    size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
    fields = [(path, " ".join(words(text))) for path, text in _flatten(data)]

    with transaction.atomic():
        index = _index_for_write(context)
        # Locking the index serialises writes to it, so two Index calls for one id cannot both insert.
        SearchIndex.objects.select_for_update().filter(pk=index.pk).first()
        existing = index.documents.filter(doc_id=doc_id).first()
        account_docs = SearchDocument.objects.filter(account_id=context.account_id)
        stored_bytes = account_docs.aggregate(total=Sum("size_bytes"))["total"] or 0
        check_room(
            account_id=context.account_id,
            service="search",
            stored=_stored_rows(context),
            adding=0 if existing else 1,
            stored_bytes=stored_bytes - (existing.size_bytes if existing else 0),
            adding_bytes=size,
        )
        if existing is not None:
            existing.delete()
        document = SearchDocument.objects.create(
            account_id=context.account_id, index=index, doc_id=doc_id, data=data, size_bytes=size
        )
        SearchField.objects.bulk_create(
            SearchField(account_id=context.account_id, document=document, path=path, text=text)
            for path, text in fields
            if text
        )
    return {"record": document.as_dict()}


def _term_condition(term: Term) -> Exists:
    fields = SearchField.objects.filter(document=OuterRef("pk"))
    if term.field is not None:
        fields = fields.filter(Q(path=term.field) | Q(path__startswith=f"{term.field}."))
    return Exists(fields.filter(phrase_filter(list(term.words), prefix=term.prefix)))


def search(context: CallContext) -> dict[str, Any]:
    """Return the records matching the query, most recently indexed first."""
    try:
        groups = parse(context.body["query"])
    except QueryError as error:
        raise BadRequest(f"Invalid query: {error}", error_id=_error_id(context), fields={"query": str(error)}) from None
    index = _index(context)

    condition = Q()
    for group in groups:
        group_condition = Q()
        for term in group:
            group_condition &= Q(_term_condition(term))
        condition |= group_condition
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", 25)
    documents = index.documents.filter(condition).order_by("-updated_at", "doc_id")[offset : offset + limit]
    return {"records": [document.as_dict() for document in documents]}


def delete(context: CallContext) -> dict[str, Any]:
    index = _index(context)
    deleted, _ = index.documents.filter(doc_id=context.body["id"]).delete()
    if not deleted:
        raise NotFound(
            f"No record with id {context.body['id'][:100]!r} in index {context.body['index'][:100]!r}.",
            error_id=_error_id(context),
            fields={"id": "No such record."},
        )
    return {"id": context.body["id"]}


def delete_index(context: CallContext) -> dict[str, Any]:
    """Delete an index with all its records."""
    index = _index(context)
    index.delete()
    return {"index": context.body["index"]}


def purge_account(account_id: int) -> None:
    SearchField.objects.filter(account_id=account_id).delete()
    SearchDocument.objects.filter(account_id=account_id).delete()
    SearchIndex.objects.filter(account_id=account_id).delete()
