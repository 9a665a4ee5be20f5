"""Findings of the attack session: each test fails on the code it was written against and passes once fixed."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction

from accounts.models import Account, Invitation, Membership, User
from accounts.services import AccountDeletionError, user_delete
from accounts.teams import TeamError, member_leave, team_create
from tests.conftest import Persona
from tests.factories import UserFactory, make_key
from tests.localstripe import localstripe_url, stripe_api  # noqa: F401

Role = Membership.Role


def add_member(team: Account, role: str) -> User:
    user = UserFactory()
    Membership.objects.create(account=team, user=user, role=role)
    return user


def test_admin_cannot_invite_someone_as_owner(owner: Persona, client) -> None:
    """An admin may not make owners directly, so must not make one through an invitation either."""
    team = team_create(user=owner.user, name="Acme")
    admin = add_member(team, Role.ADMIN)
    client.force_login(admin)
    client.post(f"/team/members/invite/?account={team.pk}", {"email": "mine@example.com", "role": Role.OWNER})
    assert not Invitation.objects.filter(account=team, role=Role.OWNER).exists()


@pytest.mark.parametrize(
    ("service", "endpoint", "body"),
    [
        ("file", "List", {"project": "p", "offset": 10**19}),
        ("qr", "Codes", {"offset": 10**19}),
        ("lists", "List", {"offset": 10**19}),
        ("comments", "List", {"offset": 10**19}),
        ("contact", "List", {"offset": 10**19}),
        ("notes", "List", {"offset": 10**19}),
        ("db", "Read", {"table": "events", "offset": 10**19}),
        ("url", "List", {"offset": 10**19}),
    ],
)
def test_huge_offset_is_a_bad_request(owner: Persona, service: str, endpoint: str, body: dict) -> None:
    response = owner.call(service, endpoint, body)
    assert response.status_code in (200, 400), response.content


@pytest.mark.django_db(transaction=True)
def test_owner_deleting_their_user_while_the_other_owner_leaves_keeps_an_owner() -> None:
    """user_delete counts the team's owners without locking the memberships member_leave locks.

    The second owner leaves in a transaction that is still open while the first
    deletes their user: the first still sees two owners, waits on the row lock,
    and then deletes its membership too, leaving a team whose developer has no owner.
    """
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL row locks.")
    first = UserFactory()
    team = team_create(user=first, name="Race")
    second = add_member(team, Role.OWNER)
    add_member(team, Role.DEVELOPER)
    left = threading.Event()
    release = threading.Event()
    outcomes: dict[str, str] = {}

    def leave() -> None:
        try:
            with transaction.atomic():
                member_leave(account=team, user=second)
                left.set()
                release.wait(10)
            outcomes["leave"] = "left"
        except TeamError:
            outcomes["leave"] = "refused"
        finally:
            left.set()
            connection.close()

    def delete() -> None:
        try:
            user_delete(user=first)
            outcomes["delete"] = "deleted"
        except AccountDeletionError:
            outcomes["delete"] = "refused"
        finally:
            connection.close()

    leaver = threading.Thread(target=leave)
    leaver.start()
    assert left.wait(10)
    deleter = threading.Thread(target=delete)
    deleter.start()
    time.sleep(1)  # the deletion reads the owners and then waits on the leaver's row lock
    release.set()
    leaver.join(10)
    deleter.join(10)

    assert Membership.objects.filter(account=team, role=Role.OWNER).count() >= 1, outcomes


# Catalog import


@pytest.mark.parametrize(
    "price",
    [
        {"price_units": 10**20, "effective_from": "2020-01-01T00:00:00+00:00", "source": "operator"},
    ],
)
def test_catalog_import_reports_prices_the_database_cannot_hold(db: None, price: dict) -> None:
    from catalog.models import Category, Endpoint, Service, UpstreamConfig
    from catalog.services import endpoint_price_schedule
    from catalog.transfer import CatalogImportError, catalog_export, catalog_import

    service = Service.objects.create(
        slug="geo", name="Geo", tagline="Addresses.", status=Service.Status.PUBLISHED,
        backend=Service.Backend.UPSTREAM, category=Category.objects.create(slug="maps", name="Maps", position=3),
    )
    UpstreamConfig.objects.create(service=service, base_url="https://geo.example/v1", credential_name="X-Key")
    endpoint = Endpoint.objects.create(
        service=service, name="Lookup", upstream_method="GET", upstream_path="/lookup",
        request_schema={"type": "object"}, response_schema={"type": "object"},
    )
    endpoint_price_schedule(endpoint=endpoint, price_units=250, effective_from=None, created_by=None)
    document = catalog_export()
    geo = next(entry for entry in document["services"] if entry["slug"] == "geo")
    geo["endpoints"][0]["prices"] = [price]
    with pytest.raises(CatalogImportError):
        catalog_import(document)


# Storage caps under parallel writes


@pytest.mark.django_db(transaction=True)
def test_parallel_qr_codes_keep_to_the_row_cap(settings) -> None:
    """qr.Generate counts the account's codes without the lock check_write_room takes, so parallel calls pass the cap."""
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL row locks.")
    from django.test import Client

    from services.builtin.qr.models import QrCode
    from tests.factories import personal_account

    settings.M3O_DATA_MAX_ROWS_PER_ACCOUNT = 2
    user = UserFactory()
    account = personal_account(user)
    _, secret = make_key(user)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def generate(index: int) -> None:
        try:
            barrier.wait()
            response = Client().post(
                "/v1/qr/Generate", data=f'{{"text": "code {index}", "size": 64}}', content_type="application/json",
                headers={"Authorization": f"Bearer {secret}"},
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=generate, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert QrCode.objects.filter(account=account).count() <= 2, statuses


# Fuzzing (tests/reliability/test_fuzz.py): JSON Schema counts 1023.0 as an integer, so it reached handlers as a float.


@pytest.mark.parametrize(
    ("service", "endpoint", "body"),
    [
        ("avatar", "Generate", {"username": "m", "format": "jpeg", "size": 1023.0}),
        ("otp", "Generate", {"expiry": 8126.0, "size": 4.0, "id": "m"}),
        ("qr", "Generate", {"size": 873.0, "text": "t"}),
        ("location", "Search", {"radius": 1000, "numEntities": 762.0, "type": "t", "center": {"longitude": 1, "latitude": 2}}),
        ("cache", "Increment", {"key": "views", "value": 8063651.0}),
    ],
)
def test_integral_float_is_taken_as_an_integer(owner: Persona, service: str, endpoint: str, body: dict) -> None:
    response = owner.call(service, endpoint, body)
    assert response.status_code in (200, 400), response.content


@pytest.mark.parametrize("number", ["1e300", "9007199254740993.0", "-1e30"])
def test_huge_float_integer_is_rejected(owner: Persona, number: str) -> None:
    response = owner.call("qr", "Generate", f'{{"text": "t", "size": {number}}}')
    assert response.status_code == 400, response.content
    assert "size" in response.json()["fields"]


# Redelivery (tests/reliability/test_redelivery_stripe.py and test_redelivery_tasks.py)


def test_provider_alert_redelivered_sends_one_email(db: None, mailoutbox) -> None:
    from services.providers.tasks import provider_alert_send

    User.objects.create_superuser("ops@example.com", "ops passphrase 123")
    alert = {"service": "weather", "provider": "openweather", "problem": "auth", "status": 401, "alert_id": "a1"}

    assert provider_alert_send(**alert) == 1
    assert provider_alert_send(**alert) == 0

    assert len(mailoutbox) == 1


def test_checkout_paid_after_a_declined_card_credits_once(owner: Persona, stripe_api: str, settings) -> None:
    """The declined attempt's payment_intent.payment_failed used to fail the top-up, so the paid session credited nothing."""
    from django.test import Client

    from billing.models import Payment
    from tests.billing.test_checkout import pay, start_checkout, stripe_get
    from tests.localstripe import DECLINED_CHARGE_CARD, deliver, event_payload

    settings.M3O_STRIPE_CHECKOUT = True
    before = owner.balance
    url = start_checkout(owner, "25")
    payment = Payment.objects.get(account=owner.account)
    assert pay(url, DECLINED_CHARGE_CARD).status_code == 400
    declined = next(
        intent for intent in stripe_get("/v1/payment_intents?limit=100")["data"]
        if intent["metadata"].get("m3o_payment_id") == str(payment.pk)
    )
    assert pay(url).status_code == 303
    session = stripe_get(f"/v1/checkout/sessions/{payment.stripe_checkout_session_id}")

    assert deliver(Client(), event_payload("payment_intent.payment_failed", declined)) == 200
    assert deliver(Client(), event_payload("checkout.session.completed", session)) == 200

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.stripe_payment_intent_id == session["payment_intent"]
    assert owner.balance == before + 25_000_000


def test_late_attach_event_keeps_card_detached(owner: Persona, stripe_api: str) -> None:
    from django.test import Client

    from billing.models import BillingProfile, SavedCard
    from tests.localstripe import deliver, event_payload, new_card

    new_card(owner.client, stripe_api)
    customer = BillingProfile.objects.get(pk=owner.account.pk).stripe_customer_id
    method = {"id": "pm_late", "object": "payment_method", "customer": customer,
              "card": {"brand": "visa", "last4": "1881", "exp_month": 4, "exp_year": 2031}}

    assert deliver(Client(), event_payload("payment_method.detached", {**method, "customer": None})) == 200
    assert deliver(Client(), event_payload("payment_method.attached", method)) == 200

    assert not SavedCard.objects.filter(stripe_payment_method_id="pm_late").exists()
