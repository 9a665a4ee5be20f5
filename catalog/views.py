"""The public catalog: the explore page and one page per service."""

from __future__ import annotations

import json

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from catalog.forms import ExploreSearchForm
from catalog.selectors import services_listed


@require_GET
def explore(request: HttpRequest) -> HttpResponse:
    form = ExploreSearchForm(request.GET)
    services = services_listed()
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"]
        if query:
            services = services.filter(Q(name__icontains=query) | Q(tagline__icontains=query))
    context = {"services": services, "query": query, "form": form}
    template = "catalog/explore.html#service-list" if request.htmx else "catalog/explore.html"
    return render(request, template, context, status=200 if form.is_valid() else 400)


@require_GET
def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    service = services_listed().filter(slug=slug.lower()).first()
    if service is None:
        raise Http404(f"No service named {slug}.")
    endpoints = [
        {
            "endpoint": endpoint,
            "request_schema": json.dumps(endpoint.request_schema, indent=2),
            "response_schema": json.dumps(endpoint.response_schema, indent=2),
            "examples": [
                {
                    "title": example.get("title", ""),
                    "request": json.dumps(example.get("request", {})),
                    "request_pretty": json.dumps(example.get("request", {}), indent=2),
                    "response": json.dumps(example.get("response", {}), indent=2),
                }
                for example in endpoint.examples
                if isinstance(example, dict)
            ],
        }
        for endpoint in service.endpoints.all()
    ]
    return render(request, "catalog/service.html", {"service": service, "endpoints": endpoints})
