"""The error a plan that cannot be translated raises."""

from __future__ import annotations

from warden._planfilter.plan import PlanError


class PlanTranslationError(PlanError):
    """A plan operator, operand or attribute that has no exact SQL translation.

    Raised instead of producing a query that could return rows the policy does not allow; the
    message names the operator or attribute. A :class:`warden._planfilter.PlanError` (a
    ``ValueError``), as the Django translation raises.
    """
