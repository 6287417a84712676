"""``/stats`` for admins: the question record's figures as a Telegram HTML message."""

from __future__ import annotations

from bot.question_record import Stats
from bot.replies import bold, clip, escape
from bot.translations import Translator

_QUESTION_CHARS = 120


def stats_text(stats: Stats, t: Translator) -> str:
    """Questions today (UTC), the share answered, and the most asked unanswered questions."""
    if not stats.available:
        return escape(
            t.gettext(
                "The question record is off (NEWSBOT_RECORD_DAYS is 0, or the state file "
                "cannot be written: see the log)."
            )
        )
    asked = t.ngettext(
        "%(count)d question today (UTC)", "%(count)d questions today (UTC)", stats.today
    )
    chats = t.ngettext("from %(count)d chat", "from %(count)d chats", stats.chats)
    lines = [f"{bold(asked % {'count': stats.today})}, {escape(chats % {'count': stats.chats})}"]
    if stats.today:
        share = round(100 * stats.answered / stats.today)
        answered = t.gettext("Answered: %(share)d%% (%(count)d)")
        lines.append(escape(answered % {"share": share, "count": stats.answered}))
        if stats.related:
            related = t.gettext("Only related passages: %(count)d")
            lines.append(escape(related % {"count": stats.related}))
    lines.append("")
    if stats.unanswered:
        lines.append(bold(t.gettext("Most asked without an answer (7 days):")))
        for n, group in enumerate(stats.unanswered, 1):
            question = escape(clip(group.question, _QUESTION_CHARS))
            lines.append(f"{n}. {question} (×{group.count})")
    else:
        lines.append(escape(t.gettext("No unanswered questions in the last 7 days.")))
    return "\n".join(lines)
