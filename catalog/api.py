"""The public catalog API: keyless JSON for the CLI and other tools.

GET /api/catalog/services/?q=&category=&page=   listed services, searchable
GET /api/catalog/services/<slug>/                one service with endpoints, schemas and prices
GET /api/catalog/categories/                     categories with listed services

Errors use the platform's error envelope (m3o_web/errors.py).
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.availability import unavailable_slugs
from catalog.models import Category, Endpoint, Service
from catalog.selectors import categories_listed, category_by_slug, service_listed, services_search
from m3o_web.errors import ApiError


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name"]


class EndpointSummarySerializer(serializers.ModelSerializer):
    price_units = serializers.IntegerField(read_only=True)

    class Meta:
        model = Endpoint
        fields = ["name", "description", "price_units", "free_quota", "streaming"]


class EndpointSerializer(EndpointSummarySerializer):
    class Meta:
        model = Endpoint
        fields = [*EndpointSummarySerializer.Meta.fields, "request_schema", "response_schema", "examples"]


class ServiceSummarySerializer(serializers.ModelSerializer):
    category = CategorySerializer(read_only=True)
    endpoints = EndpointSummarySerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()
    openapi_url = serializers.SerializerMethodField()
    available = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = [
            "slug", "name", "tagline", "category", "icon", "status", "available", "url", "openapi_url", "endpoints"
        ]

    def get_available(self, service: Service) -> bool:
        # One lookup per response, shared by every service on the page.
        if "unavailable" not in self.context:
            self.context["unavailable"] = unavailable_slugs()
        return service.slug not in self.context["unavailable"]

    def get_url(self, service: Service) -> str:
        return self.context["request"].build_absolute_uri(f"/api/catalog/services/{service.slug}/")

    def get_openapi_url(self, service: Service) -> str:
        return self.context["request"].build_absolute_uri(f"/explore/{service.slug}/openapi.json")


class ServiceSerializer(ServiceSummarySerializer):
    endpoints = EndpointSerializer(many=True, read_only=True)

    class Meta:
        model = Service
        fields = [*ServiceSummarySerializer.Meta.fields, "description"]


class QuerySerializer(serializers.Serializer):
    # CharField rejects NUL characters, which PostgreSQL cannot store or compare.
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    category = serializers.SlugField(required=False, allow_blank=True, max_length=64)


class ServicePagination(PageNumberPagination):
    page_size = 50


def _envelope_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render DRF's exceptions in the platform's error envelope."""
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        fields = None
        if isinstance(detail, dict):
            fields = {name: " ".join(str(item) for item in value) if isinstance(value, list) else str(value)
                      for name, value in detail.items()}
            message = "The query is invalid: check " + ", ".join(sorted(fields)) + "."
        else:
            message = str(detail)
        error = ApiError(message, error_id=f"catalog.{exc.default_code}", fields=fields)
        error.code = exc.status_code  # type: ignore[misc]
        return Response(error.envelope(), status=exc.status_code)
    return None


class CatalogView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self) -> Any:
        return _envelope_handler


class ServiceListView(CatalogView):
    def get(self, request: Request) -> Response:
        params = QuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        category = None
        if params.validated_data.get("category"):
            category = category_by_slug(params.validated_data["category"])
            if category is None:
                raise exceptions.ValidationError({"category": ["No such category. List them at /api/catalog/categories/."]})
        services = services_search(query=params.validated_data.get("q", ""), category=category)
        paginator = ServicePagination()
        page = paginator.paginate_queryset(services, request, view=self)
        data = ServiceSummarySerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


class ServiceDetailView(CatalogView):
    def get(self, request: Request, slug: str) -> Response:
        service = service_listed(slug)
        if service is None:
            raise exceptions.NotFound(f"No service named {slug[:64]}. List them at /api/catalog/services/.")
        return Response(ServiceSerializer(service, context={"request": request}).data)


class CategoryListView(CatalogView):
    def get(self, request: Request) -> Response:
        return Response({"results": CategorySerializer(categories_listed(), many=True).data})


service_list = ServiceListView.as_view()
service_detail = ServiceDetailView.as_view()
category_list = CategoryListView.as_view()
