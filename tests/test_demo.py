"""`flask demo seed`: the East Midlands consortium and a sign-in for each role."""

from sqlalchemy import func, select

from consortium.demo import DEMO_PASSWORD, EAST_MIDLANDS
from consortium.extensions import db
from consortium.models import Authority, Consortium, Membership, User


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (Authority, Consortium, Membership, User))


def test_seed_twice_builds_the_demo_once_and_every_account_signs_in(app, runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    for email in ("admin@demo.test", "lead@demo.test", "partner@demo.test", "provider@demo.test"):
        assert email in first.output
    assert DEMO_PASSWORD in first.output
    after_first = counts()
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    assert counts() == after_first == (10, 1, 10, 4)

    consortium = db.session.scalar(select(Consortium))
    assert consortium.lead.name == "West Northamptonshire"
    assert {m.authority_code for m in consortium.memberships} == {code for code, *_ in EAST_MIDLANDS}
    assert db.session.scalar(select(User).where(User.email == "partner@demo.test")).authority.name == "Nottingham"

    for email, heading in [
        ("admin@demo.test", "Administration"),
        ("lead@demo.test", consortium.name),
        ("partner@demo.test", "Nottingham"),
        ("provider@demo.test", "Oakleaf Children"),
    ]:
        client = app.test_client()
        response = client.post("/sign-in", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        assert heading in client.get("/").get_data(as_text=True)
