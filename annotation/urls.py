from django.urls import path

from annotation.apis import auth, media, projects, videos

urlpatterns = [
    path("auth/csrf", auth.CsrfApi.as_view(), name="auth-csrf"),
    path("auth/login", auth.LoginApi.as_view(), name="auth-login"),
    path("auth/logout", auth.LogoutApi.as_view(), name="auth-logout"),
    path("auth/token", auth.TokenApi.as_view(), name="auth-token"),
    path("me", auth.MeApi.as_view(), name="me"),
    path("projects", projects.ProjectListApi.as_view(), name="project-list"),
    path("projects/<int:project_id>", projects.ProjectDetailApi.as_view(), name="project-detail"),
    path(
        "projects/<int:project_id>/members",
        projects.ProjectMembersApi.as_view(),
        name="project-members",
    ),
    path(
        "projects/<int:project_id>/members/<int:user_id>",
        projects.ProjectMemberApi.as_view(),
        name="project-member",
    ),
    path("projects/<int:project_id>/videos", videos.VideoListApi.as_view(), name="video-list"),
    path("videos/<int:video_id>", videos.VideoDetailApi.as_view(), name="video-detail"),
]

media_urlpatterns = [
    path("videos/<int:video_id>/<path:path>", media.MediaFileApi.as_view(), name="media-file"),
]
