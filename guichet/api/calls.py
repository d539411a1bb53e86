"""Calls and waves, and a call's instruction list for its staff."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from guichet.api.pagination import cursor_after, next_cursor
from guichet.api.schemas import CallOut, DossierPage
from guichet.api.serialise import dossier_row, in_paris_or_none
from guichet.backoffice.selectors import ListFilters, instruction_list, keyset_page, staff_call
from guichet.calls.models import Call
from guichet.core.clock import now
from guichet.grants.selectors import allowances

router = Router(tags=["calls"])
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# The list's sorts, named as the API's fields (the pages use the same under French names).
SORTS = {"receipt_number": "numero", "-receipt_number": "-numero", "title": "titre",
         "-title": "-titre", "requested_aid": "aide", "-requested_aid": "-aide",
         "status": "etat", "-status": "-etat", "received_at": "recu", "-received_at": "-recu"}


def _call_out(call: Call, user) -> dict:
    """The call; what its waves can still commit only for the people who serve it."""
    remaining = allowances(call) if user.has_perm("review.view_call", call) else {}
    instant = now()
    return {"code": call.code, "name": call.name, "programme": call.programme.name,
            "envelope": call.programme.envelope, "status": call.status,
            "status_label": call.get_status_display(), "rules_version": call.rules_version,
            "waves": [{"code": wave.code, "name": wave.name,
                       "opens_at": in_paris_or_none(wave.opens_at),
                       "closes_at": in_paris_or_none(wave.closes_at),
                       "is_open": not call.is_closed and wave.is_open_at(instant),
                       "budget": wave.budget, "remaining": remaining.get(wave.pk)}
                      for wave in call.waves.order_by("position")]}


@router.get("", response=list[CallOut], summary="Les appels à projets")
def calls(request: HttpRequest):
    return [_call_out(call, request.user)
            for call in Call.objects.select_related("programme").order_by("code")]


@router.get("/{code}", response=CallOut, summary="Un appel à projets")
def call(request: HttpRequest, code: str):
    return _call_out(get_object_or_404(Call.objects.select_related("programme"), code=code),
                     request.user)


class ListQuery(Schema):
    """The instruction list's filters."""

    wave: str = ""
    status: str = ""
    eligible: bool | None = None
    scope: str = ""
    region: str = ""
    sector: str = ""
    min_aid: str = ""
    max_aid: str = ""
    sort: str = "receipt_number"
    q: str = ""
    label: int | None = None
    cursor: str = ""
    limit: int = PAGE_SIZE

    def filters(self) -> ListFilters:
        # The pages' own query form checks and converts every value (a bad one is ignored,
        # as on the list page).
        return ListFilters.from_query({
            "vague": self.wave, "etat": self.status,
            "eligible": {True: "yes", False: "no"}.get(self.eligible, ""),
            "portee": self.scope, "region": self.region, "filiere": self.sector,
            "aide_min": self.min_aid, "aide_max": self.max_aid,
            "tri": SORTS.get(self.sort, ""), "q": self.q, "etiquette": self.label or ""})


@router.get("/{code}/dossiers", response=DossierPage, summary="La liste d'instruction",
            description="Les dossiers déposés de l'appel, filtrés et triés comme sur la page "
                        "de la liste, pour son équipe d'instruction, son comité et ses "
                        "administrateurs.")
def instruction_dossiers(request: HttpRequest, code: str, query: Query[ListQuery]):
    found = staff_call(request.user, code)
    filters = query.filters()
    page = keyset_page(instruction_list(found, filters), filters.sort,
                       after=cursor_after(query.cursor),
                       size=max(1, min(query.limit, MAX_PAGE_SIZE)))
    return {"items": [dossier_row(dossier, found.code) for dossier in page.rows],
            "count": page.count,
            "next_cursor": next_cursor(page.next_after) if page.next_after else None}
