"""What pages and notices say. Plain text: every channel can carry it; e-mail adds nothing else."""

from datetime import timedelta

from core.links import site_url

from ..links import ack_url


def minutes(delta: timedelta) -> str:
    total = int(delta.total_seconds() // 60)
    if total % 60 == 0 and total >= 60:
        hours = total // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{total} minute{'s' if total != 1 else ''}"


def incident_url(incident) -> str:
    return f"{site_url()}/incidents/{incident.number}/"


def page_subject(incident) -> str:
    return f"[{incident.severity.name}] {incident.number} {incident.title}"


def page_body(notification, incident, note: str = "") -> str:
    lines = [f"{incident.severity.name} {incident.number}: {incident.title}",
             f"Team: {incident.team.name}. Status: {incident.status}."]
    if note:
        lines.append(f"Message: {note}")
    lines.append(f"Acknowledge: {ack_url(notification.pk)}")
    if notification.reply_code:
        lines.append(f"Or reply {notification.reply_code} to acknowledge.")
    lines.append(f"Open: {incident_url(incident)}")
    return "\n".join(lines)


def overdue_body(notification, incident) -> str:
    return "\n".join([
        f"{incident.number} ({incident.severity.name}) is still open past its resolve target of "
        f"{minutes(incident.severity.resolve_target)}: {incident.title}",
        f"Status: {incident.status}. Team: {incident.team.name}.",
        f"Open: {incident_url(incident)}",
    ])


def notice_body(incident, what: str) -> str:
    return "\n".join([
        f"{what}: {incident.number} ({incident.severity.name}) {incident.title}",
        f"Team: {incident.team.name}. Status: {incident.status}.",
        "You are told because you subscribed; you are not being paged.",
        f"Open: {incident_url(incident)}",
    ])
