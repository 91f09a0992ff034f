"""Cost pools and recharge statements: sharing the consortium's costs among its members by use.

On top of the domains (it reads usage from `contracts`), so no domain imports it.
"""
