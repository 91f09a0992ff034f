"""The quality_drop check (DESIGN §4) with hand-worked histories."""

from datetime import date

from sqlalchemy import select

from audits import checks
from audits.models import Flag
from consortium.core.extensions import db
from consortium.core.tabular import read_table
from providers import ofsted
from tests.ofsted_files import rows

TODAY = date(2024, 6, 30)


def load(*lines):
    ofsted.import_file(read_table(rows(*lines).encode(), "ofsted.csv", **ofsted.COLUMNS))


def flags():
    return db.session.scalars(select(Flag).where(Flag.kind == "quality_drop").order_by(Flag.subject, Flag.id)).all()


def summary():
    return [
        (f.subject, f.severity, f.judgement_before, f.judgement_after, f.event_date.isoformat(), f.status)
        for f in flags()
    ]


def test_the_histories_of_the_design():
    load(
        "SC000001,First Inadequate,P Ltd,2024-01-10,Inadequate",
        "SC000002,Good to RI,P Ltd,2023-01-10,Good",
        "SC000002,Good to RI,P Ltd,2024-02-10,Requires improvement to be good",
        "SC000003,Adequate to RI,P Ltd,2022-01-10,Adequate",
        "SC000003,Adequate to RI,P Ltd,2024-03-10,Requires improvement to be good",
        "SC000004,RI to Good,P Ltd,2022-01-10,Requires improvement to be good",
        "SC000004,RI to Good,P Ltd,2024-03-10,Good",
        "SC000005,Outstanding to Good,P Ltd,2023-01-10,Outstanding",
        "SC000005,Outstanding to Good,P Ltd,2024-04-10,Good",
        "SC000006,Interim decline,P Ltd,2023-01-10,Good",
        "SC000006,Interim decline,P Ltd,2024-05-10,Declined in effectiveness",
        "SC000007,Interim sustained,P Ltd,2023-01-10,Good",
        "SC000007,Interim sustained,P Ltd,2024-05-10,Sustained effectiveness",
        "SC000008,Inadequate again,P Ltd,2023-01-10,Inadequate",
        "SC000008,Inadequate again,P Ltd,2024-05-10,Inadequate",
    )
    checks.run(TODAY, ["quality_drop"])
    assert summary() == [
        ("SC000001", "high", None, "Inadequate", "2024-01-10", "open"),
        ("SC000002", "medium", "Good", "Requires improvement to be good", "2024-02-10", "open"),
        ("SC000005", "low", "Outstanding", "Good", "2024-04-10", "open"),
        ("SC000006", "medium", "Good", "Declined in effectiveness", "2024-05-10", "open"),
        ("SC000008", "high", "Inadequate", "Inadequate", "2024-05-10", "open"),
    ]
    by_subject = {f.subject: f for f in flags()}
    assert by_subject["SC000002"].detail == (
        "Good to RI (SC000002), P Ltd: fell from Good to Requires improvement to be good "
        "at the inspection on 10 Feb 2024"
    )
    assert by_subject["SC000001"].detail.endswith("judged Inadequate at its first inspection on 10 Jan 2024")
    assert by_subject["SC000006"].detail.endswith(
        "Declined in effectiveness at the interim inspection on 10 May 2024 (last graded Good)"
    )
    assert by_subject["SC000002"].opened_on == TODAY
    assert by_subject["SC000002"].home.urn == "SC000002" and by_subject["SC000002"].provider.name == "P Ltd"


def test_running_twice_changes_nothing():
    load("SC000002,A,P Ltd,2023-01-10,Good", "SC000002,A,P Ltd,2024-02-10,Inadequate")
    checks.run(TODAY)
    before = summary()
    checks.run(TODAY)
    checks.run(date(2024, 7, 31))
    assert summary() == before and len(before) == 1


def test_a_check_sees_only_inspections_known_on_its_date():
    load("SC000002,A,P Ltd,2023-01-10,Good", "SC000002,A,P Ltd,2024-02-10,Requires improvement to be good")
    checks.run(date(2024, 2, 9))
    assert flags() == []
    checks.run(date(2024, 2, 10))
    assert len(flags()) == 1


def test_a_resolved_drop_never_reopens_for_the_same_inspection_but_a_new_drop_opens_a_new_flag():
    load("SC000002,A,P Ltd,2023-01-10,Good", "SC000002,A,P Ltd,2024-02-10,Requires improvement to be good")
    checks.run(TODAY)
    (flag,) = flags()
    flag.status = "resolved"
    db.session.flush()
    checks.run(TODAY)
    assert len(flags()) == 1
    load("SC000002,A,P Ltd,2024-06-01,Good", "SC000002,A,P Ltd,2024-09-01,Inadequate")
    checks.run(date(2024, 9, 30))
    assert [(f.judgement_after, f.status) for f in flags()] == [
        ("Requires improvement to be good", "resolved"),
        ("Inadequate", "open"),
    ]


def test_a_further_drop_while_the_flag_is_open_updates_that_flag():
    load("SC000002,A,P Ltd,2023-01-10,Good", "SC000002,A,P Ltd,2024-02-10,Requires improvement to be good")
    checks.run(TODAY)
    load("SC000002,A,P Ltd,2024-06-10,Inadequate")
    checks.run(TODAY)
    (flag,) = flags()
    assert (flag.judgement_before, flag.judgement_after, flag.severity, flag.opened_on) == (
        "Requires improvement to be good",
        "Inadequate",
        "high",
        TODAY,
    )
    checks.run(TODAY)
    assert len(flags()) == 1


def test_a_newer_scale_is_rows_not_code():
    from providers.models import Judgement

    db.session.add_all(
        [
            Judgement(name="Strong", scale="2026", rank=1, graded=True),
            Judgement(name="Needs attention", scale="2026", rank=3, graded=True),
        ]
    )
    db.session.flush()
    load("SC000009,New scale,P Ltd,2023-01-10,Strong", "SC000009,New scale,P Ltd,2024-02-10,Needs attention")
    checks.run(TODAY)
    assert [(f.judgement_before, f.judgement_after, f.severity) for f in flags()] == [
        ("Strong", "Needs attention", "medium")
    ]


def test_the_cli_prints_exactly_the_drops(runner):
    load(
        "SC000001,A,P Ltd,2024-01-10,Inadequate",
        "SC000004,B,P Ltd,2022-01-10,Requires improvement to be good",
        "SC000004,B,P Ltd,2024-03-10,Good",
    )
    db.session.commit()
    result = runner.invoke(args=["audits", "run", "--as-of", "2024-06-30", "--check", "quality_drop"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "kind,subject,severity,opened_on,detail",
        'quality_drop,SC000001,high,2024-06-30,"A (SC000001), P Ltd: '
        'judged Inadequate at its first inspection on 10 Jan 2024"',
    ]
    bad = runner.invoke(args=["audits", "run", "--check", "nonsense"])
    assert bad.exit_code == 2 and "unknown check nonsense" in bad.output
    bad = runner.invoke(args=["audits", "run", "--as-of", "31/02/2024"])
    assert bad.exit_code == 2


def test_a_quality_drop_names_the_contracts_and_admissions_using_the_home_to_each_viewer_its_own(client, runner):
    from consortium.core.models import Consortium
    from providers.models import Home
    from tests.conftest import sign_in
    from tests.factories import (
        AdmissionFactory,
        ConsortiumFactory,
        ContractFactory,
        LotFactory,
        lead,
    )

    load(
        "SC000002,Good to RI,P Ltd,2023-01-10,Good",
        "SC000002,Good to RI,P Ltd,2024-02-10,Requires improvement to be good",
    )
    home = db.session.scalar(select(Home).where(Home.urn == "SC000002"))
    ours, theirs = ConsortiumFactory(), ConsortiumFactory()
    block = ContractFactory(ref="OUR-BLOCK", consortium=ours, provider=home.provider, start_date=date(2024, 1, 1))
    block.homes.append(home)
    framework = ContractFactory(ref="THEIR-FW", kind="framework", consortium=theirs, start_date=date(2024, 1, 1))
    AdmissionFactory(lot=LotFactory(contract=framework, name="Residential"), provider=home.provider, tier="Preferred")
    ended = ContractFactory(
        ref="ENDED",
        consortium=ours,
        provider=home.provider,
        start_date=date(2020, 1, 1),
        end_date=date(2023, 3, 31),
        max_end_date=date(2023, 3, 31),
    )
    ended.homes.append(home)
    db.session.commit()
    checks.run(TODAY, ["quality_drop"])
    (flag,) = flags()
    assert sorted(str(use) for use in flag.uses) == [
        "OUR-BLOCK",
        "THEIR-FW (Residential, Preferred)",
    ]  # not the ended block
    sign_in(client, lead(db.session.get(Consortium, ours.id)))
    page = client.get(f"/flags/{flag.id}").get_data(as_text=True)
    assert "OUR-BLOCK" in page and "THEIR-FW" not in page
    assert flag.subject in client.get("/flags?contract=OUR-BLOCK").get_data(as_text=True)
    assert flag.subject not in client.get("/flags?contract=THEIR-FW").get_data(as_text=True)
    result = runner.invoke(args=["audits", "run", "--as-of", "2024-06-30", "--check", "quality_drop"])
    assert "used by OUR-BLOCK, THEIR-FW (Residential, Preferred)" in result.output
