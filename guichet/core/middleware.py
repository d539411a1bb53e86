"""French first (the language switch, not the browser, decides), and private responses."""

from django.utils import translation

from guichet.core.http import mark_private


class FrenchUnlessChosenMiddleware:
    """Drop the browser's Accept-Language so that LocaleMiddleware only follows the language
    cookie set by the switch (a French public service does not guess from the browser)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class PersonLanguageMiddleware:
    """A signed-in person reads the pages in the language of their account, whatever the
    language cookie says (after LocaleMiddleware and authentication, which it overrides)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = getattr(request.user, "language", None)
        if request.user.is_authenticated and language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


class PrivateWhenSignedInMiddleware:
    """Whatever is served to a signed-in person (pages, documents, receipts, exports) is
    theirs alone: no shared cache may keep it, and the browser keeps no copy on disk."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            mark_private(response)
        return response
