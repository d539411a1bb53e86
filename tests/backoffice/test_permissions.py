"""The staff permission matrix: every back-office page × every role × own/other call."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from guichet.accounts.models import User
from guichet.dossiers.services import submit
from guichet.review.instruction import InstructionRefused, post_message, record_instruction, thread
from guichet.review.models import (
    Assignment,
    Instruction,
    Message,
    Role,
)
from guichet.review.permissions import roles_on
from guichet.review.scoring import save_scores
from tests.factories import (
    assign,
    declare_conflict,
    lead_and_member,
    make_dossier,
    make_expert,
    make_user,
    staff,
)

pytestmark = pytest.mark.django_db
IN_WAVE_ONE = dt.datetime(2021, 8, 31, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))


def _submitted(document, call=None):
    """Submitted in Deffinum's first wave, or a day before the close of `call`'s first wave."""
    dossier = make_dossier(document)
    at = call.waves.order_by("position").first().closes_at - dt.timedelta(days=1) if call else None
    submit(dossier, now=at or IN_WAVE_ONE)
    dossier.refresh_from_db()
    return dossier


@pytest.fixture
def world(deffinum, other_call, example_document, regional_document):
    """A dossier of Deffinum and one of the other call (instructed and assigned by the other
    call's staff), and one person per role of Deffinum."""
    own = _submitted(example_document)
    other = _submitted(regional_document, other_call)
    lead, _member = lead_and_member(own)
    people = {"lead": lead, "outsider": make_user("outsider@example.fr")}
    for role in (Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR):
        people[role.value] = staff(deffinum, f"{role.value}@example.fr", role)
    instructor = people["instructor"]
    record_instruction(own, instructor, admissible=True, eligible=True)
    for name in ("expert", "conflicted", "unassigned"):
        profile = make_expert(deffinum, f"{name}@example.fr")
        people[name] = profile.user
        if name != "unassigned":
            assign(own, profile, IN_WAVE_ONE)
        if name == "conflicted":
            declare_conflict(profile, own, "ancien salarié")
    _staff_of_other_call(other_call, other)
    return {"own": own, "other": other, "people": people}


def _staff_of_other_call(other_call, other):
    """The other call's own instructor (who instructs its dossier, so that it stands in its
    committee's ranking) and its own assigned expert: none of it may show on our pages."""
    instructor = staff(other_call, "instructeur-deffinov@example.fr", Role.INSTRUCTOR)
    record_instruction(other, instructor, admissible=True, eligible=True)
    assign(other, make_expert(other_call, "expert-deffinov@example.fr"), other.received_at)


STAFF_PAGES = {
    # page -> roles that get a 200. Others: on a page of the call (list, experts, committee),
    # staff of the call get a 403 that says who may open it; on a dossier or an assignment,
    # and for people who do not serve the call, a 404; anonymous people go to the login.
    "list": {"instructor", "committee", "administrator"},
    "experts": {"instructor", "administrator"},
    "committee": {"committee", "administrator"},
    "mail_texts": {"administrator"},
    "mail_text": {"administrator"},
    "call_copy": {"administrator"},
    "call_versions": {"administrator"},
    "call_export": {"administrator"},
    "detail_own": {"instructor", "committee", "administrator", "expert"},
    "document_own": {"instructor", "committee", "administrator", "expert"},
    "review_own": {"expert"},
    "detail_other": set(),
    "document_other": set(),
}
PEOPLE = ["lead", "outsider", "instructor", "committee", "administrator", "expert",
          "conflicted", "unassigned"]
CALL_PAGES = {"list", "experts", "committee", "mail_texts", "mail_text", "call_copy",
              "call_versions", "call_export"}
# The call editor's pages of Deffinum (its drafts are checked in test_call_editor_views).
EDITOR_PAGES = {"call_copy": "copie/", "call_versions": "versions/",
                "call_export": "definition.toml"}
SERVING_THE_CALL = {"instructor", "committee", "administrator", "expert", "conflicted",
                    "unassigned"}


def _url(page, world, person) -> str:
    own, other = world["own"], world["other"]
    if page == "list":
        return "/instruction/appels/deffinum/dossiers/"
    if page == "experts":
        return "/instruction/appels/deffinum/experts/"
    if page == "committee":
        return "/instruction/appels/deffinum/comite/w1/"
    if page in EDITOR_PAGES:
        return "/instruction/appels/deffinum/" + EDITOR_PAGES[page]
    if page.startswith("mail_text"):
        return "/instruction/appels/deffinum/courriels/" + (
            "receipt/fr/" if page == "mail_text" else "")
    dossier = own if page.endswith("_own") else other
    if page.startswith("detail"):
        return f"/instruction/dossiers/{dossier.pk}/"
    if page.startswith("document"):
        return f"/instruction/dossiers/{dossier.pk}/pieces/{dossier.documents.first().pk}/"
    assignment = Assignment.objects.filter(dossier=own).exclude(
        expert__user__email__startswith="conflicted").first()
    if person in ("expert", "conflicted"):
        assignment = Assignment.objects.get(dossier=own, expert__user=world["people"][person])
    return f"/instruction/expertises/{assignment.pk}/"


def _link(dossier) -> str:
    return f'href="/instruction/dossiers/{dossier.pk}/"'


def _content_of(page, world) -> tuple[list[str], list[str]]:
    """What a call-wide page of Deffinum must show, and what of the other call it must not."""
    own, other = world["own"], world["other"]
    if page == "list":
        return [own.receipt_number, _link(own)], [other.receipt_number, _link(other)]
    if page == "experts":
        return (["expert@example.fr", "conflicted@example.fr", "unassigned@example.fr"],
                ["expert-deffinov@example.fr"])
    if page == "committee":
        return [_link(own)], [_link(other)]
    return [], []


@pytest.mark.parametrize("page", list(STAFF_PAGES))
def test_backoffice_matrix_each_role_sees_only_what_it_may(client, world, page):
    outcomes = {}
    shown, hidden = _content_of(page, world)
    for person in PEOPLE:
        client.force_login(world["people"][person])
        response = client.get(_url(page, world, person))
        outcomes[person] = response.status_code
        if shown and response.status_code == 200:
            content = response.content.decode()
            assert [text for text in shown if text not in content] == [], person
            assert [text for text in hidden if text in content] == [], person
        client.logout()
    expected = {person: 200 if person in STAFF_PAGES[page]
                else 403 if page in CALL_PAGES and person in SERVING_THE_CALL else 404
                for person in PEOPLE}
    assert outcomes == expected


@pytest.mark.parametrize("page", list(STAFF_PAGES))
def test_backoffice_matrix_anonymous_is_sent_to_login(client, world, page):
    response = client.get(_url(page, world, "expert"))
    assert response.status_code == 302
    assert response["Location"].startswith("/comptes/login/")


@pytest.mark.parametrize(("person", "allowed"), [
    ("instructor", True), ("administrator", True), ("committee", False), ("expert", False),
    ("lead", False)])
def test_backoffice_instruct_action_only_for_instructors(client, world, person, allowed):
    dossier = world["own"]
    client.force_login(world["people"][person])
    client.post(f"/instruction/dossiers/{dossier.pk}/instruction/", {
        "admissible": "yes", "eligible": "no",
        "motivation": f"revu par {person}"})
    instruction = Instruction.objects.filter(dossier=dossier).first()
    changed = instruction is not None and instruction.motivation == f"revu par {person}"
    assert changed is allowed


def test_backoffice_private_note_never_reaches_applicants(client, world):
    dossier = world["own"]
    client.force_login(world["people"]["instructor"])
    client.post(f"/instruction/dossiers/{dossier.pk}/messages/", {
        "body": "Budget à vérifier de près", "private": "on"})
    client.post(f"/instruction/dossiers/{dossier.pk}/messages/", {
        "body": "Merci de préciser le calendrier"})
    client.force_login(world["people"]["lead"])
    page = client.get(f"/dossiers/{dossier.pk}/messages/").content.decode()
    assert "Merci de préciser le calendrier" in page
    assert "Budget à vérifier" not in page


def test_backoffice_expert_cannot_see_other_scores_before_submitting(client, world, deffinum):
    dossier = world["own"]
    expert = world["people"]["expert"]
    profile = make_expert(deffinum, "second@example.fr")
    second = profile.user
    theirs = assign(dossier, profile, IN_WAVE_ONE)
    grid = {c.id: (4, "solide") for c in deffinum.rules().selection.criteria}
    save_scores(theirs, second, grid, submit=True)
    mine = Assignment.objects.get(dossier=dossier, expert__user=expert)
    client.force_login(expert)
    before = client.get(f"/instruction/expertises/{mine.pk}/").content.decode()
    assert 'data-testid="other-scores"' not in before
    assert not expert.has_perm("review.view_scores", dossier)
    save_scores(mine, expert, {c: (3, "") for c in grid}, submit=True)
    expert.__dict__.pop("_guichet_roles", None)
    after = client.get(f"/instruction/expertises/{mine.pk}/").content.decode()
    assert 'data-testid="other-scores"' in after


def test_roles_are_per_call(world, other_call):
    instructor = world["people"]["instructor"]
    assert roles_on(instructor, world["own"]) == {"instructor"}
    assert roles_on(instructor, world["other"]) == set()
    assert not instructor.has_perm("review.instruct", world["other"])


EXPERTS = ["expert", "conflicted", "unassigned"]
NOTE = "Budget à vérifier de près"
PUBLIC = "Merci de préciser le calendrier"


@pytest.fixture
def noted(world):
    """The own dossier with an instructor's private note and a public message."""
    instructor = world["people"]["instructor"]
    post_message(world["own"], instructor, NOTE, private=True)
    post_message(world["own"], instructor, PUBLIC)
    return world


@pytest.mark.parametrize("person", EXPERTS)
def test_experts_never_hold_the_note_permission(noted, person):
    assert not noted["people"][person].has_perm("review.write_note", noted["own"])


@pytest.mark.parametrize("person", ["instructor", "committee", "administrator"])
def test_staff_hold_the_note_permission(noted, person):
    assert noted["people"][person].has_perm("review.write_note", noted["own"])


@pytest.mark.parametrize("person", EXPERTS)
def test_experts_never_read_private_notes_in_the_thread(noted, person):
    bodies = [message.body for message in thread(noted["own"], noted["people"][person])]
    assert bodies == [PUBLIC]
    staff_bodies = [m.body for m in thread(noted["own"], noted["people"]["instructor"])]
    assert staff_bodies == [NOTE, PUBLIC]


def test_assigned_expert_never_reads_private_notes_on_the_dossier_page(client, noted):
    client.force_login(noted["people"]["expert"])
    page = client.get(f"/instruction/dossiers/{noted['own'].pk}/").content.decode()
    assert PUBLIC in page
    assert NOTE not in page
    assert "note privée</span>" not in page
    client.force_login(noted["people"]["instructor"])
    assert NOTE in client.get(f"/instruction/dossiers/{noted['own'].pk}/").content.decode()


@pytest.mark.parametrize("person", EXPERTS)
def test_experts_never_write_private_notes(noted, person):
    with pytest.raises(InstructionRefused,
                       match="Seule l'équipe d'instruction écrit des notes privées"):
        post_message(noted["own"], noted["people"][person], "Avis d'expert", private=True)
    assert not Message.objects.filter(body="Avis d'expert").exists()


def test_assigned_expert_never_writes_private_notes_through_the_dossier_page(client, noted):
    client.force_login(noted["people"]["expert"])
    response = client.post(f"/instruction/dossiers/{noted['own'].pk}/messages/", {
        "body": "Avis d'expert", "private": "on"})
    assert response.status_code == 200
    assert "Seule l&#x27;équipe d&#x27;instruction écrit des notes privées" in \
        response.content.decode()
    assert not Message.objects.filter(body="Avis d'expert").exists()


# --- two funders: the regional example's staff against Deffinum's, page by page --------------

def _funders(world, other_call, deffinum):
    """Each funder's call, its dossier, the other's dossier, and its three staff roles."""
    theirs = {role: staff(other_call, f"{role.value}-region@example.fr", role)
              for role in (Role.COMMITTEE, Role.ADMINISTRATOR)}
    theirs[Role.INSTRUCTOR] = User.objects.get(email="instructeur-deffinov@example.fr")
    ours = {role: world["people"][role.value]
            for role in (Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR)}
    return [(deffinum, world["own"], world["other"], ours),
            (other_call, world["other"], world["own"], theirs)]


FUNDER_PAGES = {
    # page -> roles that may open it for their own call.
    "home": {Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR},
    "list": {Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR},
    "export": {Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR},
    "dashboard": {Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR},
}


def _funder_url(page, call) -> str:
    return {"home": "/instruction/", "list": f"/instruction/appels/{call.code}/dossiers/",
            "export": f"/instruction/appels/{call.code}/dossiers/export/?format=csv",
            "dashboard": "/instruction/tableau-de-bord/"}[page]


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


@pytest.mark.parametrize("page", list(FUNDER_PAGES))
def test_two_funders_each_staff_sees_its_call_and_nothing_of_the_other(
        client, world, other_call, deffinum, page):
    for call, mine, foreign, people in _funders(world, other_call, deffinum):
        other = deffinum if call == other_call else other_call
        for role, person in people.items():
            client.force_login(person)
            response = client.get(_funder_url(page, call))
            assert response.status_code == 200, (call.code, role, page)
            content = _body(response)
            assert mine.receipt_number in content or page in ("home", "dashboard"), (
                call.code, role, page)
            assert foreign.receipt_number not in content, (call.code, role, page)
            assert other.name not in content, (call.code, role, page)
            assert other.programme.name not in content, (call.code, role, page)


@pytest.mark.parametrize("page", ["list", "experts", "committee", "detail", "full", "export",
                                  *EDITOR_PAGES])
def test_two_funders_staff_of_one_cannot_open_the_other_call(
        client, world, other_call, deffinum, page):
    for call, _mine, foreign, people in _funders(world, other_call, deffinum):
        other = deffinum if call == other_call else other_call
        wave = other.waves.order_by("position").first().code
        url = {"list": f"/instruction/appels/{other.code}/dossiers/",
               "experts": f"/instruction/appels/{other.code}/experts/",
               "committee": f"/instruction/appels/{other.code}/comite/{wave}/",
               "detail": f"/instruction/dossiers/{foreign.pk}/",
               "full": f"/instruction/dossiers/{foreign.pk}/complet/",
               "export": f"/instruction/appels/{other.code}/dossiers/export/?format=csv",
               **{name: f"/instruction/appels/{other.code}/{tail}"
                  for name, tail in EDITOR_PAGES.items()}}[page]
        for role, person in people.items():
            client.force_login(person)
            assert client.get(url).status_code == 404, (call.code, role, page)
