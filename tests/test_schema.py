"""The committed schema.graphql is the schema the code serves, and every part of it is described."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType
from strawberry.printer import print_schema

from config.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_is_current():
    printed = print_schema(schema).strip()
    assert SCHEMA_FILE.read_text().strip() == printed, (
        "schema.graphql is stale: run `.venv/bin/python manage.py export_schema config.schema:schema "
        "--path schema.graphql` and commit it"
    )


def test_every_type_field_and_argument_has_a_description():
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
    assert missing == []


def test_introspection_answers_without_errors():
    """GraphiQL introspects on load: every default value must print (a JSON object default did not)."""
    from graphql import get_introspection_query, graphql_sync

    from config.schema import schema

    result = graphql_sync(schema._schema, get_introspection_query())
    assert result.errors is None
    assert result.data["__schema"]["queryType"]["name"] == "Query"
