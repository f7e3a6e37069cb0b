from django.urls import path

from annotation.apis import auth, dashboard, exports, media, projects, reviews, tasks, videos

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
    path("projects/<int:project_id>/queues", tasks.QueueListApi.as_view(), name="queue-list"),
    path(
        "projects/<int:project_id>/queues/<str:queue_name>/next",
        tasks.QueueNextApi.as_view(),
        name="queue-next",
    ),
    path("tasks/<int:task_id>", tasks.TaskDetailApi.as_view(), name="task-detail"),
    path("tasks/<int:task_id>/heartbeat", tasks.TaskHeartbeatApi.as_view(), name="task-heartbeat"),
    path("tasks/<int:task_id>/release", tasks.TaskReleaseApi.as_view(), name="task-release"),
    path("tasks/<int:task_id>/skip", tasks.TaskSkipApi.as_view(), name="task-skip"),
    path("tasks/<int:task_id>/draft", tasks.TaskDraftApi.as_view(), name="task-draft"),
    path("tasks/<int:task_id>/submit", tasks.TaskSubmitApi.as_view(), name="task-submit"),
    path(
        "masklets/<int:masklet_id>/history",
        reviews.MaskletHistoryApi.as_view(),
        name="masklet-history",
    ),
    path(
        "masklets/<int:masklet_id>/diff/masks",
        reviews.MaskletMaskDiffApi.as_view(),
        name="masklet-diff-masks",
    ),
    path(
        "masklets/<int:masklet_id>/diff/captions",
        reviews.MaskletCaptionDiffApi.as_view(),
        name="masklet-diff-captions",
    ),
    path(
        "fgqa/questions/<int:question_id>/history",
        reviews.FgqaQuestionHistoryApi.as_view(),
        name="fgqa-question-history",
    ),
    path("projects/<int:project_id>/gold", reviews.GoldListApi.as_view(), name="gold-list"),
    path("gold/<int:gold_id>", reviews.GoldDetailApi.as_view(), name="gold-detail"),
    path(
        "projects/<int:project_id>/dashboard",
        dashboard.DashboardApi.as_view(),
        name="dashboard",
    ),
    path(
        "projects/<int:project_id>/dashboard/<str:table>",
        dashboard.DashboardTableApi.as_view(),
        name="dashboard-table",
    ),
    path("projects/<int:project_id>/exports", exports.ExportListApi.as_view(), name="export-list"),
    path("projects/<int:project_id>/splits", exports.SplitListApi.as_view(), name="split-list"),
    path("exports/<int:job_id>", exports.ExportDetailApi.as_view(), name="export-detail"),
    path(
        "exports/<int:job_id>/download",
        exports.ExportDownloadApi.as_view(),
        name="export-download",
    ),
]

media_urlpatterns = [
    path("videos/<int:video_id>/<path:path>", media.MediaFileApi.as_view(), name="media-file"),
]
