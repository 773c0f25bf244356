"""The Go text conventions Cerbos's messages are made of (warden.testing.gotext).

Expected values follow the Go sources: ``strconv.Quote``, ``strcase.LowerCamelCase``
(github.com/stoewer/go-strcase v1.3.1, ``camel.go``) and ``time.Parse`` (``src/time/format.go``).
"""

from __future__ import annotations

from typing import Optional

import pytest
from warden.testing.gotext import go_quote, lower_camel_case, rfc3339_error


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("aux_data", "auxData"),
        ('resources["john_leave_request"].kind', 'resources["johnLeaveRequest"].kind'),
        ('principals["Alice"]', 'principals["alice"]'),  # a capital after a non-letter is lowered
        ('principals["bob-smith 2"]', 'principals["bobSmith2"]'),
        ("XRequestId", "xRequestId"),
        ("ABC", "abc"),
        ("v1Beta", "v1Beta"),  # upper case after a digit is kept
        ("  padded_name  ", "paddedName"),
        ('tests[0].expected[0].actions["view:public"]', 'tests[0].expected[0].actions["view:public"]'),
    ],
)
def test_lower_camel_case(text: str, want: str) -> None:
    assert lower_camel_case(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [("a", '"a"'), ('say "hi"\\', '"say \\"hi\\"\\\\"'), ("é", '"é"'), ("\n\t", '"\\n\\t"'), ("\x01", '"\\x01"')],
)
def test_go_quote(text: str, want: str) -> None:
    assert go_quote(text) == want


LAYOUT = '"2006-01-02T15:04:05.999999999Z07:00"'


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("2024-01-01T00:00:00Z", None),
        ("2024-02-29T23:59:59.123456789+01:00", None),
        ("2024-01-01T00:00:00,5Z", None),
        ("2024-01-01T00:00:00.1234567891234Z", None),
        ("blah", f'parsing time "blah" as {LAYOUT}: cannot parse "blah" as "2006"'),
        ("2024-01-01", f'parsing time "2024-01-01" as {LAYOUT}: cannot parse "" as "T"'),
        (
            "2024-1-01T00:00:00Z",
            f'parsing time "2024-1-01T00:00:00Z" as {LAYOUT}: cannot parse "1-01T00:00:00Z" as "01"',
        ),
        ("2024-01-01t00:00:00Z", f'parsing time "2024-01-01t00:00:00Z" as {LAYOUT}: cannot parse "t00:00:00Z" as "T"'),
        ("2024-01-01T00:00:00", f'parsing time "2024-01-01T00:00:00" as {LAYOUT}: cannot parse "" as "Z07:00"'),
        ("2024-01-01T00:00:00z", f'parsing time "2024-01-01T00:00:00z" as {LAYOUT}: cannot parse "z" as "Z07:00"'),
        ("2024-13-01T00:00:00Z", 'parsing time "2024-13-01T00:00:00Z": month out of range'),
        ("2023-02-29T00:00:00Z", 'parsing time "2023-02-29T00:00:00Z": day out of range'),
        ("2024-01-01T24:00:00Z", 'parsing time "2024-01-01T24:00:00Z": hour out of range'),
        ("2024-01-01T00:60:00Z", 'parsing time "2024-01-01T00:60:00Z": minute out of range'),
        ("2024-01-01T00:00:00+25:00", 'parsing time "2024-01-01T00:00:00+25:00": time zone offset hour out of range'),
        ("2024-01-01T00:00:00Z then", 'parsing time "2024-01-01T00:00:00Z then": extra text: " then"'),
        ("2024-01-01T00:00:00Zé", 'parsing time "2024-01-01T00:00:00Z\\xc3\\xa9": extra text: "\\xc3\\xa9"'),
    ],
)
def test_rfc3339_error(value: str, want: Optional[str]) -> None:
    assert rfc3339_error(value) == want
