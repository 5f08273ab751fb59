import pytest

from templates_app import mailer
from templates_app.mailer import Email, MailerNotConfigured, SendError, send_batch, send_email


def an_email(n: int = 1) -> Email:
    return Email(
        to=f"asha{n}@example.com", subject=f"Hi {n}", html=f"<p>Hi {n}</p>", text=f"Hi {n}"
    )


def test_it_sends_one_email_through_the_sdk_and_returns_resends_id(fake_resend):
    resend_id = send_email(an_email())
    assert [e["id"] for e in fake_resend.emails] == [resend_id]
    sent = fake_resend.emails[0]
    assert sent["to"] == ["asha1@example.com"]
    assert sent["from"] == "Your Next Campus <hello@example.com>"
    assert (sent["subject"], sent["html"], sent["text"]) == ("Hi 1", "<p>Hi 1</p>", "Hi 1")


def test_it_sends_a_batch_and_a_repeat_with_the_same_key_sends_nothing_new(fake_resend):
    emails = [an_email(n) for n in range(3)]
    first = send_batch(emails, idempotency_key="run-1-batch-1")
    again = send_batch(emails, idempotency_key="run-1-batch-1")
    assert first == again
    assert len(fake_resend.emails) == 3
    assert fake_resend.calls[0].headers["idempotency-key"] == "run-1-batch-1"


def test_a_batch_holds_at_most_one_hundred_emails(fake_resend):
    with pytest.raises(ValueError, match="1 to 100"):
        send_batch([an_email(n) for n in range(101)], idempotency_key="k")
    assert fake_resend.calls == []


def test_it_refuses_clearly_without_key_or_sender(settings, fake_resend):
    settings.RESEND_API_KEY = ""
    settings.EMAIL_FROM = ""
    with pytest.raises(MailerNotConfigured, match="RESEND_API_KEY and EMAIL_FROM"):
        send_email(an_email())
    assert mailer.missing_settings() == ["RESEND_API_KEY", "EMAIL_FROM"]


def test_a_wrong_key_comes_back_as_a_401_send_error(settings, fake_resend):
    settings.RESEND_API_KEY = "re_wrong"
    with pytest.raises(SendError) as raised:
        send_email(an_email())
    assert raised.value.status == 401
    assert "API key is invalid" in raised.value.message


def test_rate_limits_come_back_with_retry_after(fake_resend):
    fake_resend.respond_next(429, retry_after=3)
    with pytest.raises(SendError) as raised:
        send_email(an_email())
    assert (raised.value.status, raised.value.retry_after) == (429, 3.0)
    assert send_email(an_email())  # the next call goes through


def test_an_unreachable_server_is_a_send_error_in_words(monkeypatch, fake_resend):
    monkeypatch.setenv("RESEND_API_URL", "http://127.0.0.1:9")
    with pytest.raises(SendError, match="Could not reach Resend") as raised:
        send_email(an_email())
    assert raised.value.status is None


def test_a_hanging_server_times_out(settings, fake_resend):
    settings.RESEND_TIMEOUT_SECONDS = 0.2
    fake_resend.hang_seconds = 1
    with pytest.raises(SendError, match="Could not reach Resend"):
        send_email(an_email())


def test_reusing_an_idempotency_key_for_other_emails_is_refused(fake_resend):
    send_batch([an_email(1)], idempotency_key="run-1-batch-1")
    with pytest.raises(SendError) as raised:
        send_batch([an_email(2)], idempotency_key="run-1-batch-1")
    assert raised.value.status == 409
    assert len(fake_resend.emails) == 1


def test_server_errors_come_back_as_500_send_errors(fake_resend):
    fake_resend.failure_rate = 1.0
    with pytest.raises(SendError) as raised:
        send_batch([an_email()], idempotency_key="k")
    assert raised.value.status == 500
    assert fake_resend.emails == []
