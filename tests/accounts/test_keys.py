"""The API keys page: create, list and revoke, for the owner and against outsiders."""

from __future__ import annotations

import hashlib

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from accounts.models import ApiKey, AuditEvent
from tests.conftest import Persona
from tests.factories import UserFactory


def create_key(client: Client, name: str = "backend", htmx: bool = False, **extra: object) -> object:
    data = {"name": name, "all_services": "on", **extra}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/keys/", data, headers=headers)


def test_created_key_is_shown_once_and_stored_as_hash(owner: Persona) -> None:
    response = create_key(owner.client, name="backend")

    assert response.status_code == 200
    secret = response.context["new_secret"]
    assert secret.startswith("m3o_")
    assert len(secret) == 44
    assert secret in response.content.decode()
    key = ApiKey.objects.get(name="backend")
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert key.prefix == secret[:12]
    assert key.scopes == ["*"]
    assert not ApiKey.objects.filter(key_hash=secret).exists()
    assert AuditEvent.objects.filter(action="api_key.created", target=f"api_key:{key.pk}").exists()

    listing = owner.client.get("/keys/").content.decode()
    assert "backend" in listing
    assert key.prefix in listing
    assert secret not in listing


def test_created_key_calls_the_gateway(owner: Persona) -> None:
    secret = create_key(owner.client).context["new_secret"]
    response = Client().post(
        "/v1/helloworld/Call", '{"name": "Alice"}', content_type="application/json", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.json() == {"message": "Hello Alice"}


def test_create_with_htmx_returns_panel_only(owner: Persona) -> None:
    response = create_key(owner.client, htmx=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="keys-panel">')
    assert "<html" not in body


def test_key_scoped_to_chosen_services(owner: Persona) -> None:
    response = owner.client.post("/keys/", {"name": "only hello", "services": ["helloworld"]})
    assert response.status_code == 200
    assert ApiKey.objects.get(name="only hello").scopes == ["helloworld"]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "all_services": "on"},
        {"name": "   ", "all_services": "on"},
        {"name": "x" * 101, "all_services": "on"},
        {"name": "no scope"},
        {"name": "bad scope", "services": ["nosuchservice"]},
    ],
)
def test_invalid_key_form_is_400_and_creates_nothing(owner: Persona, data: dict) -> None:
    count = ApiKey.objects.count()
    response = owner.client.post("/keys/", data)
    assert response.status_code == 400
    assert ApiKey.objects.count() == count


def test_unverified_user_cannot_create_keys(db: None) -> None:
    user = UserFactory(verified=False)
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    client = Client()
    client.force_login(user)

    assert "Verify your email address" in client.get("/keys/").content.decode()
    response = create_key(client)

    assert response.status_code == 400
    assert not ApiKey.objects.filter(account__memberships__user=user).exists()


def test_keys_page_requires_sign_in(db: None) -> None:
    response = Client().get("/keys/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_revoke_key(owner: Persona) -> None:
    response = owner.client.post(f"/keys/{owner.key.pk}/revoke/")
    assert response.status_code == 302
    owner.key.refresh_from_db()
    assert owner.key.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_revoke_with_htmx_returns_row(owner: Persona) -> None:
    response = owner.client.post(f"/keys/{owner.key.pk}/revoke/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="key-{owner.key.pk}" class="revoked">')


def test_revoke_twice_is_harmless(owner: Persona) -> None:
    owner.client.post(f"/keys/{owner.key.pk}/revoke/")
    owner.client.post(f"/keys/{owner.key.pk}/revoke/")
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_revoke_needs_post(owner: Persona) -> None:
    assert owner.client.get(f"/keys/{owner.key.pk}/revoke/").status_code == 405
    owner.key.refresh_from_db()
    assert owner.key.revoked_at is None


def test_outsider_cannot_revoke_or_see_owner_key(owner: Persona, outsider: Persona) -> None:
    response = outsider.client.post(f"/keys/{owner.key.pk}/revoke/")
    assert response.status_code == 404
    owner.key.refresh_from_db()
    assert owner.key.revoked_at is None
    assert owner.key.prefix not in outsider.client.get("/keys/").content.decode()


@pytest.mark.parametrize("key_id", ["abc", "-1", "99999999999999999999999"])
def test_malformed_key_id_is_404(owner: Persona, key_id: str) -> None:
    assert owner.client.post(f"/keys/{key_id}/revoke/").status_code == 404


def test_anonymous_revoke_redirects_to_login(owner: Persona) -> None:
    response = Client().post(f"/keys/{owner.key.pk}/revoke/")
    assert response.status_code == 302
    owner.key.refresh_from_db()
    assert owner.key.revoked_at is None


def test_new_key_emails_its_creator_once(owner: Persona, django_capture_on_commit_callbacks) -> None:
    from django.core import mail

    from accounts.services import api_key_send_created_notice

    with django_capture_on_commit_callbacks(execute=True):
        create_key(owner.client, name="ci runner")

    key = ApiKey.objects.get(name="ci runner")
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == [owner.user.email]
    assert "ci runner" in notice.body
    assert key.prefix in notice.body
    assert api_key_send_created_notice(key_id=key.pk) is False
    assert len(mail.outbox) == 1


def test_key_notice_is_retried_after_smtp_failure(owner: Persona, settings) -> None:
    from django.core import mail

    from accounts.services import api_key_send_created_notice

    # Nothing listens on this loopback port, so the SMTP connection is refused.
    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2}}
    }
    with pytest.raises(OSError):
        api_key_send_created_notice(key_id=owner.key.pk)
    owner.key.refresh_from_db()
    assert owner.key.notice_sent_at is None

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert api_key_send_created_notice(key_id=owner.key.pk) is True
    assert len(mail.outbox) == 1


def test_page_showing_a_secret_is_not_cached(owner: Persona) -> None:
    for response in (create_key(owner.client), create_key(owner.client, htmx=True), owner.client.get("/keys/")):
        assert "no-store" in response["Cache-Control"]


def test_key_with_expiry_date_stops_after_that_day(owner: Persona) -> None:
    import datetime as dt

    import time_machine

    day = dt.date.today() + dt.timedelta(days=3)
    response = owner.client.post("/keys/", {"name": "temp", "all_services": "on", "expires_on": day.isoformat()})
    secret = response.context["new_secret"]
    key = ApiKey.objects.get(name="temp")
    assert key.expires_at == dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)

    owner.secret = secret
    assert owner.call().status_code == 200
    with time_machine.travel(key.expires_at + dt.timedelta(seconds=1)):
        response = owner.call()
    assert response.json()["id"] == "v1.key_expired"


@pytest.mark.parametrize("day", ["2001-01-01", "not-a-date", "9999-12-31"])
def test_invalid_expiry_date_is_400(owner: Persona, day: str) -> None:
    count = ApiKey.objects.count()
    response = owner.client.post("/keys/", {"name": "temp", "all_services": "on", "expires_on": day})
    assert response.status_code == 400
    assert ApiKey.objects.count() == count


def rotate(persona: Persona, key_id: int, grace: str, htmx: bool = False):
    headers = {"HX-Request": "true"} if htmx else {}
    return persona.client.post(f"/keys/{key_id}/rotate/", {"grace": grace}, headers=headers)


def test_rotation_issues_new_key_and_old_stops_after_grace(owner: Persona) -> None:
    import datetime as dt

    import time_machine

    old_secret = owner.secret
    response = rotate(owner, owner.key.pk, "3600")

    assert response.status_code == 200
    new_secret = response.context["new_secret"]
    assert "no-store" in response["Cache-Control"]
    new_key = ApiKey.objects.get(rotated_from=owner.key)
    assert (new_key.name, new_key.scopes) == (owner.key.name, owner.key.scopes)
    owner.key.refresh_from_db()
    assert owner.key.expires_at is not None
    assert AuditEvent.objects.filter(action="api_key.rotated", target=f"api_key:{owner.key.pk}").exists()

    assert owner.call().status_code == 200
    owner.secret = new_secret
    assert owner.call().status_code == 200
    with time_machine.travel(dt.timedelta(seconds=3601)):
        owner.secret = old_secret
        assert owner.call().json()["id"] == "v1.key_expired"
        owner.secret = new_secret
        assert owner.call().status_code == 200


def test_rotation_with_no_grace_stops_old_key_now(owner: Persona) -> None:
    assert owner.call().status_code == 200
    rotate(owner, owner.key.pk, "0", htmx=True)
    assert owner.call().json()["id"] == "v1.key_expired"


def test_rotation_keeps_an_earlier_expiry(owner: Persona) -> None:
    import datetime as dt

    from django.utils import timezone

    soon = timezone.now() + dt.timedelta(minutes=5)
    ApiKey.objects.filter(pk=owner.key.pk).update(expires_at=soon)
    rotate(owner, owner.key.pk, "86400")
    owner.key.refresh_from_db()
    assert owner.key.expires_at == soon


def test_revoked_key_cannot_be_rotated(owner: Persona) -> None:
    owner.client.post(f"/keys/{owner.key.pk}/revoke/")
    response = rotate(owner, owner.key.pk, "0")
    assert response.status_code == 400
    assert not ApiKey.objects.filter(rotated_from=owner.key).exists()


@pytest.mark.parametrize("grace", ["", "-1", "999999999", "abc"])
def test_invalid_grace_is_400(owner: Persona, grace: str) -> None:
    response = rotate(owner, owner.key.pk, grace)
    assert response.status_code == 400
    assert not ApiKey.objects.filter(rotated_from=owner.key).exists()


def test_outsider_cannot_rotate_owner_key(owner: Persona, outsider: Persona) -> None:
    assert rotate(outsider, owner.key.pk, "0").status_code == 404
    assert not ApiKey.objects.filter(rotated_from=owner.key).exists()


def test_rotate_needs_post(owner: Persona) -> None:
    assert owner.client.get(f"/keys/{owner.key.pk}/rotate/").status_code == 405
