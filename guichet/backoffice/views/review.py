"""The expert's page: the frozen dossier, the scoring grid, the conflict declaration."""

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guichet.backoffice import forms
from guichet.backoffice.selectors import expert_assignments, staff_dossier
from guichet.core.http import run_service
from guichet.dossiers.format import submitted_dossier
from guichet.review import experts, scoring


def _assignment(request, assignment_pk):
    """The person's own assignment (never one they declared a conflict on), and its dossier."""
    assignment = get_object_or_404(expert_assignments(request.user), pk=assignment_pk)
    return assignment, staff_dossier(request.user, assignment.dossier_id, "review.score")


@login_required
@require_GET
def review_dossier(request, assignment_pk):
    assignment, dossier = _assignment(request, assignment_pk)
    return _review_page(request, assignment, dossier)


def _review_page(request, assignment, dossier, form=None, conflict_form=None):
    grid = dossier.call.rules().selection
    others = []
    if request.user.has_perm("review.view_scores", dossier):
        others = dossier.assignments.exclude(pk=assignment.pk).filter(
            submitted_at__isnull=False).prefetch_related("scores")
    return render(request, "backoffice/review.html", {
        "assignment": assignment, "dossier": dossier, "grid": grid, "others": others,
        "form": form or score_form(grid, assignment),
        "conflict_form": conflict_form or forms.ConflictForm(),
        "frozen": submitted_dossier(dossier.submissions.order_by("-version").first().snapshot)})


def score_form(grid, assignment, data=None):
    """One score and one comment per criterion of the call's grid, read-only once sent."""
    choices = [("", "—")] + [(str(v), str(v)) for v in range(grid.scale_min, grid.scale_max + 1)]
    fields = {}
    for criterion in grid.criteria:
        fields[f"score_{criterion.id}"] = django_forms.TypedChoiceField(
            label=criterion.label, choices=choices, coerce=int, empty_value=None,
            required=False)
        fields[f"comment_{criterion.id}"] = django_forms.CharField(
            label=_("Commentaire — %(criterion)s") % {"criterion": criterion.label},
            required=False, widget=django_forms.Textarea(attrs={"rows": 2}))
    form_class = type("ScoreForm", (forms.DsfrBaseForm,), fields)
    initial = {}
    for score in assignment.scores.all():
        initial[f"score_{score.criterion}"] = str(score.value)
        initial[f"comment_{score.criterion}"] = score.comment
    form = form_class(data, initial=initial)
    if assignment.submitted_at:
        for field in form.fields.values():
            field.disabled = True
    return form


@login_required
@require_POST
def save_draft(request, assignment_pk):
    return _save_scores(request, assignment_pk, submit=False)


@login_required
@require_POST
def submit_review(request, assignment_pk):
    return _save_scores(request, assignment_pk, submit=True)


def _save_scores(request, assignment_pk, *, submit: bool):
    """The two buttons of the grid: keep a draft, or send the review (then read-only)."""
    assignment, dossier = _assignment(request, assignment_pk)
    grid = dossier.call.rules().selection
    form = score_form(grid, assignment, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        values = {c.id: (data[f"score_{c.id}"], data[f"comment_{c.id}"])
                  for c in grid.criteria if data.get(f"score_{c.id}") is not None}
        if run_service(form, lambda: scoring.save_scores(assignment, request.user, values,
                                                      submit=submit)):
            messages.success(request, _("Expertise envoyée.") if submit
                             else _("Brouillon enregistré."))
            return redirect("backoffice:review", assignment_pk=assignment.pk)
    return _review_page(request, assignment, dossier, form=form)


@login_required
@require_POST
def declare_conflict(request, assignment_pk):
    assignment, dossier = _assignment(request, assignment_pk)
    form = forms.ConflictForm(request.POST)
    if form.is_valid() and run_service(form, lambda: experts.declare_conflict(
            assignment.expert, dossier, form.cleaned_data["reason"])):
        messages.success(request, _("Conflit d'intérêts enregistré : ce dossier vous est "
                                    "désormais inaccessible."))
        return redirect("backoffice:home")
    return _review_page(request, assignment, dossier, conflict_form=form)
