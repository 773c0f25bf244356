"""Differential testing of query plans on real databases.

For a policy store, cases (a principal, a resource kind with its policy version, scope and known
attributes, one or more actions) and a database, the harness:

1. plans every case with ``Engine.plan_resources``;
2. infers, per resource kind, the tables the plans need: one row per resource with a column per
   attribute the conditions read (its SQL type from the literals it is compared with), and a
   related table per list attribute (elements, or objects with their fields and nested lists);
3. generates seeded rows: NULLs, empty strings, case variants, ``%``, ``_``, GLOB and escape
   characters, numeric boundaries (including integers doubles cannot hold), timestamps around
   ``now``, lists of 0 to 3 elements (null elements too);
4. for each case and each NULL convention (``explicit``: a NULL column is sent as ``null``;
   ``omitted``: it is left out), compares the ids ``warden.sqlalchemy.get_query`` returns with the
   ids for which ``Engine.decision_table`` (``check``) allows every action;
5. runs the same rows through the upstream ``cerbos_sqlalchemy.get_query`` fed with warden's plan
   (as ``Client.plan_resources`` returns it) and records where it differs.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple

import sqlalchemy as sa
from warden._planning import response_from_plan
from warden.sqlalchemy import PlanTranslationError, get_query

from tests.plan.oracle import LEAF_FAILED, ROLES_APART, gap_reason, plan_admits
from tests.plan.rows import case_variants, datetime_pool, number_pool, string_pool

ATTR = "request.resource.attr."
RESOURCE_ID = "request.resource.id"
CONVENTIONS = ("explicit", "omitted")
ROWS_PER_KIND = 48


# --------------------------------------------------------------------------- #
# cases


@dataclass
class Case:
    principal: Dict[str, Any]
    resource: Dict[str, Any]  # kind, policyVersion, scope, attr (known attributes)
    actions: List[str]

    @property
    def label(self) -> str:
        r = self.resource
        scope = f"@{r['scope']}" if r.get("scope") else ""
        return f"{self.principal['id']} {r['kind']}{scope} {','.join(self.actions)}"


@dataclass
class Suite:
    name: str
    engine: Any
    cases: List[Case]
    now: str
    aux_data: Optional[Dict[str, Any]] = None


# --------------------------------------------------------------------------- #
# what the plans read: attributes, their kinds, lists


@dataclass
class Attr:
    """An attribute (or a field of a list element): scalar, or a list of scalars or of objects."""

    name: str  # the key in its parent (``owner``, ``countries``)
    hints: List[Any] = field(default_factory=list)
    kinds: Set[str] = field(default_factory=set)  # string, number, bool, datetime
    is_list: bool = False
    element: Optional["Attr"] = None  # a list's element: scalar (no fields) or an object
    fields: Dict[str, "Attr"] = field(default_factory=dict)

    def child(self, name: str) -> "Attr":
        if name not in self.fields:
            self.fields[name] = Attr(name)
        return self.fields[name]

    def as_list(self) -> "Attr":
        self.is_list = True
        if self.element is None:
            self.element = Attr(self.name + "[]")
        return self.element

    @property
    def kind(self) -> str:
        if "datetime" in self.kinds:
            return "datetime"
        for k in ("string", "number", "bool"):
            if k in self.kinds:
                return k
        return "string"

    @property
    def integral(self) -> bool:
        nums = [h for h in self.hints if isinstance(h, (int, float)) and not isinstance(h, bool)]
        return all(float(h).is_integer() for h in nums)


def _kind_of(value: Any) -> Optional[str]:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


class Inference:
    """Walks plans and records what each resource attribute must be."""

    def __init__(self) -> None:
        self.root = Attr("")
        self.literals: List[Any] = []

    def attr(self, name: str, env: Mapping[str, Attr]) -> Optional[Attr]:
        if name == RESOURCE_ID:
            return self.root.child("@id")
        head, _, rest = name.partition(".")
        if head in env:
            node: Optional[Attr] = env[head]
            for part in rest.split(".") if rest else []:
                assert node is not None
                node = node.child(part)
            return node
        if name.startswith(ATTR):
            node = self.root
            for part in name[len(ATTR) :].split("."):
                node = node.child(part)
            return node
        return None

    def hint(self, node: Optional[Attr], value: Any) -> None:
        if node is None:
            return
        if isinstance(value, list):
            elem = node.as_list()
            for v in value:
                self.hint(elem, v)
            return
        kind = _kind_of(value)
        if kind is not None:
            node.kinds.add(kind)
            node.hints.append(value)

    def walk(self, operand: Mapping[str, Any], env: Mapping[str, Attr], boolean: bool = False) -> Optional[Attr]:
        """Records usage; returns the attribute an operand reads directly (if any)."""
        if "value" in operand:
            self._literal(operand["value"])
            return None
        if "variable" in operand:
            node = self.attr(operand["variable"], env)
            if node is not None and boolean:
                node.kinds.add("bool")
            return node
        expr = operand["expression"]
        op, ops = expr["operator"], expr["operands"]
        if op in ("and", "or", "not", "isTrue"):
            for o in ops:
                self.walk(o, env, boolean=True)
            return None
        if op == "if":
            self.walk(ops[0], env, boolean=True)
            a, b = self.walk(ops[1], env, boolean), self.walk(ops[2], env, boolean)
            return a or b
        if op in ("exists", "all", "exists_one", "filter", "map"):
            source = self.walk(ops[0], env)
            lam = ops[1]["expression"]["operands"]
            var = lam[1]["variable"] if len(lam) == 2 else None
            elem = source.as_list() if source is not None else Attr("?")
            body_env = {**env, var: elem} if var else dict(env)
            mapped = self.walk(lam[0], body_env, boolean=op != "map")
            if op == "map":
                result = Attr("mapped")
                result.is_list = True
                result.element = mapped or Attr("?")
                return result
            return source if op == "filter" else None
        if op == "index":
            base = ops[0].get("variable") if "variable" in ops[0] else None
            key = ops[1].get("value")
            if base and isinstance(key, str):
                return self.walk({"variable": f"{base}.{key}"}, env, boolean)
            for o in ops:
                self.walk(o, env)
            return None
        nodes = [self.walk(o, env) for o in ops]
        values = [o.get("value", _MISSING) for o in ops]
        if op in ("eq", "ne", "lt", "le", "gt", "ge"):
            for node, other in ((nodes[0], values[1]), (nodes[1], values[0])):
                if node is not None and other is not _MISSING:
                    self.hint(node, other)
            if nodes[0] is not None and nodes[1] is not None:
                if nodes[1].kinds:
                    nodes[0].kinds |= nodes[1].kinds
                if nodes[0].kinds:
                    nodes[1].kinds |= nodes[0].kinds
            return None
        if op == "in":
            item, container = nodes
            if container is not None:
                elem = container.as_list()
                if values[0] is not _MISSING:
                    self.hint(elem, values[0])
                if item is not None:
                    item.kinds |= elem.kinds
            elif item is not None and isinstance(values[1], list):
                for v in values[1]:
                    self.hint(item, v)
            return None
        if op in ("hasIntersection", "isSubset", "intersect", "except"):
            for node, other in ((nodes[0], values[1]), (nodes[1], values[0])):
                if node is not None:
                    elem = node.as_list()
                    if isinstance(other, list):
                        for v in other:
                            self.hint(elem, v)
            return nodes[0] if op in ("intersect", "except") else None
        if op in ("contains", "startsWith", "endsWith", "upperAscii", "lowerAscii", "matches"):
            for n in nodes:
                if n is not None:
                    n.kinds.add("string")
            return None
        if op == "timestamp":
            if nodes[0] is not None:
                nodes[0].kinds.add("datetime")
            return None
        if op == "size":
            if nodes[0] is not None and "string" not in nodes[0].kinds:
                nodes[0].as_list()
            return None
        if op in ("add", "sub", "mult", "div", "mod"):
            for n, other in ((nodes[0], values[1]), (nodes[1], values[0])):
                if n is not None and other is not _MISSING and not isinstance(other, list):
                    self.hint(n, other)
                elif n is not None and op != "add":
                    n.kinds.add("number")
            return None
        if op == "hierarchy":
            if nodes[0] is not None:
                nodes[0].kinds.add("string")
            return _HIERARCHY
        if op in ("ancestorOf", "descendentOf", "immediateParentOf", "immediateChildOf", "overlaps", "siblingOf"):
            # the column's values: the known path's prefixes and extensions
            known = [_hierarchy_text(o) for o in ops]
            for o, text in zip(ops, reversed(known), strict=True):
                target = _hierarchy_target(o, env, self)
                if target is not None and text is not None:
                    parts = text.split(".")
                    for k in range(1, len(parts) + 1):
                        self.hint(target, ".".join(parts[:k]))
                    self.hint(target, text + ".x")
                    self.hint(target, text + ".x.y")
                    self.hint(target, text + "x")
            return None
        return None

    def _literal(self, value: Any) -> None:
        if isinstance(value, list):
            for v in value:
                self._literal(v)
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            self.literals.append(value)


_MISSING = object()
_HIERARCHY = Attr("hierarchy")


def _hierarchy_text(operand: Mapping[str, Any]) -> Optional[str]:
    """The known text of a ``hierarchy("a.b")`` operand."""
    e = operand.get("expression")
    if e and e.get("operator") == "hierarchy" and "value" in e["operands"][0]:
        v = e["operands"][0]["value"]
        return v if isinstance(v, str) else None
    return None


def _hierarchy_target(operand: Mapping[str, Any], env: Mapping[str, Attr], inf: "Inference") -> Optional[Attr]:
    e = operand.get("expression")
    if e and e.get("operator") == "hierarchy" and "variable" in e["operands"][0]:
        return inf.attr(e["operands"][0]["variable"], env)
    return None


# --------------------------------------------------------------------------- #
# tables


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "x"


def _sql_type(node: Attr, dialect: str) -> sa.types.TypeEngine:
    kind = node.kind
    if kind == "number":
        return sa.BigInteger() if node.integral else sa.Float()
    if kind == "bool":
        return sa.Boolean()
    if kind == "datetime":
        return sa.DateTime(timezone=True)
    return sa.String()


@dataclass
class Layout:
    """The tables of one resource kind and the adapter's mapping onto them."""

    main: sa.Table
    attr_map: Dict[str, Any]
    table_mapping: List[Tuple[sa.Table, Any]]
    # the tables of list attributes: (attribute path, element Attr, table, parent key column)
    lists: List[Tuple[str, Attr, sa.Table]] = field(default_factory=list)
    scalars: List[Tuple[str, Attr, sa.Column]] = field(default_factory=list)  # path, node, column


def build_layout(base: str, root: Attr, metadata: sa.MetaData, dialect: str) -> Layout:
    cols: List[sa.Column] = [sa.Column("id", sa.String(), primary_key=True)]
    attr_map: Dict[str, Any] = {}
    layout = Layout(sa.Table(base, metadata), attr_map, [])  # placeholder, replaced below
    pending: List[Tuple[str, Attr]] = []
    for name, node in sorted(root.fields.items()):
        if name == "@id":
            continue
        if node.is_list:
            pending.append((ATTR + name, node))
            continue
        col = sa.Column("a_" + _slug(name), _sql_type(node, dialect), nullable=True)
        cols.append(col)
        layout.scalars.append((ATTR + name, node, col))
    metadata.remove(layout.main)
    main = sa.Table(base, metadata, *cols)
    layout.main = main
    attr_map[RESOURCE_ID] = main.c.id
    for path, _node, col in layout.scalars:
        attr_map[path] = main.c[col.name]
    layout.scalars = [(p, n, main.c[c.name]) for p, n, c in layout.scalars]
    for path, node in pending:
        _list_tables(layout, path, node, main, main.c.id, base, metadata, dialect)
    return layout


def _list_tables(
    layout: Layout,
    path: str,
    node: Attr,
    parent: sa.Table,
    parent_key: sa.Column,
    base: str,
    metadata: sa.MetaData,
    dialect: str,
) -> None:
    elem = node.element or Attr(node.name)
    name = f"{base}__{_slug(path.rsplit('.', 1)[-1])}"
    key_type = sa.String() if parent_key.name == "id" and parent is layout.main else sa.Integer()
    cols: List[sa.Column] = [
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("parent", key_type, nullable=False, index=True),
    ]
    nested: List[Tuple[str, Attr]] = []
    if elem.fields:
        for fname, fnode in sorted(elem.fields.items()):
            if fnode.is_list:
                nested.append((f"{path}.{fname}", fnode))
            else:
                cols.append(sa.Column("f_" + _slug(fname), _sql_type(fnode, dialect), nullable=True))
    else:
        cols.append(sa.Column("value", _sql_type(elem, dialect), nullable=True))
    table = sa.Table(name, metadata, *cols)
    layout.table_mapping.append((table, table.c.parent == parent_key))
    layout.lists.append((path, elem, table))
    if elem.fields:
        layout.attr_map[path] = table
        for fname, fnode in elem.fields.items():
            if not fnode.is_list:
                layout.attr_map[f"{path}.{fname}"] = table.c["f_" + _slug(fname)]
    else:
        layout.attr_map[path] = table.c.value
    for npath, nnode in nested:
        _list_tables(layout, npath, nnode, table, table.c.pk, name, metadata, dialect)


# --------------------------------------------------------------------------- #
# rows


@dataclass
class Generator:
    rng: random.Random
    now: datetime
    literals: List[Any]
    ids: List[str]

    def scalar(self, node: Attr, null_rate: float = 0.2) -> Any:
        r = self.rng.random()
        if r < null_rate:
            return None
        kind = node.kind
        if r < null_rate + 0.3 and kind in ("string", "number"):
            # the values the plan compares with, exactly: the rows that decide
            seeds = [h for h in node.hints if _kind_of(h) == kind] or [x for x in self.literals if _kind_of(x) == kind]
            if kind == "string":
                seeds += self.ids
            if seeds:
                v = self.rng.choice(seeds)
                return int(v) if kind == "number" and node.integral else v
        if kind == "bool":
            return self.rng.random() < 0.5
        if kind == "number":
            return self.rng.choice(number_pool(node.hints, node.integral))
        if kind == "datetime":
            return self.rng.choice(datetime_pool(self.now))
        return self.rng.choice(string_pool(node.hints, self.literals, self.ids))


def generate(
    layout: Layout, root: Attr, gen: Generator, n: int
) -> Tuple[List[Dict[str, Any]], Dict[str, List[Dict[str, Any]]]]:
    """Rows of the main table and of the list tables (by table name), with ``__doc__`` documents:
    each main row carries ``_attrs`` (the attribute values, None for NULL) for the checks."""
    id_node = root.fields.get("@id")
    ids = [h for h in (id_node.hints if id_node else []) if isinstance(h, str)]
    candidates = []
    for i in ids:
        candidates += case_variants(i)
    candidates += [f"r{i}" for i in range(n)]
    row_ids = list(dict.fromkeys(candidates))[:n]
    main_rows: List[Dict[str, Any]] = []
    list_rows: Dict[str, List[Dict[str, Any]]] = {t.name: [] for _, _, t in layout.lists}
    pk = {"n": 0}

    def next_pk() -> int:
        pk["n"] += 1
        return pk["n"]

    def fill_list(path: str, elem: Attr, parent_key: Any) -> List[Any]:
        table = next(t for p, _, t in layout.lists if p == path)
        values: List[Any] = []
        for _ in range(gen.rng.choice([0, 1, 1, 2, 2, 3])):
            row: Dict[str, Any] = {"pk": next_pk(), "parent": parent_key}
            if elem.fields:
                doc: Dict[str, Any] = {}
                for fname, fnode in elem.fields.items():
                    if fnode.is_list:
                        doc[fname] = ("list", fill_list(f"{path}.{fname}", fnode.element or Attr(fname), row["pk"]))
                    else:
                        v = gen.scalar(fnode)
                        row["f_" + _slug(fname)] = v
                        doc[fname] = v
                values.append(doc)
            else:
                v = gen.scalar(elem, null_rate=0.1)
                row["value"] = v
                values.append(v)
            list_rows[table.name].append(row)
        return values

    for rid in row_ids:
        row: Dict[str, Any] = {"id": rid}
        attrs: Dict[str, Any] = {}
        for path, node, col in layout.scalars:
            v = gen.scalar(node)
            row[col.name] = v
            attrs[path[len(ATTR) :]] = v
        for path, elem, _table in [x for x in layout.lists if x[0].count(".") == ATTR.count(".")]:
            attrs[path[len(ATTR) :]] = ("list", fill_list(path, elem, rid))
        row["_attrs"] = attrs
        main_rows.append(row)
    return main_rows, list_rows


def _attr_value(v: Any, convention: str) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(v, tuple) and v[0] == "list":
        return [_element(e, convention) for e in v[1]]
    return v


def _element(e: Any, convention: str) -> Any:
    if isinstance(e, dict):
        return {k: _attr_value(x, convention) for k, x in e.items() if not (x is None and convention == "omitted")}
    return _attr_value(e, convention)


def resource_attrs(flat: Mapping[str, Any], convention: str) -> Dict[str, Any]:
    """The attributes an application builds from a row: dotted names nested, NULL per convention."""
    out: Dict[str, Any] = {}
    for name, v in flat.items():
        if v is None and convention == "omitted":
            continue
        parts = name.split(".")
        target = out
        for p in parts[:-1]:
            target = target.setdefault(p, {})
        target[parts[-1]] = _attr_value(v, convention)
    return out


# --------------------------------------------------------------------------- #
# comparison


@dataclass
class Outcome:
    compared: int = 0  # rows × (principal, action set) × convention comparisons of the adapter's query
    exact_with_check: int = 0  # of which the query's answer is check's
    cases: int = 0
    refusals: Dict[str, str] = field(default_factory=dict)  # case -> message
    mismatches: List[str] = field(default_factory=list)  # the query differs from the plan's meaning
    plan_over: List[str] = field(default_factory=list)  # the plan admits a row check denies
    plan_unexplained: List[str] = field(default_factory=list)  # check allows, the plan excludes, no reason
    plan_gaps: Dict[str, int] = field(default_factory=dict)  # reason -> rows
    gap_examples: Dict[str, str] = field(default_factory=dict)
    upstream: Dict[str, Any] = field(default_factory=dict)  # case/convention -> (kind, text, plan)
    upstream_compared: int = 0
    # exact plans (Engine.plan_resources(exact=True)): the query's rows, the plan's and check's are one set
    exact_compared: int = 0
    exact_refusals: Dict[str, str] = field(default_factory=dict)
    exact_mismatches: List[str] = field(default_factory=list)  # the query differs from the exact plan
    exact_differs: List[str] = field(default_factory=list)  # the exact plan differs from check


def parse_now(text: str) -> datetime:
    """An RFC 3339 instant as a datetime (nanoseconds dropped: the database holds microseconds)."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def run_suite(suite: Suite, db: sa.Engine, rng_seed: int, upstream: Optional[Callable[..., Any]] = None) -> Outcome:
    """Plans, tables, rows and every comparison for one suite on one database."""
    now_dt = parse_now(suite.now)
    plans: Dict[int, Any] = {}  # Cerbos's plans (has() written true)
    presence: Dict[int, Any] = {}  # the same with presence tests (for attributes left out when NULL)
    exact: Dict[int, Any] = {}  # exact plans (what the list helpers use)
    errors: Dict[int, str] = {}
    by_kind: Dict[str, List[int]] = {}
    inference: Dict[str, Inference] = {}
    for i, case in enumerate(suite.cases):
        try:
            plans[i] = suite.engine.plan_resources(
                case.principal, _plan_resource(case), case.actions, aux_data=suite.aux_data, now=suite.now
            )
            presence[i] = suite.engine.plan_resources(
                case.principal,
                _plan_resource(case),
                case.actions,
                aux_data=suite.aux_data,
                now=suite.now,
                presence_tests=True,
            )
            exact[i] = suite.engine.plan_resources(
                case.principal, _plan_resource(case), case.actions, aux_data=suite.aux_data, now=suite.now, exact=True
            )
        except ValueError as exc:  # an invalid request (e.g. a bad scope): nothing to list
            errors[i] = str(exc)
            continue
        kind = case.resource["kind"] + "." + "+".join(case.actions)  # one layout per kind and action set
        by_kind.setdefault(kind, []).append(i)
        inf = inference.setdefault(kind, Inference())
        # exact plans read the same attributes; walking them too would change the seeded rows
        for p in (plans[i], presence[i]):
            cond = p["filter"].get("condition")
            if cond is not None:
                inf.walk(cond, {}, boolean=True)
        if case.resource.get("attr"):
            for k, v in case.resource["attr"].items():
                inf.hint(inf.attr(ATTR + k, {}), v)
    outcome = Outcome()
    metadata = sa.MetaData()
    layouts: Dict[str, Layout] = {}
    rows: Dict[str, List[Dict[str, Any]]] = {}
    rng = random.Random(rng_seed)
    for n, kind in enumerate(sorted(by_kind)):
        inf = inference[kind]
        layout = build_layout(f"r{n}_{_slug(kind)[:24]}", inf.root, metadata, db.dialect.name)
        layouts[kind] = layout
        principal_ids = sorted({suite.cases[i].principal["id"] for i in by_kind[kind]})
        # the same rows for every action set of a resource kind would need one schema for all of
        # Cerbos's test policies, which read the same attribute as a string in one and a list in another
        gen = Generator(rng, now_dt, inf.literals, principal_ids)
        main_rows, list_rows = generate(layout, inf.root, gen, ROWS_PER_KIND)
        rows[kind] = main_rows
        layout._list_rows = list_rows  # type: ignore[attr-defined]
    metadata.drop_all(db)
    metadata.create_all(db)
    with db.begin() as conn:
        for kind, layout in layouts.items():
            conn.execute(layout.main.insert(), [{k: v for k, v in r.items() if k != "_attrs"} for r in rows[kind]])
            for _, _, table in layout.lists:
                data = layout._list_rows[table.name]  # type: ignore[attr-defined]
                if data:
                    conn.execute(table.insert(), data)
    try:
        with db.connect() as conn:
            for kind in sorted(by_kind):
                layout = layouts[kind]
                for i in by_kind[kind]:
                    case = suite.cases[i]
                    outcome.cases += 1
                    for convention in CONVENTIONS:
                        # an application leaving NULL attributes out needs the plan's presence tests
                        plan = presence[i] if convention == "omitted" else plans[i]
                        _compare(suite, case, plan, layout, rows[kind], conn, convention, now_dt, outcome, upstream)
                        _compare_exact(suite, case, exact[i], layout, rows[kind], conn, convention, now_dt, outcome)
    finally:
        metadata.drop_all(db)
    return outcome


def _plan_resource(case: Case) -> Dict[str, Any]:
    r = case.resource
    return {k: r[k] for k in ("kind", "policyVersion", "scope", "attr") if k in r}


def _check_resource(case: Case, row: Dict[str, Any], convention: str) -> Dict[str, Any]:
    attrs = resource_attrs(row["_attrs"], convention)
    attrs.update(case.resource.get("attr") or {})  # what the plan took as known holds for every row
    r = {"kind": case.resource["kind"], "id": row["id"], "attr": attrs}
    for k in ("policyVersion", "scope"):
        if case.resource.get(k):
            r[k] = case.resource[k]
    return r


def _compare(
    suite: Suite,
    case: Case,
    plan: Dict[str, Any],
    layout: Layout,
    rows: List[Dict[str, Any]],
    conn: sa.Connection,
    convention: str,
    now: datetime,
    outcome: Outcome,
    upstream: Optional[Callable[..., Any]],
) -> None:
    resources = [_check_resource(case, r, convention) for r in rows]
    decisions = suite.engine.decision_table(
        case.principal, resources, case.actions, aux_data=suite.aux_data, now=suite.now
    )
    allowed = {r["id"] for r, row in zip(rows, decisions, strict=True) if all(row)}
    planned = plan_oracle(plan, case, resources, suite.now)
    key = f"{case.label} [{convention}]"
    debug = plan["meta"]["filterDebug"]
    # the plan itself: never more than check allows; less only where the engine's trace says why
    for rid in sorted(planned - allowed):
        outcome.plan_over.append(f"{key}: {debug}: row {rid} {resources[_index(rows, rid)]['attr']}")
    for rid in sorted(allowed - planned):
        why = explain_gap(suite, case, resources[_index(rows, rid)])
        if why is None:
            outcome.plan_unexplained.append(f"{key}: {debug}: row {rid} {resources[_index(rows, rid)]['attr']}")
        else:
            outcome.plan_gaps[why] = outcome.plan_gaps.get(why, 0) + 1
            outcome.gap_examples.setdefault(why, f"{key}: {debug}: row {rid} {resources[_index(rows, rid)]['attr']}")
    try:
        query = get_query(
            plan,
            layout.main,
            layout.attr_map,
            layout.table_mapping,
            null_attribute_representation=convention,
            now=now,
        )
    except PlanTranslationError as exc:
        outcome.refusals[case.label] = str(exc)
        query = None
    if query is not None:
        got = set(conn.execute(query.with_only_columns(layout.main.c.id)).scalars())
        outcome.compared += len(rows)
        outcome.exact_with_check += sum(1 for r in rows if (r["id"] in got) == (r["id"] in allowed))
        if got != planned:
            bad = sorted(got ^ planned)
            outcome.mismatches.append(
                f"{key}: filter {debug}\n"
                f"    returned, the plan excludes: {sorted(got - planned)[:8]}\n"
                f"    the plan admits, not returned: {sorted(planned - got)[:8]}"
                + "".join(f"\n    row {rid}: {resources[_index(rows, rid)]['attr']}" for rid in bad[:3])
            )
    if upstream is not None and convention == "explicit":
        _compare_upstream(case, plan, layout, conn, planned, allowed, len(rows), outcome, upstream, key)


def _compare_exact(
    suite: Suite,
    case: Case,
    plan: Dict[str, Any],
    layout: Layout,
    rows: List[Dict[str, Any]],
    conn: sa.Connection,
    convention: str,
    now: datetime,
    outcome: Outcome,
) -> None:
    """An exact plan: check's rows, the plan's rows (by the engine) and the query's rows are equal."""
    resources = [_check_resource(case, r, convention) for r in rows]
    decisions = suite.engine.decision_table(
        case.principal, resources, case.actions, aux_data=suite.aux_data, now=suite.now
    )
    allowed = {r["id"] for r, row in zip(rows, decisions, strict=True) if all(row)}
    planned = plan_oracle(plan, case, resources, suite.now)
    key = f"{case.label} [{convention}] exact"
    debug = plan["meta"]["filterDebug"]
    for rid in sorted(planned ^ allowed):
        side = "admits, check denies" if rid in planned else "excludes, check allows"
        outcome.exact_differs.append(
            f"{key}: {debug}: the plan {side} row {rid} {resources[_index(rows, rid)]['attr']}"
        )
    try:
        query = get_query(
            plan, layout.main, layout.attr_map, layout.table_mapping, null_attribute_representation=convention, now=now
        )
    except PlanTranslationError as exc:
        outcome.exact_refusals[case.label] = str(exc)
        return
    got = set(conn.execute(query.with_only_columns(layout.main.c.id)).scalars())
    outcome.exact_compared += len(rows)
    if got != allowed:
        bad = sorted(got ^ allowed)
        outcome.exact_mismatches.append(
            f"{key}: filter {debug}\n"
            f"    returned, check denies: {sorted(got - allowed)[:8]}\n"
            f"    check allows, not returned: {sorted(allowed - got)[:8]}"
            + "".join(f"\n    row {rid}: {resources[_index(rows, rid)]['attr']}" for rid in bad[:3])
        )


def _index(rows: List[Dict[str, Any]], rid: str) -> int:
    return next(i for i, r in enumerate(rows) if r["id"] == rid)


def plan_oracle(plan: Dict[str, Any], case: Case, resources: List[Dict[str, Any]], now: str) -> Set[str]:
    """The ids the plan admits, by the engine (tests.plan.oracle)."""
    return plan_admits(plan, resources, case.principal["id"], now)


def explain_gap(suite: Suite, case: Case, resource: Dict[str, Any]) -> Optional[str]:
    """Why ``check`` allows a row a Cerbos plan excludes (tests.plan.oracle.gap_reason)."""
    request = {"principal": case.principal, "resource": resource, "actions": case.actions}
    if suite.aux_data:
        request["auxData"] = suite.aux_data
    return gap_reason(suite.engine, request, now=suite.now)


def _compare_upstream(
    case: Case,
    plan: Dict[str, Any],
    layout: Layout,
    conn: sa.Connection,
    planned: Set[str],
    allowed: Set[str],
    n: int,
    outcome: Outcome,
    upstream: Callable[..., Any],
    key: str,
) -> None:
    """The upstream adapter fed with warden's plan, as ``Client.plan_resources`` returns it."""
    response = response_from_plan(plan, "differential")
    try:
        query = upstream(response, layout.main, layout.attr_map, layout.table_mapping or None)
        got = set(conn.execute(query.with_only_columns(layout.main.c.id)).scalars())
    except Exception as exc:  # noqa: BLE001 - every failure of the upstream adapter is a recorded difference
        conn.rollback()
        outcome.upstream[key] = (f"raises {type(exc).__name__}", str(exc).splitlines()[0][:200], plan)
        return
    outcome.upstream_compared += n
    over, under = got - allowed, planned - got
    if over or under:
        kind = "+".join(k for k, rows in (("over-grants", over), ("under-grants", under)) if rows)
        text = f"returns {len(over)} row(s) check denies, misses {len(under)} the plan admits"
        outcome.upstream[key] = (kind, text, plan)


__all__ = ["LEAF_FAILED", "ROLES_APART", "Case", "Outcome", "Suite", "run_suite"]
