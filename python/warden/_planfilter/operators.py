"""The plan operators every backend reads, and the attribute paths a database holds."""

from __future__ import annotations

#: the resource's attributes and id: the only variables a row gives
RESOURCE_ATTR = "request.resource.attr."
RESOURCE_ID = "request.resource.id"

LOGICAL = frozenset({"and", "or", "not"})
#: comparisons; each one's negation (a comparison's false side) and its mirror (operands swapped)
COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
NEGATED = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "le": "gt", "gt": "le"}
MIRRORED = {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le", "eq": "eq", "ne": "ne"}
ORDERINGS = ("lt", "le", "gt", "ge")
STRING_TESTS = ("contains", "startsWith", "endsWith")
#: ``has(R.attr.x)``: the attribute is present (exact plans and ``presence_tests=True``)
HAS = "has"
#: exact plans: true where the operand is true, false where it is false, fails or is no boolean
IS_TRUE = "isTrue"
COMPREHENSIONS = ("exists", "all", "exists_one", "filter", "map")
#: operators whose value is a boolean (a backend's override of one is a condition)
BOOLEAN = frozenset(
    {
        *LOGICAL,
        *COMPARISONS,
        "in",
        *STRING_TESTS,
        "exists",
        "all",
        "exists_one",
        "hasIntersection",
        "isSubset",
        HAS,
        IS_TRUE,
        "ancestorOf",
        "descendentOf",
        "immediateParentOf",
        "immediateChildOf",
        "overlaps",
        "siblingOf",
    }
)
