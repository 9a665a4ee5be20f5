from __future__ import annotations

from django.urls import path

from billing import views

urlpatterns = [
    path("", views.billing, name="billing"),
    path("topup/", views.topup, name="billing_topup"),
    path("cards/setup/", views.card_setup, name="billing_card_setup"),
    path("cards/<int:card_id>/remove/", views.card_delete, name="billing_card_remove"),
    path("payments/<int:payment_id>/", views.receipt, name="billing_receipt"),
    path("payments/<int:payment_id>/sync/", views.payment_refresh, name="billing_payment_sync"),
    path("stripe/webhook/", views.stripe_webhook, name="billing_stripe_webhook"),
]
