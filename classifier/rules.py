"""Business rules applied to a model's score after it is computed, each stated as a reason of its own.

The model weighs cues; a rule says what the law or the programme's policy settles whatever the
cues say. A rule's reason carries the log-odds it moved the score by, so the reasons still add up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from classifier.features import Features
from classifier.reasons import Explanation, rule_reason

# A listing that never names a brand (it only turned up in that brand's search results) cannot
# infringe the brand's mark by its text, however counterfeit its wording: the rule caps its score
# below any sensible threshold.
NO_MENTION_CAP = 0.2
NO_MENTION_RULE = "no_brand_mention_cap"


def apply_rules(scores: list[float], rows: Sequence[Features], reasons: Sequence[list[Explanation]]) -> list[int]:
    """Let the rules have their say on a batch's scores, in place: a rule that changes a row's score adds
    its reason to that row's reasons. Returns the rows changed."""
    changed = []
    for i, row in enumerate(rows):
        match = row.evidence.match
        if not match.name_found and scores[i] > NO_MENTION_CAP:
            reasons[i].append(_no_mention_reason(match.brand.name, scores[i]))
            scores[i] = NO_MENTION_CAP
            changed.append(i)
    return changed


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def _no_mention_reason(brand: str, score: float) -> Explanation:
    return rule_reason(
        NO_MENTION_RULE,
        _logit(NO_MENTION_CAP) - _logit(score),
        f"Quy tắc: tin đăng không nêu tên {brand} nên không bị coi là xâm phạm nhãn hiệu này; "
        f"điểm {score:.2f} được hạ xuống {NO_MENTION_CAP:.2f}",
        f"Rule: the listing does not name {brand}, so it is not taken as infringing that mark; "
        f"its score {score:.2f} is capped at {NO_MENTION_CAP:.2f}",
    )
