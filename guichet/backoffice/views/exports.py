"""Exports of a call's dossier list (CSV, XLSX, ODS), streamed whatever their size."""

import functools
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from guichet.backoffice.selectors import ListFilters, export_list, staff_call
from guichet.core import labels, spreadsheets
from guichet.core.fields import parse_id
from guichet.core.http import CSV, ODS, XLSX, file_download, mark_private
from guichet.dossiers.models import DossierStatus
from guichet.dossiers.presentation import answer_text
from guichet.rules.sections import all_questions

FORMATS = {"csv": CSV, "xlsx": XLSX, "ods": ODS}
# Rows read from the database at a time: one query per chunk, whatever the list's length.
CHUNK_SIZE = 2000
WIDTHS = (16, 50, 16, 22, 40, 26, 16, 26, 18, 18, 22)
SAVERS = {"xlsx": spreadsheets.save_xlsx, "ods": spreadsheets.save_ods}


@login_required
@require_GET
def dossier_export(request, code):
    """The list's dossiers (same filters, restricted to the `ids` given, if any) as
    `format` = csv (`separator` = comma or semicolon), xlsx or ods."""
    call = staff_call(request.user, code)
    kind = request.GET.get("format") or "csv"
    separator = request.GET.get("separator") or "comma"
    if kind not in FORMATS:
        return HttpResponseBadRequest(_("Format d'export inconnu : choisissez csv, xlsx ou ods."))
    if separator not in spreadsheets.SEPARATORS:
        return HttpResponseBadRequest(
            _("Séparateur inconnu : choisissez comma (virgule) ou semicolon (point-virgule)."))
    return export_response(request, call, kind, spreadsheets.SEPARATORS[separator])


def export_response(request, call, kind: str, separator: str = ","):
    """The export of the list filtered by the request's query string: CSV streamed row by
    row; XLSX and ODS written row by row into a temporary file, then streamed from it."""
    ids = [number for number in map(parse_id, request.GET.getlist("ids")) if number]
    queryset = export_list(call, ListFilters.from_query(request.GET), ids)
    rows = export_rows(queryset, call.rules(), translation.get_language())
    filename = f"dossiers-{call.code}.{kind}"
    if kind == "csv":
        response = StreamingHttpResponse(
            spreadsheets.stream_csv(export_header(call.rules()), rows, excel=True,
                                    separator=separator),
            content_type=CSV)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return mark_private(response)
    sheet = spreadsheets.Sheet(_("Dossiers"), export_header(call.rules()), rows, widths=WIDTHS,
                               text_columns=frozenset({0}))
    return file_download(lambda file: SAVERS[kind]([sheet], file), FORMATS[kind], filename)


def export_header(rules) -> list[str]:
    """The list's columns, then one per question of the call's own sections (a file question
    has its attachment, not an answer)."""
    return [_("Numéro"), _("Titre"), _("Vague"), _("État"), _("Chef de file"),
            _("Région du chef de file"), _("Portée"), _("Filière"), _("Aide demandée (€)"),
            _("Verdict à réception"), _("Reçu le (heure de Paris)"),
            *[labels.of(question) for question in _answered_questions(rules)]]


def _answered_questions(rules):
    return [question for question in all_questions(rules.sections) if question.type != "file"]


def export_rows(queryset, rules, language: str):
    """The list's rows as people read them: labels, never codes (the language is fixed here
    because a streamed response is read after the view returns). Each label is looked up once
    per export: translating it again on each of 100 000 rows took most of the time."""
    with translation.override(language):
        verdicts = {True: _("éligible"), False: _("non éligible")}
        statuses = {status: str(name) for status, name in DossierStatus.choices}
        region = functools.cache(functools.partial(labels.label, "region"))
        scope = functools.cache(functools.partial(labels.label, "scope"))
        sector = functools.cache(functools.partial(labels.call_label, rules, "sectors"))
        questions = _answered_questions(rules)
        for dossier in queryset.iterator(chunk_size=CHUNK_SIZE):
            answers = dossier.answer_values or {}
            yield (dossier.receipt_number, dossier.title,
                   dossier.wave.name if dossier.wave else "", statuses[dossier.status],
                   dossier.lead_name or "", region(dossier.lead_region), scope(dossier.scope),
                   sector(dossier.sector), dossier.requested_aid,
                   verdicts.get(dossier.eligible_at_receipt, ""), dossier.received_at,
                   *[_cell(question, answers.get(question.id), rules) for question in questions])


def _cell(question, value, rules):
    """An answer in a cell: a number stays a number, anything else reads as on the page."""
    if value is None:
        return ""
    if question.type == "number":
        return value if isinstance(value, int) else Decimal(value)
    return answer_text(question, value, rules)
