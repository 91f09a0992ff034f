"""`flask import postcodes`: postcode district centroids, all or nothing, line by line."""

from decimal import Decimal

from sqlalchemy import select

from consortium.core.extensions import db
from providers.geo import outward_code
from providers.models import PostcodeDistrict


def test_the_sample_file_imports_once(runner, tmp_path):
    result = runner.invoke(args=["import", "postcodes", "docs/formats/postcodes.csv"])
    assert result.exit_code == 0, result.output
    assert "10 added" in result.output
    again = runner.invoke(args=["import", "postcodes", "docs/formats/postcodes.csv"])
    assert "0 added, 0 updated, 10 unchanged" in again.output
    assert db.session.get(PostcodeDistrict, "NG5").latitude == Decimal("52.993800")


def test_a_bad_file_imports_nothing_and_names_each_line(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("postcode_district,latitude,longitude\nNG5,52.9,-1.1\nng5,52.9,-1.1\nXX,1,1\nDE22,91,0\nLE4,inf,0\n")
    result = runner.invoke(args=["import", "postcodes", str(bad)])
    assert result.exit_code == 1
    assert "line 3: postcode district NG5 appears again (first on line 2)" in result.output
    assert "line 4: postcode district 'XX' is not an outward code like NG5" in result.output
    assert "line 5: latitude must be from -90 to 90 and longitude from -180 to 180" in result.output
    assert "line 6: latitude 'inf' is not a number" in result.output
    assert db.session.scalars(select(PostcodeDistrict)).all() == []


def test_outward_codes():
    assert [outward_code(p) for p in ("NG5 1AA", "ng5", "NG51AA", "SW1A 2AA", "", None, "12345")] == [
        "NG5",
        "NG5",
        "NG5",
        "SW1A",
        None,
        None,
        None,
    ]
