from django.conf import settings
from django.urls import include, path

import views

urlpatterns = [
    path("cats", views.cats),
    path("big", views.big),
    path("api/cats", views.api_cats),
]

if settings.TOOLBAR:
    urlpatterns.append(path("__debug__/", include("debug_toolbar.urls")))
