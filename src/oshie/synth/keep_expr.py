"""Safe filter expressions over screening tags: `quality>=4 and safety=='safe'`.

The text is parsed with `ast` and walked by a tiny interpreter that knows only
comparisons, `and`/`or`/`not`, tag names, literals (numbers, strings, booleans, None,
tuples/lists of them for `in`) and unary minus. Anything else (calls, attributes,
subscripts, arithmetic...) is rejected when the expression is compiled, before any LLM
call, so no text can ever run as code. A comparison with a missing tag is false.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from oshie.errors import UsageError

_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}


class KeepExpression:
    """A compiled keep-expression; call it with a mapping of tag values."""

    def __init__(self, text: str, names: Iterable[str]) -> None:
        self.text = text
        self.names = set(names)
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise UsageError(f"cannot parse --keep expression {text!r}: {exc.msg}", field="keep",
                             hint="e.g. --keep \"quality>=4 and safety=='safe'\"") from exc
        self._check(tree.body)
        self._tree = tree.body

    def _fail(self, node: ast.AST, what: str) -> UsageError:
        col = getattr(node, "col_offset", 0)
        return UsageError(
            f"--keep expression {self.text!r}: {what} is not allowed (at column {col + 1})",
            field="keep",
            hint="use tag names (" + ", ".join(sorted(self.names)) + "), literals, "
            "comparisons (== != < <= > >= in, not in), and/or/not and parentheses",
        )

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.BoolOp):
            for v in node.values:
                self._check(v)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.Not | ast.USub):
                raise self._fail(node, type(node.op).__name__)
            self._check(node.operand)
        elif isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _COMPARE:
                    raise self._fail(node, f"operator {type(op).__name__}")
            for v in [node.left, *node.comparators]:
                self._check(v)
        elif isinstance(node, ast.Name):
            if node.id not in self.names:
                raise self._fail(node, f"unknown tag '{node.id}'")
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float | str | bool | type(None)):
                raise self._fail(node, f"literal {node.value!r}")
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            for v in node.elts:
                if not isinstance(v, ast.Constant):
                    raise self._fail(v, "a non-literal inside a list")
                self._check(v)
        else:
            raise self._fail(node, type(node).__name__)

    def __call__(self, tags: Mapping[str, Any]) -> bool:
        return bool(self._eval(self._tree, tags))

    def _eval(self, node: ast.AST, tags: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                return all(self._eval(v, tags) for v in node.values)
            return any(self._eval(v, tags) for v in node.values)
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, tags)
            if isinstance(node.op, ast.Not):
                return not value
            return -value if isinstance(value, int | float) else None
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, tags)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self._eval(right_node, tags)
                if left is None or right is None:
                    # a missing tag matches nothing; only `tag == None` asks for absence
                    if not (type(op) is ast.Eq and left is None and right is None):
                        return False
                    left = right
                    continue
                try:
                    if not _COMPARE[type(op)](left, right):
                        return False
                except TypeError:  # e.g. a number compared with a string: not a match
                    return False
                left = right
            return True
        if isinstance(node, ast.Name):
            return tags.get(node.id)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return tuple(self._eval(v, tags) for v in node.elts)
        raise self._fail(node, type(node).__name__)  # unreachable after _check
