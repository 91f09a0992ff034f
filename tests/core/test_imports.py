"""`flask import authorities|consortia`: all or nothing, idempotent, every bad line named."""

from datetime import date

from sqlalchemy import func, select

from consortium.core.audit import AuditEvent
from consortium.core.extensions import db
from consortium.core.models import Authority, Consortium, Membership
from tests.core.test_tabular import xlsx

AUTHORITIES = """code,name,region,latitude,longitude
E06000015,Derby,East Midlands,52.9225,-1.4746
E06000018,Nottingham,East Midlands,52.9548,-1.1581
E10000024,Nottinghamshire,East Midlands,,
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def import_events(object_type):
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "import", AuditEvent.object_type == object_type)
        .order_by(AuditEvent.id)
    ).all()


def test_authorities_import_then_reimport_changes_nothing(runner, tmp_path):
    path = write(tmp_path, "authorities.csv", AUTHORITIES)
    first = runner.invoke(args=["import", "authorities", path])
    assert first.exit_code == 0, first.output
    assert "3 added, 0 updated, 0 unchanged" in first.output
    again = runner.invoke(args=["import", "authorities", path])
    assert "0 added, 0 updated, 3 unchanged" in again.output
    assert count(Authority) == 3
    nottingham = db.session.get(Authority, "E06000018")
    assert (nottingham.name, str(nottingham.latitude)) == ("Nottingham", "52.954800")
    assert db.session.get(Authority, "E10000024").latitude is None
    first_event, second_event = import_events("Authority")
    assert first_event.after["file"] == "authorities.csv"
    assert first_event.after["added"] == 3 and second_event.after["unchanged"] == 3
    assert first_event.after["sha256"] == second_event.after["sha256"]
    assert first_event.actor == "flask import authorities authorities.csv"
    # one event for the batch, none per row
    assert (
        db.session.scalar(
            select(func.count()).where(AuditEvent.object_type == "Authority", AuditEvent.action == "create")
        )
        == 0
    )


def test_a_changed_name_is_an_update(runner, tmp_path):
    runner.invoke(args=["import", "authorities", write(tmp_path, "a.csv", AUTHORITIES)])
    result = runner.invoke(
        args=["import", "authorities", write(tmp_path, "b.csv", AUTHORITIES.replace("Nottingham,", "Nottingham City,"))]
    )
    assert "0 added, 1 updated, 2 unchanged" in result.output
    db.session.expire_all()
    assert db.session.get(Authority, "E06000018").name == "Nottingham City"


def test_a_bad_file_imports_nothing_and_names_every_bad_line(runner, tmp_path):
    text = AUTHORITIES + "X123,Nowhere,,,\nE06000015,Derby again,,,\nE06000016,,,,\nE06000017,Rutland,,95,0\n"
    result = runner.invoke(args=["import", "authorities", write(tmp_path, "bad.csv", text)])
    assert result.exit_code == 1
    assert "nothing imported, 4 problem(s)" in result.output
    assert "line 5: code 'X123' is not an ONS GSS code" in result.output
    assert "line 6: authority E06000015 appears again (first on line 2)" in result.output
    assert "line 7: name is empty" in result.output
    assert "line 8: latitude 95 is out of range" in result.output
    assert count(Authority) == 0
    assert import_events("Authority") == []


def test_a_missing_column_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(
        args=["import", "authorities", write(tmp_path, "bad.csv", "code,region\nE06000018,East Midlands\n")]
    )
    assert result.exit_code == 1
    assert "line 1: missing column: name" in result.output


CONSORTIA = "ref,name,lead_code,member_codes,joined\nEMRF,East Midlands,E06000018,E06000018;E06000015,2023-04-01\n"


def test_consortia_import_with_members_then_reimport(runner, tmp_path):
    runner.invoke(args=["import", "authorities", write(tmp_path, "a.csv", AUTHORITIES)])
    path = write(tmp_path, "c.csv", CONSORTIA)
    first = runner.invoke(args=["import", "consortia", path])
    assert first.exit_code == 0, first.output
    assert "1 added, 0 updated, 0 unchanged, 2 memberships added" in first.output
    again = runner.invoke(args=["import", "consortia", path])
    assert "0 added, 0 updated, 1 unchanged, 0 memberships added" in again.output
    consortium = db.session.scalar(select(Consortium).where(Consortium.ref == "EMRF"))
    assert consortium.lead_code == "E06000018"
    assert sorted((m.authority_code, m.joined) for m in consortium.memberships) == [
        ("E06000015", date(2023, 4, 1)),
        ("E06000018", date(2023, 4, 1)),
    ]
    # A new member on a later line of the same consortium joins on its own date.
    later = CONSORTIA.replace("E06000018;E06000015,2023-04-01", "E06000018;E06000015;E10000024,2024-04-01")
    result = runner.invoke(args=["import", "consortia", write(tmp_path, "d.csv", later)])
    assert "1 memberships added" in result.output
    assert count(Membership) == 3


def test_consortia_errors_unknown_codes_and_a_lead_who_is_not_a_member(runner, tmp_path):
    runner.invoke(args=["import", "authorities", write(tmp_path, "a.csv", AUTHORITIES)])
    text = (
        "ref,name,lead_code,member_codes\n"
        "EMRF,East Midlands,E06000018,E06000015;E99999999\n"
        "OK,Fine,E06000015,E06000015\n"
        "OK,Twice,E06000015,E06000015\n"
    )
    result = runner.invoke(args=["import", "consortia", write(tmp_path, "c.csv", text)])
    assert result.exit_code == 1
    assert (
        "line 2: unknown authority code: E99999999; the lead authority E06000018 is not among the members"
        in result.output
    )
    assert "line 4: consortium OK appears again (first on line 3)" in result.output
    assert count(Consortium) == 0


def test_an_xlsx_file_imports_like_csv(runner, tmp_path):
    path = tmp_path / "authorities.xlsx"
    path.write_bytes(xlsx([["Code", "Name", "Region"], ["E06000018", "Nottingham", "East Midlands"]]))
    result = runner.invoke(args=["import", "authorities", str(path)])
    assert result.exit_code == 0, result.output
    assert db.session.get(Authority, "E06000018").name == "Nottingham"
