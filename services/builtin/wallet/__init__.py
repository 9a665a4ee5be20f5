"""wallet: balances of the caller's own end users, with a ledger, transfers and idempotent writes.

The service registers itself in WalletConfig.ready(), once models can be imported.
"""
