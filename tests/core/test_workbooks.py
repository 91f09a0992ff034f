"""Workbooks are parsed safely."""


def test_workbooks_are_parsed_with_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML  # openpyxl found defusedxml: entity expansion and external entities are refused
