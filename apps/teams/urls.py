from django.urls import path

from . import views

app_name = "teams"

urlpatterns = [
    path("teams/", views.team_list, name="list"),
    path("teams/new", views.team_new, name="new"),
    path("teams/<int:pk>/", views.team_detail, name="detail"),
    path("teams/<int:pk>/invite", views.team_invite_view, name="invite"),
    path("teams/<int:pk>/invitations/<int:invitation_id>/revoke", views.invitation_revoke_view, name="revoke"),
    path("teams/<int:pk>/members/<int:user_id>/role", views.member_role, name="role"),
    path("teams/<int:pk>/members/<int:user_id>/cap", views.member_cap, name="cap"),
    path("teams/<int:pk>/members/<int:user_id>/remove", views.member_remove, name="remove"),
    path("teams/<int:pk>/leave", views.team_leave, name="leave"),
    path("invitations/<str:token>/", views.invitation_view, name="accept"),
    path("workspace/switch", views.switch, name="switch"),
]
