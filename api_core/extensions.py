"""Schema extensions of the API core: error masking and logging, the operation cost budget, the
introspection switch, a validation cache that a refused operation does not reach, the depth and
alias limits with rules that cache (``DocumentLimits``), and the query optimizer without its
per-field middleware (``FieldOptimizer``).

Errors (``ErrorMasking`` with ``PatronSchema.process_errors``):

- an error with ``extensions.code`` (``NOT_AUTHENTICATED``, ``PERMISSION_DENIED``,
  ``INVALID_INPUT``, ``QUERY_TOO_COSTLY`` ...) is an expected refusal: it reaches the client
  unchanged and is logged at INFO, one line, no traceback;
- a parse or validation error of the document (no code, no Python exception behind it) gets
  ``GRAPHQL_PARSE_FAILED`` or ``GRAPHQL_VALIDATION_FAILED``; a variable that cannot be coerced
  gets ``INVALID_INPUT`` (and loses any Python exception text after the GraphQL part); INFO too;
- anything else is a bug: the client gets ``"Internal error."`` with ``extensions.code =
  "INTERNAL_ERROR"`` and ``extensions.requestId``, and the log gets one ERROR line with the same
  request id and the traceback. No SQL, host, path or exception text reaches the client.

Cost (``QueryCostLimiter``): before graphql-core's validation (whose overlapping-fields rule is
quadratic in the number of fields: 990 repeated ``shops { totalCount }`` took over a second),
the operation's selected fields are counted with fragments expanded and each list multiplied by
its page size; over the budget the operation is refused with ``QUERY_TOO_COSTLY`` and nothing
else runs. The budgets are in docs/api.md and the ``Query`` type's description. Whether the caller
is logged in (the session and user reads) is asked only when the cost passes the smaller budget,
and the cost of a document sent without variables is computed once.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_introspection_type,
)
from graphql.validation import ASTValidationRule, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema import Schema
from strawberry.types import ExecutionContext
from strawberry_django.optimizer import DjangoOptimizerExtension

from api_core.request_id import request_id_or_new

logger = logging.getLogger("patron.graphql")

INTERNAL_ERROR = "INTERNAL_ERROR"
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INVALID_INPUT = "INVALID_INPUT"

_REQUEST_ID_ATTRIBUTE = "patron_request_id"
_EXPECTED_TYPE = re.compile(r"^(.*?; Expected type '[^']+')")


# --- Errors ------------------------------------------------------------------------------------


def is_unexpected(error: GraphQLError) -> bool:
    """True for an error that is a bug: no ``extensions.code`` and a Python exception behind it.

    Coded errors are refusals written for clients; errors without an original exception are the
    document's own (parse, validation, variable coercion) and describe the client's mistake;
    uncoded errors that wrap another ``GraphQLError`` were written for clients too.
    """
    if (error.extensions or {}).get("code"):
        return False
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    # A variable that failed coercion (before execution) is the client's input, even when the
    # scalar's parser raised a plain ValueError.
    return not (error.path is None and error.message.startswith("Variable '$"))


def _request_id_of(execution_context: ExecutionContext | None) -> str:
    """The id this operation's errors are reported under (the HTTP request's, or one per operation)."""
    if execution_context is None:
        return request_id_or_new()
    request_id = getattr(execution_context, _REQUEST_ID_ATTRIBUTE, None)
    if request_id is None:
        request_id = request_id_or_new()
        setattr(execution_context, _REQUEST_ID_ATTRIBUTE, request_id)
    return str(request_id)


def _document_error(error: GraphQLError) -> GraphQLError:
    """A parse, validation or coercion error with its code added (and no Python exception text)."""
    message = error.message
    if message.startswith("Syntax Error"):
        code = GRAPHQL_PARSE_FAILED
    elif message.startswith("Variable '$"):
        code = INVALID_INPUT
        if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
            # "...; Expected type 'Decimal'. [<class 'decimal.ConversionSyntax'>]": keep the GraphQL part.
            match = _EXPECTED_TYPE.match(message)
            message = (match.group(1) if match else message.split(";", 1)[0]) + "."
    else:
        code = GRAPHQL_VALIDATION_FAILED
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code},
    )


def _code_document_errors(result: Any) -> Any:
    """Give the uncoded errors of a result that never executed (parse, validation) their code."""
    errors = getattr(result, "errors", None)
    if errors:
        result.errors = [
            _document_error(error)
            if not (error.extensions or {}).get("code") and error.path is None and not is_unexpected(error)
            else error
            for error in errors
        ]
    return result


class PatronSchema(Schema):
    """The strawberry schema with Patron's error logging (``process_errors``) and document codes.

    Strawberry logs every error at ERROR with a traceback; here expected refusals are one INFO
    line and only unexpected errors (bugs) are ERROR lines with their traceback, each with the
    request id that the client sees in the masked error (``ErrorMasking``). A document that does
    not parse or validate is answered before any extension sees the result, so its errors get
    their code (``GRAPHQL_PARSE_FAILED``, ``GRAPHQL_VALIDATION_FAILED``) here.
    """

    def execute_sync(self, *args: Any, **kwargs: Any) -> Any:
        """strawberry's ``execute_sync``, with the document errors coded."""
        return _code_document_errors(super().execute_sync(*args, **kwargs))

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        """strawberry's ``execute``, with the document errors coded."""
        return _code_document_errors(await super().execute(*args, **kwargs))

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log each error at the level its kind deserves (see the module docstring)."""
        for error in errors:
            if is_unexpected(error):
                request_id = _request_id_of(execution_context)
                original = error.original_error
                logger.error(
                    "Unexpected error in %s (request id %s): %s",
                    ".".join(str(key) for key in error.path or ()) or "operation",
                    request_id,
                    type(original).__name__,
                    exc_info=(type(original), original, original.__traceback__) if original else None,
                    extra={"request_id": request_id},
                )
            else:
                code = (error.extensions or {}).get("code") or "document"
                logger.info("GraphQL refusal %s: %s", code, error.message)


class ErrorMasking(MaskErrors):
    """Answer unexpected errors with ``INTERNAL_ERROR`` and a request id; code document errors.

    Register it first in the schema's extensions, so that its end of the operation runs last and
    sees every error. Coded errors pass through unchanged.
    """

    def __init__(self) -> None:
        """Mask with the fixed message ``"Internal error."``."""
        super().__init__(should_mask_error=is_unexpected, error_message="Internal error.")

    def on_operation(self) -> Iterator[None]:
        """Fix the operation's request id first, then mask the result's errors at the end."""
        _request_id_of(self.execution_context)
        yield from super().on_operation()

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        """The client's view of a bug: a fixed message, the code and the request id, no internals."""
        return GraphQLError(
            self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": INTERNAL_ERROR, "requestId": _request_id_of(self.execution_context)},
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed: list[GraphQLError] = []
        for error in errors:
            if is_unexpected(error):
                processed.append(self.anonymise_error(error))
            elif not (error.extensions or {}).get("code") and error.path is None:
                processed.append(_document_error(error))
            else:
                processed.append(error)
        return processed


# --- Query optimizer ----------------------------------------------------------------------------


class FieldOptimizer(DjangoOptimizerExtension):
    """strawberry-django's query optimizer without its per-field ``resolve`` hook.

    The stock extension runs as graphql-core middleware around *every* field (about 840 for the
    member dashboard) only to catch a ``QuerySet`` returned by a plain strawberry resolver. In this
    schema every field that returns rows is a strawberry-django field (``strawberry_django.field``,
    ``.connection``), and those optimise their own querysets through the extension found in the
    operation's context (``on_execute``, kept), so the joins and prefetches are the same. A new
    plain ``strawberry.field`` returning a ``QuerySet`` would run unoptimised: the exact SQL counts
    of tests/api catch that. Joins and prefetches only (``enable_only_optimization=False``):
    column pruning would defer fields that computed fields such as ``tierProgress`` read.
    """

    # Restore the base hook: ``SchemaExtension._implements_resolve`` is then false and strawberry
    # installs no middleware for this extension.
    resolve = SchemaExtension.resolve  # type: ignore[assignment]

    def __init__(self) -> None:
        """Joins and prefetches from the selection, no column pruning."""
        super().__init__(enable_only_optimization=False)


# --- Introspection ------------------------------------------------------------------------------


class _NoIntrospectionRule(ValidationRule):
    """graphql-core's ``NoSchemaIntrospectionCustomRule`` with a code on its error."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        """Refuse ``__schema`` / ``__type`` (``__typename`` stays allowed)."""
        type_ = get_named_type(self.context.get_type())
        if type_ and is_introspection_type(type_):
            self.report_error(
                GraphQLError(
                    "Introspection is off on this server (PATRON_INTROSPECTION=1 turns it on); "
                    "schema.graphql in the repository is the schema.",
                    node,
                    extensions={"code": INTROSPECTION_DISABLED},
                )
            )


class IntrospectionSwitch(AddValidationRules):
    """Refuse introspection (``INTROSPECTION_DISABLED``) unless ``settings.PATRON_INTROSPECTION``.

    Read per operation, so ``override_settings`` in tests and the environment at start both work.
    """

    def __init__(self) -> None:
        """No rule when introspection is on; the refusing rule otherwise."""
        super().__init__([] if settings.PATRON_INTROSPECTION else [_NoIntrospectionRule])


# --- Cost ---------------------------------------------------------------------------------------


def _unwrap(type_: Any) -> tuple[Any, bool]:
    """The named type under non-null/list wrappers, and whether a list wrapper was seen."""
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


def _page_argument(node: FieldNode, variables: dict[str, Any]) -> int | None:
    """The ``first`` or ``last`` argument of a field (literal or variable), when it is an int."""
    for argument in node.arguments or ():
        if argument.name.value not in ("first", "last"):
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(int(value.value), 0)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            if isinstance(given, int) and not isinstance(given, bool):
                return max(given, 0)
    return None


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    page_size: int,
    list_size: int,
    stop_above: int,
) -> int:
    """The cost of the operation: each selected field costs 1 for every time it can be resolved.

    Fragments are expanded where they are spread; a connection's ``edges`` (and any other list
    under it) count ``first``/``last`` times, or ``page_size`` without them; another list field
    counts its own ``first``/``last`` or ``list_size`` times. Counting stops as soon as the cost
    passes ``stop_above`` (the walk is iterative and bounded, whatever the document: cycles and
    unknown fields are left to validation).
    """
    variables = variables or {}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1:
        return 0  # validation or execution reports the missing or ambiguous operation
    operation = operations[0]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    # (selection set, parent type, multiplier, page size a list below inherits from its connection)
    stack: list[tuple[SelectionSetNode, GraphQLNamedType | None, int, int | None]] = [
        (operation.selection_set, root, 1, None)
    ]
    cost = 0
    visits = 0
    while stack:
        selection_set, parent, multiplier, inherited_page = stack.pop()
        for selection in selection_set.selections:
            visits += 1
            if visits > 10 * stop_above:  # fragment cycles with no fields: refuse rather than spin
                return stop_above + 1
            if isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    condition = schema.get_type(fragment.type_condition.name.value)
                    stack.append((fragment.selection_set, condition, multiplier, inherited_page))
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                stack.append((selection.selection_set, condition, multiplier, inherited_page))
                continue
            assert isinstance(selection, FieldNode)
            cost += multiplier
            if cost > stop_above:
                return cost
            if selection.selection_set is None:
                continue
            # Object and interface types have fields; unions, unknown types and fields are left to validation.
            field = (
                parent.fields.get(selection.name.value)
                if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
                else None
            )
            if field is None:
                continue
            named, is_list = _unwrap(field.type)
            page = _page_argument(selection, variables)
            child_multiplier = multiplier
            child_page: int | None = None
            if named.name.endswith("Connection"):
                child_page = page if page is not None else page_size
            if is_list:
                size = page if page is not None else (inherited_page if inherited_page is not None else list_size)
                child_multiplier = multiplier * max(size, 1)
            stack.append((selection.selection_set, named, child_multiplier, child_page))
    return cost


def field_count(document: DocumentNode) -> int:
    """How many field selections the document writes (fragments counted once, as written)."""
    count = 0
    stack: list[SelectionSetNode] = [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                count += 1
            if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
                stack.append(selection.selection_set)
    return count


class QueryCostLimiter(SchemaExtension):
    """Refuse an operation over its cost budget with ``QUERY_TOO_COSTLY``, before validation runs.

    Budgets (settings, documented in docs/api.md): ``PATRON_GRAPHQL_MAX_COST_ANONYMOUS`` for
    callers who are not logged in, ``PATRON_GRAPHQL_MAX_COST`` for logged-in ones, and for every
    caller at most ``PATRON_GRAPHQL_MAX_FIELDS`` fields written in the document (validation time
    grows with the square of repeated fields, whoever sends them). Must come before
    ``GuardedValidationCache`` in the schema's extensions, so a refused document is never validated.
    """

    def on_validate(self) -> Iterator[None]:
        """Count the document's fields and the operation's cost; refuse either over its budget.

        The caller's budget is looked up (which loads the session's user: two queries) only when
        the cost passes the smaller budget: a cheap operation such as ``{ __typename }`` is within
        every caller's budget and reads nothing.
        """
        execution_context = self.execution_context
        document = execution_context.graphql_document
        max_fields = settings.PATRON_GRAPHQL_MAX_FIELDS
        if document is not None and field_count(document) > max_fields:
            execution_context.pre_execution_errors = [
                GraphQLError(
                    f"This document selects more than {max_fields} fields (see docs/api.md, 'Cost budget').",
                    extensions={"code": QUERY_TOO_COSTLY, "budget": max_fields},
                )
            ]
        elif document is not None:
            budgets = (int(settings.PATRON_GRAPHQL_MAX_COST), int(settings.PATRON_GRAPHQL_MAX_COST_ANONYMOUS))
            cost = _operation_cost_cached(
                execution_context.schema._schema,
                document,
                operation_name=execution_context.operation_name,
                variables=execution_context.variables,
                page_size=settings.PATRON_GRAPHQL_MAX_PAGE_SIZE,
                list_size=settings.PATRON_GRAPHQL_DEFAULT_LIST_SIZE,
                stop_above=max(budgets),
            )
            budget = min(budgets) if cost <= min(budgets) else self._budget()
            if cost > budget:
                execution_context.pre_execution_errors = [
                    GraphQLError(
                        f"This operation costs more than {budget} (each selected field counts once for every "
                        "row it can be resolved for; see docs/api.md, 'Cost budget'). Ask for fewer fields "
                        "or smaller pages.",
                        extensions={"code": QUERY_TOO_COSTLY, "budget": budget},
                    )
                ]
        yield

    def _budget(self) -> int:
        context = self.execution_context.context
        request = context.get("request") if isinstance(context, dict) else getattr(context, "request", None)
        user = getattr(request, "user", None)
        if user is None:
            scope = getattr(request, "scope", None)
            user = scope.get("user") if isinstance(scope, dict) else None
        if user is not None and user.is_authenticated:
            return int(settings.PATRON_GRAPHQL_MAX_COST)
        return int(settings.PATRON_GRAPHQL_MAX_COST_ANONYMOUS)


#: ``operation_cost`` of documents without variables, by ``id(document)`` and the counting
#: parameters; each value keeps its document so that an id reused by a new document never matches.
#: The parser cache hands out the same document object for the same text, so repeated operations
#: (the dashboard) skip the walk. Cleared when it reaches ``_COST_CACHE_SIZE`` entries.
_COST_CACHE: dict[tuple[int, str | None, int, int, int, int], tuple[DocumentNode, int]] = {}
_COST_CACHE_SIZE = 512


def _operation_cost_cached(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    page_size: int,
    list_size: int,
    stop_above: int,
) -> int:
    """``operation_cost`` with the same arguments, remembered for documents sent without variables."""
    if variables:
        return operation_cost(
            schema,
            document,
            operation_name=operation_name,
            variables=variables,
            page_size=page_size,
            list_size=list_size,
            stop_above=stop_above,
        )
    key = (id(document), operation_name, id(schema), page_size, list_size, stop_above)
    hit = _COST_CACHE.get(key)
    if hit is not None and hit[0] is document:
        return hit[1]
    cost = operation_cost(
        schema,
        document,
        operation_name=operation_name,
        variables=None,
        page_size=page_size,
        list_size=list_size,
        stop_above=stop_above,
    )
    if len(_COST_CACHE) >= _COST_CACHE_SIZE:
        _COST_CACHE.clear()
    _COST_CACHE[key] = (document, cost)
    return cost


@functools.cache
def _document_limit_rules(max_depth: int, max_aliases: int) -> tuple[type[ASTValidationRule], ...]:
    """The depth and alias rule classes for these limits, built once per pair of values."""
    return (
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    )


class DocumentLimits(AddValidationRules):
    """strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` whose rules the validation cache can key on.

    The stock extensions build a new rule class each time they are constructed (once per
    operation, since the schema takes factories), so ``(schema, document, rules)`` never repeats
    and ``GuardedValidationCache`` validated every operation again (a few milliseconds for the
    member dashboard). Here the rule classes are built once per limit value; the limits are still read
    from settings per operation (``PATRON_GRAPHQL_MAX_DEPTH``, ``PATRON_GRAPHQL_MAX_ALIASES``).
    """

    def __init__(self) -> None:
        """Take the memoised rule classes of the current limits."""
        super().__init__(
            list(_document_limit_rules(settings.PATRON_GRAPHQL_MAX_DEPTH, settings.PATRON_GRAPHQL_MAX_ALIASES))
        )


class GuardedValidationCache(ValidationCache):
    """strawberry's ``ValidationCache`` that leaves alone an operation already refused.

    (The stock one validates unconditionally, which would spend the time the cost limit saves.)
    """

    def on_validate(self) -> Iterator[None]:
        """Validate (cached) unless an earlier extension already refused the operation."""
        if self.execution_context.pre_execution_errors:
            yield
            return
        yield from super().on_validate()
