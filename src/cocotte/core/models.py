"""The audit trail: who changed what, when. Written by the services of every app, read by the team."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=60)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    data = models.JSONField(_("détails"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("entrée du journal")
        verbose_name_plural = _("journal des modifications")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="core_audit_by_object")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


def audit(actor, action: str, obj: models.Model, **data) -> AuditEntry:
    """Record that `actor` did `action` to `obj`; `data` says what changed (JSON-serialisable values)."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        data=data,
    )


class ScheduledRun(models.Model):
    """One run of a periodic job in one period (`core.scheduler`): the unique pair makes it run once."""

    job = models.CharField(_("tâche"), max_length=100)
    period_start = models.DateTimeField(_("début de la période"))
    started_at = models.DateTimeField(_("démarrée le"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finie le"), null=True, blank=True)
    error = models.TextField(_("erreur"), blank=True)

    class Meta:
        verbose_name = _("exécution planifiée")
        verbose_name_plural = _("exécutions planifiées")
        ordering = ["-period_start", "job"]
        constraints = [
            models.UniqueConstraint(fields=["job", "period_start"], name="core_scheduled_run_once")
        ]

    def __str__(self):
        return f"{self.job} {self.period_start:%Y-%m-%d %H:%M}"
