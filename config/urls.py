from django.contrib import admin
from django.urls import include, path, re_path

from annotation.urls import media_urlpatterns
from config.views import healthz, spa_index

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("annotation.urls")),
    path("api/tracking/", include("tracking.urls")),
    path("media/", include(media_urlpatterns)),
    path("healthz", healthz, name="healthz"),
    re_path(r"^(?!api/|media/|static/|admin/).*$", spa_index, name="spa"),
]
