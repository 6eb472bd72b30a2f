"""Email over SMTP (the office's mail server), STARTTLS optional, with the stdlib smtplib/email.

The server is configured once (`smtp:` in channels.yaml); each leader's entry names recipients, as
addresses (`to`) or an environment variable holding a comma-separated list (`to_env`). Subject and
body are Chinese: EmailMessage encodes the subject as RFC 2047 UTF-8 and the body as UTF-8.
The message id becomes the Message-ID header, so a repeat after a lost reply is recognisable.

Failures: connection errors, timeouts and 4xx replies are transient; 5xx replies permanent.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from pydantic import model_validator

from pipeline.notify.channels.base import Channel, Message, Options, Permanent, Transient


class EmailOptions(Options):
    to: list[str] | None = None
    to_env: str | None = None

    @model_validator(mode="after")
    def _one_recipient_source(self):
        if (self.to is None) == (self.to_env is None):
            raise ValueError("give exactly one of to, to_env")
        if self.to is not None and (not self.to or not all("@" in a for a in self.to)):
            raise ValueError("to must list email addresses")
        return self


class Email(Channel):
    type = "email"
    Options = EmailOptions
    env_keys = ("to_env",)

    def recipients(self) -> list[str]:
        if self.options.to is not None:
            return list(self.options.to)
        return [a.strip() for a in self.secret("to_env").split(",") if a.strip()]

    def build(self, message: Message) -> EmailMessage:
        smtp = self.ctx.smtp
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = smtp.sender
        mail["To"] = ", ".join(self.recipients())
        mail["Date"] = formatdate(self.ctx.wall(), localtime=False)
        mail["Message-ID"] = f"<{message.id}@riskwatch>"
        mail.set_content(message.text, charset="utf-8")
        return mail

    def send(self, message: Message) -> None:
        smtp = self.ctx.smtp
        if smtp is None:
            raise Permanent("no smtp server configured in channels.yaml")
        mail = self.build(message)
        where = f"smtp {smtp.host}:{smtp.port}"
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=self.ctx.timeout) as client:
                if smtp.starttls:
                    client.starttls(context=ssl.create_default_context())
                if smtp.username_env:
                    client.login(self.ctx.env.get(smtp.username_env, ""), self.ctx.env.get(smtp.password_env or "", ""))
                client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(400 <= c < 500 for c in codes):
                raise Transient(f"{where} deferred every recipient ({codes})") from None
            raise Permanent(f"{where} refused the recipients ({codes})") from None
        except smtplib.SMTPResponseException as exc:
            reply = f"{where} replied {exc.smtp_code}"
            if 400 <= exc.smtp_code < 500:
                raise Transient(reply) from None
            raise Permanent(reply) from None
        except smtplib.SMTPServerDisconnected as exc:
            raise Transient(f"{where} closed the connection: {exc}") from None
        except smtplib.SMTPException as exc:  # e.g. STARTTLS or AUTH not supported: configuration
            raise Permanent(f"{where}: {type(exc).__name__}: {exc}") from None
        except (socket.timeout, OSError) as exc:  # refused, unreachable, timed out, TLS handshake
            raise Transient(f"cannot deliver through {where}: {type(exc).__name__}: {exc}") from None
