"""allauth views that M3O adjusts."""

from __future__ import annotations

from allauth.account.forms import SignupForm
from allauth.account.internal import flows
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.account.views import SignupView as AllauthSignupView
from django.db import IntegrityError, transaction
from django.http import HttpResponse


class SignupView(AllauthSignupView):
    """Signup that turns a race on the same address into a form error, not a 500.

    Two requests for one address can both pass the form's uniqueness check;
    the database's unique index then rejects the second insert.
    """

    def form_valid(self, form: SignupForm) -> HttpResponse:
        try:
            with transaction.atomic():
                self.user, response = form.try_save(self.request)
        except IntegrityError:
            form.add_error("email", "A user is already registered with this email address.")
            return self.form_invalid(form)
        if response:
            return response
        try:
            return flows.signup.complete_signup(
                self.request, user=self.user, redirect_url=self.get_success_url(), by_passkey=form.by_passkey
            )
        except ImmediateHttpResponse as exc:
            return exc.response


signup = SignupView.as_view()
