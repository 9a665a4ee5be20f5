"""What each role in an account may do, and which permission each dashboard page needs.

Every view wrapped by ``with_membership`` is listed in VIEW_PERMISSIONS by its
URL name; a test fails when one is missing, so no page is reachable by a role
by accident.
"""

from __future__ import annotations

from enum import StrEnum

from accounts.models import Membership


class Permission(StrEnum):
    VIEW = "view"  # the dashboard home, the settings overview, the member list
    KEYS = "keys"  # create, rotate and revoke API keys
    PLAYGROUND = "playground"  # run calls from the browser, charged to the account
    USAGE = "usage"  # usage pages and exports
    BILLING = "billing"  # payments, cards, invoices, plans, alerts
    MEMBERS = "members"  # invite, remove and change the role of members
    SETTINGS = "settings"  # the account's settings and activity log
    OWNER = "owner"  # delete the team, transfer ownership


Role = Membership.Role

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset({Permission.VIEW, Permission.MEMBERS, Permission.KEYS, Permission.SETTINGS}),
    Role.DEVELOPER: frozenset({Permission.VIEW, Permission.KEYS, Permission.PLAYGROUND, Permission.USAGE}),
    Role.BILLING: frozenset({Permission.VIEW, Permission.BILLING}),
}

# URL name -> the permission its view needs. Views added later must be listed here.
VIEW_PERMISSIONS: dict[str, Permission] = {
    "dashboard": Permission.VIEW,
    "settings": Permission.VIEW,
    "account_delete": Permission.VIEW,  # deletes the signed-in user, not the current account
    "members": Permission.VIEW,
    "team_leave": Permission.VIEW,
    "keys": Permission.KEYS,
    "key_revoke": Permission.KEYS,
    "key_rotate": Permission.KEYS,
    "playground_run": Permission.PLAYGROUND,
    "playground_stream_ticket": Permission.PLAYGROUND,
    "playground_save_example": Permission.VIEW,  # operators only, checked in the view
    "activity": Permission.SETTINGS,
    "team_settings": Permission.SETTINGS,
    "member_invite": Permission.MEMBERS,
    "member_role": Permission.MEMBERS,
    "member_remove": Permission.MEMBERS,
    "invitation_revoke": Permission.MEMBERS,
    "team_transfer": Permission.OWNER,
    "team_delete": Permission.OWNER,
    "billing": Permission.BILLING,
    "billing_topup": Permission.BILLING,
    "billing_checkout": Permission.BILLING,
    "billing_checkout_return": Permission.BILLING,
    "billing_card_setup": Permission.BILLING,
    "billing_card_remove": Permission.BILLING,
    "billing_receipt": Permission.BILLING,
    "billing_payment_sync": Permission.BILLING,
    "billing_auto_topup": Permission.BILLING,
    "billing_plan": Permission.BILLING,
    "billing_alert_add": Permission.BILLING,
    "billing_alert_remove": Permission.BILLING,
    "billing_time_zone": Permission.BILLING,
    "billing_spending_cap": Permission.BILLING,
    "billing_invoice": Permission.BILLING,
    "billing_invoice_pdf": Permission.BILLING,
    "usage": Permission.USAGE,
    "usage_export": Permission.USAGE,
    "usage_keys": Permission.USAGE,
}

PERMISSION_NAMES = {
    Permission.VIEW: "open this page",
    Permission.KEYS: "manage API keys",
    Permission.PLAYGROUND: "run calls in the playground",
    Permission.USAGE: "see usage",
    Permission.BILLING: "open billing",
    Permission.MEMBERS: "manage members",
    Permission.SETTINGS: "change the account's settings",
    Permission.OWNER: "do what only an owner can",
}


def has_permission(membership: Membership, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(membership.role, frozenset())


def permissions_of(membership: Membership) -> frozenset[Permission]:
    return ROLE_PERMISSIONS.get(membership.role, frozenset())
