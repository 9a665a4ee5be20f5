from __future__ import annotations

from django.urls import path

from services.builtin.file import views

urlpatterns = [path("<str:public_id>/<path:file_path>", views.public_file, name="file_public")]
