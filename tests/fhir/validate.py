"""Validates FHIR resources with an implementation independent of ours: the models of the
`fhir.resources` package (its R4B models, FHIR 4.3.0, which for the resource kinds Synapse
serves are R4's). Reads one JSON resource from standard input; a Bundle's entries are also
validated one by one, each as its own kind (Bundles within Bundles too). Prints what failed and
exits 1; exits 2 when the package is missing (install it: pip install 'fhir.resources>=8,<9')."""

import json
import sys

try:
    from fhir.resources.R4B import get_fhir_model_class
except ImportError as error:  # pragma: no cover - the caller reports it
    print(f"fhir.resources is not installed: {error}", file=sys.stderr)
    sys.exit(2)


def validate(resource, where):
    kind = resource.get("resourceType")
    if not isinstance(kind, str):
        return [f"{where}: no resourceType"]
    data = {k: v for k, v in resource.items() if k != "resourceType"}
    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError, AttributeError) as error:
        return [f"{where}: {kind} is not a FHIR resource kind: {error}"]
    try:
        model.model_validate(data)
    except Exception as error:  # pydantic's ValidationError, and FHIR's own checks
        return [f"{where} ({kind}): {error}"]
    return []


def validate_all(resource, where):
    """The resource, and each entry of a Bundle as its own kind, Bundles within Bundles too."""
    problems = validate(resource, where)
    if resource.get("resourceType") == "Bundle":
        for n, entry in enumerate(resource.get("entry", [])):
            problems += validate_all(entry.get("resource", {}), f"{where}.entry[{n}]")
    return problems


def main():
    resource = json.load(sys.stdin)
    problems = validate_all(resource, "resource")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("valid")


main()
