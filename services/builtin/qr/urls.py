from __future__ import annotations

from django.urls import path

from services.builtin.qr import views

urlpatterns = [path("<str:public_id>.png", views.image, name="qr_image")]
