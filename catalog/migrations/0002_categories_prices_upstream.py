"""Categories as rows, price history, streaming and upstream services.

Existing category names become Category rows, and each endpoint's single
price becomes its first EndpointPrice, in effect since 2000-01-01 UTC so that
every past call falls under it.
"""

import datetime

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils.text import slugify

HISTORY_START = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def categories_from_names(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    Service = apps.get_model("catalog", "Service")
    for service in Service.objects.exclude(category_name=""):
        slug = slugify(service.category_name)[:64] or "other"
        category, _ = Category.objects.get_or_create(slug=slug, defaults={"name": service.category_name[:64]})
        service.category = category
        service.save(update_fields=["category"])


def prices_from_endpoints(apps, schema_editor):
    Endpoint = apps.get_model("catalog", "Endpoint")
    EndpointPrice = apps.get_model("catalog", "EndpointPrice")
    for endpoint in Endpoint.objects.select_related("service"):
        EndpointPrice.objects.create(
            endpoint=endpoint,
            price_units=endpoint.price_units,
            effective_from=HISTORY_START,
            source="code" if endpoint.service.backend == "builtin" else "operator",
            note="Price before price history was kept.",
        )


def lower_case_slugs(apps, schema_editor):
    Service = apps.get_model("catalog", "Service")
    for service in Service.objects.all():
        if service.slug != service.slug.lower():
            service.slug = service.slug.lower()
            service.save(update_fields=["slug"])


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Category",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slug", models.SlugField(max_length=64, unique=True)),
                ("name", models.CharField(max_length=64, unique=True)),
                (
                    "position",
                    models.PositiveSmallIntegerField(default=0, help_text="Lower numbers are listed first."),
                ),
            ],
            options={"ordering": ["position", "name"], "verbose_name_plural": "categories"},
        ),
        migrations.RenameField(model_name="service", old_name="category", new_name="category_name"),
        migrations.AddField(
            model_name="service",
            name="category",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="services",
                to="catalog.category",
            ),
        ),
        migrations.RunPython(categories_from_names, migrations.RunPython.noop),
        migrations.RemoveField(model_name="service", name="category_name"),
        migrations.CreateModel(
            name="EndpointPrice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("price_units", models.BigIntegerField()),
                ("effective_from", models.DateTimeField()),
                (
                    "source",
                    models.CharField(
                        choices=[("code", "Code"), ("operator", "Operator")], default="operator", max_length=16
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "endpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="prices", to="catalog.endpoint"
                    ),
                ),
            ],
            options={
                "ordering": ["endpoint", "-effective_from"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("price_units__gte", 0)), name="catalog_price_non_negative"
                    ),
                    models.UniqueConstraint(
                        fields=("endpoint", "effective_from"), name="catalog_price_one_per_instant"
                    ),
                ],
            },
        ),
        migrations.RunPython(prices_from_endpoints, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="endpoint", name="catalog_endpoint_price_non_negative"),
        migrations.RemoveField(model_name="endpoint", name="price_units"),
        migrations.AddField(
            model_name="endpoint",
            name="streaming",
            field=models.BooleanField(default=False, help_text="The endpoint streams its response."),
        ),
        migrations.AddField(
            model_name="endpoint",
            name="upstream_method",
            field=models.CharField(
                blank=True,
                choices=[("GET", "GET"), ("POST", "POST"), ("PUT", "PUT"), ("PATCH", "PATCH"), ("DELETE", "DELETE")],
                help_text="Upstream services only. GET and DELETE send the body's fields as query parameters.",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="endpoint",
            name="upstream_path",
            field=models.CharField(
                blank=True,
                help_text="Upstream services only. Appended to the base URL; {field} is replaced by that body field.",
                max_length=500,
            ),
        ),
        migrations.AddField(
            model_name="endpoint",
            name="operator_fields",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.AddField(
            model_name="service",
            name="operator_fields",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.AlterField(
            model_name="endpoint",
            name="request_schema",
            field=models.JSONField(blank=True, default=dict, help_text="JSON Schema (2020-12) of the request body."),
        ),
        migrations.AlterField(
            model_name="endpoint",
            name="response_schema",
            field=models.JSONField(blank=True, default=dict, help_text="JSON Schema (2020-12) of the response body."),
        ),
        migrations.AlterField(
            model_name="service",
            name="backend",
            field=models.CharField(
                choices=[("builtin", "Built-in"), ("upstream", "Upstream")], default="builtin", max_length=16
            ),
        ),
        migrations.RunPython(lower_case_slugs, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="service",
            constraint=models.CheckConstraint(
                condition=models.Q(("slug", django.db.models.functions.text.Lower("slug"))),
                name="catalog_service_slug_lower_case",
            ),
        ),
        migrations.CreateModel(
            name="UpstreamConfig",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("base_url", models.URLField(help_text="e.g. https://api.example.com/v2", max_length=500)),
                (
                    "credential_placement",
                    models.CharField(
                        choices=[("none", "Not sent"), ("header", "HTTP header"), ("query", "Query parameter")],
                        default="header",
                        max_length=8,
                    ),
                ),
                (
                    "credential_name",
                    models.CharField(
                        blank=True,
                        help_text="Header or query parameter name, e.g. Authorization or api_key.",
                        max_length=100,
                    ),
                ),
                (
                    "credential_prefix",
                    models.CharField(
                        blank=True,
                        help_text='Text sent before the credential, e.g. "Bearer " (with the space).',
                        max_length=50,
                    ),
                ),
                ("credential_encrypted", models.TextField(blank=True, editable=False)),
                ("credential_last4", models.CharField(blank=True, editable=False, max_length=4)),
                ("connect_timeout_ms", models.PositiveIntegerField(default=3000)),
                ("read_timeout_ms", models.PositiveIntegerField(default=15000)),
                (
                    "service",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="upstream", to="catalog.service"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("connect_timeout_ms__gte", 100), ("connect_timeout_ms__lte", 60000)),
                        name="catalog_upstream_connect_timeout_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("read_timeout_ms__gte", 100), ("read_timeout_ms__lte", 300000)),
                        name="catalog_upstream_read_timeout_range",
                    ),
                ],
            },
        ),
    ]
