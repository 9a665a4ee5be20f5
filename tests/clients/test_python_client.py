"""The Python client against a live test server."""

from __future__ import annotations

import pytest

from tests.clients.conftest import Platform

pytestmark = pytest.mark.django_db(transaction=True)


def test_helloworld_answers_a_greeting(platform: Platform) -> None:
    import m3o

    with m3o.Client(platform.token, address=platform.address) as client:
        assert client.helloworld.call(name="Alice") == {"message": "Hello Alice"}


def test_db_record_reads_back_as_created(platform: Platform) -> None:
    import m3o

    with m3o.Client(platform.token, address=platform.address) as client:
        created = client.db.create(table="py_people", record={"name": "Ada", "born": 1815})
        read = client.db.read(table="py_people", id=created["id"])
        tables = client.db.list_tables()

    [record] = read["records"]
    assert (record["name"], record["born"]) == ("Ada", 1815)
    assert tables == {"tables": ["py_people"]}


def test_stream_service_sits_beside_the_stream_method(platform: Platform) -> None:
    import m3o

    with m3o.Client(platform.token, address=platform.address) as client:
        client.stream_service.create_channel(name="general")
        client.stream_service.send_message(channel="general", text="hi")
        listed = client.stream_service.list_messages(channel="general")
        stream_method = client.stream

    assert [message["text"] for message in listed["messages"]] == ["hi"]
    assert stream_method.__func__ is m3o.Client.stream


def test_invalid_body_raises_bad_request_with_fields(platform: Platform) -> None:
    import m3o

    with m3o.Client(platform.token, address=platform.address) as client, pytest.raises(m3o.BadRequest) as raised:
        client.call("helloworld", "Call", {})

    assert raised.value.code == 400
    assert "name" in raised.value.fields
    assert raised.value.request_id


def test_empty_balance_raises_payment_required(platform: Platform) -> None:
    import m3o

    with m3o.Client(platform.broke_token, address=platform.address) as client, pytest.raises(m3o.PaymentRequired) as raised:
        client.helloworld.call(name="Alice")

    error = raised.value
    assert (error.code, error.id, error.status) == (402, "v1.insufficient_credit", "Payment Required")
    assert isinstance(error, m3o.APIError)


def test_unreachable_address_raises_transport_error(platform: Platform) -> None:
    import m3o

    with m3o.Client("m3o_x", address=platform.closed_address, timeout=5) as client, pytest.raises(m3o.TransportError):
        client.helloworld.call(name="Alice")


def test_token_and_address_default_to_the_environment(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    import m3o

    monkeypatch.setenv("M3O_API_TOKEN", platform.token)
    monkeypatch.setenv("M3O_API_ADDRESS", platform.address)

    with m3o.Client() as client:
        assert client.helloworld.call(name="Env") == {"message": "Hello Env"}



def test_stream_messages_and_error_frames(platform: Platform) -> None:
    import m3o

    if not platform.streams:
        pytest.skip("the live server serves no streams on SQLite (see tests/clients/conftest.py)")
    with m3o.Client(platform.token, address=platform.address) as client:
        messages = list(client.helloworld.stream(name="Alice", messages=3))
        with pytest.raises(m3o.BadRequest) as invalid:
            list(client.stream("helloworld", "Stream", {}))
    with m3o.Client(platform.broke_token, address=platform.address) as broke, pytest.raises(m3o.PaymentRequired):
        list(broke.helloworld.stream(name="Alice"))

    assert messages == [{"message": "Hello Alice"}] * 3
    assert "name" in invalid.value.fields
