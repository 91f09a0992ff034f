"""`flask import cofunders|contributions`, the placements import's contribution columns and
`flask cofunding due` (DESIGN §5), on the placements of tests.contracts.test_cofunding."""

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from consortium.core.extensions import db
from consortium.core.models import Cofunder
from contracts import cofunding
from contracts.models import Contribution, Placement
from tests.contracts.test_cofunding import world  # noqa: F401  (the fixture)

COFUNDERS = (
    "ref,name,kind\nNHS-NOTTS-ICB,NHS Nottingham and Nottinghamshire ICB,health\nNOTTS-SEND,Nottingham SEND,education\n"
)


def _file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_cofunders_import_all_or_nothing_and_twice_changes_nothing(runner, tmp_path):
    good = _file(
        tmp_path,
        "cofunders.csv",
        "ref,name,kind\nNHS-DEVON-ICB,NHS Devon ICB,health\nDEVON-SEND,Devon SEND,education\n",
    )
    assert runner.invoke(args=["import", "cofunders", good]).exit_code == 0
    again = runner.invoke(args=["import", "cofunders", good])
    assert "0 added, 0 updated, 2 unchanged" in again.output
    bad = _file(
        tmp_path,
        "bad.csv",
        "ref,name,kind\nNHS-CORNWALL-ICB,NHS Cornwall ICB,health\nNO REF,Somebody,health\nX-1,,other\n"
        "X-2,Charity,charity\nNHS-CORNWALL-ICB,Twice,health\n",
    )
    result = runner.invoke(args=["import", "cofunders", bad])
    assert result.exit_code == 1
    for expected in (
        "line 3: ref 'NO REF'",
        "line 4: name is empty",
        "line 5: kind 'charity'",
        "line 6: co-funder NHS-CORNWALL-ICB appears again",
    ):
        assert expected in result.output, result.output
    assert db.session.scalar(select(func.count()).select_from(Cofunder).where(Cofunder.ref == "NHS-CORNWALL-ICB")) == 0


def test_contributions_import_names_each_bad_line_and_imports_nothing(world, runner, tmp_path):  # noqa: F811
    db.session.commit()
    header = "authority_code,child_ref,contract_ref,start_date,cofunder_ref,percent,weekly,from,until\n"
    ref = world["framework"].ref
    rows = (
        f"E06000018,CH-1,{ref},2026-04-01,NHS-NOTTS-ICB,25,,2026-04-01,\n"  # line 2: good
        f"E06000018,CH-1,{ref},2026-04-01,NOBODY,10,,2026-04-01,\n"  # 3: no such co-funder
        f"E06000018,CH-2,{ref},2026-05-10,NOTTS-SEND,,2900,2026-05-10,\n"  # 4: above the fee
        f"E06000018,CH-2,{ref},2026-05-10,NOTTS-SEND,10,,2026-05-01,\n"  # 5: before the placement
        f"E06000018,CH-2,{ref},2026-05-10,NOTTS-SEND,10,700,2026-05-10,\n"  # 6: both
        f"E06000018,CH-9,{ref},2026-05-10,NOTTS-SEND,10,,2026-05-10,\n"  # 7: no placement
        f"E06000018,CH-2,{ref},2026-05-10,NOTTS-SEND,10,,2026-05-10,31/13/2026\n"  # 8: bad date
    )
    result = runner.invoke(args=["import", "contributions", _file(tmp_path, "c.csv", header + rows)])
    assert result.exit_code == 1
    for expected in (
        "line 3: no co-funder NOBODY",
        "line 4: on the night of 10 May 2026 the contributions would come to £2,900.00 a week, "
        "more than the fee of £2,800.00",
        "line 5: a contribution cannot start before the placement, which started on 10 May 2026",
        "line 6: give percent or weekly, one of them",
        f"line 7: no placement of CH-9 by E06000018 under {ref} starting 2026-05-10",
        "line 8: until:",
    ):
        assert expected in result.output, result.output
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 0

    good = header + f"E06000018,CH-1,{ref},2026-04-01,NHS-NOTTS-ICB,25,,2026-04-01,\n"
    good += f"E06000018,CH-2,{ref},2026-05-10,NHS-NOTTS-ICB,,700.00,2026-05-10,\n"
    path = _file(tmp_path, "good.csv", good)
    assert "2 added" in runner.invoke(args=["import", "contributions", path]).output
    assert "0 added, 0 updated, 2 unchanged" in runner.invoke(args=["import", "contributions", path]).output


def test_cofunding_due_prints_the_design_format(world, runner, tmp_path):  # noqa: F811

    cofunding.add_contribution(world["one"], world["icb"], date(2026, 4, 1), percent=Decimal("25"))
    cofunding.add_contribution(world["two"], world["icb"], date(2026, 5, 10), weekly_pence=70_000)
    db.session.commit()
    args = ["cofunding", "due", "--cofunder", "nhs-notts-icb", "--from", "2026-04-01", "--to", "2026-07-31"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    # CH-1: 91 nights in Q1 (£11,375.00) and 31 in July (£3,875.00); CH-2: 41 nights, £4,100.00.
    assert result.stdout.splitlines() == [
        "cofunder_ref,authority_code,child_ref,nights,amount",
        "NHS-NOTTS-ICB,E06000018,CH-1,122,15250.00",
        "NHS-NOTTS-ICB,E06000018,CH-2,41,4100.00",
        "total,,,,19350.00",
    ]
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 2  # it wrote nothing
    unknown = runner.invoke(
        args=["cofunding", "due", "--cofunder", "NOBODY", "--from", "2026-04-01", "--to", "2026-06-30"]
    )
    assert unknown.exit_code != 0 and "there is no co-funder 'NOBODY'" in unknown.output
    backwards = runner.invoke(
        args=["cofunding", "due", "--cofunder", "NHS-NOTTS-ICB", "--from", "2026-07-01", "--to", "2026-06-30"]
    )
    assert backwards.exit_code != 0 and "on or after the first" in backwards.output


def test_the_placements_import_takes_a_contribution_from_the_placement_start(world, runner, tmp_path):  # noqa: F811
    db.session.commit()
    header = (
        "authority_code,child_ref,contract_ref,home_urn,start_date,end_date,weekly_fee,placement_type,distance_miles,"
        "cofunder_ref,contribution_percent,contribution_weekly\n"
    )
    row = "E06000018,CH-30,,,2026-04-01,,3000.00,in_house_fostering,0,NOTTS-SEND,,{weekly}\n"
    too_much = runner.invoke(
        args=["import", "placements", _file(tmp_path, "p.csv", header + row.format(weekly="3000.01"))]
    )
    assert too_much.exit_code == 1 and "line 2: on the night of 1 Apr 2026" in too_much.output, too_much.output
    assert db.session.scalar(select(func.count()).select_from(Placement).where(Placement.child_ref == "CH-30")) == 0
    done = runner.invoke(args=["import", "placements", _file(tmp_path, "p.csv", header + row.format(weekly="500"))])
    assert done.exit_code == 0, done.output
    assert "1 contributions added" in done.output
    (share,) = db.session.scalars(select(Contribution)).all()
    assert (share.weekly_pence, share.first_night, share.cofunder.ref) == (50_000, date(2026, 4, 1), "NOTTS-SEND")
