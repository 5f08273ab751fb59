from django.db import models
from django.urls import reverse

from marketing_os.deleting import in_use_by_automations


class MessageTemplateQuerySet(models.QuerySet):
    def search(self, q: str) -> "MessageTemplateQuerySet":
        """Templates whose name contains `q` (case-insensitive).

        A sequential scan: an account has tens of templates, not millions.
        """
        q = q.strip()
        return self.filter(name__icontains=q) if q else self


class MessageTemplate(models.Model):
    class Type(models.TextChoices):
        EMAIL = "email", "Email"
        WHATSAPP = "whatsapp", "WhatsApp"

    class TemplatingType(models.TextChoices):
        MJML = "mjml", "MJML + Liquid"

    id = models.BigAutoField(primary_key=True)
    name = models.TextField()
    type = models.TextField(choices=Type.choices, default=Type.EMAIL)
    templating_type = models.TextField(choices=TemplatingType.choices, default=TemplatingType.MJML)
    subject = models.TextField(blank=True, default="")
    message = models.TextField()
    created_date = models.DateTimeField(auto_now_add=True)
    updated_date = models.DateTimeField(auto_now=True)

    objects = MessageTemplateQuerySet.as_manager()

    class Meta:
        db_table = "message_templates"
        ordering = ["name", "id"]
        permissions = [("send_test_message", "Can send a test email of a template")]
        indexes = [
            models.Index(fields=["name", "id"], name="message_templates_name_idx"),
            models.Index(fields=["type", "name"], name="message_templates_type_idx"),
            models.Index(fields=["updated_date"], name="message_templates_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=["email", "whatsapp"]),
                name="message_templates_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(templating_type__in=["mjml"]),
                name="message_templates_templating_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("templates_app:detail", args=[self.pk])

    def deletion_refusal(self) -> str:
        """Why this template may not be deleted ("" if it may)."""
        return in_use_by_automations(self, "send this template")

    @property
    def is_email(self) -> bool:
        return self.type == self.Type.EMAIL
