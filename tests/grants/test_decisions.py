"""Decisions (prepared, published together, reverted) and the committee's funding line."""

import datetime as dt
import io
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pypdf
import pytest

from guichet.audit.models import AuditEvent
from guichet.calls.models import Wave
from guichet.calls.services import load_call
from guichet.core.permissions import PermissionRefused
from guichet.dossiers.models import Dossier, DossierStatus, Organisation
from guichet.dossiers.services import submit
from guichet.grants.decisions import (
    DecisionRefused,
    prepare_decision,
    publish_decisions,
    revert_decision,
)
from guichet.grants.models import Decision, DecisionStatus, Grant, Outcome, SelectionRun
from guichet.grants.selectors import allowances
from guichet.review.committee import available_budget, simulate
from guichet.review.experts import add_assignment
from guichet.review.instruction import (
    record_instruction,
    request_correction,
)
from guichet.review.models import ExpertProfile, Role
from guichet.review.scoring import save_scores
from tests.conftest import DEFFINUM_TOML
from tests.factories import NOT_ALLOWED, lead_and_member, make_dossier, make_expert, staff

PARIS = ZoneInfo("Europe/Paris")
IN_WAVE_1 = dt.datetime(2021, 8, 31, 11, 0, tzinfo=PARIS)
REQUESTED = Decimal("560000.00")  # the example dossier's aid: 70 % of its 800 000 € base
CRITERIA = ["coverage", "spread", "transformation", "innovation", "hybridisation"]

pytestmark = pytest.mark.django_db


# --- helpers --------------------------------------------------------------------------------

def instructed_dossier(example_document, instructor, *, sector="btp") -> Dossier:
    """A dossier submitted in wave 1, instructed admissible and eligible."""
    dossier = make_dossier(example_document)
    submit(dossier, now=IN_WAVE_1)
    Dossier.objects.filter(pk=dossier.pk).update(sector=sector, keywords="bim, chantier")
    record_instruction(dossier, instructor, admissible=True, eligible=True)
    dossier.refresh_from_db()
    return dossier


def scored(dossier: Dossier, instructor, experts, value: int) -> None:
    """Every expert reviews the dossier with the same score on each criterion."""
    for profile in experts:
        assignment = add_assignment(dossier, profile, instructor)
        save_scores(assignment, profile.user, {c: (value, "") for c in CRITERIA}, submit=True)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def audit(action: str, dossier: Dossier) -> list[dict]:
    return [json.loads(e.details) for e in AuditEvent.objects.filter(
        action=action, object_id=str(dossier.pk)).order_by("sequence")]


# --- prepare_decision -----------------------------------------------------------------------

@pytest.mark.parametrize("aid", [None, Decimal("0"), Decimal("-1")])
def test_prepare_decision_selected_without_positive_aid_refused(
        team, example_document, aid):
    dossier = instructed_dossier(example_document, team["instructor"])
    with pytest.raises(DecisionRefused) as refused:
        prepare_decision(dossier, team["committee"], Outcome.SELECTED, awarded_aid=aid)
    assert refused.value.field == "awarded_aid"
    assert not Decision.objects.exists()


def test_prepare_decision_selected_above_requested_refused(team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    with pytest.raises(DecisionRefused) as refused:
        prepare_decision(dossier, team["committee"], Outcome.SELECTED,
                         awarded_aid=REQUESTED + Decimal("0.01"),
                         motivation="Généreux")
    assert refused.value.field == "awarded_aid"
    assert not Decision.objects.exists()


def test_prepare_decision_selected_above_dossier_requested_aid_refused_without_figure(
        team, example_document):
    """The dossier knows its requested aid (copied from its submission): the ceiling holds
    even when the caller does not repeat it."""
    dossier = instructed_dossier(example_document, team["instructor"])
    assert dossier.requested_aid == REQUESTED
    with pytest.raises(DecisionRefused) as refused:
        prepare_decision(dossier, team["committee"], Outcome.SELECTED,
                         awarded_aid=REQUESTED * 2)
    assert refused.value.field == "awarded_aid"
    assert not Decision.objects.exists()


def test_prepare_decision_selected_full_aid_needs_no_motivation(team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    decision = prepare_decision(dossier, team["committee"], Outcome.SELECTED,
                                awarded_aid=REQUESTED)
    assert (decision.status, decision.awarded_aid, decision.motivation) == (
        DecisionStatus.PENDING, REQUESTED, "")
    assert decision.prepared_by == team["committee"]
    assert audit("decision.prepared", dossier) == [
        {"outcome": "selected", "awarded_aid": "560000.00"}]


def test_prepare_decision_lower_than_requested_requires_motivation(team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    with pytest.raises(DecisionRefused) as refused:
        prepare_decision(dossier, team["committee"], Outcome.SELECTED,
                         awarded_aid=Decimal("400000.00"), motivation=" ")
    assert refused.value.field == "motivation"
    decision = prepare_decision(dossier, team["committee"], Outcome.SELECTED,
                                awarded_aid=Decimal("400000.00"),
                                motivation="Dépenses d'équipement surévaluées.")
    assert decision.awarded_aid == Decimal("400000.00")
    assert decision.motivation == "Dépenses d'équipement surévaluées."


def test_prepare_decision_rejected_requires_motivation(team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    with pytest.raises(DecisionRefused) as refused:
        prepare_decision(dossier, team["committee"], Outcome.REJECTED)
    assert refused.value.field == "motivation"
    decision = prepare_decision(dossier, team["committee"], Outcome.REJECTED,
                                awarded_aid=Decimal("1000"), motivation="Note sous le seuil.")
    assert (decision.outcome, decision.awarded_aid) == (Outcome.REJECTED, None)


def test_prepare_decision_redirected_requires_programme(team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    with pytest.raises(DecisionRefused) as refused:
        prepare_decision(dossier, team["committee"], Outcome.REDIRECTED, redirected_to="  ")
    assert refused.value.field == "redirected_to"
    decision = prepare_decision(dossier, team["committee"], Outcome.REDIRECTED,
                                redirected_to="France 2030 — Compétences et métiers d'avenir")
    assert decision.redirected_to == "France 2030 — Compétences et métiers d'avenir"


def test_prepare_decision_unknown_outcome_refused(team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    with pytest.raises(DecisionRefused) as refused:
        prepare_decision(dossier, team["committee"], "postponed", motivation="Plus tard")
    assert refused.value.field == "outcome"


def test_prepare_decision_only_for_instructed_dossier(team, example_document):
    dossier = make_dossier(example_document)
    submit(dossier, now=IN_WAVE_1)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.SUBMITTED
    with pytest.raises(DecisionRefused, match="Seul un dossier instruit reçoit une décision"):
        prepare_decision(dossier, team["committee"], Outcome.REJECTED, motivation="Hors sujet")
    assert not Decision.objects.exists()


def test_prepare_decision_by_instructor_or_expert_refused(deffinum, team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    an_expert = staff(deffinum, "expert@example.fr", Role.EXPERT)
    for user in (team["instructor"], an_expert):
        with pytest.raises(PermissionRefused, match=NOT_ALLOWED):
            prepare_decision(dossier, user, Outcome.REJECTED, motivation="Hors sujet")
    assert not Decision.objects.exists()


def test_prepare_decision_replaces_pending_decision(team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    first = prepare_decision(dossier, team["committee"], Outcome.REJECTED,
                             motivation="Note insuffisante")
    second = prepare_decision(dossier, team["admin"], Outcome.SELECTED, awarded_aid=REQUESTED)
    assert list(Decision.objects.filter(dossier=dossier)) == [second]
    assert not Decision.objects.filter(pk=first.pk).exists()
    assert second.prepared_by == team["admin"]


# --- publish_decisions ----------------------------------------------------------------------

def test_publish_decisions_publishes_every_pending_decision_at_once(team, example_document):
    dossiers = [instructed_dossier(example_document, team["instructor"]) for _ in range(3)]
    prepare_decision(dossiers[0], team["committee"], Outcome.SELECTED, awarded_aid=REQUESTED)
    prepare_decision(dossiers[1], team["committee"], Outcome.REJECTED,
                     motivation="Note sous le seuil de financement.")
    prepare_decision(dossiers[2], team["committee"], Outcome.REDIRECTED,
                     redirected_to="Programme régional")
    published = publish_decisions(dossiers[0].wave, team["admin"])
    assert len(published) == 3
    stored = list(Decision.objects.all())
    assert {d.status for d in stored} == {DecisionStatus.PUBLISHED}
    assert len({d.published_at for d in stored}) == 1
    assert stored[0].published_at is not None
    statuses = [Dossier.objects.get(pk=d.pk).status for d in dossiers]
    assert statuses == [DossierStatus.SELECTED, DossierStatus.REJECTED, DossierStatus.REDIRECTED]
    assert [e["outcome"] for d in dossiers for e in audit("decision.published", d)] == [
        "selected", "rejected", "redirected"]


def test_publish_decisions_mails_each_participant_once_with_decision_letter(
        team, example_document, django_capture_on_commit_callbacks, mailoutbox):
    chosen = instructed_dossier(example_document, team["instructor"])
    refused = instructed_dossier(example_document, team["instructor"])
    people = {chosen.pk: lead_and_member(chosen), refused.pk: lead_and_member(refused)}
    prepare_decision(chosen, team["committee"], Outcome.SELECTED, awarded_aid=REQUESTED)
    prepare_decision(refused, team["committee"], Outcome.REJECTED,
                     motivation="Note sous le seuil de financement.")
    with django_capture_on_commit_callbacks(execute=True):
        publish_decisions(chosen.wave, team["admin"])
    for dossier in (chosen, refused):
        for person in people[dossier.pk]:
            received = [m for m in mailoutbox if person.email in m.to]
            assert len(received) == 1, person.email
            [mail] = received
            assert dossier.receipt_number in mail.subject
            [(name, content, mimetype)] = mail.attachments
            assert mimetype == "application/pdf"
            assert name == f"decision-{dossier.receipt_number}.pdf"
            assert content.startswith(b"%PDF")
            text = pdf_text(content)
            assert dossier.receipt_number in text
    assert len(mailoutbox) == 2
    assert "n'est pas retenu" in pdf_text(
        next(m for m in mailoutbox if refused.receipt_number in m.subject).attachments[0][1])


def test_publish_decisions_only_by_administrator(team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    prepare_decision(dossier, team["committee"], Outcome.REJECTED, motivation="Hors sujet")
    for user in (team["committee"], team["instructor"]):
        with pytest.raises(PermissionRefused, match=NOT_ALLOWED):
            publish_decisions(dossier.wave, user)
    decision = Decision.objects.get()
    assert (decision.status, decision.published_at) == (DecisionStatus.PENDING, None)
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.INSTRUCTED


def test_publish_decisions_with_nothing_pending_refused(deffinum, team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    prepare_decision(dossier, team["committee"], Outcome.REJECTED, motivation="Hors sujet")
    with pytest.raises(DecisionRefused, match="Aucune décision en attente de publication"):
        publish_decisions(Wave.objects.get(call=deffinum, code="w2"), team["admin"])
    publish_decisions(dossier.wave, team["admin"])
    with pytest.raises(DecisionRefused, match="Aucune décision en attente de publication"):
        publish_decisions(dossier.wave, team["admin"])
    assert Decision.objects.get().status == DecisionStatus.PUBLISHED


def test_publish_decisions_refused_naming_a_dossier_sent_back_for_corrections(
        team, example_document):
    kept = instructed_dossier(example_document, team["instructor"])
    corrected = instructed_dossier(example_document, team["instructor"])
    prepare_decision(kept, team["committee"], Outcome.SELECTED, awarded_aid=REQUESTED)
    prepare_decision(corrected, team["committee"], Outcome.REJECTED, motivation="Hors sujet")
    request_correction(corrected, team["instructor"], "Joignez le budget signé.",
                       IN_WAVE_1 + dt.timedelta(days=7), now=IN_WAVE_1 + dt.timedelta(hours=1))
    with pytest.raises(DecisionRefused) as refusal:
        publish_decisions(kept.wave, team["admin"])
    assert refusal.value.message == (
        f"Le dossier {corrected.receipt_number} n'est plus instruit (corrections demandées) : "
        "instruisez-le et préparez de nouveau sa décision avant de publier.")
    assert set(Decision.objects.values_list("status", flat=True)) == {DecisionStatus.PENDING}
    assert [Dossier.objects.get(pk=d.pk).status for d in (kept, corrected)] == [
        DossierStatus.INSTRUCTED, DossierStatus.CORRECTION_REQUESTED]
    assert not Grant.objects.exists()
    assert not AuditEvent.objects.filter(action="decision.published").exists()


# --- revert_decision ------------------------------------------------------------------------

@pytest.fixture
def published(team, example_document) -> Decision:
    dossier = instructed_dossier(example_document, team["instructor"])
    prepare_decision(dossier, team["committee"], Outcome.SELECTED, awarded_aid=REQUESTED)
    [decision] = publish_decisions(dossier.wave, team["admin"])
    return decision


def test_revert_decision_only_by_administrator(team, published):
    for user in (team["committee"], team["instructor"]):
        with pytest.raises(PermissionRefused, match=NOT_ALLOWED):
            revert_decision(published, user, "Erreur matérielle")
    published.refresh_from_db()
    assert published.status == DecisionStatus.PUBLISHED
    assert Dossier.objects.get(pk=published.dossier_id).status == DossierStatus.SELECTED


def test_revert_decision_requires_motivation(team, published):
    with pytest.raises(DecisionRefused) as refused:
        revert_decision(published, team["admin"], "  ")
    assert refused.value.field == "motivation"
    published.refresh_from_db()
    assert published.status == DecisionStatus.PUBLISHED


def test_revert_decision_logged_and_dossier_back_to_instructed(team, published):
    revert_decision(published, team["admin"], " Erreur matérielle sur le montant. ")
    published.refresh_from_db()
    assert published.status == DecisionStatus.REVERTED
    assert published.reverted_at is not None
    assert published.revert_motivation == "Erreur matérielle sur le montant."
    dossier = Dossier.objects.get(pk=published.dossier_id)
    assert dossier.status == DossierStatus.INSTRUCTED
    assert audit("decision.reverted", dossier) == [
        {"decision": published.pk, "motivation": "Erreur matérielle sur le montant."}]
    # A new decision can then be prepared for the same dossier.
    again = prepare_decision(dossier, team["committee"], Outcome.SELECTED,
                             awarded_aid=Decimal("500000.00"),
                             motivation="Montant corrigé.")
    assert again.status == DecisionStatus.PENDING


def test_revert_decision_not_published_refused(team, example_document):
    dossier = instructed_dossier(example_document, team["instructor"])
    pending = prepare_decision(dossier, team["committee"], Outcome.REJECTED,
                               motivation="Hors sujet")
    with pytest.raises(DecisionRefused, match="Seule une décision publiée peut être annulée"):
        revert_decision(pending, team["admin"], "Erreur")
    pending.refresh_from_db()
    assert pending.status == DecisionStatus.PENDING


# --- committee ------------------------------------------------------------------------------

def pool_of_three(call) -> list[ExpertProfile]:
    return [make_expert(call, f"e{i}@example.fr") for i in range(3)]


def test_simulate_selects_within_available_budget(deffinum, team, example_document):
    good = instructed_dossier(example_document, team["instructor"])
    fair = instructed_dossier(example_document, team["instructor"])
    Organisation.objects.update(region="11")  # Île-de-France
    experts = pool_of_three(deffinum)
    scored(good, team["instructor"], experts, 4)
    scored(fair, team["instructor"], experts, 3)
    wave = good.wave
    Wave.objects.filter(pk=wave.pk).update(budget=Decimal("600000.00"))  # one dossier fits
    wave.refresh_from_db()
    assert available_budget(wave) == Decimal("600000.00")
    run = simulate(wave, team["committee"])
    run.refresh_from_db()
    assert isinstance(run, SelectionRun)
    assert (run.wave, run.created_by) == (wave, team["committee"])
    assert run.result["selected"] == [f"d{good.pk}"]
    assert Decimal(run.result["total_aid"]) == REQUESTED
    assert Decimal(run.result["total_aid"]) <= available_budget(wave)
    assert isinstance(run.explanation, dict)
    assert Decimal(run.instance["budget"]) == Decimal("600000.00")
    assert {d["id"] for d in run.instance["dossiers"]} == {f"d{good.pk}", f"d{fair.pk}"}


def test_simulate_with_lead_organisation_without_region(deffinum, team, example_document):
    """Organisations created by an import (or registered without a region) have region "":
    the funding line must still be simulated."""
    dossier = instructed_dossier(example_document, team["instructor"])
    assert dossier.consortium.members.get(is_lead=True).organisation.region == ""
    scored(dossier, team["instructor"], pool_of_three(deffinum), 4)
    run = simulate(dossier.wave, team["committee"])
    assert run.result["selected"] == [f"d{dossier.pk}"]


def test_simulate_by_expert_refused(deffinum, team):
    an_expert = staff(deffinum, "expert@example.fr", Role.EXPERT)
    with pytest.raises(PermissionRefused, match=NOT_ALLOWED):
        simulate(Wave.objects.get(call=deffinum, code="w1"), an_expert)
    assert not SelectionRun.objects.exists()


def test_available_budget_of_remaining_wave_is_envelope_less_earlier_awards(
        deffinum, team, example_document):
    w1, w2 = (Wave.objects.get(call=deffinum, code=code) for code in ("w1", "w2"))
    assert w2.budget is None  # "what remains"
    envelope = deffinum.programme.envelope
    assert available_budget(w2) == envelope
    awarded = instructed_dossier(example_document, team["instructor"])
    refused = instructed_dossier(example_document, team["instructor"])
    prepare_decision(awarded, team["committee"], Outcome.SELECTED,
                     awarded_aid=Decimal("500000.00"),
                     motivation="Dépenses d'équipement réduites.")
    prepare_decision(refused, team["committee"], Outcome.REJECTED, motivation="Hors sujet")
    assert available_budget(w2) == envelope  # pending decisions spend nothing
    publish_decisions(w1, team["admin"])
    assert available_budget(w2) == envelope - Decimal("500000.00")
    assert available_budget(w1) == w1.budget - Decimal("500000.00")


def other_call_of_programme(tmp_path, **replacements):
    """A second call of Deffinum's programme, its definition edited by `replacements`."""
    source = DEFFINUM_TOML.read_text(encoding="utf-8").replace(
        'id = "deffinum"', 'id = "deffinov"', 1).replace(
        'rules_version = "deffinum-2021.1"', 'rules_version = "deffinov-2022.1"')
    for old, new in replacements.items():
        source = source.replace(old, new)
    path = tmp_path / "deffinov.toml"
    path.write_text(source, encoding="utf-8")
    return load_call(path).call


def published_award(call, example_document, aid: Decimal) -> Dossier:
    """A dossier of `call` selected for `aid` and published (hence committed), in wave 1."""
    team = {"instructor": staff(call, f"i@{call.code}.fr", Role.INSTRUCTOR),
            "committee": staff(call, f"c@{call.code}.fr", Role.COMMITTEE),
            "admin": staff(call, f"a@{call.code}.fr", Role.ADMINISTRATOR)}
    dossier = instructed_dossier({**example_document, "call": call.code}, team["instructor"])
    prepare_decision(dossier, team["committee"], Outcome.SELECTED, awarded_aid=aid,
                     motivation="Aide ajustée.")
    publish_decisions(dossier.wave, team["admin"])
    return dossier


def test_available_budget_counts_other_calls_of_the_programme(
        tmp_path, deffinum, example_document):
    other = other_call_of_programme(tmp_path)
    published_award(other, example_document, Decimal("500000.00"))
    w2 = Wave.objects.get(call=deffinum, code="w2")  # "what remains" of the programme
    assert available_budget(w2) == Decimal("299500000.00")
    assert available_budget(w2) == allowances(deffinum)[w2.pk]


def test_available_budget_carries_unspent_budget_over_like_commitment(
        tmp_path, deffinum, example_document):
    fixed = other_call_of_programme(tmp_path, **{  # waves 1 and 2 with fixed budgets
        'budget = "remaining"   # what remains of the programme envelope':
        'budget = "1000000.00"'})
    published_award(fixed, example_document, Decimal("400000.00"))
    w2 = Wave.objects.get(call=fixed, code="w2")
    # Wave 1 left 99 600 000 € unspent: carried over to wave 2's own 1 000 000 €.
    assert available_budget(w2) == Decimal("100600000.00")
    assert available_budget(w2) == allowances(fixed)[w2.pk]
