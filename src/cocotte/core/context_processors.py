from django.conf import settings
from django.utils.functional import SimpleLazyObject

from . import navigation


def platform(request):
    """What every page's header and footer show: the menu, the operator and who answers for personal data.

    The menu is computed once per page, only if the page shows it (its predicates may read the user's roles).
    """
    return {
        "main_menu": SimpleLazyObject(lambda: navigation.items_for(getattr(request, "user", None))),
        "operator_name": settings.COCOTTE_OPERATOR_NAME,
        "dpo_contact": settings.COCOTTE_DPO_CONTACT,
        "terms_version": settings.COCOTTE_TERMS_VERSION,
        "privacy_version": settings.COCOTTE_PRIVACY_VERSION,
    }
