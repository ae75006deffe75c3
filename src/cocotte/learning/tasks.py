"""Trainings' periodic jobs, registered with the scheduler in `apps.py`: each safe to run again.

- every 15 minutes, offers past their deadline lapse and go to the next on the waiting list;
- every hour, under-filled sessions are cancelled at their programme's decision deadline;
- every day, installments that fall due are handed to billing.
"""

import logging

from . import payments, services

logger = logging.getLogger(__name__)


def expire_offers() -> int:
    count = services.expire_offers()
    if count:
        logger.info("%s offered places lapsed.", count)
    return count


def cancel_underfilled() -> list[int]:
    cancelled = services.cancel_underfilled()
    if cancelled:
        logger.info("Under-filled sessions cancelled: %s.", cancelled)
    return cancelled


def hand_over_installments() -> int:
    return payments.hand_over_due()
