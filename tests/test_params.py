import datetime as dt

import pytest

from report_helpers import params
from report_helpers.errors import ParameterError

TODAY = dt.date(2026, 11, 27)
CELL = ('as_of: str = "today"  # date\n'
        'edition: str = "full"  # full or brief\n'
        'top_n: int = 5  # partners shown\n')


@pytest.fixture
def specs():
    return params.merge_specs({"a": params.specs_from_cell(CELL, section="a"),
                               "b": params.specs_from_cell(CELL.replace("top_n: int = 5  # partners shown\n", ""),
                                                           section="b")})


def test_parameters_cell_is_read_as_a_signature(specs):
    assert specs["top_n"].type_name == "int"
    assert specs["top_n"].default == 5
    assert specs["top_n"].help == "partners shown"
    assert specs["top_n"].sections == ("a",)
    assert specs["as_of"].sections == ("a", "b")


def test_defaults_and_edition_id(specs):
    built = params.validate(specs, {}, today=TODAY)
    assert built.as_of == TODAY and built.edition == "full" and built.extra == {}
    assert built.edition_id == "2026-11-27_full"
    brief = params.validate(specs, {"as_of": "2024-06-30", "edition": "brief"}, today=TODAY)
    assert brief.edition_id == "2024-06-30_brief"


def test_extra_parameter_is_typed_and_changes_the_id(specs):
    built = params.validate(specs, {"top_n": "3"}, today=TODAY)
    assert built.extra == {"top_n": 3}
    assert built.edition_id.startswith("2026-11-27_full_") and len(built.edition_id) == len("2026-11-27_full_") + 8
    assert built.for_section(params.specs_from_cell(CELL, section="a"))["top_n"] == 3
    assert "top_n" not in built.for_section({})  # only names the notebook declares


@pytest.mark.parametrize("given, message", [
    ({"colour": "red"}, "unknown parameter 'colour'"),
    ({"top_n": "three"}, "parameter 'top_n': expected int, got 'three'"),
    ({"as_of": "2024-02-30"}, "'2024-02-30' is not a real date"),
    ({"as_of": "30/06/2024"}, "expected a date YYYY-MM-DD"),
    ({"as_of": "2027-01-01"}, "is in the future"),
    ({"as_of": "1990-01-01"}, "before the data begins"),
    ({"edition": "summary"}, "expected one of full, brief"),
])
def test_bad_parameters_are_named(specs, given, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        params.validate(specs, given, today=TODAY, earliest=dt.date(2016, 1, 1))


def test_sections_must_agree_and_declare_the_briefing_parameters():
    a = params.specs_from_cell(CELL, section="a")
    b = params.specs_from_cell(CELL.replace("top_n: int = 5", "top_n: int = 6"), section="b")
    with pytest.raises(ParameterError, match="declared differently"):
        params.merge_specs({"a": a, "b": b})
    with pytest.raises(ParameterError, match="do not declare the parameter 'edition'"):
        params.merge_specs({"c": params.specs_from_cell('as_of: str = "today"\n', section="c")})


def test_malformed_parameter_lines_are_refused():
    with pytest.raises(ParameterError, match="line 1"):
        params.specs_from_cell("as_of = 'today'\n", section="x")
    with pytest.raises(ParameterError, match="not a literal"):
        params.specs_from_cell("as_of: str = today()\n", section="x")


def test_assignments():
    assert params.parse_assignments(["top-n=3", "label=a=b"]) == {"top_n": "3", "label": "a=b"}
    with pytest.raises(ParameterError, match="NAME=VALUE"):
        params.parse_assignments(["novalue"])
