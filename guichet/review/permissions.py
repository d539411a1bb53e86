"""Staff permissions per call: declarative predicates (django-rules), tested as a matrix.

Roles are granted per call (CallRole). An expert sees a dossier only when assigned to it and
free of any conflict; everyone else on staff sees the dossiers of the calls they serve.
"""

import rules

from guichet.review.models import Assignment, CallRole, Conflict, Role


def _call_of(target):
    return getattr(target, "call", target)


def roles_on(user, target) -> set[str]:
    if not user.is_authenticated:
        return set()
    call = _call_of(target)
    cache = user.__dict__.setdefault("_guichet_roles", {})
    if call.pk not in cache:
        cache[call.pk] = set(CallRole.objects.filter(user=user, call=call)
                             .values_list("role", flat=True))
    return cache[call.pk]


def _has(*wanted):
    @rules.predicate
    def predicate(user, target) -> bool:
        return bool(roles_on(user, target) & set(wanted))
    return predicate


is_instructor = _has(Role.INSTRUCTOR, Role.ADMINISTRATOR)
is_committee = _has(Role.COMMITTEE, Role.ADMINISTRATOR)
is_administrator = _has(Role.ADMINISTRATOR)
is_staff_of_call = _has(Role.INSTRUCTOR, Role.COMMITTEE, Role.ADMINISTRATOR)


@rules.predicate
def is_conflicted(user, dossier) -> bool:
    return Conflict.objects.filter(expert__user=user, dossier=dossier).exists()


@rules.predicate
def is_assigned_expert(user, dossier) -> bool:
    return user.is_authenticated and Assignment.objects.filter(
        expert__user=user, dossier=dossier).exists()


@rules.predicate
def has_submitted_own_review(user, dossier) -> bool:
    return Assignment.objects.filter(expert__user=user, dossier=dossier,
                                     submitted_at__isnull=False).exists()


can_see_as_expert = is_assigned_expert & ~is_conflicted


@rules.predicate
def serves_a_call(user) -> bool:
    """Staff of at least one call, experts included: the back office is their workspace."""
    if not user.is_authenticated:
        return False
    if "_guichet_serves" not in user.__dict__:
        user.__dict__["_guichet_serves"] = CallRole.objects.filter(user=user).exists()
    return user.__dict__["_guichet_serves"]


rules.add_perm("review.open_backoffice", serves_a_call)


def opens_backoffice(user) -> bool:
    """`review.open_backoffice`, asked of the rules alone. Through `user.has_perm`, a person
    without it (every applicant, on every page's header) also made Django's model backends
    load their model permissions, two queries for permissions Guichet never grants."""
    return user.is_active and (user.is_superuser or serves_a_call(user))
rules.add_perm("review.view_call", is_staff_of_call)

rules.add_perm("review.view_dossier", is_staff_of_call | can_see_as_expert)
rules.add_perm("review.instruct", is_instructor)
rules.add_perm("review.write_note", is_instructor | is_committee)
rules.add_perm("review.manage_experts", is_instructor)
rules.add_perm("review.assign_experts", is_instructor)
rules.add_perm("review.score", can_see_as_expert)
rules.add_perm("review.view_scores",
               is_staff_of_call | (can_see_as_expert & has_submitted_own_review))
rules.add_perm("review.select", is_committee)
rules.add_perm("review.prepare_decision", is_committee)
rules.add_perm("review.publish_decisions", is_administrator)
rules.add_perm("review.revert_decision", is_administrator)
rules.add_perm("calls.manage_webhooks", is_administrator)
rules.add_perm("calls.manage_mail_texts", is_administrator)
# The call editor: copy the call, write its next version, publish it (calls.editor).
rules.add_perm("calls.edit_definition", rules.is_superuser | is_administrator)
# The workbench: experts see none of it (annotations are the staff's private notes).
rules.add_perm("review.label", is_staff_of_call)
rules.add_perm("review.annotate", is_staff_of_call)
rules.add_perm("review.follow", is_staff_of_call)
rules.add_perm("review.assign_instructor", is_instructor)


@rules.predicate
def administers_a_call(user) -> bool:
    return user.is_authenticated and CallRole.objects.filter(
        user=user, role=Role.ADMINISTRATOR).exists()


# Failed background work spans calls and shows only the kind of work and its error (no mail
# content): administrators of any call may see and retry it. Declared here, with the roles,
# because the outbox (guichet.notifications) sits below the apps.
rules.add_perm("notifications.manage_outbox", rules.is_superuser | administers_a_call)
# The call editor's page (the calls a person may copy or change are each checked).
rules.add_perm("calls.open_editor", rules.is_superuser | administers_a_call)
