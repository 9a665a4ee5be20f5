"""The API keys page (list, create with the secret shown once, rotate, revoke) and the settings pages."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import with_membership
from accounts.forms import AccountDeleteForm, ApiKeyCreateForm, ApiKeyRotateForm
from accounts.models import ApiKey, Membership
from accounts.selectors import api_keys_for_account, audit_events_for_account
from accounts.services import (
    AccountDeletionError,
    KeyCreationError,
    api_key_create,
    api_key_revoke,
    api_key_rotate,
    user_delete,
    user_has_verified_email,
)
from catalog.selectors import services_listed


def _service_choices() -> list[tuple[str, str]]:
    return [(service.slug, f"{service.name} ({service.slug})") for service in services_listed()]


def _keys_context(request: HttpRequest, membership: Membership, form: ApiKeyCreateForm) -> dict[str, object]:
    return {
        "form": form,
        "keys": api_keys_for_account(membership.account),
        "can_manage": membership.can_manage_keys,
        "email_verified": user_has_verified_email(request.user),  # type: ignore[arg-type]
        "rotate_form": ApiKeyRotateForm(),
        "now": timezone.now(),
    }


@require_http_methods(["GET", "POST"])
@never_cache  # the response to a POST carries a new key's secret
@with_membership
def keys(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = ApiKeyCreateForm(request.POST or None, service_choices=_service_choices())
    context = _keys_context(request, membership, form)
    if request.method == "POST":
        if not membership.can_manage_keys:
            return HttpResponse("Your role in this account cannot create keys.", status=403)
        if form.is_valid():
            try:
                key, secret = api_key_create(
                    account=membership.account,
                    name=form.cleaned_data["name"],
                    scopes=form.scopes(),
                    created_by=request.user,  # type: ignore[arg-type]
                    expires_at=form.expires_at(),
                )
            except KeyCreationError as exc:
                form.add_error(None, str(exc))
            else:
                context = _keys_context(
                    request, membership, ApiKeyCreateForm(service_choices=_service_choices())
                )
                context.update({"new_key": key, "new_secret": secret})
        template = "accounts/keys.html#keys-panel" if request.htmx else "accounts/keys.html"
        return render(request, template, context, status=200 if form.is_valid() else 400)
    return render(request, "accounts/keys.html", context)


@require_POST
@never_cache  # the response carries the new key's secret
@with_membership
def key_rotate(request: HttpRequest, membership: Membership, key_id: int) -> HttpResponse:
    if not membership.can_manage_keys:
        return HttpResponse("Your role in this account cannot rotate keys.", status=403)
    key = get_object_or_404(ApiKey, pk=key_id, account=membership.account)
    rotate_form = ApiKeyRotateForm(request.POST)
    context = _keys_context(request, membership, ApiKeyCreateForm(service_choices=_service_choices()))
    status = 400
    if not rotate_form.is_valid():
        context["rotate_error"] = "Choose when the old key stops working."
    else:
        try:
            new_key, secret = api_key_rotate(key=key, actor=request.user, grace=rotate_form.grace_period())  # type: ignore[arg-type]
        except KeyCreationError as exc:
            context["rotate_error"] = str(exc)
        else:
            key.refresh_from_db()
            context = _keys_context(request, membership, ApiKeyCreateForm(service_choices=_service_choices()))
            context.update({"new_key": new_key, "new_secret": secret, "rotated_key": key})
            status = 200
    template = "accounts/keys.html#keys-panel" if request.htmx else "accounts/keys.html"
    return render(request, template, context, status=status)


@require_POST
@with_membership
def key_revoke(request: HttpRequest, membership: Membership, key_id: int) -> HttpResponse:
    if not membership.can_manage_keys:
        return HttpResponse("Your role in this account cannot revoke keys.", status=403)
    # Filtering by account means another tenant's key id is simply not found.
    key = get_object_or_404(ApiKey, pk=key_id, account=membership.account)
    api_key_revoke(key=key, actor=request.user)  # type: ignore[arg-type]
    if request.htmx:
        return render(
            request,
            "accounts/keys.html#key-row",
            {"key": key, "can_manage": True, "rotate_form": ApiKeyRotateForm(), "now": timezone.now()},
        )
    messages.success(request, f"Key “{key.name}” revoked. Calls made with it are now rejected.")
    return redirect("keys")


@require_GET
@with_membership
def settings_home(request: HttpRequest, membership: Membership) -> HttpResponse:
    return render(request, "accounts/settings.html", {"membership": membership})


@require_GET
@with_membership
def activity(request: HttpRequest, membership: Membership) -> HttpResponse:
    page = Paginator(audit_events_for_account(membership.account), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/activity.html", {"page": page})


@require_http_methods(["GET", "POST"])
@with_membership
@reauthentication_required
def account_delete(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_delete(user=request.user)  # type: ignore[arg-type]
        except AccountDeletionError as exc:
            form.add_error(None, str(exc))
        else:
            logout(request)
            messages.success(request, "Your account was deleted and its API keys revoked.")
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/delete.html", {"form": form}, status=status)
