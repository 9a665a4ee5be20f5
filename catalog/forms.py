from __future__ import annotations

from django import forms


class ExploreSearchForm(forms.Form):
    # CharField rejects NUL characters, which PostgreSQL cannot store or compare.
    q = forms.CharField(required=False, max_length=100, strip=True)
    category = forms.SlugField(required=False, max_length=64)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)
