"""Dossiers through the API: the applicant's own (read, start, fill, upload, submit) and, for
staff and experts, the ones the pages open to them. Each operation calls the service the
portal's page calls, after the same form's checks."""

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from guichet.api.auth import require_write
from guichet.api.pagination import cursor_after, next_cursor
from guichet.api.problems import Problem
from guichet.api.schemas import (
    AnswersIn,
    DocumentOut,
    DossierOut,
    DossierPage,
    ExpenseIn,
    FinancingIn,
    MilestoneIn,
    ProjectIn,
    ReceiptOut,
    StartIn,
    VerdictOut,
)
from guichet.api.serialise import dossier_row, in_paris_or_none
from guichet.api.validation import validated
from guichet.backoffice.selectors import staff_dossier
from guichet.calls.models import Call
from guichet.core import labels
from guichet.core.http import PDF
from guichet.dossiers import editing, membership
from guichet.dossiers.documents import pdf_file_response, upload_document
from guichet.dossiers.format import (
    answers_version,
    dossier_queryset,
    export_dossier,
    to_format,
)
from guichet.dossiers.models import Document, Dossier
from guichet.dossiers.permissions import EDITABLE_STATUSES
from guichet.dossiers.receipt import receipt_data
from guichet.dossiers.services import AlreadySubmitted, submit
from guichet.portal import forms
from guichet.portal.receipts import receipt_pdf_response
from guichet.rules import dossier as fmt
from guichet.rules.eligibility import evaluate

router = Router(tags=["dossiers"])
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def own_dossier(user, pk: int) -> Dossier | None:
    """The dossier, if the person takes part in it."""
    return membership.dossiers_of(user).select_related("call").filter(pk=pk).first()


def _readable(user, pk: int) -> tuple[Dossier, bool]:
    """The dossier and whether the person takes part in it; else one staff or a
    non-conflicted expert may open (a 404 otherwise, as on the pages)."""
    own = own_dossier(user, pk)
    if own is not None:
        return own, True
    return staff_dossier(user, pk), False


def _own_or_404(user, pk: int) -> Dossier:
    own = own_dossier(user, pk)
    if own is None:
        raise Http404
    return own


def _etag(dossier: Dossier) -> str:
    return f'"{dossier.version}"'


def _dossier_answer(dossier: Dossier, as_participant: bool, response: HttpResponse) -> dict:
    editable = as_participant and dossier.status in EDITABLE_STATUSES
    document = (fmt.canonical_json(to_format(dossier_queryset().get(pk=dossier.pk)))
                if editable else export_dossier(dossier))
    response["ETag"] = _etag(dossier)
    return {"id": dossier.pk, "call": dossier.call.code, "status": dossier.status,
            "status_label": dossier.get_status_display(),
            "receipt_number": dossier.receipt_number, "version": dossier.version,
            "editable": editable, "document": json.loads(document),
            "answers_version": answers_version(dossier),
            "documents": [_document_out(item) for item in dossier.documents.order_by("pk")]}


def _document_out(document: Document) -> dict:
    return {"id": document.pk, "kind": document.kind, "name": document.original_name,
            "sha256": document.sha256, "size": document.size}


@router.get("", response=DossierPage, summary="Vos dossiers",
            description="Les dossiers auxquels vous participez, du plus ancien au plus récent.")
def my_dossiers(request: HttpRequest, cursor: str = "", limit: int = PAGE_SIZE):
    after = cursor_after(cursor)
    queryset = membership.dossiers_of(request.user).select_related("call", "wave")
    page = list(queryset.filter(pk__gt=after or 0).order_by("pk")[:_size(limit) + 1])
    rows = page[:_size(limit)]
    return {"items": [dossier_row(dossier, dossier.call.code) for dossier in rows],
            "count": queryset.count(),
            "next_cursor": next_cursor(rows[-1].pk) if len(page) > len(rows) else None}


def _size(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE_SIZE))


@router.post("", response={201: DossierOut}, summary="Commencer un dossier")
def start(request: HttpRequest, response: HttpResponse, data: StartIn):
    require_write(request)
    call = get_object_or_404(Call, code=data.call)
    form = validated(forms.StartDossierForm(
        {"call": call.code, "organisation": _organisation_pk(request.user, data.organisation),
         "kind": data.kind, "title": data.title},
        organisations=membership.organisations_of(request.user), calls=[call]))
    dossier = membership.start_dossier(request.user, call, form.cleaned_data["organisation"],
                                       form.cleaned_data["kind"], form.cleaned_data["title"])
    return Status(201, _dossier_answer(_own_or_404(request.user, dossier.pk), True, response))


def _organisation_pk(user, siret: str) -> int | None:
    organisation = membership.organisations_of(user).filter(siret=siret.replace(" ", "")).first()
    if organisation is None:
        raise Problem(422, _not_affiliated(), code="invalid", field="organisation")
    return organisation.pk


def _not_affiliated() -> str:
    return _("Vous n'agissez pas pour cet organisme : déclarez-le d'abord sur votre tableau "
             "de bord.")


@router.get("/{pk}", response=DossierOut, summary="Un dossier")
def dossier(request: HttpRequest, response: HttpResponse, pk: int):
    found, as_participant = _readable(request.user, pk)
    return _dossier_answer(found, as_participant, response)


IF_MATCH = {"parameters": [{
    "in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
    "description": "L'ETag du dossier lu en dernier, ex. \"3\"."}]}


@router.patch("/{pk}", response=DossierOut, summary="Modifier le projet",
              openapi_extra=IF_MATCH,
              description="Seuls les champs envoyés changent. L'en-tête If-Match porte l'ETag "
                          "lu en dernier : une modification faite depuis est refusée (412).")
def update_project(request: HttpRequest, response: HttpResponse, pk: int, data: ProjectIn):
    require_write(request)
    own = _own_or_404(request.user, pk)
    version = _if_match(request)
    sent = data.model_dump(exclude_unset=True)
    form = validated(forms.ProjectForm({**sent, "version": version},
                                       sectors=labels.call_choices(own.call.rules(), "sectors")))
    editing.update_project(own, request.user, version,
                           {name: form.cleaned_data[name] for name in sent})
    return _dossier_answer(_own_or_404(request.user, pk), True, response)


@router.patch("/{pk}/answers/{section}", response=DossierOut,
              summary="Répondre aux questions d'une section de l'appel", openapi_extra=IF_MATCH,
              description="Le corps associe l'identifiant de chaque question de la section "
                          "(voir la définition de l'appel) à sa réponse ; null la retire, les "
                          "autres questions gardent leur réponse. Un nombre à décimales "
                          "s'écrit en chaîne (\"12.50\"). If-Match porte answers_version : "
                          "une modification faite depuis est refusée (412).")
def update_answers(request: HttpRequest, response: HttpResponse, pk: int, section: str,
                   data: AnswersIn):
    require_write(request)
    own = _own_or_404(request.user, pk)
    editing.update_answers(own, request.user, _if_match(request), section, data.answers())
    return _dossier_answer(_own_or_404(request.user, pk), True, response)


def _if_match(request: HttpRequest) -> int:
    sent = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
    if not sent:
        raise Problem(428, _("Envoyez l'en-tête If-Match avec l'ETag du dossier lu en "
                             "dernier."), code="if_match_required", field="If-Match")
    if not sent.isdigit() or len(sent) > 9:
        raise Problem(412, _("L'en-tête If-Match ne correspond à aucune version du dossier."),
                      code="edit_conflict", field="If-Match")
    return int(sent)


@router.post("/{pk}/milestones", response={201: DossierOut}, summary="Ajouter un jalon")
def add_milestone(request: HttpRequest, response: HttpResponse, pk: int, data: MilestoneIn):
    require_write(request)
    own = _own_or_404(request.user, pk)
    form = validated(forms.MilestoneForm(data.model_dump()))
    editing.add_milestone(own, request.user, **form.cleaned_data)
    return Status(201, _dossier_answer(_own_or_404(request.user, pk), True, response))


@router.post("/{pk}/expenses", response={201: DossierOut}, summary="Ajouter une dépense")
def add_expense(request: HttpRequest, response: HttpResponse, pk: int, data: ExpenseIn):
    require_write(request)
    own = _own_or_404(request.user, pk)
    members = own.consortium.members.select_related("organisation")
    form = validated(forms.ExpenseForm(
        {**data.model_dump(), "member": _member_pk(members, data.member)}, members=members,
        categories=labels.call_choices(own.call.rules(), "expense_categories")))
    editing.add_expense(own, request.user, editing.ExpenseInput(**form.cleaned_data))
    return Status(201, _dossier_answer(_own_or_404(request.user, pk), True, response))


@router.post("/{pk}/financing", response={201: DossierOut},
             summary="Ajouter un financement")
def add_financing(request: HttpRequest, response: HttpResponse, pk: int, data: FinancingIn):
    require_write(request)
    own = _own_or_404(request.user, pk)
    members = own.consortium.members.select_related("organisation")
    member = _member_pk(members, data.member) if data.member else None
    form = validated(forms.FinancingForm(
        {**data.model_dump(), "member": member}, members=members,
        sources=list(fmt.FINANCING_SOURCES)))
    editing.add_financing(own, request.user, editing.FinancingInput(**form.cleaned_data))
    return Status(201, _dossier_answer(_own_or_404(request.user, pk), True, response))


def _member_pk(members, siret: str) -> int | None:
    # An unknown SIRET is left to the form, which names the field.
    return next((member.pk for member in members
                 if member.organisation.siret == siret.replace(" ", "")), None)


@router.post("/{pk}/documents", response={201: DocumentOut}, summary="Déposer une pièce",
             description="Un PDF, vérifié comme sur le portail (taille, structure, contenu "
                         "actif).")
def add_document(request: HttpRequest, pk: int, kind: Form[str], file: File[UploadedFile]):
    require_write(request)
    own = _own_or_404(request.user, pk)
    form = validated(forms.DocumentForm(
        {"kind": kind}, {"file": file},
        kinds=labels.call_choices(own.call.rules(), "attachments")))
    document = upload_document(own, request.user, form.cleaned_data["kind"],
                               form.cleaned_data["file"])
    return Status(201, _document_out(document))


@router.get("/{pk}/documents/{document_pk}", summary="Télécharger une pièce",
            response={200: None}, openapi_extra={"responses": {200: {
                "description": "Le PDF.",
                "content": {PDF: {"schema": {"type": "string", "format": "binary"}}}}}})
def document_file(request: HttpRequest, pk: int, document_pk: int):
    found, _as_participant = _readable(request.user, pk)
    document = get_object_or_404(found.documents, pk=document_pk)
    return pdf_file_response(document.file, f"{document.sha256[:12]}.pdf")


@router.post("/{pk}/submit", response={200: ReceiptOut, 201: ReceiptOut},
             summary="Déposer le dossier",
             description="Certifie et dépose le dossier ; la réponse est l'accusé de réception "
                         "(201). Envoyé de nouveau pour un dossier déjà déposé, il répond le "
                         "même accusé (200), pas une erreur.")
def deposit(request: HttpRequest, pk: int):
    require_write(request)
    own = _own_or_404(request.user, pk)
    try:
        submit(own, by=request.user)
        status = 201
    except AlreadySubmitted:
        status = 200
    return Status(status, _receipt(_own_or_404(request.user, pk)))


@router.get("/{pk}/receipt", response=ReceiptOut, summary="L'accusé de réception")
def receipt(request: HttpRequest, pk: int):
    found, _as_participant = _readable(request.user, pk)
    return _receipt(found)


def _receipt(found: Dossier) -> dict:
    data = receipt_data(found)
    if data is None:
        raise Http404
    return {"dossier": found.pk, "receipt_number": data.receipt_number,
            "version": data.version, "received_at": in_paris_or_none(data.received_at),
            "sha256": data.sha256, "eligible": data.eligible,
            "failed_rules": [str(rule) for rule in data.failed_rules],
            "pdf": reverse("api-v1:receipt_pdf", kwargs={"pk": found.pk})}


@router.get("/{pk}/verdict", response=VerdictOut, summary="Le verdict automatique",
            description="Chaque règle de l'appel, respectée ou non, avec la valeur du dossier "
                        "et la limite. Pour ses participants, un dossier modifiable est jugé "
                        "tel qu'il est ; sinon, c'est le verdict figé de la dernière version "
                        "déposée.")
def verdict(request: HttpRequest, pk: int):
    found, as_participant = _readable(request.user, pk)
    if as_participant and found.status in EDITABLE_STATUSES:
        kinds = set(found.documents.values_list("kind", flat=True))
        live = evaluate(to_format(dossier_queryset().get(pk=found.pk)), found.call.rules(),
                        documents=kinds)
        return {"dossier": found.pk, "frozen": False, "version": None, "received_at": None,
                **live.to_dict()}
    latest = found.submissions.order_by("-version").first()
    if latest is None:
        raise Http404
    return {"dossier": found.pk, "frozen": True, "version": latest.version,
            "received_at": in_paris_or_none(latest.received_at), **latest.verdict}


@router.get("/{pk}/receipt.pdf", summary="L'accusé de réception en PDF", url_name="receipt_pdf",
            response={200: None}, openapi_extra={"responses": {200: {
                "description": "Le PDF.",
                "content": {PDF: {"schema": {"type": "string", "format": "binary"}}}}}})
def receipt_pdf_file(request: HttpRequest, pk: int):
    found, _as_participant = _readable(request.user, pk)
    return receipt_pdf_response(found)

