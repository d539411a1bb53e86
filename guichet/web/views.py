from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from guichet.calls.selectors import published_calls
from guichet.core.clock import now
from guichet.rules.dossier import json_schema


@require_GET
def home(request):
    calls = published_calls(now(), language=get_language() or "fr")
    return render(request, "web/home.html", {"calls": calls})


@require_GET
def dossier_schema(request):
    """The published JSON Schema of the dossier interchange format, version 1."""
    return JsonResponse(json_schema(), json_dumps_params={"ensure_ascii": False, "indent": 2})
