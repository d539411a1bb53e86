"""What staff pages show, scoped to the calls a person serves, in bounded queries."""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from guichet.calls.models import Call
from guichet.core.fields import AmountField
from guichet.dossiers.format import dossier_queryset
from guichet.dossiers.models import ConsortiumMember, Dossier, DossierStatus
from guichet.review.models import Assignment, CallRole, Conflict

SORTS = {"numero": "receipt_number", "-numero": "-receipt_number", "titre": "title",
         "-titre": "-title", "aide": "requested_aid", "-aide": "-requested_aid",
         "etat": "status", "-etat": "-status"}


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
}


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
                   sort=data.get("tri") or "numero")


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
    return queryset.select_related("wave").annotate(
        lead_name=Subquery(lead.values("name")[:1]),
        lead_region=Subquery(lead.values("organisation__region")[:1]),
    ).order_by(SORTS[filters.sort], "pk").only(
        "pk", "receipt_number", "title", "status", "scope", "sector", "requested_aid",
        "eligible_at_receipt", "wave__code", "wave__name", "call_id", "consortium_id")


def staff_dossier(user, pk: int) -> Dossier:
    """A dossier the person may open as staff or as a non-conflicted assigned expert."""
    dossier = get_object_or_404(dossier_queryset(), pk=pk)
    if not user.has_perm("review.view_dossier", dossier):
        raise Http404
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
