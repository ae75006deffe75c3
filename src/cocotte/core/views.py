from django.conf import settings
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.static import serve


@require_GET
def static_page(request, template):
    return render(request, template)


@never_cache
@require_GET
def health(request):
    """For load balancers and uptime checks: the process answers and the database too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# Uploads anyone may see (a site's photos live under sites/); private files are never stored under these.
PUBLIC_MEDIA = ("sites/",)


@require_GET
def public_media(request, path: str):
    """Public uploads from the embedded default's media folder (MEDIA_ROOT, read at each request). In
    production the web server in front serves these itself."""
    if not path.startswith(PUBLIC_MEDIA):
        raise Http404
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=86400"
    return response
