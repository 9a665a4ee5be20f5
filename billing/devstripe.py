"""Run localstripe, a fake Stripe API, on loopback for development and tests.

localstripe's own command listens on every interface; this entry point binds
to 127.0.0.1 only. Usage: ``python -m billing.devstripe --port 8420``.

localstripe has no Checkout Sessions, so this module adds the small part of
that API M3O uses, in Stripe's shape: ``POST /v1/checkout/sessions`` (payment
mode, ``price_data`` line items), ``GET /v1/checkout/sessions/{id}``, ``POST
/v1/checkout/sessions/{id}/expire``, and a hosted payment page at
``/checkout/pay/{id}`` where a test card completes the payment. Paying there
creates and confirms a PaymentIntent, marks the session complete and sends
``checkout.session.completed`` (localstripe itself sends
``payment_intent.succeeded``), then redirects to the session's success URL,
as Stripe does. Development and tests only: production talks to Stripe.
"""

from __future__ import annotations

import argparse
import html
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import (
    Customer,
    Event,
    PaymentIntent,
    PaymentMethod,
    StripeObject,
    try_convert_to_int,
)
from localstripe.server import api_extra, api_list_all, api_retrieve, app, get_post_data
from localstripe.webhooks import schedule_webhook

# Stripe lets a Checkout Session stay open for 24 hours by default.
SESSION_LIFETIME_SECONDS = 24 * 3600
HOSTED_PAGE_PREFIX = "/checkout/pay/"


def _param_error(param: str, message: str) -> UserError:
    return UserError(400, message, {"param": param, "code": "parameter_invalid"})


def _line_item_amount(item: Any, index: int) -> tuple[int, str, str]:
    """Validate one ``price_data`` line item; return its total in minor units, its currency and its name."""
    where = f"line_items[{index}]"
    if not isinstance(item, dict):
        raise _param_error(where, "Each line item must be an object.")
    price_data = item.get("price_data")
    if not isinstance(price_data, dict):
        raise _param_error(f"{where}[price_data]", "This server supports line items with price_data only.")
    unit_amount = try_convert_to_int(price_data.get("unit_amount"))
    quantity = try_convert_to_int(item.get("quantity", 1))
    currency = price_data.get("currency")
    product = price_data.get("product_data") or {}
    if not isinstance(unit_amount, int) or unit_amount < 0:
        raise _param_error(f"{where}[price_data][unit_amount]", "unit_amount must be a whole number of minor units.")
    if not isinstance(quantity, int) or quantity < 1:
        raise _param_error(f"{where}[quantity]", "quantity must be a positive whole number.")
    if not isinstance(currency, str) or len(currency) != 3:
        raise _param_error(f"{where}[price_data][currency]", "currency must be a three-letter ISO code.")
    if not isinstance(product, dict) or not isinstance(product.get("name"), str) or not product["name"]:
        raise _param_error(f"{where}[price_data][product_data][name]", "product_data needs a name.")
    return unit_amount * quantity, currency.lower(), product["name"]


class CheckoutSession(StripeObject):
    """A Checkout Session in payment mode, as Stripe's API returns it."""

    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(
        self,
        mode: Any = None,
        line_items: Any = None,
        success_url: Any = None,
        cancel_url: Any = None,
        customer: Any = None,
        client_reference_id: Any = None,
        metadata: Any = None,
        payment_intent_data: Any = None,
        payment_method_types: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        if mode != "payment":
            raise _param_error("mode", "This server supports mode=payment only.")
        for name, url in (("success_url", success_url), ("cancel_url", cancel_url)):
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise _param_error(name, f"{name} must be an http or https URL.")
        if not isinstance(line_items, list) or not line_items:
            raise _param_error("line_items", "line_items must list at least one item.")
        amounts = [_line_item_amount(item, index) for index, item in enumerate(line_items)]
        currencies = {currency for _, currency, _ in amounts}
        if len(currencies) != 1:
            raise _param_error("line_items", "All line items must have the same currency.")
        if customer is not None:
            if not isinstance(customer, str):
                raise _param_error("customer", "customer must be a customer id.")
            Customer._api_retrieve(customer)  # 404 for an unknown customer
        if metadata is not None and not isinstance(metadata, dict):
            raise _param_error("metadata", "metadata must be an object.")
        if payment_intent_data is not None and not isinstance(payment_intent_data, dict):
            raise _param_error("payment_intent_data", "payment_intent_data must be an object.")
        if payment_method_types is not None and payment_method_types != ["card"]:
            raise _param_error("payment_method_types", "This server supports card payments only.")

        # All exceptions must be raised before this point.
        super().__init__()

        self.mode = mode
        self.status = "open"
        self.payment_status = "unpaid"
        self.amount_subtotal = sum(amount for amount, _, _ in amounts)
        self.amount_total = self.amount_subtotal
        self.currency = currencies.pop()
        self.customer = customer
        self.client_reference_id = client_reference_id
        self.metadata = metadata or {}
        self.payment_intent = None
        self.payment_method_types = ["card"]
        self.success_url = success_url
        self.cancel_url = cancel_url
        self.expires_at = self.created + SESSION_LIFETIME_SECONDS
        # Set by the API handler, which knows the address this server is reached at.
        self.url: str | None = None
        self._product_names = [name for _, _, name in amounts]
        self._payment_intent_metadata = dict((payment_intent_data or {}).get("metadata") or {})

    @classmethod
    def _api_update(cls, id: str, **data: Any) -> Any:
        raise UserError(405, "Method Not Allowed")

    @classmethod
    def _api_delete(cls, id: str) -> Any:
        raise UserError(405, "Method Not Allowed")

    @classmethod
    def _api_expire(cls, id: str, **kwargs: Any) -> CheckoutSession:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        session: CheckoutSession = cls._api_retrieve(id)
        if session._is_open():
            session.status = "expired"
            session.url = None
            schedule_webhook(Event("checkout.session.expired", session))
        elif session.status != "expired":
            raise UserError(400, "Only an open Checkout Session can be expired.")
        return session

    def _is_open(self) -> bool:
        if self.status == "open" and time.time() >= self.expires_at:
            self.status = "expired"
            self.url = None
        return self.status == "open"

    def _pay(self, card: dict[str, str]) -> str | None:
        """Charge the card for the session; return an error message for the payer, or None when paid.

        A card that needs 3-D Secure is treated as authenticated: the hosted
        page stands in for the bank's challenge.
        """
        try:
            method = PaymentMethod(type="card", card=dict(card))
        except UserError:
            return "Check the card number, expiry date and CVC."
        intent = PaymentIntent(
            amount=self.amount_total,
            currency=self.currency,
            customer=self.customer,
            payment_method=method.id,
            payment_method_types=["card"],
            metadata=dict(self._payment_intent_metadata),
        )
        try:
            intent._confirm(on_failure_now=intent._report_failure)
            if intent.status == "requires_action":
                intent.next_action = None
                intent._create_charge(on_failure_now=intent._report_failure)
        except UserError as exc:
            return str(exc.body["error"].get("message") or "The card was declined.")
        if intent.status != "succeeded":
            return "The card was declined."

        self.payment_intent = intent.id
        self.status = "complete"
        self.payment_status = "paid"
        self.url = None
        schedule_webhook(Event("checkout.session.completed", self))
        return None


async def create_session(request: web.Request) -> web.StreamResponse:
    """POST /v1/checkout/sessions: create a session and give it the URL of this server's hosted page."""
    data = await get_post_data(request) or {}
    expand = data.pop("expand", None)
    session = CheckoutSession(**data)
    session.url = f"{request.scheme}://{request.host}{HOSTED_PAGE_PREFIX}{session.id}"
    return web.json_response(session._export(expand=expand))


def _page(title: str, body: str, *, status: int = 200) -> web.Response:
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<style>body{font-family:sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}"
        "label{display:block;margin-top:.8rem}input{width:100%;padding:.4rem;font-size:1rem}"
        "button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}.error{color:#b00020}"
        ".note{color:#555;font-size:.9rem}</style></head><body>"
        f"{body}</body></html>"
    )
    return web.Response(text=document, content_type="text/html", status=status)


def _payment_form(session: CheckoutSession, error: str = "", card: dict[str, str] | None = None) -> web.Response:
    card = card or {}
    amount = f"{session.amount_total / 100:,.2f} {session.currency.upper()}"
    names = ", ".join(session._product_names)
    error_html = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""

    def field(name: str, label: str, placeholder: str) -> str:
        value = html.escape(str(card.get(name, "")))
        return (
            f"<label for='{name}'>{label}</label>"
            f"<input id='{name}' name='{name}' value='{value}' placeholder='{placeholder}' autocomplete='off' required>"
        )

    body = (
        f"<h1>Pay {html.escape(amount)}</h1>"
        f"<p>{html.escape(names)}</p>"
        "<p class='note'>Test checkout served by localstripe. Use the card 4242 4242 4242 4242.</p>"
        f"{error_html}"
        f"<form method='post' action='{HOSTED_PAGE_PREFIX}{html.escape(session.id)}'>"
        f"{field('number', 'Card number', '4242 4242 4242 4242')}"
        f"{field('exp_month', 'Expiry month', '12')}"
        f"{field('exp_year', 'Expiry year', '2030')}"
        f"{field('cvc', 'CVC', '123')}"
        f"<button type='submit' id='checkout-pay'>Pay {html.escape(amount)}</button></form>"
        f"<p><a href='{html.escape(session.cancel_url)}' id='checkout-cancel'>Cancel and go back</a></p>"
    )
    return _page(f"Pay {amount}", body, status=400 if error else 200)


def _open_session(session_id: str) -> CheckoutSession | web.Response:
    try:
        session: CheckoutSession = CheckoutSession._api_retrieve(session_id)
    except UserError:
        return _page("Not found", "<h1>This checkout page does not exist.</h1>", status=404)
    if not session._is_open():
        return _page("Closed", "<h1>This checkout session is no longer open.</h1>", status=410)
    return session


async def hosted_page(request: web.Request, session_id: str) -> web.StreamResponse:
    """GET /checkout/pay/{id}: the payment form."""
    session = _open_session(session_id)
    if isinstance(session, web.Response):
        return session
    return _payment_form(session)


async def hosted_page_pay(request: web.Request, session_id: str) -> web.StreamResponse:
    """POST /checkout/pay/{id}: charge the card, then redirect to the success URL as Stripe does."""
    session = _open_session(session_id)
    if isinstance(session, web.Response):
        return session
    form = await request.post()
    card = {name: str(form.get(name, "")).replace(" ", "") for name in ("number", "exp_month", "exp_year", "cvc")}
    error = session._pay(card)
    if error:
        card["number"] = ""
        return _payment_form(session, error, card)
    raise web.HTTPSeeOther(session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def hosted_page_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Serve the hosted page without an API key: like Stripe's, it is reached by its unguessable session id."""
    if request.path.startswith(HOSTED_PAGE_PREFIX):
        session_id = request.path[len(HOSTED_PAGE_PREFIX) :].strip("/")
        if request.method == "POST":
            return await hosted_page_pay(request, session_id)
        return await hosted_page(request, session_id)
    return await handler(request)


def _install() -> None:
    app.router.add_route("POST", "/v1/checkout/sessions/{id}/expire", api_extra(CheckoutSession._api_expire, ""))
    app.router.add_route("POST", "/v1/checkout/sessions", create_session)
    app.router.add_route("GET", "/v1/checkout/sessions/{id}", api_retrieve(CheckoutSession, "/v1/checkout/sessions"))
    app.router.add_route("GET", "/v1/checkout/sessions", api_list_all(CheckoutSession, "/v1/checkout/sessions"))
    # Outermost, so the hosted page skips localstripe's API-key check.
    app.middlewares.insert(0, hosted_page_middleware)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve localstripe on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8420, help="TCP port to listen on (default 8420).")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    _install()
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
