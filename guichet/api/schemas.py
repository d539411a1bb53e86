"""What the API reads and answers. Amounts are decimal strings (euros to the cent, never a
binary float); instants carry their offset, in Paris time."""

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict

AMOUNT = "Euros au centime, en chaîne décimale : « 1234.50 »."


class WaveOut(Schema):
    code: str
    name: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    is_open: bool
    budget: Decimal | None = Field(description="Budget de la vague ; absent : ce qui reste.")
    remaining: Decimal | None = Field(
        description="Ce que la vague peut encore engager ; pour l'équipe de l'appel seulement.")


class CallOut(Schema):
    code: str
    name: str
    programme: str
    envelope: Decimal
    status: str
    status_label: str
    rules_version: str
    waves: list[WaveOut]


class DossierRow(Schema):
    id: int
    call: str
    title: str
    status: str
    status_label: str
    receipt_number: str | None
    received_at: dt.datetime | None
    requested_aid: Decimal | None
    eligible_at_receipt: bool | None
    wave: str | None


class DossierPage(Schema):
    items: list[DossierRow]
    count: int
    next_cursor: str | None = Field(
        description="À passer en `cursor` pour la page suivante ; absent sur la dernière.")


class DossierOut(Schema):
    id: int
    call: str
    status: str
    status_label: str
    receipt_number: str | None
    version: int = Field(description="Version du projet ; aussi dans l'en-tête ETag.")
    editable: bool
    document: dict = Field(description="Le dossier au format d'échange guichet.dossier/1 : le "
                                       "brouillon pour ses participants, sinon la version "
                                       "déposée. Ses réponses aux questions propres à l'appel "
                                       "sont sous `answers`.")
    answers_version: int = Field(description="Version des réponses aux questions de l'appel ; "
                                             "l'en-tête If-Match de leur modification la porte.")
    documents: list["DocumentOut"]


class DocumentOut(Schema):
    id: int
    kind: str
    name: str
    sha256: str
    size: int


class StartIn(Schema):
    call: str
    organisation: str = Field(description="SIRET de l'organisme chef de file, auquel vous "
                                          "êtes rattaché.")
    kind: str = Field(description="Catégorie de l'organisme (identifiant de l'appel).")
    title: str


class ProjectIn(Schema):
    """Only the fields sent change."""

    title: str | None = None
    summary: str | None = None
    scope: str | None = None
    pooling_commitment: bool | None = None
    start_date: dt.date | None = None
    duration_months: int | None = None
    sector: str | None = None
    keywords: str | None = None


class AnswersIn(BaseModel):
    """Question id → answer (null removes it); read against the call's definition. A plain
    pydantic model: ninja's Schema drops the fields it does not declare."""

    model_config = ConfigDict(extra="allow")

    def answers(self) -> dict:
        return dict(self.model_extra or {})


class MilestoneIn(Schema):
    month: int
    kind: str
    label: str


class ExpenseIn(Schema):
    member: str = Field(description="SIRET du membre qui engage la dépense.")
    category: str
    label: str
    amount: str = Field(description=AMOUNT)
    eligible: bool = True


class FinancingIn(Schema):
    source: str
    member: str | None = Field(None, description="SIRET du membre, pour un apport propre.")
    amount: str = Field(description=AMOUNT)


class ReceiptOut(Schema):
    dossier: int
    receipt_number: str
    version: int
    received_at: dt.datetime
    sha256: str = Field(description="Empreinte SHA-256 du dossier figé, imprimée sur l'accusé.")
    eligible: bool
    failed_rules: list[str]
    pdf: str = Field(description="Adresse de l'accusé de réception en PDF.")


class RuleResultOut(Schema):
    rule: str = Field(description="Identifiant de la règle, ex. « aid_cap ».")
    ok: bool
    value: str | None = Field(description="La valeur du dossier, en texte (montants à deux "
                                          "décimales).")
    limit: str | None = Field(description="La limite de l'appel, en texte.")
    message: str
    message_en: str


class VerdictOut(Schema):
    dossier: int
    frozen: bool = Field(description="Vrai : le verdict du dossier déposé, figé à sa réception "
                                     "(version). Faux : le verdict du brouillon tel qu'il est, "
                                     "pour ses participants.")
    version: int | None
    received_at: dt.datetime | None
    eligible: bool
    rules_version: str
    wave: str | None
    figures: dict[str, str | None] = Field(description="Assiette, aide, plafonds, "
                                                       "cofinancement, en texte.")
    results: list[RuleResultOut]


class TokenOut(Schema):
    id: int
    name: str
    scope: str
    owner: str


class DecisionOut(Schema):
    outcome: str
    outcome_label: str
    awarded_aid: Decimal | None
    motivation: str
    published_at: dt.datetime | None


class PaymentOut(Schema):
    amount: Decimal = Field(description="Négatif pour l'annulation d'un versement.")
    paid_on: dt.date
    reference: str
    reversal: bool


class TrancheOut(Schema):
    number: int
    label: str
    scheduled_amount: Decimal
    amount: Decimal | None
    status: str
    status_label: str
    due_at: dt.datetime | None
    payments: list[PaymentOut]


class ReportOut(Schema):
    kind: str
    kind_label: str
    due_on: dt.date
    status: str
    status_label: str
    submitted_at: dt.datetime | None


class GrantOut(Schema):
    award: Decimal
    eligible_base: Decimal
    status: str
    status_label: str
    start_date: dt.date
    duration_months: int
    signed_at: dt.datetime | None
    paid: Decimal = Field(description="Versé, annulations déduites.")
    tranches: list[TrancheOut]
    reports: list[ReportOut]


DossierOut.model_rebuild()
