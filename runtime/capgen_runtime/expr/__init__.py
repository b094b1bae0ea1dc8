"""The expressions of a spec: Mustache templates, JSONPath, and output mappings."""
