"""Dashboards and reports: each role's figures at a glance, value for money, budget variance,
and the quarterly contract monitoring report. On top of the domains."""
