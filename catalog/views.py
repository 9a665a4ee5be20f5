"""The public catalog: the explore page, one page per service and the OpenAPI downloads."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from catalog.availability import unavailable_slugs
from catalog.forms import ExploreSearchForm
from catalog.models import Service
from catalog.openapi import platform_document, service_document
from catalog.reference import schema_fields, snippets
from catalog.selectors import categories_listed, category_by_slug, service_listed, services_listed, services_search

SERVICES_PER_PAGE = 12


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@require_GET
def explore(request: HttpRequest) -> HttpResponse:
    form = ExploreSearchForm(request.GET)
    query, category, page_number = "", None, 1
    valid = form.is_valid()
    if valid:
        query = form.cleaned_data["q"]
        page_number = form.cleaned_data["page"] or 1
        if form.cleaned_data["category"]:
            category = category_by_slug(form.cleaned_data["category"])
            if category is None:
                form.add_error("category", "No such category.")
                valid = False

    page = Paginator(services_search(query=query, category=category), SERVICES_PER_PAGE).get_page(page_number)
    filters = {"q": query, "category": category.slug if category else ""}
    context = {
        "services": page.object_list,
        "page": page,
        "query": query,
        "category": category,
        "categories": categories_listed(),
        "form": form,
        "filter_query": urlencode({name: value for name, value in filters.items() if value}),
        "unavailable": unavailable_slugs(),
    }
    template = "catalog/explore.html#results" if request.htmx else "catalog/explore.html"
    return render(request, template, context, status=200 if valid else 400)


def _endpoint_context(service: Service, document: dict[str, Any], base_url: str) -> list[dict[str, Any]]:
    endpoints = []
    for endpoint in service.endpoints.all():
        operation = document["paths"][f"/v1/{service.slug}/{endpoint.name}"]["post"]
        request_media = operation["requestBody"]["content"]["application/json"]
        response_media = operation["responses"]["200"]["content"]["application/json"]
        responses = response_media.get("examples", {})
        examples = [
            {
                "title": example["summary"],
                "snippets": snippets(
                    base_url=base_url,
                    service=service.slug,
                    endpoint=endpoint.name,
                    request=example["value"],
                    fields=(endpoint.request_schema.get("properties") or {}).keys(),
                ),
                "response": json.dumps(responses.get(key, {}).get("value", {}), indent=2, ensure_ascii=False),
            }
            for key, example in request_media.get("examples", {}).items()
        ]
        endpoints.append(
            {
                "endpoint": endpoint,
                "price_units": operation["x-m3o-price-units"],
                "free_quota": operation["x-m3o-free-quota"],
                "request_fields": schema_fields(request_media["schema"]),
                "response_fields": schema_fields(response_media["schema"]),
                "examples": examples,
            }
        )
    return endpoints


@require_GET
def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    service = service_listed(slug)
    if service is None:
        raise Http404(f"No service named {slug}.")
    base_url = _base_url(request)
    document = service_document(service, server_url=base_url)
    context = {
        "service": service,
        "endpoints": _endpoint_context(service, document, base_url),
        "unavailable": service.slug in unavailable_slugs(),
    }
    return render(request, "catalog/service.html", context)


@require_GET
def service_openapi(request: HttpRequest, slug: str) -> HttpResponse:
    service = service_listed(slug)
    if service is None:
        raise Http404(f"No service named {slug}.")
    response = JsonResponse(service_document(service, server_url=_base_url(request)), json_dumps_params={"indent": 2})
    if "download" in request.GET:
        response["Content-Disposition"] = f'attachment; filename="{service.slug}.openapi.json"'
    return response


@require_GET
def platform_openapi(request: HttpRequest) -> HttpResponse:
    document = platform_document(services_listed().order_by("slug"), server_url=_base_url(request))
    return JsonResponse(document, json_dumps_params={"indent": 2})
