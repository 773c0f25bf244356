"""Query plans as database filters: what every backend shares.

A plan's condition (``Engine.plan_resources``'s ``filter``) is read once, whatever its shape
(:mod:`.plan`: the engine's dict, the Cerbos SDK's models, a gRPC response), and each operator
means one thing on a row whatever the database (:mod:`.operators`: the operator table, presence
tests, exact plans' ``isTrue``; :mod:`.cel`: CEL's equality and ordering of known values). The
emitters build on these:

- :mod:`.decision`: a two-sided walk (the rows where a node is true, the rows where it is false)
  over a small :class:`~.decision.Backend` interface, for query languages without a usable NULL
  logic of their own (Django's ``Q``: ``warden.django.query``);
- ``warden._sqlplan``: SQLAlchemy, where SQL's three-valued logic stands for CEL's errors, with
  lists in related tables, arithmetic, timestamps and string functions.

Both refuse what they cannot translate exactly with a :class:`~.plan.PlanError` naming it.
"""

from warden._planfilter.plan import ALWAYS_ALLOWED, ALWAYS_DENIED, CONDITIONAL, PlanError, read_plan

__all__ = ["ALWAYS_ALLOWED", "ALWAYS_DENIED", "CONDITIONAL", "PlanError", "read_plan"]
