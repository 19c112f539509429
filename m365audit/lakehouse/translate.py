"""DuckDB SQL to Spark SQL: sqlglot, plus the few rewrites the checks' DuckDB idioms need.

sqlglot translates the checks' SQL as written; three DuckDB idioms it passes through
unchanged (Spark has no such syntax) are rewritten on the parsed tree before Spark SQL is
generated:

- ``list(DISTINCT x ORDER BY x)``: Spark's ``collect_list`` has no ORDER BY, so the list
  is sorted afterwards (``array_sort``), which is the same order for an ascending sort on
  the aggregated value (the only form accepted; any other order is refused);
- ``date + to_months(n)``: Spark's ``add_months(date, n)`` (both keep the month's last day);
- ``list[a:b]`` (1-based, inclusive): Spark's ``slice(list, a, b - a + 1)``;
- ``string_agg(DISTINCT x, sep ORDER BY x)``: the sorted set of values joined
  (``array_join(array_sort(collect_set(x)), sep)``, NULL when there are none, as in DuckDB),
  because Spark 4.0's ``listagg(DISTINCT ...) WITHIN GROUP`` fails to plan beside another
  DISTINCT aggregate (ClassCastException: AttributeReference cannot be cast to SortOrder).

Named parameters (``$name``) become Spark's (``:name``) and are bound with
``spark.sql(query, args=...)``; a check whose SQL this cannot translate keeps a Spark
variant beside it (``queries/checks/<id>.spark.sql``).
"""

from __future__ import annotations

import re
from functools import cache

import sqlglot
from sqlglot import exp

_POSITIONAL = re.compile(r"\?(?=(?:[^']*'[^']*')*[^']*$)")  # a ? outside string literals


class UntranslatableError(Exception):
    """DuckDB SQL that has no faithful Spark SQL here: the check needs a Spark variant."""


@cache
def to_spark(duckdb_sql: str) -> str:
    """The Spark SQL for ``duckdb_sql`` (positional ``?`` become ``:p1``, ``:p2``, ...)."""
    numbered = _number_positionals(duckdb_sql)
    try:
        tree = sqlglot.parse_one(numbered, read="duckdb")
        tree = tree.transform(_rewrite)
        return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as exc:
        raise UntranslatableError(str(exc).splitlines()[0]) from None


def positional_names(count: int) -> list[str]:
    return [f"p{i}" for i in range(1, count + 1)]


def _number_positionals(sql: str) -> str:
    counter = iter(positional_names(sql.count("?")))
    return _POSITIONAL.sub(lambda _: "$" + next(counter), sql)


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        return _sorted_list(node)
    if isinstance(node, exp.GroupConcat) and isinstance(node.this, exp.Order) \
            and isinstance(node.this.this, exp.Distinct):
        values = _sorted_list(exp.ArrayAgg(this=node.this))
        separator = node.args.get("separator") or exp.Literal.string(",")
        none = exp.EQ(this=exp.Anonymous(this="SIZE", expressions=[values.copy()]), expression=exp.Literal.number(0))
        joined = exp.Anonymous(this="ARRAY_JOIN", expressions=[values, separator])
        return exp.If(this=none, true=exp.Null(), false=joined)
    if isinstance(node, exp.Add) and _is_call(node.expression, "to_months"):
        return exp.Anonymous(this="ADD_MONTHS", expressions=[node.this, node.expression.expressions[0]])
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Slice):
        start, end = node.expressions[0].this, node.expressions[0].expression
        if start is None or end is None:
            raise UntranslatableError("an open-ended list slice")
        length = exp.Add(this=exp.Sub(this=end.copy(), expression=start.copy()), expression=exp.Literal.number(1))
        return exp.Anonymous(this="SLICE", expressions=[node.this, start, length])
    return node


def _sorted_list(node: exp.ArrayAgg) -> exp.Expression:
    order = node.this
    assert isinstance(order, exp.Order)
    value = order.this
    plain = value.expressions[0] if isinstance(value, exp.Distinct) and len(value.expressions) == 1 else value
    keys = order.expressions
    if len(keys) != 1 or keys[0].args.get("desc") or keys[0].this != plain:
        raise UntranslatableError("a list ordered by anything but its own values, ascending")
    collect = exp.Anonymous(this="COLLECT_SET", expressions=[plain]) if isinstance(value, exp.Distinct) \
        else exp.ArrayAgg(this=value)
    return exp.Anonymous(this="ARRAY_SORT", expressions=[collect])


def _is_call(node: exp.Expression | None, name: str) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.this).lower() == name
