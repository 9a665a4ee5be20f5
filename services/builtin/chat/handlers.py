"""chat handlers: rooms and messages in the database, each room's live feed through the broker.

A room's feed carries three kinds of announcement, each sent after the commit
that caused it: a message, a member removed (Kick or Leave) and the room
deleted. A Join stream ends with an error frame when its own member is removed
or the room is deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from services.builtin.chat.models import Member, Message, Room
from services.builtin.storable import check_write_room, json_size, reject_unstorable
from services.kit import BadRequest, CallContext, Forbidden, NotFound
from services.streaming.changes import announce_on_commit, feed_name, follow
from services.streaming.session import run_sync

MAX_MEMBERS = 1_000
DEFAULT_PAGE = 25


def _error_id(context: CallContext) -> str:
    return f"chat.{context.endpoint.lower()}"


def _rooms(context: CallContext) -> QuerySet[Room]:
    return Room.objects.filter(account_id=context.account_id)


def _stored(context: CallContext) -> list[QuerySet[Any]]:
    """Return what counts against the account's chat caps: rooms (with their member ids) and messages."""
    return [_rooms(context), Message.objects.filter(account_id=context.account_id)]


def _room(context: CallContext, *, lock: bool = False) -> Room:
    rooms = _rooms(context).select_for_update() if lock else _rooms(context)
    room = rooms.filter(room_id=context.body["room_id"]).first()
    if room is None:
        raise NotFound(f"No room with id {context.body['room_id'][:100]!r}.", error_id=_error_id(context))
    return room


def _user_ids(room: Room) -> list[str]:
    return list(room.members.order_by("joined_at", "pk").values_list("user_id", flat=True))


def _room_size(name: str, description: str, user_ids: list[str]) -> int:
    return json_size({"name": name, "description": description, "user_ids": user_ids})


def _feed(account_id: int, room_id: str) -> str:
    return feed_name("chat", account_id, room_id)


def _not_member(context: CallContext, user_id: str) -> Forbidden:
    return Forbidden(
        f"{user_id[:100]!r} is not a member of room {context.body['room_id'][:100]!r}. Invite the user first.",
        error_id=_error_id(context),
    )


def _is_member(room: Room, user_id: str) -> bool:
    return room.members.filter(user_id=user_id).exists()


def create(context: CallContext) -> dict[str, Any]:
    """Create a room whose members are the given user ids, with an id of the caller's or a new UUID."""
    reject_unstorable(context.body, error_id=_error_id(context))
    name = context.body["name"]
    description = context.body.get("description", "")
    user_ids = list(dict.fromkeys(context.body.get("user_ids", [])))
    size = _room_size(name, description, user_ids)

    room_id = context.body.get("id") or str(uuid.uuid4())

    with transaction.atomic():
        check_write_room(rows=_stored(context), account_id=context.account_id, service="chat", size=size)
        try:
            with transaction.atomic():
                room = Room.objects.create(
                    account_id=context.account_id, room_id=room_id, name=name, description=description, size_bytes=size
                )
        except IntegrityError:
            raise BadRequest(
                f"A room with id {room_id[:100]!r} already exists. Choose another id, or leave it out to get a UUID.",
                error_id=_error_id(context),
                fields={"id": "Already exists."},
            ) from None
        Member.objects.bulk_create(Member(room=room, user_id=user_id) for user_id in user_ids)
    return {"room": room.as_dict(user_ids)}


def list_rooms(context: CallContext) -> dict[str, Any]:
    """List rooms in the order they were created, all of them or those a user is a member of."""
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", DEFAULT_PAGE)
    rooms = _rooms(context)
    if "user_id" in context.body:
        rooms = rooms.filter(members__user_id=context.body["user_id"])
    page = list(rooms.order_by("created_at", "pk")[offset : offset + limit])
    members: dict[int, list[str]] = {room.pk: [] for room in page}
    for room_pk, user_id in Member.objects.filter(room__in=page).order_by("joined_at", "pk").values_list(
        "room_id", "user_id"
    ):
        members[room_pk].append(user_id)
    return {"rooms": [room.as_dict(members[room.pk]) for room in page]}


def delete(context: CallContext) -> dict[str, Any]:
    """Delete a room with its messages, return it as it was, and end its Join streams."""
    with transaction.atomic():
        room = _room(context, lock=True)
        deleted = room.as_dict(_user_ids(room))
        room.delete()
        announce_on_commit(_feed(context.account_id, deleted["id"]), {"kind": "deleted"})
    return {"room": deleted}


def invite(context: CallContext) -> dict[str, Any]:
    """Add a user to a room's members; inviting a member again changes nothing."""
    reject_unstorable(context.body, error_id=_error_id(context))
    user_id = context.body["user_id"]

    with transaction.atomic():
        room = _room(context, lock=True)
        user_ids = _user_ids(room)
        if user_id in user_ids:
            return {"room": room.as_dict(user_ids)}
        if len(user_ids) >= MAX_MEMBERS:
            raise BadRequest(
                f"Room {room.room_id!r} has {MAX_MEMBERS} members, the most a room may have. Kick one first.",
                error_id=_error_id(context),
                fields={"user_id": f"The room already has {MAX_MEMBERS} members."},
            )
        user_ids.append(user_id)
        size = _room_size(room.name, room.description, user_ids)
        check_write_room(
            rows=_stored(context), account_id=context.account_id, service="chat", size=size, replacing_size=room.size_bytes
        )
        Member.objects.create(room=room, user_id=user_id)
        room.size_bytes = size
        room.save(update_fields=["size_bytes"])
    return {"room": room.as_dict(user_ids)}


def remove_member(context: CallContext) -> dict[str, Any]:
    """Take a member out of a room (Kick and Leave): it can no longer send, and its Join streams end."""
    user_id = context.body["user_id"]

    with transaction.atomic():
        room = _room(context, lock=True)
        removed, _ = room.members.filter(user_id=user_id).delete()
        if not removed:
            raise NotFound(
                f"{user_id[:100]!r} is not a member of room {room.room_id!r}, so there is nobody to remove.",
                error_id=_error_id(context),
            )
        user_ids = _user_ids(room)
        room.size_bytes = _room_size(room.name, room.description, user_ids)
        room.save(update_fields=["size_bytes"])
        announce_on_commit(_feed(context.account_id, room.room_id), {"kind": "removed", "user_id": user_id})
    return {"room": room.as_dict(user_ids)}


def send(context: CallContext) -> dict[str, Any]:
    """Store a member's message and announce it to the room's Join streams once stored.

    A Send with the ``client`` id of a message already in the room returns that
    message and stores nothing, so a client can retry a Send it is unsure of.
    """
    reject_unstorable(context.body, error_id=_error_id(context))
    user_id = context.body["user_id"]
    client = context.body.get("client", "")
    subject = context.body.get("subject", "")
    text = context.body["text"]
    size = json_size({"subject": subject, "text": text})

    with transaction.atomic():
        # The room's row lock orders this Send after a Kick or Leave of the sender, never beside it.
        room = _room(context, lock=True)
        if not _is_member(room, user_id):
            raise _not_member(context, user_id)
        if client:
            earlier = room.messages.filter(client=client).first()
            if earlier is not None:
                return {"message": earlier.as_dict(room.room_id)}
        check_write_room(rows=_stored(context), account_id=context.account_id, service="chat", size=size)
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    account_id=context.account_id,
                    room=room,
                    message_id=str(uuid.uuid4()),
                    client=client,
                    user_id=user_id,
                    subject=subject,
                    text=text,
                    size_bytes=size,
                )
        except IntegrityError:
            # Unreachable while the room's row is locked; kept so that a retry never becomes a 500.
            raise BadRequest(
                f"A message with client id {client[:100]!r} is already being sent. Retry the Send.",
                error_id=_error_id(context),
                fields={"client": "Already used."},
            ) from None
        announced = message.as_dict(room.room_id)
        announce_on_commit(_feed(context.account_id, room.room_id), {"kind": "message", "message": announced})
    return {"message": announced}


def history(context: CallContext) -> dict[str, Any]:
    """Return a page of a room's messages in the order they were sent: the latest, or those before a message."""
    room = _room(context)
    limit = context.body.get("limit", DEFAULT_PAGE)
    messages = room.messages.all()
    if "before" in context.body:
        cursor = messages.filter(message_id=context.body["before"]).values_list("pk", flat=True).first()
        if cursor is None:
            raise BadRequest(
                f"Room {room.room_id!r} has no message with id {context.body['before'][:100]!r}.",
                error_id=_error_id(context),
                fields={"before": "No such message in this room."},
            )
        messages = messages.filter(pk__lt=cursor)
    page = list(messages.order_by("-pk")[:limit])[::-1]
    return {"messages": [message.as_dict(room.room_id) for message in page]}


async def join(context: CallContext) -> AsyncIterator[dict[str, Any]]:
    """Stream the room's messages from now on to one member, until it is removed or the room deleted."""
    user_id = context.body["user_id"]

    def check_member() -> None:
        if not _is_member(_room(context), user_id):
            raise _not_member(context, user_id)

    async def member_now() -> None:
        await run_sync(check_member)()

    async for announcement in follow(_feed(context.account_id, context.body["room_id"]), subscribed=member_now):
        kind = announcement["kind"]
        if kind == "deleted":
            raise NotFound(f"Room {context.body['room_id'][:100]!r} was deleted.", error_id=_error_id(context))
        if kind == "removed" and announcement["user_id"] == user_id:
            raise Forbidden(
                f"{user_id[:100]!r} was removed from the room. Invite the user again to rejoin.",
                error_id=_error_id(context),
            )
        if kind == "message":
            # NOTE: one query per message and subscriber. It keeps a removed member from receiving a
            # message that another process announced before the removal's announcement arrived.
            await member_now()
            yield {"message": announcement["message"]}


def purge_account(account_id: int) -> None:
    Room.objects.filter(account_id=account_id).delete()
