from collections import Counter, defaultdict
import tests.test_input_fuzz as m
from tests.test_input_fuzz import world, sender  # noqa

def test_stats(app, world, sender, monkeypatch):
    stats = defaultdict(Counter)
    orig = m.Sender.send
    def send(self, role, method, url, *a, **k):
        r = orig(self, role, method, url, *a, **k)
        if method == "POST" and r is not None:
            what = k.get("what", "")
            kind = "form" if "(form on" in what or "no fields" in what else "straight"
            stats[(kind, role, url)][r.status_code] += 1
        return r
    monkeypatch.setattr(m.Sender, "send", send)
    monkeypatch.setattr(m, "post_straight", lambda *a: 0)
    try:
        m.test_hostile_values_in_every_form_field_never_give_a_500_or_store_anything_out_of_range(app, world, sender)
    finally:
        for k, v in sorted(stats.items()):
            print(k, dict(v))
