"""Full-text search over submitted dossiers: title, summary, members' names, SIRET and SIREN.

Each submission writes the dossier's search document (`search_text`); PostgreSQL searches it
with the French text-search configuration (stemmed: "formations" finds "formation"), through a
GIN index of its vector (migration 0006), and SQLite falls back to a case-insensitive substring
match of every word over the same text. Both the document and the query are written without
accents or ligatures (`unaccented`), so that "Helene Vasseur" finds "Hélène Vasseur" and
"oeuvre" finds "œuvre", as staff type on keyboards without accents.
"""

import re
import unicodedata

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q

CONFIG = "french"
# The indexed expression (migration 0006 builds the same): a query must repeat it to use it.
VECTOR = SearchVector("search_text", config=CONFIG)
MAX_QUERY = 200
LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def unaccented(text: str) -> str:
    """`text` without its accents and ligatures (letters of other scripts are kept). On SQLite,
    whose LIKE folds the case of ASCII letters only, it also makes "hélène" find "HÉLÈNE"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    return "".join(character for character in decomposed
                   if not unicodedata.combining(character))


def search_document(dossier) -> str:
    """The text a dossier is found by (`document_text` of its title, summary and members).
    The submission reads it from the members it has prefetched with their organisations
    (`dossier_queryset`): no query of its own."""
    return document_text(dossier.title, dossier.summary, dossier.consortium.members.all())


def document_text(title: str, summary: str, members) -> str:
    """Its title and summary, and for each member (with its organisation) the declared name,
    the organisation's name, SIRET and SIREN."""
    parts = [title, summary]
    for member in members:
        organisation = member.organisation
        parts += [member.name, organisation.name, organisation.siret, organisation.siret[:9]]
    return unaccented("\n".join(part for part in parts if part))


def _normalised(text: str) -> str:
    """The query without NUL characters nor accents, SIRET digits joined ("443 061 841
    00047")."""
    text = unaccented(text.replace("\x00", " ")[:MAX_QUERY])
    return re.sub(r"(?<=\d) (?=\d)", "", text).strip()


def matching(queryset, text: str):
    """The dossiers of `queryset` whose search document matches every word of `text`."""
    text = _normalised(text)
    if not text:
        return queryset
    if connection.vendor == "postgresql":
        return queryset.alias(search_vector=VECTOR).filter(
            search_vector=SearchQuery(text, config=CONFIG, search_type="websearch"))
    words = Q()
    for word in text.split():
        words &= Q(search_text__icontains=word)
    return queryset.filter(words)
