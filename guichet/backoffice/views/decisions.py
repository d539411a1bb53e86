"""The committee's decision on a dossier, and an administrator's reversal of a published one."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.views.decorators.http import require_POST

from guichet.backoffice import forms
from guichet.backoffice.selectors import staff_dossier
from guichet.backoffice.views.dossiers import dossier_action
from guichet.grants import decisions
from guichet.grants.models import Decision, DecisionStatus


@login_required
@require_POST
def decide(request, pk):
    dossier = staff_dossier(request.user, pk, "review.prepare_decision")
    return dossier_action(request, dossier, forms.DecisionForm(request.POST), "decision_form",
                          lambda data: decisions.prepare_decision(
                              dossier, request.user, data["outcome"],
                              awarded_aid=data["awarded_aid"], motivation=data["motivation"],
                              redirected_to=data["redirected_to"]))


@login_required
@require_POST
def revert(request, pk):
    dossier = staff_dossier(request.user, pk, "review.revert_decision")
    published = Decision.objects.filter(dossier=dossier, status=DecisionStatus.PUBLISHED).first()
    if published is None:
        raise Http404
    return dossier_action(request, dossier, forms.RevertForm(request.POST), "revert_form",
                          lambda data: decisions.revert_decision(published, request.user,
                                                                 data["motivation"]))
