# Minimal Django settings for the WORKLOAD peer (see /work/shared/WORKLOAD.md).
#   PEER_TOOLBAR=1  mode (c): django-debug-toolbar installed and shown to 127.0.0.1
#   PEER_TOOLBAR=0  mode (a): the toolbar is not in INSTALLED_APPS nor MIDDLEWARE
#   PEER_DB=FILE    the SQLite file shared with the petshop demo (tables cat, dog)
import os

TOOLBAR = os.environ.get("PEER_TOOLBAR", "0") == "1"

# DEBUG is on in both modes (the toolbar needs it), so only the toolbar differs.
DEBUG = True
SECRET_KEY = "bench-peer-not-secret"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "urls"
WSGI_APPLICATION = "wsgi.application"
USE_TZ = False
USE_I18N = False

INSTALLED_APPS = ["django.contrib.staticfiles"]
MIDDLEWARE = []
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PEER_DB", "petshop.db"),
    }
}
STATIC_URL = "/static/"

if TOOLBAR:
    INSTALLED_APPS += ["debug_toolbar"]
    MIDDLEWARE = ["debug_toolbar.middleware.DebugToolbarMiddleware"] + MIDDLEWARE
    INTERNAL_IPS = ["127.0.0.1"]
