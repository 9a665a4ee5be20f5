"""The Content Security Policy, built from where Stripe's script and API live."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils.csp import CSP


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(*, stripe_js_url: str, stripe_api_base: str) -> dict[str, list[str]]:
    """Allow only this site, plus Stripe.js, its frames and its API (or localstripe in development)."""
    stripe_js = _origin(stripe_js_url)
    stripe_api = _origin(stripe_api_base)
    frames = [stripe_js]
    # The top-up form may redirect to Stripe Checkout's hosted page (localstripe serves it from its API origin).
    checkout = "https://checkout.stripe.com" if stripe_api == "https://api.stripe.com" else stripe_api
    if stripe_js == "https://js.stripe.com":
        frames.append("https://hooks.stripe.com")  # 3-D Secure pages
    return {
        "default-src": [CSP.SELF],
        "script-src": [CSP.SELF, stripe_js],
        "style-src": [CSP.SELF],
        "img-src": [CSP.SELF, "data:"],
        "connect-src": sorted({CSP.SELF, stripe_js, stripe_api}),
        "frame-src": frames,
        "frame-ancestors": [CSP.NONE],
        "form-action": [CSP.SELF, checkout],
        "base-uri": [CSP.SELF],
        "object-src": [CSP.NONE],
    }
