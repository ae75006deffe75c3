"""Attendance (émargement): one sheet per half-day, one mark per accepted trainee, each signed by its trainee.

A simple electronic signature holds when the signer is identified, the time recorded and the sheet locked
after the half-day (DOMAIN.md, "Training"). So:

- a trainee signs **for themself only**: on their own phone, logged in (`sign`), or on the trainer's screen
  after typing their own password (`sign`, `password=`), checked with `check_password` and rate-limited per
  trainee; the drawing (an SVG path, re-written here from its numbers) or a typed name, with the time and the
  authenticated signer;
- signing is open from the half-day's start less `EARLY` until the sheet closes; the trainer signs too;
- the trainer or the staff mark a trainee absent or excused, with a reason;
- `close` locks the sheet (the scheduler's `close_due` every quarter of an hour, or the trainer on demand):
  unsigned marks become absent and the SHA-256 of the sheet's canonical JSON (`canonical`) is stored; from then
  on only the site's staff change a mark (`amend`), with a reason, audited, and the sheet is hashed again;
  `verify` tells whether the stored hash still matches the rows (a change behind the application's back).

Each service runs in one transaction and locks the sheet row first (`select_for_update`): a mark is never
signed on a sheet being locked at the same moment.
"""

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cocotte.core import ratelimit
from cocotte.core.errors import Conflict, Forbidden, Invalid
from cocotte.core.models import audit

from . import access
from .models import Enrolment, Mark, Sheet

State, Method = Mark.State, Mark.Method

EARLY = timedelta(minutes=15)  # a trainee may sign this long before the half-day starts
# The drawing pad's box (the SVG's viewBox): coordinates outside it are refused.
PAD_WIDTH, PAD_HEIGHT = 600, 200
MAX_DRAWING = 16_000  # characters of the path as re-written; a signature takes a few thousand
MAX_POINTS = 2_000
MIN_POINTS = 3
PASSWORD_TRIES = 5  # wrong passwords a trainee may type on the trainer's screen…
PASSWORD_WINDOW = timedelta(minutes=15)  # …in this window, before signing there is refused for a while


class AttendanceError(Invalid):
    code = "attendance"


class SheetLocked(Conflict):
    code = "sheet_locked"


class NotNow(Invalid):
    code = "outside_half_day"


class NotYours(Forbidden):
    code = "not_yours"


class WrongPassword(Forbidden):
    code = "wrong_password"


class TooManyTries(Forbidden):
    status = 429
    code = "too_many_attempts"


class BadSignature(Invalid):
    code = "bad_signature"


# ---------------------------------------------------------------------------------------------------------
# Reading a sheet
# ---------------------------------------------------------------------------------------------------------


def ensure_marks(sheet: Sheet) -> None:
    """Give every accepted trainee of the session a mark on this open sheet (late acceptances included), and
    drop the untouched marks of those no longer accepted. A locked sheet is evidence: left as it is."""
    if sheet.locked_at:
        return
    session_id = sheet.sitting.session_id
    accepted = set(
        Enrolment.objects.filter(session_id=session_id, status=Enrolment.Status.ACCEPTED).values_list(
            "pk", flat=True
        )
    )
    present = dict(sheet.marks.values_list("enrolment_id", "state"))
    missing = accepted - set(present)
    if missing:
        Mark.objects.bulk_create(
            [Mark(sheet=sheet, enrolment_id=pk) for pk in sorted(missing)], ignore_conflicts=True
        )
    gone = [pk for pk, state in present.items() if pk not in accepted and state == State.EXPECTED]
    if gone:
        sheet.marks.filter(enrolment_id__in=gone, state=State.EXPECTED, signed_at__isnull=True).delete()


def marks_of(sheet: Sheet) -> list[Mark]:
    """The sheet's marks, each trainee's, in the order of their names (made first if missing)."""
    ensure_marks(sheet)
    return list(
        sheet.marks.select_related("enrolment__trainee", "signed_by", "marked_by").order_by(
            "enrolment__trainee__last_name", "enrolment__trainee__first_name", "pk"
        )
    )


def sheets_of_session(session) -> list[Sheet]:
    """The session's sheets in order, each with its marks made (the team's session page lists them)."""
    sheets = list(
        Sheet.objects.filter(sitting__session=session).select_related("sitting__module", "sitting__trainer")
    )
    for sheet in sheets:
        ensure_marks(sheet)
    return sheets


def ends_at(sheet: Sheet) -> datetime:
    """When the half-day is over: its sheet's end, or its sitting's if that is earlier (a sheet whose times
    were left behind by its sitting never stays open past the sitting's end)."""
    return min(sheet.end, sheet.sitting.end)


def signing_open(sheet: Sheet, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return sheet.locked_at is None and sheet.start - EARLY <= now < ends_at(sheet)


def _locked_sheet(sheet: Sheet) -> Sheet:
    """The sheet's row, locked for this transaction (re-read: what the caller holds may be stale). Only the
    sheet's row (`of`): its session's row is the enrolment services' lock, and taking it here too, in a join
    whose order PostgreSQL chooses, could deadlock with a session being closed."""
    return Sheet.objects.select_for_update(of=("self",)).select_related("sitting__session").get(pk=sheet.pk)


def _locked_mark(mark: Mark) -> tuple[Sheet, Mark]:
    sheet = _locked_sheet(mark.sheet)
    return sheet, Mark.objects.select_related("enrolment__trainee").get(pk=mark.pk)


# ---------------------------------------------------------------------------------------------------------
# Signatures
# ---------------------------------------------------------------------------------------------------------

_NUMBER = r"-?\d{1,4}(?:\.\d{1,2})?"
_COMMAND = re.compile(rf"\s*([ML])\s*({_NUMBER})[\s,]+({_NUMBER})")


def clean_drawing(path: str) -> str:
    """An SVG path of straight strokes (`M x y L x y …`) inside the pad, re-written from its numbers (so that
    nothing but numbers and M/L reaches a page or a PDF); refused when empty, too long or malformed."""
    path = (path or "").strip()
    if not path:
        raise BadSignature(
            _("La signature est vide : dessinez-la, ou saisissez votre nom."), field="signature"
        )
    if len(path) > MAX_DRAWING * 2:
        raise BadSignature(_("La signature dessinée est trop grande."), field="signature")
    points, position = [], 0
    for match in _COMMAND.finditer(path):
        if match.start() != position:
            break
        position = match.end()
        x, y = float(match.group(2)), float(match.group(3))
        if not (0 <= x <= PAD_WIDTH and 0 <= y <= PAD_HEIGHT):
            raise BadSignature(_("La signature sort du cadre."), field="signature")
        points.append((match.group(1), x, y))
    if path[position:].strip() or not points or points[0][0] != "M":
        raise BadSignature(_("La signature dessinée n’est pas lisible."), field="signature")
    if len(points) < MIN_POINTS:
        raise BadSignature(
            _("La signature est vide : dessinez-la, ou saisissez votre nom."), field="signature"
        )
    if len(points) > MAX_POINTS:
        raise BadSignature(_("La signature dessinée est trop grande."), field="signature")
    cleaned = "".join(f"{command}{x:g} {y:g}" for command, x, y in points)
    if len(cleaned) > MAX_DRAWING:
        raise BadSignature(_("La signature dessinée est trop grande."), field="signature")
    return cleaned


def clean_typed_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise BadSignature(_("Saisissez votre nom pour signer."), field="typed_name")
    if len(name) > 200:
        raise BadSignature(_("Le nom saisi est trop long."), field="typed_name")
    return name


def _signature(method: str, drawing: str, typed_name: str) -> tuple[str, str]:
    """(signature path, typed name) for the method chosen."""
    if method == Method.DRAWN:
        return clean_drawing(drawing), ""
    if method == Method.TYPED:
        return "", clean_typed_name(typed_name)
    raise BadSignature(_("Choisissez de dessiner votre signature ou de saisir votre nom."), field="method")


def _tries_key(user) -> str:
    return f"learning:sign-password:{user.pk}"


def check_signer_password(trainee, password: str) -> None:
    """The trainee's own password, on the trainer's screen: refused after `PASSWORD_TRIES` misses in a window."""
    key = _tries_key(trainee)
    if cache.get(key, 0) >= PASSWORD_TRIES:
        raise TooManyTries(
            _(
                "Trop d’essais de mot de passe : signez depuis votre téléphone, ou réessayez dans un quart d’heure."
            ),
            field="password",
        )
    if not password or not trainee.has_usable_password() or not check_password(password, trainee.password):
        _count_miss(key)
        raise WrongPassword(_("Mot de passe incorrect : rien n’a été signé."), field="password")
    cache.delete(key)


def _count_miss(key: str) -> None:
    """One more wrong password, counted atomically (two tries at once both count) for the window."""
    ratelimit.count(key, int(PASSWORD_WINDOW.total_seconds()))


def sign(
    mark: Mark,
    *,
    signer,
    method: str,
    drawing: str = "",
    typed_name: str = "",
    password: str | None = None,
    now: datetime | None = None,
) -> Mark:
    """The trainee `signer` signs their own mark. On the trainer's screen, `password` is their own, checked.

    Refused (nothing written) for someone else's mark, outside the half-day, on a locked sheet, with a wrong
    password or an empty or oversized drawing."""
    now = now or timezone.now()
    if not access.is_trainee(signer, mark.enrolment):
        raise NotYours(_("Chacun signe pour lui-même : cette ligne n’est pas la vôtre."))
    if password is not None:
        check_signer_password(signer, password)
    signature, name = _signature(method, drawing, typed_name)
    with transaction.atomic():
        sheet, mark = _locked_mark(mark)
        if mark.enrolment.trainee_id != signer.pk:
            raise NotYours(_("Chacun signe pour lui-même : cette ligne n’est pas la vôtre."))
        _check_open(sheet, now)
        if mark.enrolment.status != Enrolment.Status.ACCEPTED:
            raise AttendanceError(_("Cette inscription n’est plus active : elle ne s’émarge pas."))
        if mark.state == State.PRESENT:
            raise Conflict(_("Vous avez déjà signé cette demi-journée."), code="already_signed")
        if mark.state == State.EXCUSED:
            raise Conflict(
                _("Votre absence est déjà enregistrée comme justifiée : voyez avec le formateur."),
                code="already_marked",
            )
        mark.state = State.PRESENT
        mark.reason = ""
        mark.method = method
        mark.signature = signature
        mark.signed_name = name
        mark.signed_at = now
        mark.signed_by = signer
        mark.save(
            update_fields=["state", "reason", "method", "signature", "signed_name", "signed_at", "signed_by"]
        )
    return mark


def _check_open(sheet: Sheet, now: datetime) -> None:
    if sheet.locked_at:
        raise SheetLocked(_("Cette feuille d’émargement est close : elle ne se signe plus."))
    if now < sheet.start - EARLY:
        raise NotNow(_("La signature ouvre un quart d’heure avant le début de la demi-journée."))
    if now >= ends_at(sheet):
        raise NotNow(_("La demi-journée est terminée : la signature est close."))


def sign_as_trainer(
    sheet: Sheet, *, by, method: str, drawing: str = "", typed_name: str = "", now: datetime | None = None
) -> Sheet:
    """The sitting's trainer signs the sheet (from a quarter of an hour before it starts until it is locked)."""
    now = now or timezone.now()
    signature, name = _signature(method, drawing, typed_name)
    with transaction.atomic():
        sheet = _locked_sheet(sheet)
        if sheet.sitting.trainer_id != getattr(by, "pk", None):
            raise NotYours(_("Seul le formateur de la séance signe la feuille comme formateur."))
        if sheet.locked_at:
            raise SheetLocked(_("Cette feuille d’émargement est close : elle ne se signe plus."))
        if now < sheet.start - EARLY:
            raise NotNow(_("La signature ouvre un quart d’heure avant le début de la demi-journée."))
        if sheet.trainer_signed_at:
            raise Conflict(_("Vous avez déjà signé cette feuille."), code="already_signed")
        sheet.trainer_signature = signature
        sheet.trainer_signed_name = name or by.get_full_name() or by.email
        sheet.trainer_signed_at = now
        sheet.save(update_fields=["trainer_signature", "trainer_signed_name", "trainer_signed_at"])
    return sheet


# ---------------------------------------------------------------------------------------------------------
# Absences, closing, amending
# ---------------------------------------------------------------------------------------------------------

ABSENCES = (State.ABSENT, State.EXCUSED)


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise AttendanceError(_("Indiquez le motif."), field="reason")
    if len(reason) > 1000:
        raise AttendanceError(_("Le motif est trop long (1 000 caractères au plus)."), field="reason")
    return reason


def mark_absence(mark: Mark, *, by, state: str, reason: str, now: datetime | None = None) -> Mark:
    """The trainer or the staff mark a trainee absent or excused, with a reason, while the sheet is open."""
    if state not in ABSENCES:
        raise AttendanceError(_("Choisissez « absent » ou « absence justifiée »."), field="state")
    reason = _clean_reason(reason)
    with transaction.atomic():
        sheet, mark = _locked_mark(mark)
        if not access.takes_attendance(by, sheet.sitting):
            raise Forbidden(_("Seuls le formateur et l’équipe du site tiennent l’émargement."))
        if sheet.locked_at:
            raise SheetLocked(
                _("Cette feuille est close : seule l’équipe du site la corrige, avec un motif.")
            )
        if mark.state == State.PRESENT:
            raise Conflict(
                _("Ce stagiaire a signé : sa présence ne se change qu’après la clôture, par l’équipe."),
                code="already_signed",
            )
        mark.state, mark.reason, mark.marked_by = state, reason, by
        mark.save(update_fields=["state", "reason", "marked_by"])
    return mark


def close(sheet: Sheet, *, by=None, now: datetime | None = None, final: bool = False) -> Sheet:
    """Lock the sheet: unsigned expected marks become absent, and its content's hash is stored.

    `by` None is the scheduler (after the half-day's end); a person (the trainer, the staff) may close it once
    the half-day has started. `final` is the session's closing (`certificates.close_session`, once its last
    sitting is over): the sheet is locked whatever its own times say. Closing a locked sheet again changes
    nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        sheet = _locked_sheet(sheet)
        if by is not None and not access.takes_attendance(by, sheet.sitting):
            raise Forbidden(_("Seuls le formateur et l’équipe du site tiennent l’émargement."))
        if sheet.locked_at:
            if by is None:
                return sheet
            raise SheetLocked(_("Cette feuille d’émargement est déjà close."))
        if by is None and not final and now < ends_at(sheet):
            return sheet
        if not final and now < sheet.start:
            raise NotNow(_("La demi-journée n’a pas commencé : la feuille ne se clôt pas encore."))
        ensure_marks(sheet)
        sheet.marks.filter(state=State.EXPECTED).update(state=State.ABSENT)
        sheet.locked_at = now
        sheet.save(update_fields=["locked_at"])
        sheet.content_hash = content_hash(sheet)  # of the rows as saved, the lock's time included
        sheet.save(update_fields=["content_hash"])
        audit(by, "learning.sheet.locked", sheet, hash=sheet.content_hash)
    return sheet


def close_due(now: datetime | None = None) -> int:
    """The scheduler's job: lock every sheet whose half-day is over. Returns how many it locked."""
    now = now or timezone.now()
    due = list(
        Sheet.objects.filter(Q(end__lte=now) | Q(sitting__end__lte=now), locked_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    for pk in due:
        close(Sheet(pk=pk), now=now)
    return len(due)


def amend(mark: Mark, *, by, state: str, reason: str) -> Mark:
    """After the lock, the site's staff change a mark: a reason is required, the change audited, and the
    sheet hashed again."""
    if state not in State.values or state == State.EXPECTED:
        raise AttendanceError(_("Choisissez un état de présence."), field="state")
    reason = _clean_reason(reason)
    with transaction.atomic():
        sheet, mark = _locked_mark(mark)
        if not access.manages(by, sheet.sitting.session):
            raise Forbidden(_("Seule l’équipe du site corrige une feuille close."))
        if not sheet.locked_at:
            raise AttendanceError(_("Cette feuille est encore ouverte : elle se corrige sans motif."))
        if sheet.sitting.session.status == sheet.sitting.session.Status.COMPLETED:
            # Its certificates were issued from these sheets: a change now would make them lie.
            raise AttendanceError(
                _("La session est clôturée et ses certificats délivrés : sa feuille ne se corrige plus."),
                code="session_closed",
            )
        if state == mark.state:
            raise AttendanceError(_("La présence est déjà dans cet état."), field="state")
        before = {"state": mark.state, "reason": mark.reason}
        mark.state, mark.reason, mark.marked_by = state, reason, by
        mark.save(update_fields=["state", "reason", "marked_by"])
        previous_hash = sheet.content_hash
        sheet.content_hash = content_hash(sheet)
        sheet.save(update_fields=["content_hash"])
        audit(
            by,
            "learning.mark.amended",
            mark,
            before=before,
            after={"state": state, "reason": reason},
            sheet=sheet.pk,
            previous_hash=previous_hash,
            hash=sheet.content_hash,
        )
    return mark


# ---------------------------------------------------------------------------------------------------------
# The hash
# ---------------------------------------------------------------------------------------------------------


def _instant(value) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def canonical(sheet: Sheet) -> str:
    """The sheet's content as one canonical JSON text (sorted keys, no spaces, UTC instants): what is hashed.

    Read afresh from the database, so that the hash is of the rows, not of what a caller holds."""
    sheet = Sheet.objects.select_related("sitting__session").get(pk=sheet.pk)
    sitting = sheet.sitting
    marks = (
        Mark.objects.filter(sheet=sheet)
        .order_by("enrolment_id")
        .values(
            "enrolment_id",
            "enrolment__trainee_id",
            "state",
            "reason",
            "method",
            "signature",
            "signed_name",
            "signed_at",
            "signed_by_id",
        )
    )
    content = {
        "sheet": sheet.pk,
        # Rows by their keys, not their names: renaming a programme, a session or a module (the team's right)
        # does not make every locked sheet look tampered with; the PDF prints the names.
        "session": sitting.session_id,
        "programme": sitting.session.programme_id,
        "module": sitting.module_id,
        "sitting": sitting.pk,
        "half": sheet.half,
        "start": _instant(sheet.start),
        "end": _instant(sheet.end),
        "trainer": sitting.trainer_id,
        "trainer_signed_at": _instant(sheet.trainer_signed_at),
        "trainer_signature": sheet.trainer_signature,
        "trainer_signed_name": sheet.trainer_signed_name,
        "locked_at": _instant(sheet.locked_at),
        "marks": [
            {
                "enrolment": m["enrolment_id"],
                "trainee": m["enrolment__trainee_id"],
                "state": m["state"],
                "reason": m["reason"],
                "method": m["method"],
                "signature": m["signature"],
                "signed_name": m["signed_name"],
                "signed_at": _instant(m["signed_at"]),
                "signed_by": m["signed_by_id"],
            }
            for m in marks
        ],
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(sheet: Sheet) -> str:
    return hashlib.sha256(canonical(sheet).encode()).hexdigest()


def verify(sheet: Sheet) -> bool:
    """Whether a locked sheet's stored hash still matches its rows (False for a sheet never locked)."""
    stored = Sheet.objects.filter(pk=sheet.pk).values_list("content_hash", flat=True).first()
    return bool(stored) and stored == content_hash(sheet)


# ---------------------------------------------------------------------------------------------------------
# The printed sheet
# ---------------------------------------------------------------------------------------------------------


def pdf_context(sheet: Sheet) -> dict:
    sheet = Sheet.objects.select_related(
        "sitting__session__programme", "sitting__session__site", "sitting__module", "sitting__trainer"
    ).get(pk=sheet.pk)
    return {
        "sheet": sheet,
        "sitting": sheet.sitting,
        "session": sheet.sitting.session,
        "programme": sheet.sitting.session.programme,
        "marks": marks_of(sheet),
        "pad_width": PAD_WIDTH,
        "pad_height": PAD_HEIGHT,
        "verified": verify(sheet) if sheet.locked_at else None,
    }


def render_pdf(sheet: Sheet) -> bytes:
    """The sheet as a tagged PDF/A-3b, in French and in the site's zone (it is kept as evidence)."""
    from django.utils import translation

    from cocotte.billing.pdf import pdf_from_template
    from cocotte.core.timeutils import zone

    context = pdf_context(sheet)
    with translation.override("fr"), timezone.override(zone(context["session"].site.timezone)):
        return pdf_from_template("learning/attendance_sheet_pdf.html", context, pdf_tags=True)
