"""The call editor: a funder's administrator writes a call definition in the back office as a
draft (a copy of a call, or the next version of one), sees it validated exactly as
`guichet loadcall` validates a file, and publishes it as a new rules version.

Every change goes through `definition_from_builtins`, the loader's own validation: a change it
refuses is not saved, and its key ("waves[1].closes_at") is turned into the form field it is
about and a French description of the place. Publishing serialises the definition to TOML, the
version's source, and stores it through the loader's own path (`services._store`), with the
difference from the version published before.
"""

import copy
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guichet.audit.actions import AuditAction
from guichet.audit.services import append_event
from guichet.calls.models import Call, CallDefinitionVersion, CallDraft, Programme, Wave
from guichet.calls.services import LoadResult, RulesVersionConflict, _store
from guichet.core.clock import now as server_now
from guichet.core.errors import ServiceError
from guichet.core.permissions import require_perm
from guichet.core.text import has_control_characters
from guichet.rules.definition import (
    CallDefinition,
    DefinitionError,
    definition_from_builtins,
    definition_to_builtins,
    definition_to_toml,
)
from guichet.rules.definition_diff import Change, diff_definitions

EDIT_PERMISSION = "calls.edit_definition"
_IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_SEGMENT = re.compile(r"([A-Za-z_]+)(?:\[([^\]]+)\])?")


class DraftRefused(ServiceError):
    code = "draft_refused"


class DraftConflict(ServiceError):
    """Someone saved the draft since the page was shown: nothing is overwritten."""

    code = "draft_conflict"


# --- edits -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Edit:
    """One change to a draft's definition, addressed by a path of the definition's builtins:
    "" (the top level), "eligibility", "waves[w2]" (the wave of id w2), "sections[hybridation]
    .questions"…

    - "set": `values` replace keys of the table at `path`;
    - "add": `item` is appended to the list at `path`;
    - "remove": the item `item_id` leaves the list at `path`.

    `fields` says which form field an error under a place belongs to: pairs (place, prefix of
    the form's field names), the first place that holds the error wins.
    """

    kind: str
    path: str
    values: dict = field(default_factory=dict)
    item: dict | None = None
    item_id: str = ""
    fields: tuple[tuple[str, str], ...] = ()


def set_values(path: str, values: dict) -> Edit:
    return Edit("set", path, values=values, fields=((path, ""),))


def add_item(path: str, item: dict, fields: tuple[tuple[str, str], ...] = ()) -> Edit:
    return Edit("add", path, item=item,
                fields=fields or ((f"{path}[{item.get('id')}]", ""),))


def remove_item(path: str, item_id: str) -> Edit:
    return Edit("remove", path, item_id=item_id)


def _builtin(value):
    """A value from a form, in the definition's JSON form (decimals and instants as text)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _builtin(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_builtin(item) for item in value]
    return value


def _locate(definition: dict, path: str):
    """The table or list at `path`, or DraftRefused when the path names nothing."""
    here = definition
    for name, item_id in _SEGMENT.findall(path):
        here = here.get(name) if isinstance(here, dict) else None
        if item_id:
            here = next((item for item in here if isinstance(item, dict)
                         and item.get("id") == item_id), None) if isinstance(here, list) else None
        if here is None:
            raise DraftRefused(_("Cet élément n'existe plus dans le brouillon : rechargez la "
                                 "page."))
    return here


def applied(definition: dict, edit: Edit) -> dict:
    """A new definition with `edit` made (the given one is left unchanged)."""
    changed = copy.deepcopy(definition)
    target = _locate(changed, edit.path)
    if edit.kind == "set":
        target.update(_builtin(edit.values))
    elif edit.kind == "add":
        item_id = edit.item.get("id")
        if any(existing.get("id") == item_id for existing in target):
            raise DraftRefused(_("L'identifiant « %(id)s » est déjà utilisé ici.")
                               % {"id": item_id},
                               field=_field_for(f"{edit.path}[{item_id}].id", edit))
        target.append(_builtin(edit.item))
    else:
        kept = [item for item in target if item.get("id") != edit.item_id]
        if len(kept) == len(target):
            raise DraftRefused(_("Cet élément n'existe plus dans le brouillon : rechargez la "
                                 "page."))
        target[:] = kept
    return changed


# --- what a refusal says ---------------------------------------------------------------------

# The places of a definition, in French, by their key (the last name of a path).
PLACES = {
    "name": gettext_lazy("nom"),
    "name_en": gettext_lazy("nom en anglais"),
    "funder": gettext_lazy("financeur"),
    "operator": gettext_lazy("opérateur"),
    "programme": gettext_lazy("programme"),
    "envelope": gettext_lazy("enveloppe"),
    "waves": gettext_lazy("vagues"),
    "opens_at": gettext_lazy("ouverture"),
    "closes_at": gettext_lazy("clôture"),
    "budget": gettext_lazy("budget"),
    "eligibility": gettext_lazy("éligibilité"),
    "min_members": gettext_lazy("nombre minimal de membres"),
    "leads": gettext_lazy("nombre de chefs de file"),
    "allowed_scopes": gettext_lazy("portées admises"),
    "max_duration_months": gettext_lazy("durée maximale (mois)"),
    "first_results_month": gettext_lazy("mois des premiers résultats"),
    "minimum_base": gettext_lazy("assiette minimale"),
    "aid_cap_rate": gettext_lazy("taux d'aide maximal"),
    "in_kind_cap_rate": gettext_lazy("plafond des apports en nature"),
    "selection": gettext_lazy("sélection"),
    "criteria": gettext_lazy("critères"),
    "weight": gettext_lazy("poids"),
    "documents": gettext_lazy("pièces"),
    "sections": gettext_lazy("sections"),
    "questions": gettext_lazy("questions"),
    "choices": gettext_lazy("choix"),
    "columns": gettext_lazy("colonnes"),
    "id": gettext_lazy("identifiant"),
    "label": gettext_lazy("libellé"),
    "label_en": gettext_lazy("libellé en anglais"),
    "type": gettext_lazy("type"),
    "minimum": gettext_lazy("minimum"),
    "maximum": gettext_lazy("maximum"),
    "when": gettext_lazy("condition"),
    "question": gettext_lazy("question"),
    "equals": gettext_lazy("valeurs"),
    "tranches": gettext_lazy("tranches"),
    "funding": gettext_lazy("financement"),
    "early_closure_threshold": gettext_lazy("seuil de clôture anticipée"),
    "rules_version": gettext_lazy("version des règles"),
}
# The rules core's reasons that people meet most, in French; others are shown as they are.
REASONS = [
    (re.compile(r"must be after opens_at"), gettext_lazy("doit être après l'ouverture")),
    (re.compile(r"overlaps wave '(?P<a>[^']*)'.*"),
     gettext_lazy("chevauche la vague « %(a)s » (les vagues se suivent)")),
    (re.compile(r"must be a rate in \(0, 1\] \(got (?P<a>.*)\)"),
     gettext_lazy("doit être un taux supérieur à 0 et au plus 1 (saisi : %(a)s)")),
    (re.compile(r"must not exceed max_duration_months"),
     gettext_lazy("ne doit pas dépasser la durée maximale")),
    (re.compile(r"must not exceed min_members"),
     gettext_lazy("ne doit pas dépasser le nombre minimal de membres")),
    (re.compile(r"wave budgets \((?P<a>.*)\) exceed the programme envelope"),
     gettext_lazy("les budgets des vagues (%(a)s) dépassent l'enveloppe du programme")),
    (re.compile(r"duplicate id '(?P<a>[^']*)'.*"), gettext_lazy("identifiant « %(a)s » en double")),
    (re.compile(r"a choice question, and only one, lists its choices"),
     gettext_lazy("une question à choix, et elle seule, liste ses choix (un par ligne)")),
    (re.compile(r"a table question, and only one, lists its columns"),
     gettext_lazy("une question tableau, et elle seule, liste ses colonnes")),
    (re.compile(r"must name a choice question asked before this one"),
     gettext_lazy("doit nommer une question à choix posée avant celle-ci")),
    (re.compile(r"not a choice of '(?P<a>[^']*)'"),
     gettext_lazy("n'est pas un choix de « %(a)s »")),
    (re.compile(r"Expected `str` matching regex .*"),
     gettext_lazy("lettres minuscules sans accent, chiffres, « - » ou « _ » (64 au plus)")),
    (re.compile(r"Expected `str` of length <= (?P<a>\d+)"),
     gettext_lazy("%(a)s caractères au plus")),
    (re.compile(r"Expected `str` of length >= 1"), gettext_lazy("ne doit pas être vide")),
    (re.compile(r"Expected `array` of length >= 1"), gettext_lazy("au moins un élément")),
    (re.compile(r"is a step of every dossier's form"),
     gettext_lazy("est le nom d'une étape commune à tous les dossiers")),
    (re.compile(r"the call declares no indicators"),
     gettext_lazy("l'appel ne déclare aucun indicateur")),
    (re.compile(r"at most one question of type indicators"),
     gettext_lazy("une seule question de type indicateurs au plus")),
    (re.compile(r"Expected `int`, got"), gettext_lazy("doit être un nombre entier")),
    (re.compile(r"must be positive.*"), gettext_lazy("doit être positif")),
    (re.compile(r"the two affinity weights add up to 1"),
     gettext_lazy("les deux poids d'affinité totalisent 1")),
]


def place_of(key: str) -> str:
    """"waves[w2].closes_at" in words: "vagues w2 › clôture"."""
    words = []
    for name, item_id in _SEGMENT.findall(key):
        word = str(PLACES.get(name, name))
        words.append(f"{word} {item_id}" if item_id else word)
    return " › ".join(words) or _("définition")


def reason_in_french(reason: str) -> str:
    for pattern, text in REASONS:
        match = pattern.search(reason)
        if match:
            return str(text) % match.groupdict() if match.groupdict() else str(text)
    return reason


def _with_ids(key: str, definition: dict) -> str:
    """A key of the rules core ("sections[0].questions[3].choices") with each index replaced
    by the id of the item it points at ("sections[hybridation].questions[x].choices")."""
    here, parts = definition, []
    for name, index in _SEGMENT.findall(key):
        here = here.get(name) if isinstance(here, dict) else None
        if index:
            if index.isdigit() and isinstance(here, list) and int(index) < len(here) \
                    and isinstance(here[int(index)], dict) and "id" in here[int(index)]:
                here = here[int(index)]
                index = here["id"]
            else:
                here = None
            parts.append(f"{name}[{index}]")
        else:
            parts.append(name)
    return ".".join(parts)


def _field_for(key: str, edit: Edit) -> str | None:
    """The form field of `edit` that the error at `key` is about, if any."""
    for place, prefix in edit.fields:
        start = f"{place}." if place else ""
        if key.startswith(start) and len(key) > len(start):
            return prefix + _SEGMENT.match(key[len(start):]).group(1)
    return None


def _validated(definition: dict, edit: Edit | None = None) -> CallDefinition:
    try:
        return definition_from_builtins(definition, source="draft")
    except DefinitionError as error:
        key = _with_ids(error.key, definition)
        place = place_of(key)
        message = _("%(place)s : %(reason)s") % {"place": place[:1].upper() + place[1:],
                                                 "reason": reason_in_french(error.reason)}
        raise DraftRefused(message, field=_field_for(key, edit) if edit else None,
                           details={"key": key}) from None


# --- services --------------------------------------------------------------------------------

@transaction.atomic
def open_copy(source: Call, by, *, code: str, name: str, name_en: str) -> CallDraft:
    """A draft of a new call `code`, copied from `source`. The copy has its own programme (of
    the same code as the call, with the source's envelope): a programme's envelope is shared
    by its calls, and a copy must not change the source's."""
    require_perm(by, EDIT_PERMISSION, source)
    code = (code or "").strip()
    if not _IDENTIFIER.fullmatch(code):
        raise DraftRefused(_("Identifiant : lettres minuscules sans accent, chiffres, « - » "
                             "ou « _ », 64 au plus."), field="code")
    if Call.objects.filter(code=code).exists() or Programme.objects.filter(code=code).exists():
        raise DraftRefused(_("L'identifiant « %(code)s » est déjà celui d'un appel ou d'un "
                             "programme.") % {"code": code}, field="code")
    for key, value in (("name", name), ("name_en", name_en)):
        if not (value or "").strip() or has_control_characters(value):
            raise DraftRefused(_("Saisissez un nom sur une ligne."), field=key)
    definition = definition_to_builtins(source.rules())
    definition.update(id=code, name=name.strip(), name_en=name_en.strip())
    definition["programme"]["id"] = code
    _validated(definition)
    at = server_now()
    draft = CallDraft.objects.create(based_on=source, definition=definition, created_by=by,
                                     created_at=at, updated_at=at)
    append_event(AuditAction.CALL_DRAFT_OPENED, source, by=by,
                 details={"draft": draft.pk, "copy": code})
    return draft


@transaction.atomic
def open_revision(call: Call, by) -> CallDraft:
    """The draft of the next version of `call`: the one being written, or a new one holding
    the definition the call runs now."""
    require_perm(by, EDIT_PERMISSION, call)
    existing = CallDraft.objects.filter(call=call, based_on=call, published_at=None).first()
    if existing is not None:
        return existing
    at = server_now()
    draft = CallDraft.objects.create(based_on=call, call=call, created_by=by, created_at=at,
                                     updated_at=at, base_sha256=call.definition_sha256,
                                     definition=definition_to_builtins(call.rules()))
    append_event(AuditAction.CALL_DRAFT_OPENED, call, by=by, details={"draft": draft.pk})
    return draft


def _locked(draft: CallDraft, by, version: int) -> CallDraft:
    require_perm(by, EDIT_PERMISSION, draft.based_on)
    locked = CallDraft.objects.select_for_update().get(pk=draft.pk)
    if locked.is_published:
        raise DraftRefused(_("Ce brouillon est déjà publié : ouvrez-en un nouveau."))
    if locked.version != version:
        raise DraftConflict(_("Le brouillon a été modifié entre-temps (par vous dans un autre "
                              "onglet, ou par un autre administrateur) : rien n'a été "
                              "enregistré ; la page montre maintenant son état actuel."))
    return locked


@transaction.atomic
def edit_draft(draft: CallDraft, by, edit: Edit, *, version: int) -> CallDraft:
    """Make `edit` to the draft if the definition stays valid; otherwise DraftRefused naming
    the field, and nothing saved. `version` is the draft's version the page was made from."""
    locked = _locked(draft, by, version)
    if locked.call_id is not None and edit.kind == "remove" and edit.path == "waves" and \
            Wave.objects.filter(call_id=locked.call_id, code=edit.item_id).exists():
        raise DraftRefused(_("La vague « %(wave)s » est publiée : elle ne peut plus être "
                             "retirée (ses dossiers y restent).") % {"wave": edit.item_id})
    changed = applied(locked.definition, edit)
    _validated(changed, edit)
    locked.definition, locked.version, locked.updated_at = changed, locked.version + 1, \
        server_now()
    locked.save(update_fields=["definition", "version", "updated_at"])
    append_event(AuditAction.CALL_DRAFT_EDITED, locked.based_on, by=by,
                 details={"draft": locked.pk, "change": edit.kind, "path": edit.path,
                          "item": edit.item_id or (edit.item or {}).get("id", "")})
    return locked


@transaction.atomic
def discard_draft(draft: CallDraft, by, *, version: int) -> None:
    """Abandon a draft not yet published: it is deleted; the call is untouched."""
    locked = _locked(draft, by, version)
    append_event(AuditAction.CALL_DRAFT_DISCARDED, locked.based_on, by=by,
                 details={"draft": locked.pk})
    locked.delete()


def previous_definition(draft: CallDraft) -> dict:
    """What the draft is compared with: the definition its call runs now, or, for a copy not
    yet published, the definition of the call it was copied from."""
    call = draft.call or draft.based_on
    return definition_to_builtins(call.rules())


def draft_changes(draft: CallDraft) -> list[Change]:
    """The difference between the draft and the published definition (rules_version aside:
    it is given when publishing)."""
    previous = previous_definition(draft)
    return diff_definitions(previous, dict(draft.definition,
                                           rules_version=previous["rules_version"]))


def draft_definition(draft: CallDraft) -> CallDefinition:
    """The draft as a definition (drafts are saved valid only)."""
    return definition_from_builtins(draft.definition, source=f"draft {draft.pk}")


@dataclass(frozen=True)
class Published:
    draft: CallDraft
    call: Call
    version: CallDefinitionVersion
    created: bool  # a copy published for the first time: a new call


@transaction.atomic
def publish_draft(draft: CallDraft, by, rules_version: str, *, version: int) -> Published:
    """Publish the draft as `rules_version` of its call (a new call for a copy): validated as a
    file is, stored through the loader's path with its TOML source and its difference from
    the version published before. A rules version already used for the call is refused."""
    locked = _locked(draft, by, version)
    rules_version = (rules_version or "").strip()
    if not rules_version or len(rules_version) > 64 or has_control_characters(rules_version):
        raise DraftRefused(_("Donnez une version de règles sur une ligne, de 64 caractères au "
                             "plus."), field="rules_version")
    target = locked.call
    if target is not None and target.definition_sha256 != locked.base_sha256:
        raise DraftRefused(_("Les règles de l'appel ont changé depuis l'ouverture de ce "
                             "brouillon (version %(version)s) : abandonnez-le et ouvrez-en un "
                             "nouveau, pour ne pas défaire ce changement.")
                           % {"version": target.rules_version})
    if target is not None and target.versions.filter(rules_version=rules_version).exists():
        raise RulesVersionConflict(_("La version de règles %(version)s est déjà publiée pour "
                                     "cet appel : une version publiée ne change jamais, donnez "
                                     "une nouvelle valeur.") % {"version": rules_version},
                                   field="rules_version")
    builtins = dict(locked.definition, rules_version=rules_version)
    definition = _validated(builtins)
    _check_target(locked, definition)
    diff = diff_definitions(previous_definition(locked), definition_to_builtins(definition))
    result: LoadResult = _store(definition, definition_to_toml(definition), by,
                                published_by=by, diff=_json_ready(diff))
    at = server_now()
    locked.call, locked.published_at, locked.published_version = result.call, at, rules_version
    locked.updated_at = at
    locked.save(update_fields=["call", "published_at", "published_version", "updated_at"])
    append_event(AuditAction.CALL_DRAFT_PUBLISHED, result.call, by=by, at=at,
                 details={"draft": locked.pk, "rules_version": rules_version,
                          "changes": len(diff)})
    stored = result.call.versions.get(rules_version=rules_version)
    return Published(locked, result.call, stored, result.created)


def _check_target(draft: CallDraft, definition: CallDefinition) -> None:
    """A draft publishes onto its own call only, with a programme of its own."""
    call = draft.call
    if call is None and Call.objects.filter(code=definition.id).exists():
        raise DraftRefused(_("Un appel « %(code)s » existe déjà : la copie ne peut pas le "
                             "remplacer.") % {"code": definition.id})
    if call is not None and definition.id != call.code:
        raise DraftRefused(_("L'identifiant d'un appel publié ne change pas."))
    others = Call.objects.filter(programme__code=definition.programme.id)
    if call is not None:
        others = others.exclude(pk=call.pk)
    if others.exists():
        raise DraftRefused(_("Le programme « %(code)s » est celui d'un autre appel : son "
                             "enveloppe ne peut pas être changée d'ici. Donnez un autre "
                             "identifiant de programme.") % {"code": definition.programme.id})
    if call is not None:
        kept = {wave.id for wave in definition.waves}
        gone = sorted(set(call.waves.values_list("code", flat=True)) - kept)
        if gone:
            raise DraftRefused(_("La vague « %(wave)s » est publiée : elle ne peut plus être "
                                 "retirée.") % {"wave": gone[0]})


def _json_ready(diff: list[Change]) -> list[list]:
    return [[path, before, after] for path, before, after in diff]


def export_toml(call: Call) -> str:
    """The definition `call` runs now, as a TOML file for `guichet loadcall` and
    `guichet check --call`."""
    return definition_to_toml(call.rules())
