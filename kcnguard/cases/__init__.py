"""The one case flow: opening, re-scoring and moving a case, with its audit entry and its case event.

The classifier (which opens and re-scores cases) and the API (which moves them) both go
through kcnguard.cases.flow, so a case change made anywhere is audited and announced the same way.
"""

# kcnguard.store.schema lists the collections declared in kcnguard.cases.collections; loading the store
# first lets either module be imported first without a half-initialised cycle.
import kcnguard.store  # noqa: F401
