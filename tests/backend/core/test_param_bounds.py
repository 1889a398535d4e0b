"""Every integer and date the api accepts is bounded before it reaches the database: a test
walks the OpenAPI and sends each route's integer and date parameters edge values."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from printstash.core.params import INT64_MAX

INTS = [2**63, INT64_MAX, -(2**63) - 1, 10**40, 0, -1]
DATES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00",
         "9999-12-31T23:59:59.999999", "0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59+14:00"]
FILLER: dict[str, Any] = {"integer": 1, "string": "x", "number": 1.0, "boolean": True}
STREAMS = {"/api/v1/printers/events"}


def _kind(schema: dict[str, Any]) -> str | None:
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("format") == "date-time":
            return "date"
        if option.get("type") == "integer" or option.get("items", {}).get("type") == "integer":
            return "int"
    return None


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()
            if path not in STREAMS]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref") or next((o["$ref"] for o in schema.get("anyOf", []) if "$ref" in o), None)
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def _body_ints(spec: dict[str, Any], op: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if not schema:
        return {}, []
    model = _resolve(spec, schema)
    props = model.get("properties", {})
    required = {name: FILLER.get(props[name].get("type", "string"), "x") for name in model.get("required", [])}
    return required, [name for name, prop in props.items() if _kind(prop) == "int"]


@pytest.fixture
def spec(admin_client: TestClient) -> dict[str, Any]:
    return dict(admin_client.get("/api/v1/openapi.json").json())


def test_every_integer_the_api_accepts_declares_a_64_bit_bound(spec: dict[str, Any]) -> None:
    unbounded = []
    for method, path, op in _operations(spec):
        for param in op.get("parameters", []):
            schema = param["schema"]
            bound = schema.get("maximum", schema.get("items", {}).get("maximum"))
            if _kind(schema) == "int" and (bound is None or float(bound) > float(INT64_MAX)):
                unbounded.append(f"{method} {path} {param['name']}")
        _, fields = _body_ints(spec, op)
        unbounded += [f"{method} {path} body.{name}" for name in fields
                      if not _declares_bound(_resolve(spec, op["requestBody"]["content"]["application/json"]
                                                      ["schema"])["properties"][name])]
    assert unbounded == []


def _declares_bound(prop: dict[str, Any]) -> bool:
    options = [prop, *prop.get("anyOf", []), prop.get("items", {})]
    # FastAPI renders a body's bound as a float: 2**63 - 1 reads 9.223372036854776e+18
    return any(o.get("maximum") is not None and float(o["maximum"]) <= float(INT64_MAX) for o in options)


def test_edge_integers_and_dates_in_every_parameter_are_a_4xx(admin_client: TestClient,
                                                              spec: dict[str, Any]) -> None:
    sent = 0
    for method, path, op in _operations(spec):
        params = [p for p in op.get("parameters", []) if _kind(p["schema"])]
        for param in params:
            values: list[Any] = INTS if _kind(param["schema"]) == "int" else DATES
            for value in values:
                url, query = path, {}
                for other in op.get("parameters", []):
                    if other["in"] == "path":
                        url = url.replace("{" + other["name"] + "}", str(value if other is param else 1))
                if param["in"] == "query":
                    query[param["name"]] = str(value)
                body, _ = _body_ints(spec, op)
                resp = admin_client.request(method, url, params=query, json=body or None)
                sent += 1
                assert resp.status_code < 500, (method, url, query, resp.text)
                assert "detail" in resp.json() if resp.status_code >= 400 else True
    assert sent > 200


def test_edge_integers_in_every_json_body_are_a_4xx(admin_client: TestClient, spec: dict[str, Any]) -> None:
    sent = 0
    for method, path, op in _operations(spec):
        body, fields = _body_ints(spec, op)
        url = path
        for param in op.get("parameters", []):
            url = url.replace("{" + param["name"] + "}", "1")
        for name in fields:
            for value in INTS:
                as_list = name.endswith("_ids")
                resp = admin_client.request(method, url, json={**body, name: [value] if as_list else value})
                sent += 1
                assert resp.status_code < 500, (method, url, name, value, resp.text)
    assert sent >= 12
