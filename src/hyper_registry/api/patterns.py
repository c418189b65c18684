"""The name grammar of core/ref.py as JSON Schema patterns, for the OpenAPI document.

No '..', no leading or trailing '.', '-' or '_': generated clients and fuzzers then
send only well-formed names. The server checks the grammar itself (core/ref.py);
tests/api/test_patterns.py keeps the two in step.
"""

KIND_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
NAME_PATTERN = r"^[a-z0-9]((\.?[a-z0-9_-])*\.?[a-z0-9])?$"
VERSION_PATTERN = r"^[A-Za-z0-9]((\.?[A-Za-z0-9_+-])*\.?[A-Za-z0-9_+])?$"
