"""An organisation's public record, by SIRET, from the State's company search.

"API Recherche d'entreprises" (`GET {COMPANY_SEARCH_URL}/search?q=<siret>`) answers with the
legal units matching the text, each with its head office (`siege`) and the establishments that
matched (`matching_etablissements`). Its answer is read as untrusted input: only the
establishment whose SIRET is the one asked for counts, and every value is checked before it is
shown. A slow or failing service costs at most COMPANY_SEARCH_TIMEOUT seconds and says so; the
person then types the details in, as before.
"""

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from guichet.core import labels
from guichet.core.text import has_control_characters
from guichet.rules.siret import is_valid_siret, normalise_siret

MAX_ANSWER_BYTES = 2_000_000
ACTIVITY_CODE = re.compile(r"^\d{2}\.\d{2}[A-Z]$")  # NAF rev. 2, e.g. 85.59A
LEGAL_FORM = re.compile(r"^\d{4}$")  # INSEE legal category, level III


class CompanySearchUnavailable(Exception):
    """The service did not answer in time, or answered something that is not its format."""


@dataclass(frozen=True)
class CompanyRecord:
    siret: str
    name: str
    address: str = ""
    legal_form: str = ""
    activity_code: str = ""
    region: str = ""


def lookup_company(siret: str) -> CompanyRecord | None:
    """The public record of the establishment `siret` (a valid SIRET), or None if the service
    knows none; raises CompanySearchUnavailable when it cannot tell."""
    key = f"company-search:{siret}"
    cached = cache.get(key)
    if cached is not None:
        return CompanyRecord(**cached) if cached else None
    record = _record_from(_fetch(siret), siret)
    cache.set(key, asdict(record) if record else {}, settings.COMPANY_SEARCH_CACHE_SECONDS)
    return record


def _fetch(siret: str) -> dict:
    url = f"{settings.COMPANY_SEARCH_URL.rstrip('/')}/search?" + urllib.parse.urlencode(
        {"q": siret, "page": 1, "per_page": 5})
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=settings.COMPANY_SEARCH_TIMEOUT) as answer:
            body = answer.read(MAX_ANSWER_BYTES + 1)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise CompanySearchUnavailable(str(exc)) from None
    if len(body) > MAX_ANSWER_BYTES:
        raise CompanySearchUnavailable("answer too large")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise CompanySearchUnavailable("not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise CompanySearchUnavailable("not the search format")
    return data


def _record_from(data: dict, siret: str) -> CompanyRecord | None:
    for unit in data["results"]:
        if not isinstance(unit, dict):
            continue
        establishments = [unit.get("siege"), *(unit.get("matching_etablissements") or [])]
        place = next((item for item in establishments
                      if isinstance(item, dict) and item.get("siret") == siret), None)
        name = _text(unit.get("nom_raison_sociale")) or _text(unit.get("nom_complet"))
        if place is None or not name:
            continue
        return CompanyRecord(
            siret=siret, name=name, address=_text(place.get("adresse")),
            legal_form=_matching(unit.get("nature_juridique"), LEGAL_FORM),
            activity_code=_matching(place.get("activite_principale")
                                    or unit.get("activite_principale"), ACTIVITY_CODE),
            region=_region(place.get("region")))
    return None


def _text(value, limit: int = 300) -> str:
    """One line of plain text, or "" for anything else (a NUL, a line break, a number…)."""
    if not isinstance(value, str) or has_control_characters(value) or len(value) > limit:
        return ""
    return value.strip()


def _matching(value, pattern: re.Pattern) -> str:
    return value if isinstance(value, str) and pattern.match(value) else ""


def _region(value) -> str:
    return value if isinstance(value, str) and value in labels.REGIONS else ""


def invalid_siret_message(siret: str) -> str:
    return _("Le SIRET %(siret)s n'est pas valide : 14 chiffres avec une clé de contrôle "
             "correcte.") % {"siret": siret}


@dataclass(frozen=True)
class Lookup:
    """What the organisation form shows after a search: the values it starts from, and a
    message saying what the search found (`level`: a DSFR alert kind)."""

    siret: str
    initial: dict
    message: str
    level: str


def look_up_organisation(text: str) -> Lookup:
    """Search the SIRET typed in `text`; never raises: a wrong SIRET or a silent service leaves
    the form to be typed in, with the reason."""
    siret = normalise_siret(text)
    if not is_valid_siret(siret):
        return Lookup(text, {"siret": text}, invalid_siret_message(siret), "error")
    try:
        record = lookup_company(siret)
    except CompanySearchUnavailable:
        return Lookup(siret, {"siret": siret}, _(
            "L'annuaire des entreprises ne répond pas pour l'instant : saisissez les "
            "informations de l'organisme vous-même."), "warning")
    if record is None:
        return Lookup(siret, {"siret": siret}, _(
            "L'annuaire des entreprises ne connaît pas d'établissement avec ce SIRET : "
            "vérifiez-le, ou saisissez les informations vous-même."), "info")
    return Lookup(siret, asdict(record), _(
        "Informations reprises de l'annuaire des entreprises : vérifiez-les, puis "
        "enregistrez l'organisme."), "success")
