from __future__ import annotations

from django.urls import path

from accounts import team_views

urlpatterns = [
    path("teams/", team_views.teams, name="teams"),
    path("teams/switch/", team_views.account_switch, name="account_switch"),
    path("team/members/", team_views.members, name="members"),
    path("team/members/invite/", team_views.member_invite, name="member_invite"),
    path("team/members/<int:member_id>/role/", team_views.member_role, name="member_role"),
    path("team/members/<int:member_id>/remove/", team_views.member_remove_view, name="member_remove"),
    path("team/members/<int:member_id>/transfer/", team_views.team_transfer, name="team_transfer"),
    path("team/invitations/<int:invitation_id>/revoke/", team_views.invitation_revoke_view, name="invitation_revoke"),
    path("team/leave/", team_views.team_leave, name="team_leave"),
    path("team/settings/", team_views.team_settings, name="team_settings"),
    path("team/delete/", team_views.team_delete_view, name="team_delete"),
    path("invitations/<str:token>/", team_views.invitation_view, name="invitation"),
]
