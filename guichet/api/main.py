"""The API's entry point: `/api/v1/`, its OpenAPI document and its documentation page."""

from django.http import HttpRequest
from ninja import NinjaAPI

from guichet.api import calls, dossiers, grants, problems
from guichet.api.auth import TokenAuth, TokenThrottle
from guichet.api.schemas import TokenOut


class GuichetAPI(NinjaAPI):
    def get_openapi_schema(self, **options):
        return problems.documented(super().get_openapi_schema(**options))


api = GuichetAPI(
    title="Guichet", version="1", urls_namespace="api-v1", auth=TokenAuth(),
    throttle=[TokenThrottle()], openapi_url="/openapi.json", docs_url=None,
    description="L'API de Guichet : un jeton personnel (votre compte, « Jetons d'API ») agit "
                "avec exactement vos droits. Chaque refus est un document RFC 9457.")
problems.register(api)
api.add_router("/calls", calls.router)
api.add_router("/dossiers", dossiers.router)
api.add_router("", grants.router)


@api.get("/me", response=TokenOut, summary="Le jeton présenté et son titulaire", tags=["token"])
def me(request: HttpRequest):
    token = request.auth
    return {"id": token.pk, "name": token.name, "scope": token.scope,
            "owner": token.owner.email}
