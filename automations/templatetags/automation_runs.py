from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def duration_text(value: timedelta | None) -> str:
    """4 s, 3 min 20 s, 2 h 05 min."""
    if value is None:
        return "—"
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
