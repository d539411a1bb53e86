"""Generated dossiers in the interchange format, for benchmarks (deterministic per seed)."""

import json
import random

from guichet.rules.siret import luhn_ok

KINDS = ("training_network", "cfa_network", "school", "edtech", "company", "opco", "research_lab")
CATEGORIES = ("staff", "subcontracting", "equipment", "digital_resources", "travel", "overheads")


def valid_siret(rng: random.Random) -> str:
    """A random SIRET whose SIREN and SIRET checksums both hold."""
    while True:
        siren = f"{rng.randrange(10**8, 10**9):09d}"
        if siren.startswith("356") or not luhn_ok(siren):
            continue
        for last in range(10):
            siret = f"{siren}{rng.randrange(10**3, 10**4):04d}{last}"
            if luhn_ok(siret):
                return siret


def dossier_document(rng: random.Random, members: int = 7, lines: int = 40) -> dict:
    sirets = [valid_siret(rng) for _ in range(members)]
    cents = [rng.randrange(1_000_000, 6_000_000) for _ in range(lines)]
    eligible = [rng.random() < 0.9 for _ in range(lines)]
    base = sum(c for c, ok in zip(cents, eligible, strict=True) if ok)
    aid = base * rng.choice((60, 70, 71)) // 100
    in_kind = (base - aid) // 5
    return {
        "format": "guichet.dossier/1", "call": "deffinum",
        "title": f"Projet {rng.randrange(10**6)}", "summary": "Hybridation des parcours.",
        "scope": rng.choice(("national", "interregional", "regional")),
        "pooling_commitment": True, "start_date": "2022-01-01",
        "duration_months": rng.choice((24, 36, 37)),
        "members": [{"siret": s, "name": f"Membre {i}", "kind": KINDS[i % len(KINDS)],
                     "lead": i == 0} for i, s in enumerate(sirets)],
        "milestones": [{"month": rng.choice((6, 12, 13)), "kind": "first_results",
                        "label": "Premiers résultats"},
                       {"month": 36, "kind": "final", "label": "Bilan"}],
        "expenses": [{"member": sirets[i % members], "category": CATEGORIES[i % len(CATEGORIES)],
                      "label": f"Ligne {i}", "amount": _euros(c), "eligible": ok}
                     for i, (c, ok) in enumerate(zip(cents, eligible, strict=True))],
        "financing": [
            {"source": "aid", "amount": _euros(aid)},
            {"source": "own_cash", "member": sirets[0], "amount": _euros(base - aid - in_kind)},
            {"source": "own_in_kind", "member": sirets[1], "amount": _euros(in_kind)},
        ],
        "submitted_at": "2021-08-31T11:59:59+02:00",
    }


def _euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def dossier_json(rng: random.Random, **sizes) -> bytes:
    return json.dumps(dossier_document(rng, **sizes), ensure_ascii=False).encode()
