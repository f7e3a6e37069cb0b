from django.urls import path

from tracking import apis

urlpatterns = [
    path("videos/<int:video_id>/masklets", apis.MaskletCreateApi.as_view()),
    path("videos/<int:video_id>/propagate", apis.PropagateApi.as_view()),
    path("videos/<int:video_id>/masks", apis.VideoMasksApi.as_view()),
    path("videos/<int:video_id>/jobs", apis.VideoJobsApi.as_view()),
    path("masklets/<int:masklet_id>", apis.MaskletDetailApi.as_view()),
    path("masklets/<int:masklet_id>/prompts", apis.MaskletPromptApi.as_view()),
    path("masklets/<int:masklet_id>/revisions", apis.MaskletRevisionsApi.as_view()),
    path("masklets/<int:masklet_id>/compare", apis.MaskletCompareApi.as_view()),
    path("jobs/<int:job_id>", apis.JobDetailApi.as_view()),
    path("jobs/<int:job_id>/cancel", apis.JobCancelApi.as_view()),
]
