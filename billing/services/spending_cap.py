"""The optional monthly spending cap of an account: set or cleared by its owners, audited."""

from __future__ import annotations

import structlog
from django.db import transaction

from accounts.models import Account, User
from accounts.services import audit_record
from billing.metering import meter_invalidate
from billing.models import Wallet

logger = structlog.get_logger(__name__)


def spending_cap_set(*, account: Account, cap_units: int | None, actor: User | None) -> None:
    """Set the most the account's calls may be charged in a calendar month (UTC), or clear it with None.

    The meters read the cap on the next call: the database meter from the
    wallet row, the Redis meter after the snapshot invalidation below.
    """
    if cap_units is not None and cap_units < 0:
        raise ValueError("A spending cap cannot be negative.")
    with transaction.atomic():
        wallet = Wallet.objects.select_for_update().get(pk=account.pk)
        previous = wallet.spending_cap_units
        if previous == cap_units:
            return
        wallet.spending_cap_units = cap_units
        wallet.save(update_fields=["spending_cap_units", "updated_at"])
        audit_record(
            account=account,
            actor=actor,
            action="billing.spending_cap_cleared" if cap_units is None else "billing.spending_cap_set",
            target=f"wallet:{account.pk}",
            previous_units=previous,
            cap_units=cap_units,
        )
        meter_invalidate(account.pk)
    logger.info("Spending cap changed", account_id=account.pk, cap_units=cap_units)
