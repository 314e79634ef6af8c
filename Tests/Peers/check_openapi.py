#!/usr/bin/env python3
"""Checks the gateway's OpenAPI document (`GET /openapi.json`) for the Swift tests (GatewayCoreTests/OpenAPITests).

usage: check_openapi.py SPEC.json [--answers ANSWERS.json]

1. SPEC is a valid OpenAPI 3.1 document (openapi-spec-validator, every error listed).
2. Each of ANSWERS (real answers of the gateway, a JSON list of {"method", "path" (the documented path, `{id}` form)
   or "response" (a name in components.responses), "status", "contentType", "headers": {name: value}, "body"}) is
   what the document says: the operation lists the status, the body validates against that response's schema
   (JSON Schema 2020-12 in OpenAPI 3.1's dialect, formats such as date-time checked), and every header the response
   declares required is there, with a value its schema allows.

Prints one line per problem; exits 0 when there is none, 1 otherwise.
"""
import argparse
import json
import sys

try:
    from openapi_schema_validator import OAS31Validator, oas31_format_checker
    from openapi_spec_validator import OpenAPIV31SpecValidator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError as error:
    print(f"check_openapi: {error}: this venv predates openapi-spec-validator; run scripts/setup-peers")
    sys.exit(2)

BASE = "urn:bagbot:openapi"


def escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


def at(spec, pointer):
    """The value at a JSON pointer (`/paths/~1healthz/get`)."""
    value = spec
    for token in pointer.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


def follow(spec, pointer):
    """The pointer and value at `pointer`, after following any `$ref` (local references only)."""
    value = at(spec, pointer)
    while isinstance(value, dict) and "$ref" in value:
        pointer = value["$ref"].lstrip("#")
        value = at(spec, pointer)
    return pointer, value


def validator(registry, pointer):
    return OAS31Validator({"$ref": BASE + "#" + pointer}, registry=registry, format_checker=oas31_format_checker)


def schema_problems(registry, pointer, instance):
    return [f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
            for error in validator(registry, pointer).iter_errors(instance)]


def header_value(text, schema):
    """A header's text as the type its schema names (header values are text on the wire)."""
    if schema.get("type") == "integer":
        try:
            return int(text)
        except ValueError:
            return text
    return text


def check_answer(spec, registry, answer):
    method, status = answer.get("method", "").lower(), answer["status"]
    if "response" in answer:
        label = f"components.responses.{answer['response']} ({status})"
        pointer = "/components/responses/" + escape(answer["response"])
    else:
        label = f"{method.upper()} {answer['path']} → {status}"
        operation = spec.get("paths", {}).get(answer["path"], {}).get(method)
        if operation is None:
            return [f"{label}: no such operation in the document"]
        if str(status) not in operation.get("responses", {}):
            return [f"{label}: status {status} is not documented (documented: {', '.join(sorted(operation['responses']))})"]
        pointer = f"/paths/{escape(answer['path'])}/{method}/responses/{status}"
    problems = []
    pointer, response = follow(spec, pointer)
    headers = {name.lower(): value for name, value in answer.get("headers", {}).items()}
    for name, declared in response.get("headers", {}).items():
        header_pointer, header = follow(spec, f"{pointer}/headers/{escape(name)}")
        if name.lower() not in headers:
            if header.get("required"):
                problems.append(f"{label}: required header {name} is missing")
            continue
        schema = header.get("schema", {})
        for problem in schema_problems(registry, header_pointer + "/schema", header_value(headers[name.lower()], schema)):
            problems.append(f"{label}: header {name}: {problem}")
    content = response.get("content")
    if content is None:
        if answer.get("body") is not None:
            problems.append(f"{label}: the document declares no body, the answer has one")
        return problems
    media = "application/json"
    if media not in content:
        return problems + [f"{label}: no {media} body documented"]
    if not str(answer.get("contentType", "")).startswith(media):
        problems.append(f"{label}: Content-Type is {answer.get('contentType')!r}, not {media}")
    for problem in schema_problems(registry, f"{pointer}/content/{escape(media)}/schema", answer.get("body")):
        problems.append(f"{label}: {problem}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec")
    parser.add_argument("--answers")
    arguments = parser.parse_args()
    with open(arguments.spec, encoding="utf-8") as file:
        spec = json.load(file)
    problems = [f"invalid OpenAPI 3.1: {error.message} (at {'/'.join(map(str, error.absolute_path)) or 'the top'})"
                for error in OpenAPIV31SpecValidator(spec).iter_errors()]
    if arguments.answers and not problems:
        registry = Registry().with_resource(BASE, Resource.from_contents(spec, default_specification=DRAFT202012))
        with open(arguments.answers, encoding="utf-8") as file:
            answers = json.load(file)
        for answer in answers:
            problems += check_answer(spec, registry, answer)
        print(f"check_openapi: {len(answers)} answers checked")
    for problem in problems:
        print(problem)
    print(f"check_openapi: {'OK' if not problems else f'{len(problems)} problems'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
