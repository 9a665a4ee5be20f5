from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from accounts import auth_views
from accounts import views as account_views
from billing import views as billing_views
from catalog import api as catalog_api
from catalog import views as catalog_views
from m3o_web import health, metrics, views
from services import playground
from services.gateway import gateway

handler404 = "m3o_web.views.handler404"
handler500 = "m3o_web.views.handler500"

admin.site.site_header = "M3O operations"
admin.site.site_title = "M3O admin"

urlpatterns = [
    path("v1/<str:service>/<str:endpoint>", gateway, name="gateway"),
    path("u/", include("services.builtin.url.urls")),
    path("qr/", include("services.builtin.qr.urls")),
    path("f/", include("services.builtin.file.urls")),
    re_path(r"^v1(?:/.*)?$", views.api_not_found),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", views.home, name="home"),
    path("dashboard/", billing_views.dashboard, name="dashboard"),
    path("billing/", include("billing.urls")),
    path("keys/", account_views.keys, name="keys"),
    path("keys/<int:key_id>/revoke/", account_views.key_revoke, name="key_revoke"),
    path("keys/<int:key_id>/rotate/", account_views.key_rotate, name="key_rotate"),
    path("", include("accounts.team_urls")),
    path("settings/", account_views.settings_home, name="settings"),
    path("settings/activity/", account_views.activity, name="activity"),
    path("settings/delete/", account_views.account_delete, name="account_delete"),
    path("playground/", playground.playground, name="playground"),
    path("playground/<str:service>/<str:endpoint>", playground.playground, name="playground_endpoint"),
    path("playground/<str:service>/<str:endpoint>/run", playground.playground_run, name="playground_run"),
    path(
        "playground/<str:service>/<str:endpoint>/stream-ticket",
        playground.playground_stream_ticket,
        name="playground_stream_ticket",
    ),
    path(
        "playground/<str:service>/<str:endpoint>/save-example",
        playground.playground_save_example,
        name="playground_save_example",
    ),
    path("explore/", catalog_views.explore, name="explore"),
    path("explore/<slug:slug>/", catalog_views.service_detail, name="service_detail"),
    path("explore/<slug:slug>/openapi.json", catalog_views.service_openapi, name="service_openapi"),
    path("openapi.json", catalog_views.platform_openapi, name="platform_openapi"),
    path("api/catalog/services/", catalog_api.service_list, name="api_service_list"),
    path("api/catalog/services/<str:slug>/", catalog_api.service_detail, name="api_service_detail"),
    path("api/catalog/categories/", catalog_api.category_list, name="api_category_list"),
    path("accounts/signup/", auth_views.signup, name="account_signup"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

if settings.M3O_BENCH_BASELINE:
    from m3o_web import bench

    # Under /v1/ so that the same middleware steps aside as for the gateway.
    urlpatterns.insert(0, path("v1/bench/echo", bench.echo))
