"""The input guard: one schema extension that refuses hostile input before any resolver runs.

Runs after validation and before execution, over the operation's raw variables and the string
literals of its document:

- a NUL character (``\\x00``) in any string (a variable's value, a JSON key, a literal) is refused:
  PostgreSQL cannot store it and Python code downstream does not expect it;
- the paging arguments of every connection field are checked: ``after`` and ``before`` must be
  cursors this API handed out (``arrayconnection:<n>`` in base64), ``first`` and ``last`` 0 to
  the page size cap (``field``: the argument name);
- every variable is checked against its declared type with graphql-core's own coercion, so that
  a value our scalars refuse (``api_core.scalars``: non-finite or huge decimals, dates outside
  1800-2999) answers with the path of the offending input in ``extensions.field``
  (``input.lines[0].unitPrice``: the variable name, then the camelCase path inside it).

A refusal answers ``data: null`` and errors whose ``extensions`` are ``{"code": "INVALID_INPUT",
"field": <path or null>}``; nothing is executed, so nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    IntValueNode,
    OperationDefinitionNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    get_named_type,
    is_input_type,
    type_from_ast,
    visit,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.utilities.validate_input_value import validate_input_value
from strawberry.extensions import SchemaExtension
from strawberry.relay import from_base64
from strawberry.relay.types import PREFIX as CURSOR_PREFIX

from api_core.scalars import INVALID_INPUT

NUL = "\x00"
#: Deepest nesting of a variable value the NUL scan follows (deeper values are graphql-core's to refuse).
MAX_SCAN_DEPTH = 64


def _path_text(parts: list[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _nul_paths(value: Any, path: list[str | int]) -> Iterator[list[str | int]]:
    """Paths (variable name, then keys and indexes) of the strings in ``value`` that hold a NUL."""
    stack: list[tuple[Any, list[str | int]]] = [(value, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                yield at
        elif len(at) > MAX_SCAN_DEPTH:
            continue
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and NUL in key:
                    yield at
                stack.append((child, [*at, str(key)]))
        elif isinstance(item, list):
            stack.extend((child, [*at, index]) for index, child in enumerate(item))


class _LiteralNul(Visitor):
    """Collects the string literals of a document that hold a NUL."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if NUL in node.value:
            self.found = True


def cursor_is_valid(cursor: object) -> bool:
    """Whether ``cursor`` is one this API hands out: base64 of ``arrayconnection:<offset>``."""
    if not isinstance(cursor, str) or len(cursor) > 64:
        return False
    try:
        prefix, offset = from_base64(cursor)
    except ValueError:
        return False
    # Up to 19 digits: the event feed's cursors carry 64-bit positions (integrations.api.types).
    return prefix == CURSOR_PREFIX and offset.isascii() and offset.isdigit() and len(offset) <= 19


class _PagingArguments(Visitor):
    """Collects refusals of connection fields' ``after`` / ``before`` / ``first`` / ``last``."""

    def __init__(self, type_info: TypeInfo, variables: dict[str, Any], max_page: int) -> None:
        super().__init__()
        self.type_info = type_info
        self.variables = variables
        self.max_page = max_page
        self.errors: list[GraphQLError] = []

    def _value(self, node: Any) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, StringValueNode):
            return node.value
        if isinstance(node, IntValueNode):
            return int(node.value) if len(node.value) <= 12 else None
        return None

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        field = self.type_info.get_field_def()
        if field is None or not get_named_type(field.type).name.endswith("Connection"):
            return
        for argument in node.arguments or ():
            name = argument.name.value
            value = self._value(argument.value)
            if value is None:
                continue
            if name in ("after", "before") and not cursor_is_valid(value):
                self.errors.append(refused(f"Argument '{name}' is not a cursor of this list.", name))
            elif name in ("first", "last") and isinstance(value, int) and not 0 <= value <= self.max_page:
                self.errors.append(refused(f"Argument '{name}' must be 0 to {self.max_page}.", name))


def refused(message: str, field: str | None) -> GraphQLError:
    """An INVALID_INPUT error of the guard (``extensions.field``: the input's path, or null)."""
    return GraphQLError(message, extensions={"code": INVALID_INPUT, "field": field})


#: Documents sent without variables that passed every check, by ``(id(document), id(schema),
#: page size)``; the value is the document itself, so a reused id never matches another one.
#: Cleared when it reaches ``_CLEAN_DOCUMENTS_SIZE`` entries.
_CLEAN_DOCUMENTS: dict[tuple[int, int, int | None], DocumentNode] = {}
_CLEAN_DOCUMENTS_SIZE = 512


class InputGuard(SchemaExtension):
    """Schema extension: refuses NUL characters and scalar-refused variables before execution.

    See the module docstring for what is checked and the shape of the errors.
    """

    def on_execute(self) -> Iterator[None]:
        """Check the operation's input; on refusal set the result so that nothing is executed."""
        context = self.execution_context
        errors = self._errors()
        if errors:
            context.result = GraphQLExecutionResult(data=None, errors=errors)
        yield

    def _errors(self) -> list[GraphQLError]:
        context = self.execution_context
        variables = context.variables or {}
        errors = [
            refused("Text may not contain the NUL character.", _path_text(path)) for path in _nul_paths(variables, [])
        ]
        document = context.graphql_document
        if document is None:
            return errors
        # Without variables the checks depend on the document alone: a document found clean once
        # (the parser cache hands out the same object for the same text) is not walked again.
        clean_key = (id(document), id(context.schema), context.schema.config.relay_max_results)
        if not variables and _CLEAN_DOCUMENTS.get(clean_key) is document:
            return errors
        errors = self._document_errors(variables, errors)
        if not errors and not variables:
            if len(_CLEAN_DOCUMENTS) >= _CLEAN_DOCUMENTS_SIZE:
                _CLEAN_DOCUMENTS.clear()
            _CLEAN_DOCUMENTS[clean_key] = document
        return errors

    def _document_errors(self, variables: dict[str, Any], errors: list[GraphQLError]) -> list[GraphQLError]:
        """``errors`` (the variables' NULs) and the document's literal NUL, scalar and paging checks (two walks)."""
        document = self.execution_context.graphql_document
        assert document is not None
        errors = list(errors)
        literal = _LiteralNul()
        visit(document, literal)
        if literal.found:
            errors.append(refused("Text may not contain the NUL character.", None))
        if errors:
            return errors
        errors = self._scalar_errors(variables)
        if errors:
            return errors
        schema = self.execution_context.schema
        type_info = TypeInfo(schema._schema)
        paging = _PagingArguments(type_info, variables, schema.config.relay_max_results)
        visit(document, TypeInfoVisitor(type_info, paging))
        return paging.errors

    def _scalar_errors(self, variables: dict[str, Any]) -> list[GraphQLError]:
        """Variables our scalars refuse, with their paths (other coercion errors stay graphql-core's)."""
        context = self.execution_context
        schema = context.schema._schema
        document = context.graphql_document
        errors: list[GraphQLError] = []
        for definition in document.definitions if document else ():
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if context.operation_name and (definition.name is None or definition.name.value != context.operation_name):
                continue
            for variable in definition.variable_definitions or ():
                name = variable.variable.name.value
                if name not in variables:
                    continue
                var_type = type_from_ast(schema, variable.type)
                if var_type is None or not is_input_type(var_type):
                    continue

                def collect(error: GraphQLError, path: list[str | int], name: str = name) -> None:
                    if (error.extensions or {}).get("code") == INVALID_INPUT:
                        errors.append(refused(error.message, _path_text([name, *path])))

                try:
                    validate_input_value(variables[name], var_type, collect)
                except RecursionError:
                    continue  # graphql-core refuses values nested too deeply itself
        return errors
