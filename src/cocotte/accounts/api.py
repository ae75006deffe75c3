"""API: the caller's own account."""

from ninja import Field, Router, Schema

from cocotte.core.schemas import error_responses

from .auth import member_auth
from .permissions import SITE_SCOPE, is_admin, scope_objects, staffed_site_ids

router = Router(tags=["me"], auth=member_auth)


class ProfileOut(Schema):
    status: str
    organisation: str | None
    phone: str
    commune: str
    language: str


class MeOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    profile: ProfileOut
    staff_of: list[str]
    is_admin: bool
    ical_url: str = Field(
        description="Adresse secrète du calendrier personnel (iCalendar), révocable depuis le profil."
    )


@router.get("/me", response={200: MeOut, **error_responses(401)}, summary="Mon compte")
def me(request):
    user = request.auth
    profile = user.profile  # every account has one (accounts.apps)
    site_ids = staffed_site_ids(user)  # the sites' slugs come from spaces, which names its scopes
    return MeOut(
        id=user.pk,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        profile=ProfileOut(
            status=profile.status,
            organisation=profile.organisation.name if profile.organisation else None,
            phone=profile.phone,
            commune=profile.commune,
            language=profile.language,
        ),
        staff_of=sorted(scope_objects(SITE_SCOPE, site_ids).values_list("slug", flat=True))
        if site_ids
        else [],
        is_admin=is_admin(user),
        ical_url=profile.calendar_url(request),
    )
