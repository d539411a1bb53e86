"""The lifecycle tables (guichet.core.lifecycle): every transition in a table is reached through
a service, and every transition not in it is refused, naming the object and its state, without
writing anything."""

import datetime as dt
from collections import defaultdict

import pytest
from django.apps import apps
from django.utils import translation

from guichet.calls.lifecycle import CALL, CallAction
from guichet.calls.models import Call
from guichet.calls.services import close_call
from guichet.core.lifecycle import Lifecycle, Transition, TransitionRefused
from guichet.dossiers.lifecycle import DOSSIER, DossierAction
from guichet.dossiers.models import Dossier
from guichet.dossiers.services import submit
from guichet.grants.agreement import sign_agreement
from guichet.grants.decisions import prepare_decision, publish_decisions, revert_decision
from guichet.grants.lifecycle.decision import DECISION, DecisionAction
from guichet.grants.lifecycle.grant import GRANT, GrantAction
from guichet.grants.lifecycle.report import REPORT, ReportAction
from guichet.grants.lifecycle.tranche import TRANCHE, TrancheAction
from guichet.grants.models import Grant, Outcome, Payment, ReportKind
from guichet.grants.payments import reverse_payment
from guichet.grants.reports import review_report
from guichet.notifications.models import OutboxMessage
from guichet.review.instruction import record_instruction, request_correction
from tests.factories import lead_and_member, make_dossier
from tests.grants.test_grants import (
    IN_WAVE_1,
    SIGNED_AT,
    Granted,
    hand_in,
    instructed_dossier,
    pay,
    pdf_upload,
    report,
    select,
    tranche,
)

pytestmark = pytest.mark.django_db

LIFECYCLES = (DOSSIER, DECISION, GRANT, TRANCHE, REPORT, CALL)
DISALLOWED = [(lifecycle, status, action) for lifecycle in LIFECYCLES
              for status in lifecycle.statuses for action in lifecycle.actions
              if not lifecycle.allows(status, action)]


class Walk:
    """Services called one after the other, recording the transitions they make."""

    def __init__(self):
        self.seen: dict[type, set[Transition]] = defaultdict(set)

    def step(self, service, *moves: tuple[Lifecycle, object, str]) -> None:
        """Call `service`, which is expected to move each object of `moves` by its action."""
        sources = [_stored_status(lifecycle, obj) for lifecycle, obj, _action in moves]
        service()
        for (lifecycle, obj, action), source in zip(moves, sources, strict=True):
            self.seen[lifecycle.model].add(
                Transition(source, action, _stored_status(lifecycle, obj)))


def _stored_status(lifecycle: Lifecycle, obj) -> str:
    return lifecycle.model.objects.values_list("status", flat=True).get(pk=obj.pk)


def test_every_stateful_model_has_a_lifecycle():
    with_status = {model for model in apps.get_models()
                   if model.__module__.startswith("guichet.")
                   and "status" in {field.name for field in model._meta.get_fields()}}
    # The outbox row's status is a delivery state, owned by guichet.notifications.outbox.
    assert with_status - {OutboxMessage} == {lifecycle.model for lifecycle in LIFECYCLES}


def test_every_dossier_decision_and_call_transition_is_reached_through_a_service(
        deffinum, team, example_document):
    instructor, committee, admin = team["instructor"], team["committee"], team["admin"]
    walk, dossier = Walk(), make_dossier(example_document)
    walk.step(lambda: submit(dossier, now=IN_WAVE_1), (DOSSIER, dossier, DossierAction.SUBMIT))
    for hours in (1, 3):  # asked once while submitted, once after instruction
        walk.step(lambda h=hours: request_correction(
            dossier, instructor, "Joignez le budget signé.",
            IN_WAVE_1 + dt.timedelta(days=7), now=IN_WAVE_1 + dt.timedelta(hours=h)),
            (DOSSIER, dossier, DossierAction.REQUEST_CORRECTION))
        walk.step(lambda h=hours: submit(dossier, now=IN_WAVE_1 + dt.timedelta(hours=h + 1)),
                  (DOSSIER, dossier, DossierAction.RESUBMIT))
        for _again in range(2):  # submitted -> instructed, then instructed again
            walk.step(lambda: record_instruction(dossier, instructor, admissible=True,
                                                 eligible=True),
                      (DOSSIER, dossier, DossierAction.INSTRUCT))
    dossier.refresh_from_db()
    for outcome, action, details in (
            (Outcome.SELECTED, DossierAction.SELECT, {"awarded_aid": dossier.requested_aid}),
            (Outcome.REJECTED, DossierAction.REJECT, {"motivation": "Hors du champ de l'appel."}),
            (Outcome.REDIRECTED, DossierAction.REDIRECT, {"redirected_to": "France 2030"})):
        dossier.refresh_from_db()
        decision = prepare_decision(dossier, committee, outcome, **details)
        walk.step(lambda: publish_decisions(dossier.wave, admin),
                  (DECISION, decision, DecisionAction.PUBLISH), (DOSSIER, dossier, action))
        decision.refresh_from_db()
        walk.step(lambda d=decision: revert_decision(d, admin, "Erreur matérielle."),
                  (DECISION, decision, DecisionAction.REVERT),
                  (DOSSIER, dossier, DossierAction.REVERT_DECISION))
    walk.step(lambda: close_call(deffinum, admin, "Le programme est réorienté.",
                                 now=IN_WAVE_1 + dt.timedelta(hours=6)),
              (CALL, deffinum, CallAction.CLOSE))
    for lifecycle in (DOSSIER, DECISION, CALL):
        assert walk.seen[lifecycle.model] == set(lifecycle.transitions), lifecycle.model


def test_every_grant_tranche_and_report_transition_is_reached_through_a_service(
        team, example_document):
    instructor = team["instructor"]
    dossier = instructed_dossier(example_document, instructor)
    lead, member = lead_and_member(dossier)
    select(team, dossier)
    publish_decisions(dossier.wave, team["admin"])
    granted = Granted(Grant.objects.get(dossier=dossier), dossier, lead, member)
    grant, walk = granted.grant, Walk()
    first, second, balance = (tranche(grant, number) for number in (1, 2, 3))
    intermediate, final = report(grant, ReportKind.INTERMEDIATE), report(grant, ReportKind.FINAL)
    walk.step(lambda: sign_agreement(grant, lead, pdf_upload(), now=SIGNED_AT),
              (GRANT, grant, GrantAction.SIGN), (TRANCHE, first, TrancheAction.MAKE_DUE))
    walk.step(lambda: pay(granted, 1, team), (TRANCHE, first, TrancheAction.PAY))
    walk.step(lambda: reverse_payment(Payment.objects.get(tranche=first), instructor,
                                      reason="Virement sur le mauvais compte."),
              (TRANCHE, first, TrancheAction.REVERSE))
    walk.step(lambda: pay(granted, 1, team, "VIR-2022-0001-BIS"),
              (TRANCHE, first, TrancheAction.PAY))
    walk.step(lambda: hand_in(granted, ReportKind.INTERMEDIATE),
              (REPORT, intermediate, ReportAction.SUBMIT))
    walk.step(lambda: review_report(intermediate, instructor, approve=False,
                                    comment="Détaillez les dépenses de personnel."),
              (REPORT, intermediate, ReportAction.REQUEST_CHANGES))
    walk.step(lambda: hand_in(granted, ReportKind.INTERMEDIATE),
              (REPORT, intermediate, ReportAction.SUBMIT))
    walk.step(lambda: review_report(intermediate, instructor, approve=True),
              (REPORT, intermediate, ReportAction.APPROVE),
              (TRANCHE, second, TrancheAction.MAKE_DUE))
    walk.step(lambda: pay(granted, 2, team), (TRANCHE, second, TrancheAction.PAY))
    walk.step(lambda: hand_in(granted, ReportKind.FINAL), (REPORT, final, ReportAction.SUBMIT))
    walk.step(lambda: review_report(final, instructor, approve=True),
              (REPORT, final, ReportAction.APPROVE), (TRANCHE, balance, TrancheAction.MAKE_DUE))
    walk.step(lambda: pay(granted, 3, team),
              (TRANCHE, balance, TrancheAction.PAY), (GRANT, grant, GrantAction.SETTLE))
    walk.step(lambda: reverse_payment(Payment.objects.get(tranche=balance), instructor,
                                      reason="Montant erroné."),
              (TRANCHE, balance, TrancheAction.REVERSE), (GRANT, grant, GrantAction.REOPEN))
    for lifecycle in (GRANT, TRANCHE, REPORT):
        assert walk.seen[lifecycle.model] == set(lifecycle.transitions), lifecycle.model


@pytest.mark.parametrize(("lifecycle", "status", "action"), DISALLOWED,
                         ids=[f"{lc.model.__name__}-{s}-{a}" for lc, s, a in DISALLOWED])
def test_transition_not_in_the_table_is_refused_naming_the_state(lifecycle, status, action):
    with pytest.raises(TransitionRefused) as refusal, translation.override("fr"):
        lifecycle.target(status, action)
    label = dict(lifecycle.model._meta.get_field("status").choices)[status]
    with translation.override("fr"):
        assert str(label) in refusal.value.message
        assert str(lifecycle.noun) in refusal.value.message
    assert refusal.value.details["action"] == action


def test_disallowed_transitions_of_stored_objects_are_refused_and_write_nothing(
        deffinum, team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    select(team, dossier)
    publish_decisions(dossier.wave, team["admin"])
    grant = Grant.objects.get(dossier=dossier)
    objects = {Dossier: dossier, Call: deffinum, Grant: grant}
    objects.update({DECISION.model: grant.decision, TRANCHE.model: tranche(grant, 1),
                    REPORT.model: report(grant, ReportKind.INTERMEDIATE)})
    refused = 0
    for lifecycle, status, action in DISALLOWED:
        obj = objects[lifecycle.model]
        # Test set-up only: put the stored object in the state under test.
        lifecycle.model.objects.filter(pk=obj.pk).update(status=status)
        obj.refresh_from_db()
        with pytest.raises(TransitionRefused):
            lifecycle.apply(obj, action)
        assert _stored_status(lifecycle, obj) == obj.status == status
        refused += 1
    assert refused == len(DISALLOWED) > 0


def test_transition_from_a_state_read_before_a_concurrent_change_is_refused(
        deffinum, example_document):
    dossier = make_dossier(example_document)  # a draft, read here
    submit(dossier, now=IN_WAVE_1)  # submitted meanwhile; `dossier` still says draft
    assert dossier.status == "draft"
    title = Dossier.objects.get(pk=dossier.pk).title
    with pytest.raises(TransitionRefused, match="déposé"):
        DOSSIER.apply(dossier, DossierAction.SUBMIT, title="Écrasé")
    dossier.refresh_from_db()
    assert (dossier.status, dossier.title) == ("submitted", title)


def test_a_table_with_an_unknown_status_or_two_targets_is_rejected():
    with pytest.raises(ValueError, match="unknown"):
        Lifecycle(Call, "cet appel", CallAction, (Transition("open", "close", "archived"),))
    with pytest.raises(ValueError, match="two targets"):
        Lifecycle(Call, "cet appel", CallAction, (Transition("open", "close", "closed"),
                                                 Transition("open", "close", "open")))
