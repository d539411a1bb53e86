"""What people read for the codes of the dossier format: each code's name in French and English.

The codes themselves (`SCOPES`, `MEMBER_KINDS`… of `guichet.rules.dossier`) are the interchange
format's contract and never reach a person. Their names are defined here, once: the rules core
speaks them in its verdict sentences (no Django, so no gettext: both languages sit side by
side, as in `messages.py`), and the Django layer shows them through `guichet.core.labels`.

Names are written as they read inside a sentence ("la portée doit être : nationale"); lists and
choices capitalise the first letter.
"""

Name = tuple[str, str]  # (French, English)

SCOPES: dict[str, Name] = {
    "national": ("nationale", "national"),
    "interregional": ("interrégionale", "interregional"),
    "regional": ("régionale", "regional"),
    "local": ("locale", "local"),
}
MEMBER_KINDS: dict[str, Name] = {
    "training_network": ("réseau d'organismes de formation", "network of training providers"),
    "cfa_network": ("réseau de CFA", "network of apprentice training centres (CFA)"),
    "school": ("école", "school"),
    "branch": ("branche ou filière professionnelle", "professional branch or industry sector"),
    "opco": ("OPCO", "OPCO (skills operator)"),
    "training_operator": ("opérateur de formation", "training provider"),
    "company": ("entreprise", "company"),
    "content_publisher": ("éditeur de contenus", "content publisher"),
    "edtech": ("EdTech", "EdTech"),
    "siae": ("structure d'insertion par l'activité économique",
             "work integration social enterprise"),
    "research_lab": ("laboratoire de recherche", "research laboratory"),
    "other": ("autre", "other"),
}
MILESTONE_KINDS: dict[str, Name] = {
    "first_results": ("premiers résultats", "first results"),
    "intermediate": ("intermédiaire", "intermediate"),
    "final": ("final", "final"),
    "other": ("autre", "other"),
}
FINANCING_SOURCES: dict[str, Name] = {
    "aid": ("aide demandée", "aid requested"),
    "own_cash": ("autofinancement", "own funding"),
    "own_in_kind": ("apport en nature (valorisation)", "in-kind contribution (valued)"),
    "private": ("autre financement privé", "other private funding"),
    "other_public": ("autre financement public", "other public funding"),
}
# What `eligibility.missing_fields` may name: the sections still to fill in.
DOSSIER_FIELDS: dict[str, Name] = {
    "title": ("titre", "title"),
    "summary": ("résumé", "summary"),
    "scope": ("portée", "scope"),
    "pooling_commitment": ("engagement de mutualisation", "pooling commitment"),
    "start_date": ("date de début", "start date"),
    "duration_months": ("durée", "duration"),
    "members": ("membres du consortium", "consortium members"),
    "milestones": ("jalons", "milestones"),
    "expenses": ("dépenses", "expenses"),
    "financing.aid": ("aide demandée au plan de financement",
                      "aid requested in the financing plan"),
}


def names(codes, vocabulary: dict[str, Name], language: int) -> str:
    """The codes' names joined with commas (`language`: 0 French, 1 English); a code without
    a name stays as it is (it cannot be shown better)."""
    if isinstance(codes, str):
        codes = (codes,)
    return ", ".join(vocabulary[code][language] if code in vocabulary else code
                     for code in codes)
