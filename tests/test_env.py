"""Settings from the environment: malformed values stop start-up with a clear message."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from m3o_web import env


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("OFF", False), ("0", False)])
def test_boolean_parses_common_spellings(monkeypatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("M3O_TEST_FLAG", raw)
    assert env.boolean("M3O_TEST_FLAG", not expected) is expected


def test_malformed_boolean_is_rejected(monkeypatch) -> None:
    monkeypatch.setenv("M3O_TEST_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="M3O_TEST_FLAG"):
        env.boolean("M3O_TEST_FLAG", False)


def test_malformed_integer_is_rejected(monkeypatch) -> None:
    monkeypatch.setenv("M3O_TEST_NUMBER", "12abc")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env.integer("M3O_TEST_NUMBER", 1)


def test_integer_below_minimum_is_rejected(monkeypatch) -> None:
    monkeypatch.setenv("M3O_TEST_NUMBER", "-5")
    with pytest.raises(ImproperlyConfigured, match="minimum"):
        env.integer("M3O_TEST_NUMBER", 1, minimum=0)


def test_missing_required_value_is_rejected(monkeypatch) -> None:
    monkeypatch.delenv("M3O_TEST_SECRET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="required"):
        env.string("M3O_TEST_SECRET")


def test_value_can_come_from_a_file(monkeypatch, tmp_path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n")
    monkeypatch.setenv("M3O_TEST_SECRET_FILE", str(secret))
    assert env.string("M3O_TEST_SECRET") == "s3cr3t"


def test_unreadable_file_is_rejected(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("M3O_TEST_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        env.string("M3O_TEST_SECRET")


def test_choice_outside_the_list_is_rejected(monkeypatch) -> None:
    monkeypatch.setenv("M3O_TEST_CHOICE", "redis")
    with pytest.raises(ImproperlyConfigured, match="one of"):
        env.choice("M3O_TEST_CHOICE", "database", ("database",))


def test_deploy_check_warns_about_console_email(settings) -> None:
    settings.MAILERS = {"default": {"BACKEND": "m3o_web.mail.ReadableConsoleEmailBackend"}}
    from m3o_web.checks import check_email_backend

    assert [message.id for message in check_email_backend(None)] == ["m3o.W001"]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
    assert check_email_backend(None) == []
