"""A console email backend that prints messages as a person reads them.

Django's console backend prints the encoded MIME message, where long lines
such as verification links are split with quoted-printable soft breaks and
cannot be copied. This one prints the headers and the plain-text body as is.
"""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend


class ReadableConsoleEmailBackend(EmailBackend):
    def write_message(self, message: EmailMessage) -> None:
        self.stream.write(
            f"From: {message.from_email}\nTo: {', '.join(message.to)}\nSubject: {message.subject}\n\n{message.body}\n"
        )
        self.stream.write("-" * 79 + "\n")
