from __future__ import annotations

from django.urls import path

from billing import usage_views, views

urlpatterns = [
    path("", views.billing, name="billing"),
    path("usage/", usage_views.usage, name="usage"),
    path("usage/export.csv", usage_views.usage_export, name="usage_export"),
    path("usage/keys/", usage_views.key_usage, name="usage_keys"),
    path("topup/", views.topup, name="billing_topup"),
    path("checkout/", views.checkout, name="billing_checkout"),
    path("checkout/return/", views.checkout_return, name="billing_checkout_return"),
    path("cards/setup/", views.card_setup, name="billing_card_setup"),
    path("cards/<int:card_id>/remove/", views.card_delete, name="billing_card_remove"),
    path("payments/<int:payment_id>/", views.receipt, name="billing_receipt"),
    path("payments/<int:payment_id>/sync/", views.payment_refresh, name="billing_payment_sync"),
    path("auto-topup/", views.auto_topup_update, name="billing_auto_topup"),
    path("plan/", views.plan_change, name="billing_plan"),
    path("alerts/", views.alert_add, name="billing_alert_add"),
    path("alerts/<int:alert_id>/remove/", views.alert_remove, name="billing_alert_remove"),
    path("time-zone/", views.time_zone_update, name="billing_time_zone"),
    path("spending-cap/", views.spending_cap, name="billing_spending_cap"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="billing_invoice"),
    path("invoices/<int:invoice_id>/pdf/", views.invoice_pdf, name="billing_invoice_pdf"),
    path("stripe/webhook/", views.stripe_webhook, name="billing_stripe_webhook"),
]
