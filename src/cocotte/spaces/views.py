from django.shortcuts import render
from django.views.decorators.http import require_GET

from .models import Site


@require_GET
def home(request):
    """The network's sites, each with what can be booked there."""
    sites = Site.objects.filter(is_active=True).prefetch_related("opening_hours")
    return render(request, "spaces/home.html", {"sites": sites})
