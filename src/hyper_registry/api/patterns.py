"""The name grammar of core/ref.py as JSON Schema patterns, for the OpenAPI document.

No '..', no leading or trailing '.' or '-': generated clients and fuzzers then send
only well-formed names. The server checks the grammar itself (core/ref.py).
"""

KIND_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
NAME_PATTERN = r"^[a-z0-9]((\.?[a-z0-9_-])*\.?[a-z0-9_])?$"
VERSION_PATTERN = r"^[A-Za-z0-9]((\.?[A-Za-z0-9_+-])*\.?[A-Za-z0-9_+])?$"
