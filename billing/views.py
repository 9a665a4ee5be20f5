"""Dashboard home and the billing page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import with_membership
from accounts.models import Membership
from billing.selectors import ledger_for_account, recent_calls, wallet_for_account


@require_GET
@with_membership
def dashboard(request: HttpRequest, membership: Membership) -> HttpResponse:
    account = membership.account
    context = {
        "wallet": wallet_for_account(account),
        "calls": recent_calls(account, limit=20),
        "has_keys": account.api_keys.exists(),
        "site_url": settings.SITE_URL,
    }
    template = "billing/dashboard.html#recent-calls" if request.htmx else "billing/dashboard.html"
    return render(request, template, context)


@require_GET
@with_membership
def billing(request: HttpRequest, membership: Membership) -> HttpResponse:
    account = membership.account
    context = {"wallet": wallet_for_account(account), "entries": ledger_for_account(account, limit=100)}
    return render(request, "billing/billing.html", context)
