from django.conf import settings


def platform(request):
    """What every page's header and footer show: the operator and who answers for personal data."""
    return {
        "operator_name": settings.COCOTTE_OPERATOR_NAME,
        "dpo_contact": settings.COCOTTE_DPO_CONTACT,
        "terms_version": settings.COCOTTE_TERMS_VERSION,
        "privacy_version": settings.COCOTTE_PRIVACY_VERSION,
    }
