"""Every form, sent with its fields empty or wrong, answers with the GOV.UK error pattern: "Error: "
before the page title, a summary with one entry per problem, each linking to its field (a date
to its first box), and the message again above the field."""

import re

from tests.conftest import sign_in
from tests.system.test_input_walk import SKIP, Forms, owned, urls  # noqa: F401  (the fixture is shared)


def test_every_form_sent_wrong_shows_each_problem_on_its_field_and_linked_from_the_summary(app, client, owned):  # noqa: F811
    users, ids = owned
    checked = 0
    for role, user in users.items():
        for endpoint, url in urls(app, ids):
            if endpoint in SKIP:
                continue
            sign_in(client, user)
            page = client.get(url)
            if page.status_code != 200 or "html" not in page.mimetype:
                continue
            parser = Forms()
            parser.feed(page.get_data(as_text=True))
            for form in parser.forms:
                action = form["action"] or url
                if "deactivate" in action or "sign-out" in action:
                    continue
                # Every field empty (or, for a number, not a number); hidden fields as the page gave them.
                data = {
                    name: (
                        values
                        if form["kinds"].get(name) == "hidden"
                        else ["x" if form["kinds"].get(name) == "number" else ""] * len(values)
                    )
                    for name, values in form["fields"].items()
                }
                sign_in(client, user)
                response = client.post(action, data=data)
                if response.status_code != 400 or "html" not in response.mimetype:
                    continue
                text = response.get_data(as_text=True)
                where = (role, url, action)
                assert re.search(r"<title>\s*Error: ", text), where
                assert "govuk-error-summary" in text, where
                summary = text.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
                links = [href for href in re.findall(r'href="#([^"]+)"', summary)]
                assert links, where
                for target in links:
                    assert f'id="{target}"' in text, (*where, target)  # the link reaches its field
                    field = re.sub(r"-day$", "", target)
                    if field not in ("values", "statements"):
                        assert f'id="{field}-error"' in text, (*where, field)  # the message above the field
                checked += 1
    assert checked > 20, checked
