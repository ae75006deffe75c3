from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearningConfig(AppConfig):
    name = "cocotte.learning"
    label = "learning"
    verbose_name = _("Formations")

    def ready(self):
        from datetime import timedelta

        from cocotte.accounts import gdpr, permissions
        from cocotte.core import navigation, scheduler

        from . import services, tasks
        from .models import Qualification

        # A trainer role over ("learning", qualification id) lets its holder grant that qualification by hand.
        permissions.register_scope("learning", Qualification.objects.all)

        # Catalogue, enrolment and the team's sessions (L1).
        navigation.register(_("Formations"), "learning:catalogue", order=15)
        navigation.register(_("Mes formations"), "learning:mine", visible=permissions.is_member, order=22)
        navigation.register(
            _("Formations (équipe)"), "learning:staff_index", visible=permissions.is_any_site_staff, order=32
        )
        gdpr.register("learning", export=services.gdpr_export, erase=services.gdpr_erase)
        # Programmes and sessions are written by the sites' staff in the admin, which scopes them to their sites.
        permissions.open_admin_to_site_staff("learning")
        scheduler.register("learning.expire_offers", timedelta(minutes=15), tasks.expire_offers)
        scheduler.register("learning.cancel_underfilled", timedelta(hours=1), tasks.cancel_underfilled)
        scheduler.register("learning.installments", timedelta(days=1), tasks.hand_over_installments)

        # Attendance, certificates, surveys, complaints, qualifications (L2).
        from . import attendance, evidence_gdpr, qualifications, surveys

        def teaches(user) -> bool:
            from cocotte.accounts.models import Role

            return permissions.has_role(user, Role.Name.TRAINER)

        # The team reaches sheets and complaints from « Formations (équipe) », a member their qualifications
        # from « Mes formations »: the menu names only what a trainer needs every day besides.
        navigation.register(_("Émargement"), "learning:attendance", visible=teaches, order=33)
        gdpr.register("learning_evidence", export=evidence_gdpr.export, erase=evidence_gdpr.erase)
        scheduler.register("learning.close_sheets", timedelta(minutes=15), attendance.close_due)
        scheduler.register("learning.cold_surveys", timedelta(days=1), surveys.send_cold_surveys)
        scheduler.register("learning.expire_grants", timedelta(days=1), qualifications.expire_due)
