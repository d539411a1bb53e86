"""The whole dossier as reviewers and applicants read it: one presenter for every page that
shows it (the staff dossier page, the expert's whole-dossier view, the applicant's recap).

It reads a version of the dossier (a frozen submission, or the draft in the same form) and
gives rows of labels and exact amounts, so that the shared template partial
(guichet/partials/dossier_sheet.html) only lays them out.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guichet.core import labels
from guichet.dossiers.format import Envelope
from guichet.dossiers.models import Document
from guichet.rules.budget import Breakdown, breakdown
from guichet.rules.eligibility import Figures, compute_figures
from guichet.rules.sections import (
    Question,
    Section,
    indicator_targets,
    is_asked,
)
from guichet.rules.versions import ADDED, REMOVED, Change, diff_dossiers, diff_fields, diff_lines

SECTIONS = {
    "project": gettext_lazy("Projet"), "members": gettext_lazy("Consortium"),
    "milestones": gettext_lazy("Jalons"), "expenses": gettext_lazy("Budget"),
    "financing": gettext_lazy("Plan de financement"),
    "answers": gettext_lazy("Questions de l'appel"), "documents": gettext_lazy("Pièces"),
}
LINE_FIELDS = {
    "name": gettext_lazy("Nom"), "siret": "SIRET", "kind": gettext_lazy("Nature"),
    "lead": gettext_lazy("Chef de file"), "month": gettext_lazy("Mois"),
    "label": gettext_lazy("Libellé"), "member": gettext_lazy("Membre"),
    "category": gettext_lazy("Catégorie"), "amount": gettext_lazy("Montant"),
    "eligible": gettext_lazy("Éligible"), "source": gettext_lazy("Source"),
    "sha256": "SHA-256", "size": gettext_lazy("Taille (octets)"),
}
CLASSIFICATION_FIELDS = {"sector": gettext_lazy("Filière"), "keywords": gettext_lazy("Mots-clés")}


@dataclass(frozen=True)
class AnswerRow:
    question: str
    text: str  # "—" when not answered
    table: tuple[list[str], list[list[str]]] | None = None  # headers and rows, for a table


@dataclass(frozen=True)
class AnswerSection:
    id: str
    label: str
    intro: str
    rows: list[AnswerRow]


@dataclass(frozen=True)
class ChangeRow:
    section: str
    kind: str  # "added", "removed", "changed"
    item: str  # which line (empty for a project field)
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class DocumentRow:
    document: Document | None  # None: the file of that version is no longer stored
    name: str
    kind: str
    warnings: list[str]  # what the PDF can do when opened (for staff only)


@dataclass(frozen=True)
class DossierSheet:
    """One version of a dossier, ready to read; `changes` is None for a first version."""
    envelope: Envelope
    project: list[tuple[str, str]]
    members: list[dict]
    budget: Breakdown
    budget_by_member: list[tuple[str, object]]
    budget_by_category: list[tuple[str, object]]
    expenses: list[dict]
    financing: list[dict]
    figures: Figures
    milestones: list[dict]
    sections: list[AnswerSection]
    indicators: list[tuple[str, str]]
    documents: list[DocumentRow]
    verdict: list
    changes: list[ChangeRow] | None
    document_view: str  # the URL names that serve a document (download, inline preview)
    preview_view: str


def dossier_sheet(call, envelope: Envelope, *, documents, verdict: list,
                  previous: Envelope | None = None,
                  views: tuple[str, str] = ("backoffice:document", "backoffice:document-preview"),
                  staff: bool = True) -> DossierSheet:
    """The sheet of `envelope` (a version of a dossier of `call`): `documents` are the stored
    documents (matched to the version's by kind and SHA-256), `verdict` the automatic
    verdict's results (stored dicts or live results), `previous` the version before it, if
    any; `views` name
    the URLs serving a document (download, inline preview); `staff` readers also see what
    a PDF can do when opened."""
    rules = call.rules()
    document = envelope.dossier
    names = {member.siret: member.name for member in document.members}
    budget = breakdown(document)
    return DossierSheet(
        envelope=envelope, project=_project(envelope, rules),
        members=[{"name": m.name, "siret": m.siret, "kind": labels.label("member_kind", m.kind),
                  "lead": m.lead} for m in document.members],
        budget=budget,
        budget_by_member=[(names.get(row.key, row.key), row) for row in budget.by_member],
        budget_by_category=[(labels.call_label(rules, "expense_categories", row.key), row)
                            for row in budget.by_category],
        expenses=[{"member": names.get(e.member, e.member), "label": e.label,
                   "category": labels.call_label(rules, "expense_categories", e.category),
                   "amount": e.amount, "eligible": e.eligible} for e in document.expenses],
        financing=[{"source": labels.label("financing_source", row.line.source),
                    "member": names.get(row.line.member, "") if row.line.member else "",
                    "amount": row.line.amount, "share": row.share} for row in budget.financing],
        figures=compute_figures(document, rules),
        milestones=[{"month": m.month, "kind": labels.label("milestone_kind", m.kind),
                     "label": m.label} for m in document.milestones],
        sections=[answer_section(section, envelope, rules) for section in rules.sections],
        indicators=[(labels.call_label(rules, "indicators", code), str(target)) for code, target
                    in indicator_targets(rules.sections, envelope.answers).items()],
        documents=_documents(envelope, documents, rules, staff=staff),
        verdict=verdict,
        changes=None if previous is None else _change_rows(previous, envelope, rules),
        document_view=views[0], preview_view=views[1])


def _project(envelope: Envelope, rules) -> list[tuple[str, str]]:
    document = envelope.dossier
    sector = envelope.classification.get("sector")
    return [
        (_("Titre"), document.title or "—"), (_("Résumé"), document.summary or "—"),
        (_("Portée"), labels.label("scope", document.scope) or "—"),
        (_("Engagement de mutualisation"), _text(document.pooling_commitment)),
        (_("Date de début"), _text(document.start_date)),
        (_("Durée (mois)"), _text(document.duration_months)),
        (_("Filière"), labels.call_label(rules, "sectors", sector) or "—"),
        (_("Mots-clés"), envelope.classification.get("keywords") or "—"),
    ]


def answer_section(section: Section, envelope: Envelope, rules) -> AnswerSection:
    """A section of the call's questions with the version's answers, as people read them
    (indicator targets have their own table; questions not asked are left out)."""
    answers = envelope.answers
    rows = [_answer_row(question, answers.get(question.id), envelope)
            for question in section.questions
            if question.type != "indicators" and is_asked(question, answers)]
    intro = section.intro_en if labels.in_english() and section.intro_en else section.intro
    return AnswerSection(section.id, labels.of(section), intro, rows)


def _answer_row(question: Question, value, envelope: Envelope) -> AnswerRow:
    label = labels.of(question)
    if question.type == "file":
        names = [entry["name"] for entry in envelope.documents if entry["kind"] == question.id]
        return AnswerRow(label, ", ".join(names) or "—")
    if question.type == "table":
        headers = [labels.of(column) for column in question.columns]
        rows = [[_text(row.get(column.id)) for column in question.columns]
                for row in value or []]
        return AnswerRow(label, "—" if not rows else "", (headers, rows) if rows else None)
    return AnswerRow(label, answer_text(question, value, None))


def answer_text(question: Question, value, rules) -> str:
    """One answer as people read it: a choice by its label, a number with its unit."""
    if value is None or value == "":
        return "—"
    if question.type == "choice":
        return next((labels.of(c) for c in question.choices if c.id == value), str(value))
    if question.type == "number" and question.unit:
        return f"{value}\u00a0{question.unit}"
    if question.type == "table":
        return "; ".join(", ".join(f"{k} : {v}" for k, v in row.items()) for row in value)
    if question.type == "indicators":
        return ", ".join(f"{labels.call_label(rules, 'indicators', code)} : {target}"
                         for code, target in value.items())
    return str(value)


def _documents(envelope: Envelope, stored, rules, *, staff: bool) -> list[DocumentRow]:
    """The version's documents, in its order, each with its stored file when still there."""
    # A file attached under two kinds is two documents: they are told apart by their kind.
    by_hash = {(document.kind, document.sha256): document for document in stored}
    rows = []
    for entry in envelope.documents:
        document = by_hash.get((entry["kind"], entry["sha256"]))
        warnings = document.active_content_labels if staff and document else []
        rows.append(DocumentRow(document, entry["name"],
                                labels.call_label(rules, "attachments", entry["kind"]), warnings))
    return rows


def _text(value) -> str:
    """A field's value as people read it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if isinstance(value, dt.date):
        return date_format(value, "j F Y")
    return str(value)


def version_changes(previous: Envelope, current: Envelope) -> list[Change]:
    """Everything that changed from `previous` to `current`, the answers to the call's
    questions and the documents too."""
    return (diff_dossiers(previous.dossier, current.dossier)
            + diff_fields("project", previous.classification, current.classification)
            + diff_fields("answers", previous.answers, current.answers)
            + diff_lines("documents", previous.documents, current.documents,
                         lambda row: (row["kind"], row["sha256"])))


def _change_rows(previous: Envelope, current: Envelope, rules) -> list[ChangeRow]:
    names = {m.siret: m.name for m in [*previous.dossier.members, *current.dossier.members]}
    kinds = {ADDED: _("ajouté"), REMOVED: _("retiré")}
    return [ChangeRow(str(SECTIONS[change.section]), kinds.get(change.kind, _("modifié")),
                      _item(change, names, rules), _field_label(change, rules),
                      _value(change, change.before, names, rules),
                      _value(change, change.after, names, rules))
            for change in version_changes(previous, current)]


def _item(change: Change, names: dict, rules) -> str:
    """Which line a change is about, in words."""
    line = change.line
    if line is None:
        return ""
    if change.section == "expenses":
        return f"{names.get(line['member'], line['member'])} — {line['label']}"
    if change.section == "financing":
        source = labels.label("financing_source", line["source"])
        return f"{source} — {names[line['member']]}" if line.get("member") else source
    if change.section == "documents":
        return f"{labels.call_label(rules, 'documents', line['kind'])} — {line['name']}"
    return line.get("name") or line.get("label", "")


def _field_label(change: Change, rules) -> str:
    if change.field is None:
        return ""
    if change.field in CLASSIFICATION_FIELDS:
        return str(CLASSIFICATION_FIELDS[change.field])
    if change.section == "project":
        return labels.label("dossier_field", change.field)
    if change.section == "answers":
        question = rules.question(change.field)
        return labels.of(question) if question else change.field
    return str(LINE_FIELDS.get(change.field, change.field))


KIND_VOCABULARIES = {"members": "member_kind", "milestones": "milestone_kind"}


def _value(change: Change, value, names: dict, rules) -> str:
    """A changed value as people read it: amounts to the cent, codes as labels."""
    field = change.field
    if field is None or value is None:
        return ""
    if change.section == "answers":
        question = rules.question(field)
        return answer_text(question, value, rules) if question else str(value)
    if field == "kind" and change.section in KIND_VOCABULARIES:
        return labels.label(KIND_VOCABULARIES[change.section], value)
    if field == "kind":
        return labels.call_label(rules, "attachments", value)
    readers = {
        "amount": lambda: labels.money(Decimal(value)),
        "scope": lambda: labels.label("scope", value),
        "sector": lambda: labels.call_label(rules, "sectors", value),
        "member": lambda: names.get(value, value),
        "category": lambda: labels.call_label(rules, "expense_categories", value),
        "source": lambda: labels.label("financing_source", value),
    }
    if field in readers:
        return readers[field]()
    if field == "start_date":
        return _text(dt.date.fromisoformat(value))
    return _text(value)
