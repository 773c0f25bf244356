"""A query plan's condition as a two-sided database filter, with CEL's semantics, for any backend.

``Engine.plan_resources`` answers "which resources of this kind may the principal act on" with a
condition over the resources' attributes (Cerbos's ``PlanResourcesResponse``). This module reads
that condition and decides, once for every backend, what each node means on a row; a backend (the
Django ORM, SQLAlchemy, ...) only says how to write a comparison, a membership test or a string
test in its own terms (:class:`Backend`).

**Two sides, no negation.** On a row, a CEL condition is true, false, or fails (an attribute the row
lacks, an operator applied to the wrong type); only rows where it is true are listed, as ``check``
allows only where the condition is true. Each node therefore becomes a :class:`Decision`: the rows
where it is true and the rows where it is false, both written positively; a row in neither is one
where evaluation fails. ``!x`` swaps the sides, ``&&`` and ``||`` combine them the way CEL absorbs
errors (``false && error`` is false, ``true || error`` is true, ``!error`` fails), and a comparison's
false side is the opposite comparison (``a == b`` is false where ``a <> b``), which a database
leaves unknown on NULL, as CEL fails on a missing attribute. No backend NOT is ever written, so a
backend's own NULL handling of negation (SQL's ``NOT NULL`` is NULL; Django adds ``IS NOT NULL`` to
negated lookups) cannot change an answer.

**NULL.** What a NULL column stands for is the application's choice, made when it builds the
attributes it sends to ``check``, and each term says which (:attr:`Term.null_means`): ``"null"``
(the attribute is sent as ``null``: ``null == "a"`` is false, ``null != "a"`` true, ``null < 1``
fails) or ``"error"`` (the attribute is left out, as a missing one: every comparison with it
fails). A filter and the ``check`` of a row agree only when both use the same choice.

**Types.** CEL's equality is heterogeneous (``"1" == 1`` is false, not an error) with numbers
compared across ``int`` and ``double``; ordering needs both sides of one type (numbers, strings,
booleans) and fails otherwise; strings compare by code point and match case-sensitively.

**Refusals.** An operator, a variable or an operand this module does not translate raises
:class:`PlanError` naming it and where it is: a list endpoint never falls back to something that
could return more than the policy allows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Generic, List, NamedTuple, Optional, Sequence, Tuple, TypeVar, Union

from warden._planfilter.cel import cel_equal, cel_order
from warden._planfilter.operators import HAS, IS_TRUE, NEGATED, RESOURCE_ATTR, RESOURCE_ID, STRING_TESTS
from warden._planfilter.plan import (
    ALWAYS_ALLOWED,
    ALWAYS_DENIED,
    CONDITIONAL,
    Call,
    Node,
    PlanError,
    Value,
    Variable,
    parse_operand,
    read_plan,
)

__all__ = [
    "ALWAYS_ALLOWED",
    "ALWAYS_DENIED",
    "CONDITIONAL",
    "Backend",
    "Call",
    "Decision",
    "Node",
    "PlanError",
    "Term",
    "Value",
    "Variable",
    "cel_equal",
    "cel_order",
    "kind_of",
    "parse_plan",
    "translate",
]

#: the kinds of values and terms; "int" and "double" compare with each other as numbers
NUMERIC = frozenset({"int", "double"})


def kind_of(value: Any) -> str:
    """The CEL kind of a JSON value: string, bool, int, double, null, list or map."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping):
        return "map"
    raise PlanError(f"value: {type(value).__name__} is not a JSON value")


def _same_type(a: str, b: str) -> bool:
    """Whether CEL compares values of kinds ``a`` and ``b`` by value (else ``==`` is false)."""
    return a == b or (a in NUMERIC and b in NUMERIC)


def parse_plan(plan: Any) -> Tuple[str, Optional[Node]]:
    """``(kind, condition)`` of a plan (any shape :func:`read_plan` reads), the condition as nodes."""
    kind, condition = read_plan(plan)
    return kind, None if condition is None else parse_operand(condition, "condition")


# --- the two-sided translation ------------------------------------------------------------------

C = TypeVar("C")
#: a side of a Decision: a constant, or a backend condition
Side = Union[bool, C]


class Decision(NamedTuple):
    """Where a CEL boolean is true and where it is false; rows in neither fail to evaluate."""

    true: Any  #: a Side: True, False or a backend condition
    false: Any


ERROR: Decision = Decision(False, False)


class Term(NamedTuple):
    """A value-valued operand as a backend expression.

    ``kind`` is its CEL kind (see :func:`kind_of`); ``literal`` says it is a known value (``expr`` is
    then the Python value); otherwise ``expr`` is the backend's expression, NULL on some rows when
    ``nullable``, where ``null_means`` ``"null"`` (CEL's null) or ``"error"`` (a missing attribute).
    """

    kind: str
    expr: Any
    literal: bool = False
    nullable: bool = True
    null_means: str = "error"

    @property
    def null_is_value(self) -> bool:
        """Whether the term is CEL's ``null`` on some rows (not a failure)."""
        return self.nullable and not self.literal and self.null_means == "null"


#: a term whose evaluation fails on every row (e.g. ``size`` of a number)
FAILING = Term("error", None)


class Backend(ABC, Generic[C]):
    """How one query language writes what :func:`translate` asks for.

    Conditions (``C``) are the backend's filter objects; terms carry its expressions. Each method is
    called only with operands CEL can compare, so a backend writes no type rules of its own.
    """

    @abstractmethod
    def attribute(self, name: str, where: str) -> Term:
        """The resource attribute ``name`` (``request.resource.attr.<name>``); PlanError when unmapped."""

    @abstractmethod
    def resource_id(self, where: str) -> Term:
        """The resource id (``request.resource.id``), a string term."""

    @abstractmethod
    def and_(self, conditions: List[C]) -> C:
        """All of ``conditions`` (at least two)."""

    @abstractmethod
    def or_(self, conditions: List[C]) -> C:
        """Any of ``conditions`` (at least two)."""

    @abstractmethod
    def present(self, term: Term) -> C:
        """Rows where ``term`` (a nullable expression) is not NULL."""

    @abstractmethod
    def is_null(self, term: Term) -> C:
        """Rows where ``term`` (a nullable expression) is NULL."""

    @abstractmethod
    def not_true(self, condition: C) -> C:
        """Rows where ``condition`` is not TRUE: FALSE or NULL (an exact plan's ``isTrue`` is false
        there, as ``check`` counts a failed condition false)."""

    @abstractmethod
    def compare(self, operator: str, left: Term, right: Term) -> C:
        """``left <operator> right`` (eq, ne, lt, le, gt, ge), rows where both have values; at most one
        is a literal. Strings compare by code point, exactly (no case folding)."""

    @abstractmethod
    def member(self, term: Term, values: List[Any], negated: bool) -> C:
        """Rows where ``term`` equals one of ``values`` (``negated``: has a value equal to none of
        them); ``values`` is non-empty and of kinds comparable with the term's."""

    @abstractmethod
    def string_test(self, operator: str, haystack: Term, needle: Term) -> Tuple[C, C]:
        """(true side, false side) of ``haystack.<operator>(needle)``, contains / startsWith /
        endsWith, literally and case-sensitively (``%`` and ``_`` are not patterns)."""

    @abstractmethod
    def size(self, term: Term) -> Term:
        """``size(term)`` of a string term, in characters (an int term)."""


def translate(plan: Any, backend: Backend[C]) -> Side[C]:
    """Where the plan allows: True (every row), False (none) or a backend condition."""
    kind, condition = parse_plan(plan)
    if kind == ALWAYS_ALLOWED:
        return True
    if kind == ALWAYS_DENIED:
        return False
    assert condition is not None
    return _Translator(backend).condition(condition, "condition").true


class _Translator(Generic[C]):
    """The walk over the condition tree (see the module's docstring for the rules)."""

    def __init__(self, backend: Backend[C]) -> None:
        self.b = backend

    # --- sides ---

    def all_of(self, sides: Sequence[Side[C]]) -> Side[C]:
        rest = []
        for side in sides:
            if side is False:
                return False
            if side is not True:
                rest.append(side)
        if not rest:
            return True
        return rest[0] if len(rest) == 1 else self.b.and_(rest)

    def any_of(self, sides: Sequence[Side[C]]) -> Side[C]:
        rest = []
        for side in sides:
            if side is True:
                return True
            if side is not False:
                rest.append(side)
        if not rest:
            return False
        return rest[0] if len(rest) == 1 else self.b.or_(rest)

    def present(self, *terms: Term) -> Side[C]:
        """Rows where every term is not NULL."""
        return self.all_of([self.b.present(t) if t.nullable and not t.literal else True for t in terms])

    def not_true(self, side: Side[C]) -> Side[C]:
        """Rows where ``side`` does not hold (it fails or is false)."""
        if isinstance(side, bool):
            return not side
        return self.b.not_true(side)

    def null(self, term: Term) -> Side[C]:
        """Rows where ``term`` is CEL's null (False unless its NULL means null)."""
        return self.b.is_null(term) if term.null_is_value else False

    # --- booleans ---

    def condition(self, node: Node, where: str) -> Decision:
        if isinstance(node, Value):
            if isinstance(node.value, bool):
                return Decision(node.value, not node.value)
            return ERROR  # a condition that is not a boolean fails
        if isinstance(node, Variable):
            term = self.term(node, where)
            if term.kind != "bool":
                return ERROR
            return Decision(
                self.b.compare("eq", term, Term("bool", True, True)),
                self.b.compare("eq", term, Term("bool", False, True)),
            )
        op, args = node.operator, node.operands
        if op == "and":
            parts = [self.condition(a, f"{where}.operands[{i}]") for i, a in enumerate(args)]
            return Decision(self.all_of([p.true for p in parts]), self.any_of([p.false for p in parts]))
        if op == "or":
            parts = [self.condition(a, f"{where}.operands[{i}]") for i, a in enumerate(args)]
            return Decision(self.any_of([p.true for p in parts]), self.all_of([p.false for p in parts]))
        if op == "not":
            self.arity(node, 1)
            inner = self.condition(args[0], f"{where}.operands[0]")
            return Decision(inner.false, inner.true)
        if op == "if":
            self.arity(node, 3)
            test, then, other = (self.condition(a, f"{where}.operands[{i}]") for i, a in enumerate(args))
            return Decision(
                self.any_of([self.all_of([test.true, then.true]), self.all_of([test.false, other.true])]),
                self.any_of([self.all_of([test.true, then.false]), self.all_of([test.false, other.false])]),
            )
        if op in NEGATED:
            self.arity(node, 2)
            left, right = (self.term(a, f"{where}.operands[{i}]") for i, a in enumerate(args))
            return self.comparison(op, left, right)
        if op == "in":
            self.arity(node, 2)
            return self.membership(node)
        if op in STRING_TESTS:
            self.arity(node, 2)
            haystack, needle = (self.term(a, f"{where}.operands[{i}]") for i, a in enumerate(args))
            return self.string_test(op, haystack, needle)
        if op == IS_TRUE:  # an exact plan: a leaf that fails is false, as check counts it
            self.arity(node, 1)
            inner = self.condition(args[0], f"{where}.operands[0]")
            return Decision(inner.true, self.not_true(inner.true))
        if op == HAS:  # exact plans and plans made with presence_tests=True
            self.arity(node, 1)
            if not isinstance(args[0], Variable):
                raise PlanError(f"{where}.operands[0]: 'has' of something other than an attribute is not supported")
            attribute = self.term(args[0], f"{where}.operands[0]")
            if not attribute.nullable or attribute.null_means == "null":
                return Decision(True, False)  # a null attribute is present
            return Decision(self.b.present(attribute), self.b.is_null(attribute))
        raise PlanError(f"{where}: operator {op!r} is not supported by this adapter (the plan was not translated)")

    def comparison(self, op: str, left: Term, right: Term) -> Decision:
        if left is FAILING or right is FAILING:
            return ERROR
        if left.literal and right.literal:
            return self.folded(op, left.expr, right.expr)
        for term in (left, right):
            if not term.literal and term.kind in ("list", "map"):
                raise PlanError(f"comparison {op!r}: list and map attributes are not supported by this adapter")
        if op in ("eq", "ne"):
            equal = self.equality(left, right)
            return equal if op == "eq" else Decision(equal.false, equal.true)
        if not _orderable(left.kind, right.kind):
            return ERROR
        # NULL (null or missing) fails an ordering, as the positive comparisons leave it out
        return Decision(self.b.compare(op, left, right), self.b.compare(NEGATED[op], left, right))

    def equality(self, left: Term, right: Term) -> Decision:
        """``left == right``: values of one type compared, others unequal; null equals null only."""
        if right.literal and right.kind == "null":
            left, right = right, left
        if left.literal and left.kind == "null":
            return Decision(self.null(right), self.present(right))
        if _same_type(left.kind, right.kind):
            true: List[Side[C]] = [self.b.compare("eq", left, right)]
            false: List[Side[C]] = [self.b.compare("ne", left, right)]
        else:  # heterogeneous: unequal wherever both have values
            true, false = [], [self.present(left, right)]
        if left.null_is_value and right.null_is_value:
            true.append(self.all_of([self.null(left), self.null(right)]))
        false.append(self.all_of([self.null(left), self.present(right)]))
        false.append(self.all_of([self.present(left), self.null(right)]))
        return Decision(self.any_of(true), self.any_of(false))

    def folded(self, op: str, a: Any, b: Any) -> Decision:
        if op in ("eq", "ne"):
            equal = cel_equal(a, b)
            result = equal if op == "eq" else not equal
            return Decision(result, not result)
        ordered = cel_order(op, a, b)
        if ordered is None:
            return ERROR
        return Decision(ordered, not ordered)

    def membership(self, node: Call) -> Decision:
        element = self.term(node.operands[0], f"{node.where}.operands[0]")
        container = node.operands[1]
        if not isinstance(container, Value):
            raise PlanError(f"{node.where}.operands[1]: 'in' over an attribute is not supported by this adapter")
        values = container.value
        if isinstance(values, Mapping):
            values = list(values)  # a map stands for its keys
        elif not isinstance(values, (list, tuple)):
            return ERROR  # `in` needs a list or a map
        if element is FAILING:
            return ERROR
        if element.literal:
            found = any(cel_equal(element.expr, v) for v in values)
            return Decision(found, not found)
        if element.kind in ("list", "map"):
            raise PlanError(f"{node.where}: 'in' with a list or map attribute is not supported by this adapter")
        candidates = [v for v in values if _same_type(element.kind, kind_of(v))]
        if candidates:
            true: List[Side[C]] = [self.b.member(element, candidates, False)]
            false: List[Side[C]] = [self.b.member(element, candidates, True)]
        else:
            true, false = [], [self.present(element)]
        # a null element is in the list when the list holds null
        (true if any(v is None for v in values) else false).append(self.null(element))
        return Decision(self.any_of(true), self.any_of(false))

    def string_test(self, op: str, haystack: Term, needle: Term) -> Decision:
        if haystack is FAILING or needle is FAILING or haystack.kind != "string" or needle.kind != "string":
            return ERROR  # no overload: fails where the operands are there (and where they are not)
        if haystack.literal and needle.literal:
            h, n = haystack.expr, needle.expr
            result = n in h if op == "contains" else h.startswith(n) if op == "startsWith" else h.endswith(n)
            return Decision(result, not result)
        if needle.literal and needle.expr == "":
            return Decision(self.present(haystack), False)  # every string contains, starts and ends with ""
        true, false = self.b.string_test(op, haystack, needle)
        return Decision(true, false)

    # --- values ---

    def term(self, node: Node, where: str) -> Term:
        if isinstance(node, Value):
            return Term(kind_of(node.value), node.value, True)
        if isinstance(node, Variable):
            if node.name.startswith(RESOURCE_ATTR) and len(node.name) > len(RESOURCE_ATTR):
                return self.b.attribute(node.name[len(RESOURCE_ATTR) :], where)
            if node.name == RESOURCE_ID:
                return self.b.resource_id(where)
            raise PlanError(f"{where}: variable {node.name!r} is not supported by this adapter")
        if node.operator == "size":
            self.arity(node, 1)
            inner = self.term(node.operands[0], f"{where}.operands[0]")
            if inner.literal and inner.kind in ("string", "list", "map"):
                return Term("int", len(inner.expr), True)
            if inner.kind != "string":
                if inner.kind in ("list", "map"):
                    raise PlanError(f"{where}: size of a list or map attribute is not supported by this adapter")
                return FAILING
            return self.b.size(inner)
        raise PlanError(f"{where}: operator {node.operator!r} is not supported by this adapter as a value")

    @staticmethod
    def arity(node: Call, count: int) -> None:
        if len(node.operands) != count:
            raise PlanError(f"{node.where}: {node.operator!r} takes {count} operands, got {len(node.operands)}")


def _orderable(a: str, b: str) -> bool:
    """Whether CEL orders values of kinds ``a`` and ``b`` (else ``<`` fails)."""
    return (a in NUMERIC and b in NUMERIC) or (a == b and a in ("string", "bool"))
