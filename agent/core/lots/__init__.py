"""Tax lots: which acquisitions a disposal consumes, for how long each was held, and the gain it realises.

Pure: events in, lots and matches out. An **acquisition** is a quantity of an asset bought (or imported) at a
cost in USD, fees included; a **disposal** is a quantity sold for proceeds in USD, fees deducted. Events of one
account are matched on their own (US basis is tracked per wallet or account since 2025).

Lot selection (``us`` and ``de``):

- ``fifo`` oldest first, ``lifo`` newest first, ``hifo`` highest unit cost first;
- ``spec`` the lots named with the disposal (specific identification, made no later than the sale);
- ``long_term_preference`` takes lots past the long-term boundary first, each group in the method's order.

Holding period: a lot is long-term (``us``) or tax-free (``de``) when held *more than one year*: sold after the
anniversary of its acquisition date (bought 2024-03-10: sold 2025-03-10 is short, 2025-03-11 long). A lot
acquired on 29 February has its anniversary on 28 February.

UK (``uk``, no lot choice): per asset and day, disposals match acquisitions of the same day, then acquisitions of
the next 30 days (earliest first), then the section 104 pool at its average cost.

Simplifications, said once: quantities are floats compared with a relative tolerance; the DE exemption is a
yearly limit applied to the year's taxable total as a whole (:func:`de_taxable`); no currency other than USD.
"""

from agent.core.errors import LotError
from agent.core.lots.book import (
    JURISDICTIONS,
    METHODS,
    TOL,
    Acquisition,
    Book,
    Disposal,
    Event,
    Jurisdiction,
    Lot,
    Match,
    Method,
    Term,
    anniversary,
    days_to_long_term,
    held_over_a_year,
    term_of,
)
from agent.core.lots.estimate import SaleEstimate, de_taxable, estimate_sale, totals
from agent.core.lots.matching import consume, order_lots, pick, run
from agent.core.lots.uk import run_uk

__all__ = [
    "JURISDICTIONS",
    "METHODS",
    "TOL",
    "Acquisition",
    "Book",
    "Disposal",
    "Event",
    "Jurisdiction",
    "Lot",
    "LotError",
    "Match",
    "Method",
    "SaleEstimate",
    "Term",
    "anniversary",
    "consume",
    "days_to_long_term",
    "de_taxable",
    "estimate_sale",
    "held_over_a_year",
    "order_lots",
    "pick",
    "run",
    "run_uk",
    "term_of",
    "totals",
]
