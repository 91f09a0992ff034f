from sqlalchemy import func, select

from consortium.core.extensions import db
from consortium.core.models import Authority
from tests.factories import AuthorityFactory, lead


def test_a_view_commit_is_rolled_back_after_the_test(client, signed_in):
    user = lead()
    signed_in(user)
    assert client.get("/").status_code == 200
    AuthorityFactory(code="E06000018", name="Nottingham")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Authority).where(Authority.code == "E06000018")) == 1


def test_the_previous_test_left_nothing_behind():
    assert db.session.scalar(select(func.count()).select_from(Authority).where(Authority.code == "E06000018")) == 0
