from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailConfirmation
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.http import HttpRequest


def on_site(url: str) -> str:
    """Put a link on M3O_SITE_URL's scheme and host, whatever Host header the request carried."""
    site = urlsplit(settings.SITE_URL)
    parts = urlsplit(url)
    return urlunsplit((site.scheme, site.netloc, parts.path, parts.query, parts.fragment))


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(getattr(settings, "M3O_SIGNUP_OPEN", True))

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Emails name the configured site, never the Host header of the request that caused them.
        site = SimpleNamespace(name="M3O", domain=urlsplit(settings.SITE_URL).netloc)
        super().send_mail(template_prefix, email, {**context, "current_site": site, "site_url": settings.SITE_URL})

    def get_reset_password_from_key_url(self, key: str) -> str:
        return on_site(super().get_reset_password_from_key_url(key))

    def get_email_confirmation_url(self, request: HttpRequest, emailconfirmation: EmailConfirmation) -> str:
        return on_site(super().get_email_confirmation_url(request, emailconfirmation))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: object) -> bool:
        return bool(getattr(settings, "M3O_SIGNUP_OPEN", True))
