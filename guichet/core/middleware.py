"""French first: the interface is in French unless the person chose English with the switch."""


class FrenchUnlessChosenMiddleware:
    """Drop the browser's Accept-Language so that LocaleMiddleware only follows the language
    cookie set by the switch (a French public service does not guess from the browser)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
