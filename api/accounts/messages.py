"""The account emails, in plain text and HTML: verify, reset, confirm a link, notices."""

from __future__ import annotations

from html import escape

from jacameno.api.accounts.mail import Mail

SIGNATURE = "JACAMENO, making music together"


def _mail(to: str, subject: str, paragraphs: list[str], link: tuple[str, str] | None) -> Mail:
    """``paragraphs`` of plain text and an optional (button label, URL)."""
    text = "\n\n".join(paragraphs)
    html = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if link is not None:
        label, url = link
        text += f"\n\n{label}: {url}"
        html += (
            f'<p><a href="{escape(url, quote=True)}" style="font-weight:bold">{escape(label)}</a>'
            f"</p><p>Or paste this address into your browser: {escape(url)}</p>"
        )
    text += f"\n\n-- \n{SIGNATURE}\n"
    html = f"<!doctype html><html><body>{html}<p>{escape(SIGNATURE)}</p></body></html>"
    return Mail(to=to, subject=subject, text=text, html=html)


def _hours(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{max(1, seconds // 60)} minutes"


def verification(to: str, name: str, url: str, ttl_s: int) -> Mail:
    return _mail(
        to,
        "Confirm your email address",
        [
            f"Hello {name},",
            f"Confirm that {to} is your address to finish setting up your account. "
            f"The link works once, for {_hours(ttl_s)}.",
            "If you did not sign up, ignore this message.",
        ],
        ("Confirm my address", url),
    )


def password_reset(to: str, name: str, url: str, ttl_s: int) -> Mail:
    return _mail(
        to,
        "Reset your password",
        [
            f"Hello {name},",
            f"Someone (we hope you) asked to reset the password of {to}. The link works "
            f"once, for {_hours(ttl_s)}; every device signed in to the account is signed out.",
            "If it was not you, ignore this message: your password stays as it is.",
        ],
        ("Choose a new password", url),
    )


def link_confirmation(to: str, name: str, provider: str, url: str, ttl_s: int) -> Mail:
    return _mail(
        to,
        f"Sign in with {provider}?",
        [
            f"Hello {name},",
            f"Someone signed in with {provider} using {to}, which already has a JACAMENO "
            f"account. To link {provider} to it and sign in, open the link below (it works "
            f"once, for {_hours(ttl_s)}).",
            f"If it was not you, ignore this message: {provider} stays unlinked.",
        ],
        (f"Link {provider} and sign in", url),
    )


def security_notice(to: str, name: str, event: str, where: str, account_url: str) -> Mail:
    """A notice that ``event`` happened (``where``: the device and place it came from)."""
    return _mail(
        to,
        f"Security notice: {event}",
        [
            f"Hello {name},",
            f"{event} on your account ({where}).",
            "If this was you, there is nothing to do. If not, reset your password and end "
            "the sessions you do not know in your account settings.",
        ],
        ("Open account settings", account_url),
    )
