"""What staff pages show, scoped to the calls a person serves, in bounded queries."""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from guichet.calls.models import Call
from guichet.core import labels
from guichet.core.fields import AmountField
from guichet.dossiers import search
from guichet.dossiers.format import submitted_envelope
from guichet.dossiers.models import (
    ConsortiumMember,
    Dossier,
    DossierStatus,
    Submission,
    WaveArchive,
)
from guichet.dossiers.presentation import DossierSheet, dossier_sheet
from guichet.dossiers.selectors import participants_of
from guichet.grants.models import Decision, DecisionStatus, SelectionRun
from guichet.review import committee, instruction, scoring
from guichet.review.models import (
    Assignment,
    CallRole,
    Conflict,
    ExpertProfile,
    Instruction,
    Label,
    Role,
    SavedFilter,
)

SORTS = {"numero": "receipt_number", "-numero": "-receipt_number", "titre": "title",
         "-titre": "-title", "aide": "requested_aid", "-aide": "-requested_aid",
         "etat": "status", "-etat": "-status", "recu": "received_at", "-recu": "-received_at"}


STAFF_ROLES = ("instructor", "committee", "administrator")


def staff_calls(user):
    """The calls a person serves as staff (an expert only reviews what is assigned)."""
    return Call.objects.filter(roles__user=user, roles__role__in=STAFF_ROLES).distinct()\
        .order_by("code")


# Who may open a back-office page, said to a staff member whose role does not allow it.
PAGE_HOLDERS = {
    "review.view_call": _("à l'équipe d'instruction, au comité de sélection et aux "
                          "administrateurs de l'appel"),
    "review.manage_experts": _("aux instructeurs et aux administrateurs de l'appel"),
    "review.select": _("au comité de sélection et aux administrateurs de l'appel"),
    "review.publish_decisions": _("aux administrateurs de l'appel"),
    "calls.manage_mail_texts": _("aux administrateurs de l'appel"),
    "calls.edit_definition": _("aux administrateurs de l'appel"),
}


NOT_ALLOWED = _("Vous n'avez pas le droit de faire cette action.")


def refuse_page(permission: str) -> PermissionDenied:
    """The refusal (403) shown to someone signed in whose role does not open the page."""
    return PermissionDenied(_("Cette page est réservée %(holders)s.")
                            % {"holders": PAGE_HOLDERS[permission]})


def staff_call(user, code: str, permission: str = "review.view_call") -> Call:
    """A call on which the person holds `permission`. A call they serve in another role is a
    403 that says who may open the page; a call they do not serve is a 404 (its existence is
    not revealed)."""
    call = get_object_or_404(Call.objects.filter(roles__user=user).distinct(), code=code)
    if not user.has_perm(permission, call):
        raise refuse_page(permission)
    return call


class ListFilterForm(forms.Form):
    """The list's query string: text filters lose no NUL into SQL, amounts are typed euros."""

    vague = forms.CharField(required=False, max_length=64)
    etat = forms.CharField(required=False, max_length=32)
    eligible = forms.ChoiceField(required=False, choices=[("yes", "yes"), ("no", "no")])
    portee = forms.CharField(required=False, max_length=32)
    region = forms.CharField(required=False, max_length=8)
    filiere = forms.CharField(required=False, max_length=64)
    aide_min = AmountField(required=False)
    aide_max = AmountField(required=False)
    tri = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS])
    q = forms.CharField(required=False, max_length=200)
    etiquette = forms.IntegerField(required=False, min_value=1)


@dataclass(frozen=True)
class ListFilters:
    wave: str = ""
    status: str = ""
    eligible: str = ""  # "yes", "no" or ""
    scope: str = ""
    region: str = ""
    sector: str = ""
    min_aid: Decimal | None = None
    max_aid: Decimal | None = None
    sort: str = "numero"
    search: str = ""
    label: int | None = None

    @classmethod
    def from_query(cls, query) -> "ListFilters":
        """The filters of a query string; a value that is not a valid filter is ignored."""
        form = ListFilterForm(query)
        form.is_valid()
        data = form.cleaned_data  # holds the valid fields only
        return cls(wave=data.get("vague", ""), status=data.get("etat", ""),
                   eligible=data.get("eligible", ""), scope=data.get("portee", ""),
                   region=data.get("region", ""), sector=data.get("filiere", ""),
                   min_aid=data.get("aide_min"), max_aid=data.get("aide_max"),
                   sort=data.get("tri") or "numero", search=data.get("q", ""),
                   label=data.get("etiquette"))


def instruction_list(call: Call, filters: ListFilters):
    """Submitted dossiers of a call, filtered and sorted in SQL (a fixed number of queries
    whatever the page size: the lead's name and region come from subqueries on the page rows)."""
    lead = ConsortiumMember.objects.filter(consortium=OuterRef("consortium"), is_lead=True)
    queryset = Dossier.objects.filter(call=call).exclude(status=DossierStatus.DRAFT)
    if filters.wave:
        queryset = queryset.filter(wave__code=filters.wave)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.eligible in ("yes", "no"):
        queryset = queryset.filter(eligible_at_receipt=filters.eligible == "yes")
    if filters.scope:
        queryset = queryset.filter(scope=filters.scope)
    if filters.sector:
        queryset = queryset.filter(sector=filters.sector)
    if filters.region:
        in_region = ConsortiumMember.objects.filter(consortium=OuterRef("consortium"),
                                                    organisation__region=filters.region)
        queryset = queryset.filter(Exists(in_region))
    if filters.min_aid is not None:
        queryset = queryset.filter(requested_aid__gte=filters.min_aid)
    if filters.max_aid is not None:
        queryset = queryset.filter(requested_aid__lte=filters.max_aid)
    if filters.label:
        queryset = queryset.filter(labels=filters.label)
    queryset = search.matching(queryset, filters.search)
    return queryset.select_related("wave", "instructor_assignment__instructor").prefetch_related(
        "labels").annotate(
        lead_name=Subquery(lead.values("name")[:1]),
        lead_region=Subquery(lead.values("organisation__region")[:1]),
    ).order_by(*list_order(filters.sort)).only(
        "pk", "receipt_number", "title", "status", "scope", "sector", "requested_aid",
        "eligible_at_receipt", "received_at", "wave__code", "wave__name", "call_id",
        "consortium_id", "instructor_assignment__instructor__email")


def export_list(call: Call, filters: ListFilters, ids: list[int] | None = None):
    """The rows of the list's export: the list's dossiers, filtered and sorted the same way,
    restricted to `ids` when given (an id outside the list is ignored), with the instant the
    dossier was received, as the list shows it, and its answers to the call's questions."""
    # The export shows no labels: without their prefetch, each chunk of rows is read alone.
    queryset = instruction_list(call, filters).prefetch_related(None).annotate(
        answer_values=F("answers__values"))
    return queryset.filter(pk__in=ids) if ids else queryset


def wave_archives(call: Call, limit: int = 10):
    """The latest wave archives asked for on a call, with who asked (one query)."""
    return WaveArchive.objects.filter(wave__call=call).select_related(
        "wave", "requested_by")[:limit]


def list_order(sort: str, *, backwards: bool = False) -> tuple:
    """The list's order for a sort key: the column (empty values last going up, first going
    down, on every database), then the id; `backwards` reverses it (a previous page)."""
    column = SORTS[sort].removeprefix("-")
    descending = SORTS[sort].startswith("-") != backwards
    by_column = F(column).desc(nulls_first=True) if descending else F(column).asc(
        nulls_last=True)
    return by_column, "-pk" if backwards else "pk"


def _beyond(sort: str, value, pk: int, *, backwards: bool) -> Q:
    """The rows after the row (`value`, `pk`) in the list's order (before it, `backwards`)."""
    column = SORTS[sort].removeprefix("-")
    descending = SORTS[sort].startswith("-") != backwards
    id_beyond = Q(pk__lt=pk) if backwards else Q(pk__gt=pk)
    empty = Q(**{f"{column}__isnull": True})
    if value is None:  # empty values come last going up, first going down
        return empty & id_beyond if not descending else (empty & id_beyond) | ~empty
    beyond_value = Q(**{f"{column}__lt" if descending else f"{column}__gt": value})
    same_value = Q(**{column: value}) & id_beyond
    return beyond_value | same_value if descending else beyond_value | same_value | empty


@dataclass
class KeysetPage:
    """A page of the list reached from a neighbouring row (keyset pagination): the database
    seeks to it through the sort index instead of counting off every row before it, so a deep
    page costs what the first one does."""
    rows: list
    count: int
    number: int
    num_pages: int
    next_after: int | None  # the last row's id, when a next page exists
    previous_before: int | None  # the first row's id, when a previous page exists


def keyset_page(queryset, sort: str, *, after: int | None = None,
                before: int | None = None, size: int = 50) -> KeysetPage:
    """The page right after the row `after`, or right before the row `before`, or the first
    one (also when the row named is not in the list, e.g. after a filter changed)."""
    column = SORTS[sort].removeprefix("-")
    anchor_id = after or before
    anchor = queryset.filter(pk=anchor_id).values(column).first() if anchor_id else None
    backwards = anchor is not None and after is None
    page = queryset
    if anchor is not None:
        page = page.filter(_beyond(sort, anchor[column], anchor_id, backwards=backwards))
    rows = list(page.order_by(*list_order(sort, backwards=backwards))[:size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    count = queryset.count()
    earlier = queryset.filter(_beyond(sort, getattr(rows[0], column), rows[0].pk,
                                      backwards=True)).count() if rows else 0
    return KeysetPage(
        rows=rows, count=count, number=earlier // size + 1,
        num_pages=max((count + size - 1) // size, 1),
        next_after=rows[-1].pk if rows and (more or backwards) else None,
        previous_before=rows[0].pk if rows and earlier else None)


def staff_dossier(user, pk: int, permission: str = "") -> Dossier:
    """A dossier the person may open as staff or as a non-conflicted assigned expert (else a
    404: its existence is not revealed), on which they hold `permission` if one is named (else
    a 403)."""
    # Staff read the frozen submission, never the live draft: no prefetch of its lines.
    dossier = get_object_or_404(Dossier.objects.select_related("call", "consortium"), pk=pk)
    if not user.has_perm("review.view_dossier", dossier):
        raise Http404
    if permission and not user.has_perm(permission, dossier):
        raise PermissionDenied(NOT_ALLOWED)
    return dossier


def expert_assignments(user):
    conflicted = Conflict.objects.filter(expert=OuterRef("expert"), dossier=OuterRef("dossier"))
    return Assignment.objects.filter(expert__user=user).exclude(Exists(conflicted))\
        .select_related("dossier", "dossier__call", "expert").order_by("dossier__receipt_number")


def roles_by_call(user) -> dict[int, set[str]]:
    roles: dict[int, set[str]] = {}
    for call_id, role in CallRole.objects.filter(user=user).values_list("call_id", "role"):
        roles.setdefault(call_id, set()).add(role)
    return roles


def has_any_staff_role(user) -> bool:
    return user.is_authenticated and CallRole.objects.filter(user=user).exclude(
        Q(role="expert")).exists()


def call_instructors(call):
    """The people who may be put in charge of a call's dossiers."""
    return get_user_model().objects.filter(call_roles__call=call,
                                           call_roles__role=Role.INSTRUCTOR).order_by("email")


def call_labels(call):
    return Label.objects.filter(call=call)


def saved_filters(user, call):
    return SavedFilter.objects.filter(user=user, call=call)


def call_experts(call):
    """The call's expert pool, as the choices of a form."""
    return ExpertProfile.objects.filter(call=call).select_related("user")


def submitted_sheet(dossier: Dossier) -> tuple[Submission | None, DossierSheet | None]:
    """The latest submission of the dossier and the whole of it as reviewers read it, with
    what changed since the version before (two queries: the versions and the documents)."""
    versions = list(dossier.submissions.order_by("-version")[:2])
    if not versions:
        return None, None
    latest = versions[0]
    previous = submitted_envelope(versions[1].snapshot) if len(versions) > 1 else None
    return latest, dossier_sheet(dossier.call, submitted_envelope(latest.snapshot),
                                 documents=dossier.documents.all(),
                                 verdict=latest.verdict.get("results", []), previous=previous)


def dossier_page_data(dossier: Dossier, user) -> dict:
    """What the staff page of a dossier shows to `user`, besides the action forms, in a fixed
    number of queries whatever the size of the expert pool and the number of reviews."""
    submission, sheet = submitted_sheet(dossier)
    see_scores = user.has_perm("review.view_scores", dossier)
    aggregate = scoring.aggregates(dossier.call, [dossier.pk])[dossier.pk] if see_scores else None
    return {
        "dossier": dossier, "submission": submission, "sheet": sheet,
        "instruction": Instruction.objects.filter(dossier=dossier).first(),
        "corrections": dossier.correction_requests.order_by("-requested_at"),
        "thread": instruction.thread(dossier, user),
        "assignments": dossier.assignments.select_related("expert__user")
        .prefetch_related("scores") if see_scores else [],
        "aggregate": aggregate, "see_scores": see_scores,
        "can_instruct": user.has_perm("review.instruct", dossier),
        "can_decide": user.has_perm("review.prepare_decision", dossier),
        "can_revert": user.has_perm("review.revert_decision", dossier),
        "can_note": user.has_perm("review.write_note", dossier),
        **workbench_data(dossier, user),
        "can_assign": user.has_perm("review.assign_experts", dossier.call),
        "can_archive": user.has_perm("review.view_call", dossier.call),
        "decision": Decision.objects.filter(dossier=dossier).exclude(
            status=DecisionStatus.REVERTED).first(),
    }


def committee_page_data(wave, user) -> dict:
    """What the committee page of a wave shows: the ranking, the last simulation, the budget,
    the decisions awaiting publication."""
    call = wave.call
    ranking = committee.ranking(wave, decided=True)
    run = SelectionRun.objects.filter(wave=wave).order_by("-created_at", "-pk").first()
    undecided = [row for row in ranking if row.dossier.status == DossierStatus.INSTRUCTED]
    return {
        "ranking": ranking, "undecided": undecided, "last_run": run,
        "run": committee.describe(run) if run else None,
        "read_only": bool(ranking) and not undecided,
        "budget": committee.available_budget(wave),
        "objective": labels.label("objective", call.rules().selection.objective),
        "pending": Decision.objects.filter(dossier__wave=wave, status=DecisionStatus.PENDING)
        .select_related("dossier"),
        "can_publish": user.has_perm("review.publish_decisions", call)}


@dataclass(frozen=True)
class PendingPublication:
    decision: Decision
    lead: str  # the lead organisation, the letter's addressee
    recipients: list[str]  # who receives the notice and the letter


def publication_preview(wave) -> dict:
    """Exactly what publishing the wave's decisions does: each pending decision with its
    amount and the addresses its notice goes to, the aid committed and the budget left."""
    pending = list(Decision.objects.filter(dossier__wave=wave, status=DecisionStatus.PENDING)
                   .select_related("dossier").prefetch_related(
                       "dossier__consortium__members__organisation")
                   .order_by("outcome", "dossier__receipt_number"))
    recipients = participants_of(d.dossier.consortium_id for d in pending)
    rows = [PendingPublication(decision, _lead_name(decision.dossier),
                               recipients.get(decision.dossier.consortium_id, []))
            for decision in pending]
    committed = sum((d.awarded_aid for d in pending if d.awarded_aid), Decimal(0))
    budget = committee.available_budget(wave)
    return {"rows": rows, "committed": committed, "budget": budget,
            "remaining": budget - committed,
            "mails": sum(len(row.recipients) for row in rows)}


def _lead_name(dossier: Dossier) -> str:
    lead = next((m for m in dossier.consortium.members.all() if m.is_lead), None)
    return lead.organisation.name if lead else "—"
def workbench_data(dossier: Dossier, user) -> dict:
    """The dossier's labels, and for staff of the call only (never experts) the call's other
    labels, its private annotations and its followers."""
    staff = user.has_perm("review.annotate", dossier)
    call_labels = list(Label.objects.filter(call_id=dossier.call_id).annotate(
        on_dossier=Exists(Label.dossiers.through.objects.filter(label=OuterRef("pk"),
                                                                dossier=dossier))))
    return {
        "labels": [label for label in call_labels if label.on_dossier], "staff_of_call": staff,
        # What the label form offers to add (staff of the call only).
        "other_labels": [label for label in call_labels if not label.on_dossier] if staff
        else [],
        "annotations": dossier.annotations.select_related("author") if staff else [],
        "followers": [follow.user for follow in dossier.follows.select_related("user")
                      .order_by("created_at", "pk")] if staff else [],
    }
