from django.utils.functional import SimpleLazyObject

from .permissions import is_any_site_staff


def roles(request):
    """Whether to show the team's menu; computed once per page, only if the page asks."""
    return {"is_site_staff": SimpleLazyObject(lambda: is_any_site_staff(request.user))}
