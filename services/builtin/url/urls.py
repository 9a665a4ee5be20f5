from __future__ import annotations

from django.urls import path

from services.builtin.url import views

urlpatterns = [path("<str:short_id>", views.redirect, name="url_redirect")]
