"""Portfolio selection: which dossiers to fund (contracts/optimisation.md, "Portfolio selection").

Pure Python plus HiGHS (highspy), numpy and msgspec; no Django import, so `guichet select` runs on
a file. The modules, in the order a selection goes through them:

- `instance`: the instance as msgspec Structs, amounts read exactly as `Decimal`;
- `prepared`: the instance as numpy arrays, and the exact check of a selection;
- `baseline`: the rank-order funding line (best score first, ties: smaller aid, then id);
- `infeasibility`: why no selection exists, when a person can check it by hand;
- `solver`: the optimal selection, certified by HiGHS, and the contract's JSON result;
- `explain`: why dossiers enter or leave between the two lines, as data (codes and figures;
  guichet/review/committee_text.py writes the sentences).
"""

from guichet.rules.selection.baseline import RankOrderLine, rank_order, rank_order_to_dict
from guichet.rules.selection.explain import REASON_KINDS, explain
from guichet.rules.selection.infeasibility import INFEASIBILITY_TEXTS, infeasibility_text
from guichet.rules.selection.instance import (
    OBJECTIVES,
    Candidate,
    Cap,
    Floor,
    InstanceError,
    SelectionInstance,
    parse_selection_instance,
    read_selection_instance,
)
from guichet.rules.selection.solver import (
    DEFAULT_GAP,
    DEFAULT_TIME_LIMIT,
    SelectionResult,
    selection_result_to_dict,
    solve_selection,
)

__all__ = [
    "DEFAULT_GAP", "DEFAULT_TIME_LIMIT", "INFEASIBILITY_TEXTS", "OBJECTIVES", "REASON_KINDS",
    "Candidate", "Cap", "Floor", "InstanceError", "RankOrderLine", "SelectionInstance",
    "SelectionResult", "explain", "infeasibility_text", "parse_selection_instance",
    "rank_order", "rank_order_to_dict", "read_selection_instance", "selection_result_to_dict",
    "solve_selection",
]
