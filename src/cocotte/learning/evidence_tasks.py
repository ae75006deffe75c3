"""Evidence's work for the task worker: the e-mails that follow a committed change (primary keys only)."""

from django_tasks import task


@task()
def send_hot_survey(enrolment_id: int) -> bool:
    from . import surveys

    return surveys.send_hot_survey(enrolment_id)


@task()
def complaint_received(complaint_id: int) -> None:
    from . import evidence_emails
    from .models import Complaint

    complaint = Complaint.objects.filter(pk=complaint_id).select_related("programme", "session").first()
    if complaint is not None:
        evidence_emails.send_complaint_received(complaint)
